"""The welcome story (seed 003) and the reactivation of inactive members (seed 002), end to end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from notifications.journeys.models import Journey
from rewards.vouchers.models import Voucher
from tests.scenarios.conftest import purchase_at
from tests.servers import SmtpServer


@pytest.fixture
def newcomer(
    make_member: Callable[..., dict[str, Any]],
    make_purchase: Callable[..., dict[str, Any]],
    clock: FrozenClock,
    pause: Callable[..., None],
) -> dict[str, Any]:
    """A member whose account was created with a first purchase, a minute ago."""
    pause("near_threshold", "tier_upgrade")
    member = make_member(first_name="Claire")
    make_purchase(
        member_id=member["id"],
        occurred_at=clock.now().isoformat(),
        total="45.90",
        lines=[
            {"sku": "TRAIL-RUNNER", "category": "shoes", "quantity": 1, "unit_price": "20.00"},
            {"sku": "WOOL-SOCKS", "category": "textile", "quantity": 2, "unit_price": "12.95"},
        ],
    )
    return member


def test_the_welcome_email_comes_an_hour_after_the_first_purchase_with_the_first_name_and_the_products(
    newcomer: dict[str, Any], run_due: Callable[[], Any], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    run_due()
    assert smtp_server.messages == []

    clock.advance(timedelta(minutes=59))
    run_due()
    assert smtp_server.messages == []

    clock.advance(timedelta(minutes=1))
    run_due()
    [mail] = smtp_server.messages
    text = mail.message.get_body(("plain",)).get_content()
    html = mail.message.get_body(("html",)).get_content()
    assert "Claire" in text and "TRAIL-RUNNER" in text and "WOOL-SOCKS" in text
    assert "TRAIL-RUNNER" in html
    assert mail.message["List-Unsubscribe"].strip().startswith("<http")


def test_the_welcome_journey_is_due_when_its_opening_wait_ends_not_at_once(
    newcomer: dict[str, Any], caught_up: Callable[[], int], sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    """A journey that opens with a wait is entered waiting: no pass runs it only to learn so."""
    caught_up()
    with sessions() as session:
        journey = session.scalars(select(Journey).where(Journey.member_id == newcomer["id"])).one()
    assert (journey.step, journey.entered_at, journey.due_at) == ("one_hour_later", clock.now(), clock.now() + timedelta(hours=1))


def test_not_opened_the_next_day_a_different_email_brings_a_product_selection(
    newcomer: dict[str, Any],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    smtp_server: SmtpServer,
    messages: Callable[..., list[Any]],
) -> None:
    run_due()
    clock.advance(timedelta(hours=1))
    run_due()
    clock.advance(timedelta(days=1))
    run_due()

    welcome, selection = messages(newcomer["id"], channel="email")
    assert (welcome.template_key, selection.template_key) == ("welcome", "welcome_selection")
    assert selection.subject != welcome.subject
    assert "best sellers" in selection.body_text.lower()
    assert len(smtp_server.messages) == 2


def test_opening_the_welcome_email_ends_the_journey(
    newcomer: dict[str, Any],
    run_due: Callable[[], Any],
    clock: FrozenClock,
    open_email: Callable[[Any], None],
    messages: Callable[..., list[Any]],
    sessions: sessionmaker[Session],
) -> None:
    run_due()
    clock.advance(timedelta(hours=1))
    run_due()
    [welcome] = messages(newcomer["id"], channel="email")
    clock.advance(timedelta(hours=3))
    open_email(welcome)
    run_due()
    clock.advance(timedelta(days=2))
    run_due()

    assert [m.template_key for m in messages(newcomer["id"], channel="email")] == ["welcome"]
    with sessions() as session:
        journey = session.scalars(select(Journey).where(Journey.member_id == newcomer["id"])).one()
        assert (journey.status, journey.end_reason) == ("ended", "completed")


def test_reactivation_escalates_after_30_days_and_a_purchase_stops_it(
    make_member: Callable[..., dict[str, Any]],
    make_purchase: Callable[..., dict[str, Any]],
    clock: FrozenClock,
    run_due: Callable[[], Any],
    pause: Callable[..., None],
    messages: Callable[..., list[Any]],
    sessions: sessionmaker[Session],
) -> None:
    pause("welcome", "near_threshold", "tier_upgrade")
    stays_away, comes_back = make_member(), make_member()
    for member in (stays_away, comes_back):
        make_purchase(member_id=member["id"], **purchase_at(clock, "20.00"))
    run_due()

    clock.advance(timedelta(days=89))
    run_due()
    assert messages(stays_away["id"]) == []

    clock.advance(timedelta(days=1))
    run_due()
    for member in (stays_away, comes_back):
        assert [m.template_key for m in messages(member["id"], channel="email")] == ["reactivation_offer"]

    clock.advance(timedelta(days=10))
    make_purchase(member_id=comes_back["id"], **purchase_at(clock, "60.00"))
    clock.advance(timedelta(days=20))
    run_due()

    assert [m.template_key for m in messages(stays_away["id"], channel="email")] == [
        "reactivation_offer",
        "reactivation_bigger_offer",
    ]
    assert [m.template_key for m in messages(comes_back["id"], channel="email")] == ["reactivation_offer"]
    with sessions() as session:
        journeys = {j.member_id: j for j in session.scalars(select(Journey))}
        offers = session.scalars(
            select(Voucher.member_id).where(Voucher.source == "scenario").order_by(Voucher.id)
        ).all()
    assert journeys[comes_back["id"]].end_reason == "goal"
    assert journeys[comes_back["id"]].revenue == 60
    assert journeys[stays_away["id"]].converted_at is None
    first_offers, second_offers = offers[:2], offers[2:]
    assert sorted(first_offers) == sorted([stays_away["id"], comes_back["id"]])
    assert second_offers == [stays_away["id"]]
