"""The scheduler's maintenance: published outbox events and old idempotency keys are forgotten, and
the periodic jobs run once per period whatever the number of passes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.idempotency import IdempotencyRecord
from loyalty.clock import FrozenClock
from loyalty.outbox import OutboxEvent
from loyalty.segments.windows import day_start, windows_as_of
from notifications.scheduler.models import JobRun


def count(sessions: sessionmaker[Session], model: type[Any]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_published_events_and_idempotency_keys_are_purged_after_their_retention(
    make_member: Callable[..., dict[str, Any]],
    client: FlaskClient,
    admin: dict[str, str],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    sessions: sessionmaker[Session],
) -> None:
    member = make_member()
    adjustment = {"points": 5, "reason": "goodwill"}
    headers = {**admin, "Idempotency-Key": "adjust-1"}
    assert client.post(f"/api/v1/members/{member['id']}/adjustments", json=adjustment, headers=headers).status_code == 201
    run_due()
    assert count(sessions, OutboxEvent) > 0 and count(sessions, IdempotencyRecord) == 1

    clock.advance(timedelta(days=8))
    run_due()
    assert count(sessions, IdempotencyRecord) == 0
    assert count(sessions, OutboxEvent) > 0

    clock.advance(timedelta(days=23))
    run_due()
    assert count(sessions, OutboxEvent) == 0


def test_maintenance_runs_once_an_hour_however_often_the_scheduler_passes(
    run_due: Callable[[], Any], clock: FrozenClock, sessions: sessionmaker[Session]
) -> None:
    first = run_due()
    assert "expire-points" in first.maintenance
    assert run_due().maintenance == {}
    clock.advance(timedelta(minutes=59))
    assert run_due().maintenance == {}
    clock.advance(timedelta(minutes=1))
    assert "expire-points" in run_due().maintenance
    with sessions() as session:
        assert session.get_one(JobRun, "task:expire-points").last_run_at == clock.now()


def test_the_rolling_purchase_windows_move_to_each_new_day_once(
    run_due: Callable[[], Any], clock: FrozenClock, sessions: sessionmaker[Session]
) -> None:
    assert run_due().maintenance["purchase-windows"] == 1  # the first pass counts them
    clock.advance(timedelta(hours=1))
    assert run_due().maintenance["purchase-windows"] == 0  # the same day: nothing to move
    clock.advance(timedelta(days=1))
    assert run_due().maintenance["purchase-windows"] == 1
    with sessions() as session:
        assert windows_as_of(session) == day_start(clock.now())
