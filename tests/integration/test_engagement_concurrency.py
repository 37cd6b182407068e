"""Engagements and referrals reported at the same instant, over real connections to PostgreSQL: the
limits hold because a member's reports are counted one at a time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loyalty.engagement.models import Engagement
from loyalty.ledger.models import LedgerEntry
from loyalty.ledger.operations import members_out_of_balance, members_with_lots_out_of_step
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM, Headers

pytestmark = pytest.mark.postgres


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def report(service: Headers) -> Callable[..., Callable[[FlaskClient, int], Any]]:
    """``report(member, action, ref=…)``: a request for :class:`Together` posting an engagement; the
    ref is the thread's index unless one is given."""

    def make(member: dict[str, Any], action: str, *, ref: str | None = None) -> Callable[[FlaskClient, int], Any]:
        def post(client: FlaskClient, index: int) -> Any:
            body = {
                "member_id": member["id"],
                "action": action,
                "ref": ref or f"ref-{index}",
                "occurred_at": "2026-11-22T09:00:00Z",
            }
            return client.post("/api/v1/engagements", json=body, headers=service)

        return post

    return make


def engagement_rows(sessions, member: dict[str, Any], action: str) -> Counter[str]:
    with sessions() as session:
        outcomes = session.scalars(
            select(Engagement.outcome).where(Engagement.member_id == member["id"], Engagement.action_key == action)
        )
        return Counter(outcomes)


def balance_and_ledger(sessions, member: dict[str, Any]) -> tuple[int, int]:
    with sessions() as session:
        balance = session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.member_id == member["id"]))
        assert members_out_of_balance(session) == [] and members_with_lots_out_of_step(session) == []
        return balance, session.scalar(select(func.count()).where(LedgerEntry.member_id == member["id"]))


def test_concurrent_store_visits_of_one_member_award_exactly_one_a_day(together, report, make_member, sessions):
    member = make_member()
    responses = together(20, report(member, "store_visit"))
    assert Counter(response.status_code for response in responses) == {201: 20}
    assert sorted(response.json["points_awarded"] for response in responses) == [0] * 19 + [2]
    assert engagement_rows(sessions, member, "store_visit") == {"awarded": 1, "limit_reached": 19}
    assert balance_and_ledger(sessions, member) == (10 + 2, 2)


def test_concurrent_reports_of_an_action_awarded_once_per_member_award_it_once(together, report, make_member, sessions):
    member = make_member()
    together(20, report(member, "newsletter_subscribed"))
    assert engagement_rows(sessions, member, "newsletter_subscribed") == {"awarded": 1, "limit_reached": 19}
    assert balance_and_ledger(sessions, member) == (10 + 10, 2)


def test_concurrent_replays_of_one_engagement_record_it_once(together, report, make_member, sessions):
    member = make_member()
    responses = together(20, report(member, "review_posted", ref="review-1"))
    assert Counter(response.status_code for response in responses) == {201: 1, 200: 19}
    assert len({response.json["id"] for response in responses}) == 1
    assert engagement_rows(sessions, member, "review_posted") == {"awarded": 1}
    assert balance_and_ledger(sessions, member) == (10 + 10, 2)


def test_concurrent_first_purchases_of_a_referee_reward_the_referral_once(together, till, make_member, sessions):
    sponsor = make_member()
    referee = make_member(referral_code=sponsor["referral_code"])

    def buy(client: FlaskClient, index: int) -> Any:
        body = purchase_body(member_id=referee["id"], receipt_no=f"REF-{index}", total="20.00", lines=[])
        return client.post("/api/v1/purchases", json=body, headers=till)

    responses = together(10, buy)
    assert Counter(response.status_code for response in responses) == {201: 10}
    assert engagement_rows(sessions, sponsor, "referral") == {"awarded": 1}
    assert balance_and_ledger(sessions, sponsor) == (10 + 50, 2)
    with sessions() as session:
        welcomes = session.scalar(
            select(func.count()).where(LedgerEntry.member_id == referee["id"], LedgerEntry.reason == "referral welcome")
        )
    assert welcomes == 1
