"""One pass of everything that is due, in its own short transactions.

Work anyone may do (any number of processes at once, each claiming rows with ``SKIP LOCKED``):
the outbox consumers (``notifications/bootstrap.py``), running due journey steps, delivering due
messages. Work only the leader does
(it runs once per period, whoever runs it): the scans and the maintenance (expiring points, releasing
pending points, reviewing tiers, the other periodic tasks the process registers). Their last runs are
rows (``job_runs``), so a restarted scheduler catches up instead of forgetting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.consumers import Consumer, run_consumers
from loyalty.db import dialect_insert, session_scope
from loyalty.imports.tasks import run_next_job
from notifications.bootstrap import CONSUMERS
from notifications.journeys.scans import run_scan
from notifications.journeys.tasks import advance_due_journeys
from notifications.messages.tasks import deliver_due
from notifications.runtime import Runtime
from notifications.scenarios.models import Scenario
from notifications.scheduler.models import JobRun
from notifications.webhooks.tasks import drain as send_webhooks

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: A periodic task: does up to a batch of its work in the session given, returns how much it did.
Task = Callable[[Session, datetime], int]


@dataclass(frozen=True)
class Schedule:
    """How often the leader's work runs."""

    #: Near-threshold scans run this often.
    scan_interval: timedelta = timedelta(minutes=5)
    #: The daily scans (inactivity, dates) and the maintenance run once a day from this UTC hour on.
    daily_hour: int = 6
    #: Maintenance tasks, by name, run every ``maintenance_interval``; each until it has nothing left.
    maintenance: Sequence[tuple[str, Task]] = field(default_factory=tuple)
    maintenance_interval: timedelta = timedelta(hours=1)


@dataclass
class PassReport:
    #: Events applied by the outbox consumers.
    consumed: int = 0
    entered: int = 0
    journeys: int = 0
    messages: int = 0
    #: Webhook delivery attempts made.
    webhooks: int = 0
    imports: int = 0
    maintenance: dict[str, int] = field(default_factory=dict)

    @property
    def idle(self) -> bool:
        """Nothing was due."""
        return not (
            self.consumed or self.entered or self.journeys or self.messages or self.webhooks or self.imports
            or self.maintenance
        )  # fmt: skip

    def __str__(self) -> str:
        done = ", ".join(f"{name} {count}" for name, count in self.maintenance.items())
        return (
            f"{self.consumed} events consumed, {self.entered} members entered scenarios, "
            f"{self.journeys} journey steps run, {self.messages} messages handled, "
            f"{self.webhooks} webhook deliveries attempted"
            + (f", {self.imports} imports run" if self.imports else "")
            + (f"; maintenance: {done}" if done else "")
        )


def run_pass(
    sessions: sessionmaker[Session],
    runtime: Runtime,
    *,
    clock: Clock,
    schedule: Schedule,
    is_leader: bool,
    consumers: Sequence[Consumer] = CONSUMERS,
) -> PassReport:
    """Do everything due now; the scans and the maintenance only when ``is_leader``. ``consumers``
    are run until they have caught up, before the scans and between the rounds of journeys; none
    (``()``) where a job of their own runs them (the scheduler process)."""
    report = PassReport()
    while run_next_job(sessions, clock=clock):  # files posted to the admin API, one job at a time
        report.imports += 1
    if is_leader:
        report.maintenance = _maintenance(sessions, clock, schedule)
        report.consumed = run_consumers(sessions, consumers, clock=clock)  # scans see fresh state
        report.entered = _scans(sessions, clock, schedule)
    for _ in range(10):  # journeys record events, events start journeys: a few rounds settle it
        consumed = run_consumers(sessions, consumers, clock=clock)
        journeys = _drain(sessions, lambda s: advance_due_journeys(s, runtime, now=clock()))
        messages = 0
        while handled := deliver_due(sessions, runtime, clock=clock):
            messages += handled
        webhooks = send_webhooks(sessions, runtime.webhooks, clock=clock)
        report.consumed += consumed
        report.journeys += journeys
        report.messages += messages
        report.webhooks += webhooks
        if not (consumed or journeys or messages or webhooks):
            break
    return report


def _drain(sessions: sessionmaker[Session], step: Callable[[Session], int]) -> int:
    """Run ``step`` in one transaction per batch until a batch finds nothing."""
    total = 0
    while True:
        with session_scope(sessions) as session:
            done = step(session)
        total += done
        if not done:
            return total


def _last_runs(sessions: sessionmaker[Session]) -> dict[str, datetime]:
    with session_scope(sessions) as session:
        return {job: at for job, at in session.execute(select(JobRun.job, JobRun.last_run_at))}


def _scans(sessions: sessionmaker[Session], clock: Clock, schedule: Schedule) -> int:
    """Run the scans that are due; the scans' events are published by the pass's rounds."""
    entered = 0
    last_runs = _last_runs(sessions)
    with session_scope(sessions) as session:
        due = [
            s.key
            for s in session.scalars(select(Scenario).where(Scenario.status == "active").order_by(Scenario.id))
            if "scan" in s.definition.get("trigger", {})
            and _is_due(last_runs.get(f"scan:{s.key}"), clock(), schedule, frequent=s.definition["trigger"]["scan"] == "near_threshold")
        ]
    for key in due:
        with session_scope(sessions) as session:
            now = clock()
            scenario = session.scalar(select(Scenario).where(Scenario.key == key))
            if scenario is not None and scenario.status == "active":
                entered += run_scan(session, scenario, now=now)
            _ran(session, f"scan:{key}", now)
    return entered


def _maintenance(sessions: sessionmaker[Session], clock: Clock, schedule: Schedule) -> dict[str, int]:
    done: dict[str, int] = {}
    last_runs = _last_runs(sessions)
    for name, task in schedule.maintenance:
        if not _is_due(last_runs.get(f"task:{name}"), clock(), schedule, every=schedule.maintenance_interval):
            continue
        done[name] = _drain(sessions, lambda s, task=task: task(s, clock()))  # type: ignore[misc]
        with session_scope(sessions) as session:
            _ran(session, f"task:{name}", clock())
    return done


def _is_due(
    last: datetime | None, now: datetime, schedule: Schedule, *, frequent: bool = False, every: timedelta | None = None
) -> bool:
    """Whether a periodic job last run at ``last`` is due: every ``every``, every scan interval
    (``frequent``), or else daily from the schedule's hour."""
    if last is None:
        return True
    if every is not None:
        return now - last >= every
    if frequent:
        return now - last >= schedule.scan_interval
    today_at = now.replace(hour=schedule.daily_hour, minute=0, second=0, microsecond=0)
    return now >= today_at > last


def _ran(session: Session, job: str, now: datetime) -> None:
    upsert = dialect_insert(session)(JobRun.__table__).values(job=job, last_run_at=now)
    session.execute(upsert.on_conflict_do_update(index_elements=["job"], set_={"last_run_at": now}))
