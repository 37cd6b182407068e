"""The scheduler process: APScheduler runs a pass every few seconds, one at a time, and the outbox
consumers every fraction of a second (the derived figures follow the changes within about that). The
consumers run in their own job only: the passes leave them to it, so that the two never chase the
same events in two threads.

``flask --app wsgi loyalty scheduler`` runs it in the foreground (production: one or more such
processes beside the API workers); ``make run`` starts it in the background of the development
server. Each pass first tries to lead (:class:`~notifications.scheduler.leader.Leadership`).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from loyalty.consumers import Consumer, run_consumers
from notifications.bootstrap import CONSUMERS
from notifications.runtime import Runtime
from notifications.scheduler.jobs import PassReport, Schedule, run_pass
from notifications.scheduler.leader import Leadership

logger = logging.getLogger(__name__)


class SchedulerProcess:
    """Passes on a timer, with leadership kept across passes."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        engine: Engine,
        runtime: Runtime,
        *,
        clock: Callable[[], datetime],
        schedule: Schedule,
        poll_seconds: float,
        consumer_poll_seconds: float = 0.5,
    ) -> None:
        self.sessions = sessions
        self.runtime = runtime
        self.clock = clock
        self.schedule = schedule
        self.poll_seconds = poll_seconds
        self.consumer_poll_seconds = consumer_poll_seconds
        self.leadership = Leadership(engine)

    def run_once(self, consumers: Sequence[Consumer] = CONSUMERS) -> PassReport:
        """One pass (as leader if the lead is free), running ``consumers`` too."""
        report = run_pass(
            self.sessions, self.runtime, clock=self.clock, schedule=self.schedule, is_leader=self.leadership.try_lead(),
            consumers=consumers,
        )  # fmt: skip
        if not report.idle:
            logger.info("scheduler pass: %s", report)
        return report

    def _safe_pass(self) -> None:
        try:
            self.run_once(consumers=())  # the consumers' own job runs them
        except Exception:  # logged; the next pass tries again from the durable state
            logger.exception("scheduler pass failed")

    def _safe_consume(self) -> None:
        try:
            run_consumers(self.sessions, CONSUMERS, clock=self.clock, settle=False)
        except Exception:  # logged; the consumers' cursors have not moved
            logger.exception("outbox consumers failed")

    def _configure(self, scheduler: BaseScheduler) -> BaseScheduler:
        scheduler.add_job(
            self._safe_pass, "interval", seconds=self.poll_seconds, max_instances=1, coalesce=True, next_run_time=datetime.now(UTC)
        )
        scheduler.add_job(
            self._safe_consume, "interval", seconds=self.consumer_poll_seconds, max_instances=1, coalesce=True,
            next_run_time=datetime.now(UTC),
        )  # fmt: skip
        return scheduler

    def run_forever(self) -> None:
        """Run in the foreground until SIGTERM or SIGINT; the pass in progress finishes first."""
        scheduler = self._configure(BlockingScheduler(timezone="UTC"))

        def stop(signum: int, frame: object) -> None:
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            scheduler.start()
        finally:
            self.leadership.release()

    def start_in_background(self) -> None:
        self._configure(BackgroundScheduler(timezone="UTC", daemon=True)).start()
