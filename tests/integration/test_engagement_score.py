"""The engagement score over a simulated clock: interactions add their weights, the score halves every
30 days (the default program), and the drop task finds the members whose level fell, once each."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from loyalty import outbox
from loyalty.db import session_scope
from loyalty.engagement.models import EngagementScore
from loyalty.engagement.score import add_interactions
from loyalty.engagement.tasks import fire_engagement_drops
from loyalty.outbox import OutboxEvent
from notifications.events import MessageClicked, MessageOpened
from rewards.events import GamePlayed
from tests.conftest import CORE_PROGRAM, DEFAULT_PROGRAM, NOW, Headers

Member = dict[str, Any]
#: The default program: purchase 10, engagement 3, opened 1, clicked 2, game 2; engaged from 20, at risk from 5.
HALF_LIFE_DAYS = 30


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def client(caught_up_client: FlaskClient) -> FlaskClient:
    """Requests read the score once the outbox consumers have caught up."""
    return caught_up_client


@pytest.fixture
def engagement_of(client: FlaskClient, admin: Headers) -> Callable[[Member], dict[str, Any]]:
    """The member's score and level as the status document shows them now."""

    def read(member: Member) -> dict[str, Any]:
        response = client.get(f"/api/v1/members/{member['id']}/status", headers=admin)
        assert response.status_code == 200, response.json
        return response.json["engagement"]

    return read


@pytest.fixture
def run_drops(sessions, clock, caught_up) -> Callable[[], int]:
    """One run of the drop task at the clock's instant, in its own transaction, as the scheduler runs
    it (the consumers having applied the interactions before)."""

    def run() -> int:
        caught_up()
        with session_scope(sessions) as session:
            return fire_engagement_drops(session, clock.now())

    return run


def drops(sessions, member: Member) -> list[tuple[str, str, float]]:
    with sessions() as session:
        payloads = session.scalars(
            select(OutboxEvent.payload)
            .where(OutboxEvent.event_type == "EngagementDropped", OutboxEvent.member_id == member["id"])
            .order_by(OutboxEvent.id)
        )
        return [(payload["from_level"], payload["to_level"], payload["score"]) for payload in payloads]


def decayed(score: float, days: float) -> float:
    return round(score * 0.5 ** (days / HALF_LIFE_DAYS), 2)


def test_the_score_decays_and_the_drop_task_fires_each_fall_once(
    make_member, make_purchase, engagement_of, run_drops, clock, sessions
):
    member = make_member()  # account_created: an engagement, 3
    assert engagement_of(member) == {"score": 3.0, "level": "dormant"}
    make_purchase(member_id=member["id"])
    make_purchase(member_id=member["id"])
    assert engagement_of(member) == {"score": 23.0, "level": "engaged"}

    # 23 halves to 20 after 30 × log2(23/20) = 6.05 days.
    clock.advance(timedelta(days=6))
    assert engagement_of(member) == {"score": decayed(23, 6), "level": "engaged"}
    assert run_drops() == 0
    clock.advance(timedelta(days=1))
    assert engagement_of(member) == {"score": decayed(23, 7), "level": "at_risk"}
    assert run_drops() == 1
    assert run_drops() == 0
    assert drops(sessions, member) == [("engaged", "at_risk", decayed(23, 7))]

    # … and to 5 after 30 × log2(23/5) = 66.05 days.
    clock.set(NOW + timedelta(days=66))
    assert run_drops() == 0
    clock.set(NOW + timedelta(days=67))
    assert run_drops() == 1
    assert drops(sessions, member)[1:] == [("at_risk", "dormant", decayed(23, 67))]
    clock.advance(timedelta(days=365))
    assert run_drops() == 0
    with sessions() as session:
        row = session.scalars(select(EngagementScore).where(EngagementScore.member_id == member["id"])).one()
        assert (row.level, row.drops_at) == ("dormant", None)


def test_drops_at_is_the_next_second_after_the_score_reaches_the_boundary(make_member, make_purchase, sessions, caught_up):
    member = make_member()
    make_purchase(member_id=member["id"])  # 3 + 10 = 13: at risk until it falls to 5
    caught_up()
    with sessions() as session:
        row = session.scalars(select(EngagementScore).where(EngagementScore.member_id == member["id"])).one()
    exact = NOW + timedelta(days=HALF_LIFE_DAYS * math.log2(13 / 5))
    assert (row.level, row.as_of) == ("at_risk", NOW)
    assert exact < row.drops_at <= exact + timedelta(seconds=1)


def test_a_batch_writes_a_first_score_and_a_decayed_one_together(make_member, caught_up, sessions, clock):
    """A first score (a whole weight) and a decayed one (a fraction) go into the same upsert."""
    first, second = make_member(), make_member()  # 3 each
    caught_up()
    clock.advance(timedelta(days=3))
    with session_scope(sessions) as session:
        session.execute(delete(EngagementScore).where(EngagementScore.member_id == first["id"]))
        add_interactions(session, [(first["id"], "purchase", clock.now()), (second["id"], "purchase", clock.now())])
    with sessions() as session:
        scores = {member_id: score for member_id, score in session.execute(select(EngagementScore.member_id, EngagementScore.score))}
    assert scores[first["id"]] == 10
    assert scores[second["id"]] == pytest.approx(3 * 0.5 ** (3 / HALF_LIFE_DAYS) + 10)


def test_a_member_who_interacts_again_climbs_back_without_a_drop(
    make_member, make_purchase, engagement_of, run_drops, clock, sessions
):
    member = make_member()
    make_purchase(member_id=member["id"])
    make_purchase(member_id=member["id"])
    clock.advance(timedelta(days=5))
    make_purchase(member_id=member["id"], occurred_at=clock.now().isoformat())
    assert engagement_of(member) == {"score": round(23 * 0.5 ** (5 / 30) + 10, 2), "level": "engaged"}
    clock.advance(timedelta(days=2))  # the first drops_at has passed, the new one has not
    assert run_drops() == 0
    assert drops(sessions, member) == []


def test_messages_opened_and_clicked_and_games_played_count(make_member, engagement_of, sessions, clock):
    member = make_member()
    with session_scope(sessions) as session:
        at, member_id = clock.now(), member["id"]
        outbox.record(
            session,
            MessageOpened(occurred_at=at, member_id=member_id, message_id=1, channel="email", scenario="welcome"),
        )
        outbox.record(
            session, MessageClicked(occurred_at=at, member_id=member_id, message_id=1, channel="email", scenario=None)
        )
        outbox.record(
            session, GamePlayed(occurred_at=at, member_id=member_id, game_code="WHEEL", play_id=1, prize_code=None)
        )
    assert engagement_of(member) == {"score": 3 + 1 + 2 + 2, "level": "at_risk"}


def test_engagement_over_an_actions_limit_and_anonymous_purchases_do_not_count(
    client, service, make_member, make_purchase, engagement_of
):
    member = make_member()
    for ref in ("a", "b"):  # one store visit a day
        body = {"member_id": member["id"], "action": "store_visit", "ref": ref, "occurred_at": "2026-11-22T09:00:00Z"}
        assert client.post("/api/v1/engagements", json=body, headers=service).status_code == 201
    make_purchase()
    assert engagement_of(member) == {"score": 6.0, "level": "at_risk"}


def test_raising_the_boundaries_drops_the_members_below_them_at_the_next_run(
    client, admin, make_member, make_purchase, run_drops, sessions
):
    member = make_member()
    make_purchase(member_id=member["id"])
    make_purchase(member_id=member["id"])  # 23: engaged
    settings = client.get("/api/v1/admin/engagement-score", headers=admin).json
    assert settings == {
        "half_life_days": 30.0,
        "weights": {
            "purchase": 10.0,
            "engagement": 3.0,
            "message_opened": 1.0,
            "message_clicked": 2.0,
            "game_played": 2.0,
        },
        "engaged_from": 20.0,
        "at_risk_from": 5.0,
    }
    response = client.put(
        "/api/v1/admin/engagement-score", json={**settings, "engaged_from": 50, "at_risk_from": 30}, headers=admin
    )
    assert response.status_code == 200, response.json
    assert run_drops() == 1
    assert drops(sessions, member) == [("engaged", "dormant", 23.0)]


def test_the_member_view_shows_the_score_to_admin_and_service_only(client, admin, service, till, login, make_member):
    member = make_member()
    url = f"/api/v1/members/{member['id']}"
    assert client.get(url, headers=admin).json["engagement"] == {"score": 3.0, "level": "dormant"}
    assert client.get(url, headers=service).json["engagement"] == {"score": 3.0, "level": "dormant"}
    assert "engagement" not in client.get(url, headers=till).json
    assert "engagement" not in client.get(url, headers=login(member)).json


@pytest.mark.parametrize("program", [CORE_PROGRAM])
def test_a_program_without_score_settings_keeps_no_score(client, admin, make_member, make_purchase, sessions, program):
    member = make_member()
    make_purchase(member_id=member["id"])
    assert client.get(f"/api/v1/members/{member['id']}/status", headers=admin).json["engagement"] is None
    assert client.get("/api/v1/admin/engagement-score", headers=admin).status_code == 404
    with sessions() as session:
        assert session.scalars(select(EngagementScore)).all() == []
