"""The outbox consumers' lag, sampled while a phase runs and until they have caught up."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import sessionmaker

from loyalty.consumers import SEQUENCER, OutboxCursor, lags
from loyalty.db import make_engine, session_scope
from notifications.bootstrap import CONSUMERS

#: Seconds between two samples.
EVERY_S = 0.5


@dataclass
class LagSampler:
    """Samples, every :data:`EVERY_S`, the age of the oldest event any consumer still waits for and the
    events the sequencer has handed out; :meth:`drain` then waits until no consumer waits for any."""

    database_url: str
    ages_s: list[float] = field(default_factory=list)
    backlogs: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.engine = make_engine(self.database_url, pool_size=1)
        self.sessions = sessionmaker(self.engine)

    def sample(self) -> tuple[float, int]:
        """The oldest waiting event's age in seconds, and the events waiting, over all consumers."""
        with session_scope(self.sessions) as session:
            found = lags(session, CONSUMERS, now=datetime.now(UTC))
        return max(lag.age_seconds for lag in found), max(lag.backlog for lag in found)

    def sequenced(self) -> int:
        with session_scope(self.sessions) as session:
            return session.get(OutboxCursor, SEQUENCER).position if session.get(OutboxCursor, SEQUENCER) else 0  # type: ignore[union-attr]

    def __enter__(self) -> LagSampler:
        self.started_at, self.started_position = time.monotonic(), self.sequenced()

        def run() -> None:
            while not self._stop.wait(EVERY_S):
                age, backlog = self.sample()
                self.ages_s.append(age)
                self.backlogs.append(backlog)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.phase_s = time.monotonic() - self.started_at
        self.phase_events = self.sequenced() - self.started_position

    def drain(self, timeout_s: float = 60.0) -> float:
        """Seconds from now until no consumer waits for any event (``timeout_s`` if they never do)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.sample()[1] == 0:
                return time.monotonic() - started
            time.sleep(0.1)
        return timeout_s

    def summary(self, drained_s: float) -> str:
        ages = sorted(self.ages_s) or [0.0]
        p50, p99 = ages[len(ages) // 2], ages[min(len(ages) - 1, int(len(ages) * 0.99))]
        return (
            f"outbox consumers: {self.phase_events / self.phase_s:.0f} events/s handed to them during the phase"
            f" ({self.phase_events} events); lag (oldest waiting event) p50 {p50:.2f} s, p99 {p99:.2f} s,"
            f" max {ages[-1]:.2f} s; backlog max {max(self.backlogs, default=0)} events;"
            f" caught up {drained_s:.1f} s after the phase"
        )

    def close(self) -> None:
        self.engine.dispose()
