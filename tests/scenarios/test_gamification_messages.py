"""Gamification events feed scenarios: a badge is announced in the app, a falling engagement score
starts the re-engagement offer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from loyalty.clock import FrozenClock
from tests.scenarios.conftest import purchase_at


def test_a_badge_earned_is_announced_in_the_app(
    make_member: Callable[..., dict[str, Any]],
    client: FlaskClient,
    service: dict[str, str],
    clock: FrozenClock,
    run_due: Callable[[], Any],
    pause: Callable[..., None],
    messages: Callable[..., list[Any]],
) -> None:
    pause("welcome", "near_threshold", "tier_upgrade")
    member = make_member()
    body = {"member_id": member["id"], "action": "review_posted", "ref": "review-1", "occurred_at": clock.now().isoformat()}
    assert client.post("/api/v1/engagements", json=body, headers=service).status_code == 201
    run_due()

    [announcement] = messages(member["id"], scenario_key="badge_awarded")
    assert announcement.channel == "in_app" and announcement.status == "delivered"
    assert announcement.subject == "Nouveau badge pour vous, Jean : «\u00a0Premier avis\u00a0»"
    assert "Vous avez publié votre premier avis." in announcement.body_text


def test_an_engagement_score_falling_to_at_risk_starts_the_re_engagement_offer(
    make_member: Callable[..., dict[str, Any]],
    make_purchase: Callable[..., dict[str, Any]],
    clock: FrozenClock,
    run_due: Callable[[], Any],
    pause: Callable[..., None],
    messages: Callable[..., list[Any]],
) -> None:
    pause("welcome", "near_threshold", "tier_upgrade", "badge_awarded")
    member = make_member()
    for number in range(3):
        make_purchase(member_id=member["id"], **purchase_at(clock, "15.00", receipt_no=f"E-{number}"))
    run_due()
    assert messages(member["id"], scenario_key="re_engagement") == []

    clock.advance(timedelta(days=23))  # 33 points of score, halved every 30 days: below 20 after 21.7
    run_due()

    [offer] = messages(member["id"], scenario_key="re_engagement", channel="email")
    assert offer.template_key == "reactivation_offer" and offer.status == "sent"

