"""``flask --app wsgi loyalty demo-data``: the demo members and their history that ``make run`` gives the
back office, played through the real operations over the days up to now, once."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from loyalty.members.models import Member
from loyalty.receipts.models import Purchase, PurchaseReturn
from notifications.journeys.models import Journey
from notifications.messages.models import Message
from reporting import dashboard as figures
from reporting.period import Period
from rewards.vouchers.models import Voucher
from tests.backoffice.conftest import StaffClient
from tests.conftest import DEFAULT_PROGRAM

OPTIONS = ("--members", "40", "--days", "14", "--seed", "3")


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


def demo_data(app: Flask) -> Result:
    result = app.test_cli_runner().invoke(args=["loyalty", "demo-data", *OPTIONS])
    assert result.exit_code == 0, result.output
    return result


def counts(session: Session) -> dict[str, int]:
    """How many rows of each kind the demo data made."""
    models = {"members": Member, "purchases": Purchase, "returns": PurchaseReturn, "vouchers": Voucher}
    found = {name: session.scalar(select(func.count()).select_from(model)) or 0 for name, model in models.items()}
    found["messages"] = session.scalar(select(func.count(Message.id)).where(Message.sent_at.is_not(None))) or 0
    found["opened"] = session.scalar(select(func.count(Message.id)).where(Message.opened_at.is_not(None))) or 0
    found["clicked"] = session.scalar(select(func.count(Message.id)).where(Message.clicked_at.is_not(None))) or 0
    found["scenarios entered"] = session.scalar(select(func.count(func.distinct(Journey.scenario_id)))) or 0
    found["upgraded"] = session.scalar(select(func.count(Member.id)).where(Member.tier_code != "member")) or 0
    return found


def test_the_demo_data_fills_every_figure_of_the_back_office_once(
    app: Flask,
    sessions: sessionmaker[Session],
    clock: FrozenClock,
    staff_client: Callable[[str], StaffClient],
) -> None:
    result = demo_data(app)
    card = re.search(r"Example member: .+, card (\S+)", result.output)
    assert card is not None, result.output
    with sessions() as session:
        made = counts(session)
        assert all(made.values()), made
        assert made["members"] == 40
        assert made["scenarios entered"] >= 3
        newest = session.scalar(select(func.max(Purchase.occurred_at)))
        assert newest is not None and clock.now() - timedelta(days=2) < newest <= clock.now()
        # The dashboard's figures over the last 30 days, as the page reads them.
        period = Period.last_days(30, today=clock.now().date())
        by_day = figures.period_figures(session, period)
        purchases = figures.purchase_figures(period, by_day)
        points = figures.points_figures(period, by_day)
        assert purchases.purchases > 0 and purchases.revenue > 0
        assert points.issued > 0 and points.redeemed > 0
        members = figures.member_counts(session, period, by_day, figures.members_now(session), now=clock.now())
        assert members.active > 0
        assert figures.rewards_redeemed(session, by_day)
        assert any(channel.opened and channel.clicked for channel in figures.message_figures(by_day))
        assert figures.scenarios_by_revenue(session, by_day)

    again = demo_data(app)
    assert "already has members; nothing added" in again.output
    assert f"card {card.group(1)}" in again.output
    with sessions() as session:
        assert counts(session) == made

    analyst = staff_client("analyst")
    page = analyst.get("/admin/?days=30").get_data(as_text=True)
    assert "No purchases" not in page
    assert re.search(r"<svg", page)
    found = staff_client("support").get("/admin/members", query_string={"q": card.group(1)}, follow_redirects=True)
    assert card.group(1) in found.get_data(as_text=True)
