"""Badges, challenges and the drop task under events arriving at the same instant, over real
connections to PostgreSQL: each badge level is awarded once, each challenge completed once, each
member's fall announced once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from loyalty.db import session_scope
from loyalty.engagement.models import EngagementScore
from loyalty.engagement.tasks import fire_engagement_drops
from loyalty.ledger.models import LedgerEntry
from loyalty.ledger.operations import members_out_of_balance
from loyalty.outbox import OutboxEvent
from rewards.badges.models import MemberBadge, MemberMetric
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM, NOW, Headers
from tests.integration.concurrency import statuses

pytestmark = pytest.mark.postgres

Member = dict[str, Any]


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def many_reviews(client: FlaskClient, admin: Headers) -> None:
    """Reviews without a monthly limit, and a badge with three levels on them, each worth 10 points."""
    lifted = {"max_per_period": None, "period": None}
    assert client.patch("/api/v1/admin/engagement-actions/review_posted", json=lifted, headers=admin).status_code == 200
    levels = [{"name": name, "target": target, "points": 10} for name, target in (("I", 5), ("II", 10), ("III", 15))]
    badge = {"code": "critic", "name": "Critic", "metric": "reviews", "levels": levels}
    assert client.post("/api/v1/admin/badges", json=badge, headers=admin).status_code == 201


def review(service: Headers, member: Member) -> Callable[[FlaskClient, int], Any]:
    def post(client: FlaskClient, index: int) -> Any:
        body = {
            "member_id": member["id"],
            "action": "review_posted",
            "ref": f"review-{index}",
            "occurred_at": "2026-11-22T09:00:00Z",
        }
        return client.post("/api/v1/engagements", json=body, headers=service)

    return post


def awards(sessions, member: Member) -> Counter[tuple[str, int]]:
    """How many times each (badge, level) was announced to the member."""
    with sessions() as session:
        payloads = session.scalars(
            select(OutboxEvent.payload).where(
                OutboxEvent.event_type == "BadgeAwarded", OutboxEvent.member_id == member["id"]
            )
        )
        return Counter((payload["badge_code"], payload["level"]) for payload in payloads)


def test_concurrent_reviews_award_each_badge_level_once(together, service, make_member, many_reviews, sessions, caught_up):
    member = make_member()
    responses = together(20, review(service, member))
    assert statuses(responses) == {201: 20}
    caught_up()
    assert awards(sessions, member) == {
        ("first_review", 1): 1,
        ("reviewer", 1): 1,
        ("reviewer", 2): 1,
        ("critic", 1): 1,
        ("critic", 2): 1,
        ("critic", 3): 1,
    }
    with sessions() as session:
        assert session.scalar(select(func.count()).where(MemberBadge.member_id == member["id"])) == 6
        reviews = select(MemberMetric.value).where(
            MemberMetric.member_id == member["id"], MemberMetric.metric == "reviews"
        )
        assert session.scalar(reviews) == 20
        badge_points = session.execute(
            select(LedgerEntry.reason, func.count(), func.sum(LedgerEntry.points))
            .where(LedgerEntry.member_id == member["id"], LedgerEntry.source_type == "badge")
            .group_by(LedgerEntry.reason)
        ).all()
        assert sorted(tuple(row) for row in badge_points) == [
            ("badge critic I", 1, 10),
            ("badge critic II", 1, 10),
            ("badge critic III", 1, 10),
            ("badge reviewer silver", 1, 50),
        ]
        assert members_out_of_balance(session) == []


def test_concurrent_purchases_and_reviews_award_a_lifetime_badge_level_once(
    together, till, service, admin, client, make_member, many_reviews, sessions, caught_up
):
    levels = [{"name": str(target), "target": target} for target in (50, 100, 200)]
    badge = {"code": "loyal", "name": "Loyal", "metric": "lifetime_points", "levels": levels}
    assert client.post("/api/v1/admin/badges", json=badge, headers=admin).status_code == 201
    member = make_member()
    posted = review(service, member)

    def purchase_or_review(client: FlaskClient, index: int) -> Any:
        if index % 2:
            return posted(client, index)
        body = purchase_body(member_id=member["id"], receipt_no=f"LOYAL-{index}", total="20.00", lines=[])
        return client.post("/api/v1/purchases", json=body, headers=till)

    responses = together(20, purchase_or_review)
    assert statuses(responses) == {201: 20}
    # 10 at enrolment, then 10 purchases of 20 (more once VIP) and 10 reviews of 10: over 200 lifetime points.
    caught_up()
    assert {key: count for key, count in awards(sessions, member).items() if key[0] == "loyal"} == {
        ("loyal", 1): 1,
        ("loyal", 2): 1,
        ("loyal", 3): 1,
    }


def test_concurrent_last_steps_complete_a_challenge_and_reward_it_once(
    together, till, service, client, make_member, sessions, caught_up
):
    member = make_member()
    for action in ("store_visit", "review_posted"):
        body = {"member_id": member["id"], "action": action, "ref": "1", "occurred_at": "2026-11-22T09:00:00Z"}
        assert client.post("/api/v1/engagements", json=body, headers=service).status_code == 201

    def buy_shoes(client: FlaskClient, index: int) -> Any:
        return client.post(
            "/api/v1/purchases", json=purchase_body(member_id=member["id"], receipt_no=f"SHOES-{index}"), headers=till
        )

    assert statuses(together(10, buy_shoes)) == {201: 10}
    caught_up()
    with sessions() as session:
        completed = session.scalar(
            select(func.count()).where(
                OutboxEvent.event_type == "ChallengeCompleted", OutboxEvent.member_id == member["id"]
            )
        )
        rewarded = session.scalar(
            select(func.count()).where(LedgerEntry.member_id == member["id"], LedgerEntry.source_type == "challenge")
        )
    assert (completed, rewarded) == (1, 1)
    assert awards(sessions, member)[("explorer", 1)] == 1


def test_concurrent_runs_of_the_drop_task_share_the_members_and_announce_each_once(
    together, make_member, sessions, clock, caught_up
):
    members = [make_member() for _ in range(30)]
    caught_up()  # their scores, from the enrolment
    with session_scope(sessions) as session:
        # Each scored 23 (engaged) a week ago: below 20 since a day, due since then.
        session.execute(
            update(EngagementScore)
            .where(EngagementScore.member_id.in_([member["id"] for member in members]))
            .values(score=23.0, as_of=NOW, level="engaged", drops_at=NOW + timedelta(days=6, hours=2))
        )
    clock.advance(timedelta(days=7))

    def run(_client: FlaskClient, _index: int) -> int:
        with session_scope(sessions) as session:
            return fire_engagement_drops(session, clock.now(), limit=10)

    assert sum(together(4, run)) == 30
    with sessions() as session:
        announced = Counter(
            session.scalars(select(OutboxEvent.member_id).where(OutboxEvent.event_type == "EngagementDropped"))
        )
        levels = Counter(session.scalars(select(EngagementScore.level)))
    assert announced == {member["id"]: 1 for member in members}
    assert levels == {"at_risk": 30}
