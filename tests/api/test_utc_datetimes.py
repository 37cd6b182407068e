"""Every datetime written is stored as its UTC instant, whatever offset it came with, on both databases.

The columns the scans and KPIs read (a member's last purchase, the purchase and engagement instants,
the windows of rewards and promotions) are written from client datetimes at random offsets; each is
then read back, and compared in SQL as the scans compare it, against the instant in UTC.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, func, literal, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from loyalty.db import session_scope
from loyalty.engagement.models import Engagement
from loyalty.members.models import Member
from loyalty.program.models import EarningRule
from loyalty.receipts.models import Purchase
from rewards.catalog.models import Reward
from tests.builders import purchase_body
from tests.conftest import NOW

Headers = dict[str, str]
_numbers = itertools.count(1)
EXAMPLES = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

#: UTC offsets in use somewhere, from -12:00 to +14:00, in quarter hours (Nepal's +05:45 included).
offsets = st.integers(-12 * 4, 14 * 4).map(lambda quarters: timezone(timedelta(minutes=15 * quarters)))
#: Instants in the last 30 days, to the second.
instants = st.integers(1, 30 * 24 * 3600).map(lambda seconds: NOW - timedelta(seconds=seconds))


def stored_as(
    sessions: sessionmaker[Session], column: InstrumentedAttribute[Any], row_id: int, instant: datetime
) -> None:
    """``column`` of row ``row_id`` reads back as ``instant``, and SQL finds it equal, not before or after."""
    model = column.class_
    with session_scope(sessions) as session:
        assert session.scalar(select(column).where(model.id == row_id)) == instant
        counts = [
            session.scalar(select(func.count()).select_from(model).where(model.id == row_id, comparison))
            for comparison in (column == instant, column < instant, column > instant)
        ]
    assert counts == [1, 0, 0], f"{column}: stored {counts} (equal, before, after) {instant.isoformat()}"


@given(instant=instants, offset=offsets)
@EXAMPLES
def test_a_plain_datetime_in_an_expression_is_bound_as_its_utc_instant(
    instant: datetime, offset: timezone, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        value = session.scalar(select(case((true(), literal(instant.astimezone(offset))))))
    assert value is not None
    # SQLite answers the bare value, naive; PostgreSQL an aware one.
    assert (value.replace(tzinfo=UTC) if value.tzinfo is None else value) == instant


@given(instant=instants, offset=offsets)
@EXAMPLES
def test_a_purchase_stores_its_instant_and_the_members_last_purchase_in_utc(
    instant: datetime,
    offset: timezone,
    client: FlaskClient,
    admin: Headers,
    sessions: sessionmaker[Session],
    make_member: Callable[..., dict[str, Any]],
) -> None:
    member = make_member()
    body = purchase_body(member_id=member["id"], occurred_at=instant.astimezone(offset).isoformat())
    purchase = client.post("/api/v1/purchases", json=body, headers=admin)
    assert purchase.status_code == 201, purchase.json
    stored_as(sessions, Purchase.occurred_at, purchase.json["id"], instant)
    stored_as(sessions, Member.last_purchase_at, member["id"], instant)
    answered = client.get(f"/api/v1/members/{member['id']}", headers=admin).json["last_purchase_at"]
    assert datetime.fromisoformat(answered) == instant


@given(instant=instants, offset=offsets)
@EXAMPLES
def test_an_engagement_stores_its_instant_in_utc(
    instant: datetime,
    offset: timezone,
    client: FlaskClient,
    admin: Headers,
    sessions: sessionmaker[Session],
    reviewer: dict[str, Any],
) -> None:
    ref = f"r-{next(_numbers)}"
    body = {**reviewer, "ref": ref, "occurred_at": instant.astimezone(offset).isoformat()}
    engagement = client.post("/api/v1/engagements", json=body, headers=admin)
    assert engagement.status_code == 201, engagement.json
    stored_as(sessions, Engagement.occurred_at, engagement.json["id"], instant)


@given(instant=instants, offset=offsets)
@EXAMPLES
def test_windows_of_rewards_and_promotions_are_stored_in_utc(
    instant: datetime, offset: timezone, client: FlaskClient, admin: Headers, sessions: sessionmaker[Session]
) -> None:
    start, end = instant.astimezone(offset).isoformat(), (instant + timedelta(days=60)).astimezone(offset).isoformat()
    code = f"R{next(_numbers)}"
    reward = {"code": code, "name": "A gift", "kind": "gift", "cost_points": 10, "validity_days": 30}
    response = client.post("/api/v1/admin/rewards", json={**reward, "active_from": start, "active_until": end}, headers=admin)
    assert response.status_code == 201, response.json
    with session_scope(sessions) as session:
        reward_id = session.scalar(select(Reward.id).where(Reward.code == code))
    assert reward_id is not None
    stored_as(sessions, Reward.active_from, reward_id, instant)
    stored_as(sessions, Reward.active_until, reward_id, instant + timedelta(days=60))
    rule = {"kind": "promotion", "name": "A promotion", "multiplier": "2", "starts_at": start, "ends_at": end}
    response = client.post("/api/v1/admin/earning-rules", json=rule, headers=admin)
    assert response.status_code == 201, response.json
    stored_as(sessions, EarningRule.starts_at, response.json["id"], instant)
    stored_as(sessions, EarningRule.ends_at, response.json["id"], instant + timedelta(days=60))
    client.delete(f"/api/v1/admin/earning-rules/{response.json['id']}", headers=admin)
