"""The near-threshold story of the sources, end to end: the scan, the reminder, the second message
when it is not opened, the VIP offer, the purchase, the thanks by SMS, the new card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from loyalty.tiers.models import CardIssuance
from notifications.journeys.models import Journey
from rewards.vouchers.models import Voucher
from tests.scenarios.conftest import purchase_at
from tests.servers import ProviderServer, SmtpServer


@pytest.fixture
def duchemin(
    make_member: Callable[..., dict[str, Any]],
    make_purchase: Callable[..., dict[str, Any]],
    clock: FrozenClock,
    pause: Callable[..., None],
) -> dict[str, Any]:
    """M. Duchemin, 90 points (10 for his account, 80 for a purchase): 10 from the 100-point threshold."""
    pause("welcome", "tier_upgrade")
    member = make_member(first_name="Jean", last_name="Duchemin", phone="+33612345678")
    make_purchase(member_id=member["id"], **purchase_at(clock, "80.00"))
    return member


def journey_of(sessions: sessionmaker[Session], member_id: int) -> Journey:
    with sessions() as session:
        journey = session.scalars(select(Journey).where(Journey.member_id == member_id)).one()
        session.expunge(journey)
        return journey


def test_a_member_at_90_points_gets_the_reminder_with_the_balance_the_points_missing_and_the_reward(
    duchemin: dict[str, Any], run_due: Callable[[], Any], smtp_server: SmtpServer, messages: Callable[..., list[Any]]
) -> None:
    run_due()

    [reminder] = messages(duchemin["id"], channel="email")
    assert reminder.step == "reminder" and reminder.status == "sent"
    [mail] = smtp_server.messages
    assert mail.recipients == [duchemin["email"]]
    text = mail.message.get_body(("plain",)).get_content()
    # In French, the language of the program and of M. Duchemin.
    assert "Vous avez 90 points" in text and "encore 10 et vous atteignez 100 points" in text
    assert "la récompense «\u00a0Bon d'achat de 10 €\u00a0» est à vous" in text
    assert [copy.status for copy in messages(duchemin["id"], channel="in_app")] == ["delivered"]


def test_not_opened_after_two_days_a_different_message_offers_20_off_then_a_purchase_brings_the_sms_and_the_card(
    duchemin: dict[str, Any],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    client: FlaskClient,
    till: dict[str, str],
    smtp_server: SmtpServer,
    provider_server: ProviderServer,
    messages: Callable[..., list[Any]],
    sessions: sessionmaker[Session],
) -> None:
    run_due()
    clock.advance(timedelta(days=1))
    run_due()
    assert len(smtp_server.messages) == 1  # one day: still waiting for the open

    clock.advance(timedelta(days=1, minutes=1))
    run_due()

    reminder, offer = messages(duchemin["id"], channel="email")
    assert offer.step == "vip_offer_message" and offer.subject != reminder.subject
    with sessions() as session:
        voucher = session.scalars(select(Voucher).where(Voucher.member_id == duchemin["id"], Voucher.source == "scenario")).one()
    assert voucher.amount == 20 and voucher.points_cost == 0
    assert voucher.code in offer.body_text

    response = client.post("/api/v1/purchases", json={**purchase_at(clock, "30.00"), "member_id": duchemin["id"], "store_code": "S1", "receipt_no": "VIP-1", "currency": "EUR", "channel": "store"}, headers=till)
    assert response.status_code == 201, response.json
    run_due()

    [sms] = provider_server.messages
    assert sms.path == "/sms" and sms.json()["to"] == "+33612345678"
    assert "VIP" in sms.json()["text"]
    [thanks] = messages(duchemin["id"], channel="sms")
    assert thanks.step == "thanks" and thanks.status == "sent"
    with sessions() as session:
        assert session.scalars(select(CardIssuance.tier_code).where(CardIssuance.member_id == duchemin["id"])).all() == ["vip"]
    journey = journey_of(sessions, duchemin["id"])
    assert journey.status == "ended" and journey.end_reason == "completed"
    assert journey.converted_at is not None and journey.revenue == 30


def test_opened_the_reminder_so_no_second_message_and_no_purchase_ends_the_journey(
    duchemin: dict[str, Any],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    open_email: Callable[[Any], None],
    messages: Callable[..., list[Any]],
    sessions: sessionmaker[Session],
) -> None:
    run_due()
    [reminder] = messages(duchemin["id"], channel="email")
    clock.advance(timedelta(hours=5))
    open_email(reminder)
    run_due()
    assert journey_of(sessions, duchemin["id"]).step == "wait_purchase"

    clock.advance(timedelta(days=15))
    run_due()

    assert [m.step for m in messages(duchemin["id"], channel="email")] == ["reminder"]
    journey = journey_of(sessions, duchemin["id"])
    assert journey.status == "ended" and journey.converted_at is None


def test_the_member_does_not_get_the_scenario_again_within_its_cooldown(
    duchemin: dict[str, Any], run_due: Callable[[], Any], clock: FrozenClock, sessions: sessionmaker[Session]
) -> None:
    assert run_due().entered == 1
    for _ in range(6):
        clock.advance(timedelta(days=10))
        assert run_due().entered == 0

    with sessions() as session:
        assert len(session.scalars(select(Journey.id).where(Journey.member_id == duchemin["id"])).all()) == 1


def test_members_further_from_the_threshold_or_past_it_are_not_entered(
    make_member: Callable[..., dict[str, Any]],
    make_purchase: Callable[..., dict[str, Any]],
    clock: FrozenClock,
    run_due: Callable[[], Any],
    pause: Callable[..., None],
    messages: Callable[..., list[Any]],
) -> None:
    pause("welcome", "tier_upgrade")
    far = make_member()
    make_purchase(member_id=far["id"], **purchase_at(clock, "79.00"))  # 89 points
    run_due()
    assert messages(far["id"]) == []
