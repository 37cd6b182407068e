"""The dashboard's aggregates against counts made independently, in Python, over the raw rows of a
database seeded through the API over two weeks."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.db import session_scope
from loyalty.ledger.models import LedgerEntry
from loyalty.members.models import Member
from loyalty.purchases.operations import record_return
from loyalty.receipts.models import Purchase
from loyalty.tiers.models import TierChange
from notifications.journeys.models import Journey
from notifications.messages.models import Message
from notifications.scenarios.models import Scenario
from reporting import daily, dashboard
from reporting.models import DashboardDay
from reporting.period import Period
from reporting.tasks import refresh_dashboard_days
from rewards.vouchers.models import Voucher
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM, NOW
from tests.snapshots import Reused


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


_world: Reused[list[dict]] = Reused()


@pytest.fixture
def seeded(app, client, admin, till, clock, make_member):  # type: ignore[no-untyped-def]
    """14 days of members, purchases (some anonymous, some returned), adjustments and redemptions."""
    return _world.get(app, lambda: seed(client, admin, till, clock, make_member))


def seed(client, admin, till, clock, make_member) -> list[dict]:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    start = NOW - timedelta(days=14)
    members: list[dict] = []
    for day in range(15):
        clock.set(start + timedelta(days=day, hours=rng.randrange(0, 10)))
        for _ in range(rng.randrange(1, 4)):
            members.append(make_member())
        for _ in range(rng.randrange(2, 6)):
            buyer = rng.choice(members + [None])
            total = f"{rng.randrange(5, 300)}.{rng.randrange(0, 100):02d}"
            body = purchase_body(occurred_at=clock.now().isoformat(), total=total, lines=None)
            body.pop("lines")
            if buyer:
                body["member_id"] = buyer["id"]
            purchase = client.post("/api/v1/purchases", json=body, headers=till)
            assert purchase.status_code == 201, purchase.json
            if buyer and rng.random() < 0.2:
                returned = client.post(
                    f"/api/v1/purchases/{purchase.json['id']}/returns",
                    json={"return_no": f"RET-{purchase.json['id']}", "amount": "5.00"},
                    headers=till,
                )
                assert returned.status_code == 201, returned.json
        lucky = rng.choice(members)
        client.post(f"/api/v1/members/{lucky['id']}/adjustments", json={"points": rng.choice([-20, 30, 80]), "reason": "seed"}, headers=admin)
        spender = rng.choice(members)
        if client.get(f"/api/v1/members/{spender['id']}", headers=admin).json["points_balance"] >= 50:
            client.post(f"/api/v1/members/{spender['id']}/redemptions", json={"reward_code": "FREESHIP"}, headers=admin)
    clock.set(NOW)
    return members


def roll_up(session: Session, now: datetime = NOW) -> int:
    """Run the scheduler's task as the scheduler does: until it has nothing left; the days counted."""
    counted = 0
    while done := refresh_dashboard_days(session, now):
        counted += done
    return counted


@pytest.mark.parametrize("rolled_up", [False, True], ids=["live", "rolled-up"])
@pytest.mark.parametrize("days", [1, 7, 30])
def test_the_figures_of_a_period_are_the_counts_of_its_rows(seeded, sessions, days: int, rolled_up: bool) -> None:
    period = Period.last_days(days, today=NOW.date())
    inside = lambda at: period.starts_at <= at < period.ends_at  # noqa: E731
    with session_scope(sessions) as session:
        if rolled_up:
            assert roll_up(session) == 13  # the first day seeded up to the day before yesterday
        figures_by_day = dashboard.period_figures(session, period)
        members = session.scalars(select(Member)).all()
        purchases = [p for p in session.scalars(select(Purchase)).all() if p.member_id is not None and inside(p.occurred_at)]
        entries = [e for e in session.scalars(select(LedgerEntry)).all() if inside(e.created_at)]
        vouchers = [v for v in session.scalars(select(Voucher)).all() if inside(v.issued_at)]
        upgrades = [c for c in session.scalars(select(TierChange)).all() if c.reason == "upgrade" and inside(c.changed_at)]

        members_now = dashboard.members_now(session)
        counts = dashboard.member_counts(session, period, figures_by_day, members_now, now=NOW)
        assert counts.total == len(members)
        assert counts.new == len([m for m in members if inside(m.enrolled_at)])
        assert counts.active == len({p.member_id for p in purchases})
        assert sum(n for _, n in counts.new_by_day) == counts.new
        assert [day for day, _ in counts.new_by_day] == period.days

        bought = dashboard.purchase_figures(period, figures_by_day)
        assert bought.purchases == len(purchases)
        assert bought.revenue == sum((p.total for p in purchases), Decimal("0"))
        assert bought.returned == sum((p.returned_amount for p in purchases), Decimal("0"))
        by_day: dict[date, Decimal] = {}
        for p in purchases:
            by_day[p.occurred_at.date()] = by_day.get(p.occurred_at.date(), Decimal("0")) + p.total
        assert dict(bought.revenue_by_day) == {day: by_day.get(day, Decimal("0")) for day in period.days}

        points = dashboard.points_figures(period, figures_by_day)
        assert points.issued == sum(e.points for e in entries if e.points > 0)
        assert points.redeemed == -sum(e.points for e in entries if e.kind == "redeem")
        assert points.expired == -sum(e.points for e in entries if e.kind == "expire")
        assert sum(n for _, n in points.redeemed_by_day) == points.redeemed

        liability = dashboard.points_liability(session, members_now)
        assert liability.points == sum(m.points_balance for m in members if m.points_balance > 0)
        assert liability.money == (Decimal(liability.points) * Decimal("0.01")).quantize(Decimal("0.01"))

        tiers = dict(dashboard.tier_distribution(session, members_now))
        assert sum(tiers.values()) == len(members)
        assert tiers["VIP"] == len([m for m in members if m.tier_code == "vip"])
        assert sum(n for _, n in dashboard.tier_upgrades(session, figures_by_day)) == len(upgrades)

        taken = dashboard.rewards_redeemed(session, figures_by_day)
        assert sum(n for _, n, _ in taken) == len(vouchers)
        assert sum(spent for _, _, spent in taken) == sum(v.points_cost for v in vouchers)
    assert (bought.purchases > 0 and points.issued > 0 and vouchers) or days == 1


def test_days_without_activity_count_zero_and_the_period_bounds_are_utc_days(seeded, sessions) -> None:
    future = Period.last_days(7, today=NOW.date() + timedelta(days=30))
    with session_scope(sessions) as session:
        figures_by_day = dashboard.period_figures(session, future)
        assert dashboard.purchase_figures(future, figures_by_day).revenue_by_day == [(day, Decimal("0")) for day in future.days]
        assert dashboard.points_figures(future, figures_by_day).issued == 0
        assert dashboard.member_counts(session, future, figures_by_day, dashboard.members_now(session), now=NOW).new == 0


@pytest.mark.parametrize("rolled_up", [False, True], ids=["live", "rolled-up"])
def test_messages_per_channel_and_scenarios_by_revenue_count_the_rows_of_the_period(seeded, sessions, rolled_up: bool) -> None:
    rng = random.Random(11)
    period = Period.last_days(7, today=NOW.date())
    with session_scope(sessions) as session:
        scenarios = session.scalars(select(Scenario).order_by(Scenario.id)).all()
        for n in range(120):
            sent_at = NOW - timedelta(days=rng.randrange(0, 14), hours=rng.randrange(0, 9))
            status = rng.choice(["sent", "delivered", "failed", "queued"])
            session.add(
                Message(
                    member_id=rng.choice(seeded)["id"], template_key="t", locale="fr", channel=rng.choice(["email", "sms", "push"]),
                    is_marketing=True, send_key=f"k{n}", status=status, recipient="x", subject="s", body_text="b",
                    body_short="b", data={}, attempts=1, created_at=sent_at,
                    sent_at=None if status == "queued" else sent_at,
                    delivered_at=sent_at if status == "delivered" else None,
                    opened_at=sent_at if status != "queued" and n % 3 == 0 else None,
                    clicked_at=sent_at if status != "queued" and n % 7 == 0 else None,
                )
            )
            if n % 2:
                scenario = rng.choice(scenarios)
                converted = sent_at if n % 4 == 1 else None
                session.add(
                    Journey(
                        scenario_id=scenario.id, scenario_version=scenario.version, member_id=rng.choice(seeded)["id"],
                        entry_key=f"e{n}", is_holdout=False, status="ended", step_started_at=sent_at, context={},
                        entered_at=sent_at, messages_sent=1, converted_at=converted,
                        revenue=Decimal(rng.randrange(100, 9000)) / 100 if converted else None,
                    )
                )
        session.flush()
        if rolled_up:
            roll_up(session)
        inside = lambda at: at is not None and period.starts_at <= at < period.ends_at  # noqa: E731
        sent = [m for m in session.scalars(select(Message)).all() if inside(m.sent_at) and m.status in ("sent", "delivered")]
        expected = {
            channel: (
                len([m for m in sent if m.channel == channel]),
                len([m for m in sent if m.channel == channel and m.delivered_at]),
                len([m for m in sent if m.channel == channel and m.opened_at]),
                len([m for m in sent if m.channel == channel and m.clicked_at]),
            )
            for channel in {m.channel for m in sent}
        }
        figures_by_day = dashboard.period_figures(session, period)
        figures = dashboard.message_figures(figures_by_day)
        assert {row.channel: (row.sent, row.delivered, row.opened, row.clicked) for row in figures} == expected

        conversions = [j for j in session.scalars(select(Journey)).all() if inside(j.converted_at)]
        revenue: dict[int, Decimal] = {}
        for journey in conversions:
            revenue[journey.scenario_id] = revenue.get(journey.scenario_id, Decimal("0")) + (journey.revenue or Decimal("0"))
        ranked = dashboard.scenarios_by_revenue(session, figures_by_day)
        names = {s.id: s.key for s in scenarios}
        assert {row.key: row.revenue for row in ranked} == {names[i]: total for i, total in revenue.items()}
        assert [row.revenue for row in ranked] == sorted((row.revenue for row in ranked), reverse=True)
        assert sum(row.conversions for row in ranked) == len(conversions)



def _rolled_up(session: Session) -> list[tuple[object, ...]]:
    columns = (DashboardDay.day, DashboardDay.figure, DashboardDay.key, DashboardDay.value)
    return [tuple(row) for row in session.execute(select(*columns).order_by(*columns[:3]))]


def test_counting_the_roll_up_again_changes_nothing(seeded, sessions) -> None:
    with session_scope(sessions) as session:
        assert roll_up(session) == 13
        counted = _rolled_up(session)
        assert counted and {day for day, *_ in counted} <= set(Period(NOW.date() - timedelta(days=14), NOW.date() - timedelta(days=2)).days)
        assert refresh_dashboard_days(session, NOW) == 0
        assert daily.recount(session, NOW.date() - timedelta(days=14), NOW.date() - timedelta(days=2), now=NOW) == 13
        assert _rolled_up(session) == counted
        with pytest.raises(ValueError, match="live"):
            daily.recount(session, NOW.date() - timedelta(days=3), NOW.date() - timedelta(days=1), now=NOW)


def test_a_day_is_counted_into_the_roll_up_once_the_day_after_it_is_over(seeded, sessions) -> None:
    """Purchases either side of midnight fall on their own UTC day; yesterday stays live until it is
    the day before yesterday, and the figures of a period are the same before and after."""
    yesterday = NOW.date() - timedelta(days=1)
    midnight = datetime.combine(NOW.date(), datetime.min.time(), tzinfo=UTC)
    member = seeded[0]
    with session_scope(sessions) as session:
        for n, at in enumerate((midnight - timedelta(microseconds=1), midnight)):
            session.add(
                Purchase(
                    store_code="S1", receipt_no=f"MIDNIGHT-{n}", member_id=member["id"], channel="store", currency="EUR",
                    total=Decimal("100.00"), occurred_at=at, recorded_at=at, request_hash="x", points_awarded=0,
                    returned_amount=Decimal("0"), points_reversed=0, points_pending=0,
                )
            )  # fmt: skip
        session.flush()
        roll_up(session)
        assert yesterday not in {day for day, *_ in _rolled_up(session)}
        period = Period.last_days(7, today=NOW.date())
        live = dict(dashboard.purchase_figures(period, dashboard.period_figures(session, period)).revenue_by_day)

        after_midnight = midnight + timedelta(days=1, seconds=1)
        assert roll_up(session, after_midnight) == 1  # yesterday, now the day before yesterday
        revenue = {(day, value) for day, figure, _, value in _rolled_up(session) if figure == "purchases.revenue"}
        assert (yesterday, int(live[yesterday] * 100)) in revenue
        rolled = dict(dashboard.purchase_figures(period, dashboard.period_figures(session, period)).revenue_by_day)
        assert rolled == live
        assert live[yesterday] >= Decimal("100.00") and live[NOW.date()] >= Decimal("100.00")


def test_members_of_a_period_over_are_those_enrolled_by_its_end_and_its_active_the_distinct_buyers(seeded, sessions) -> None:
    period = Period(first=NOW.date() - timedelta(days=10), last=NOW.date() - timedelta(days=3))
    with session_scope(sessions) as session:
        enrolled = [m for m in session.scalars(select(Member)).all() if m.enrolled_at < period.ends_at]
        counts = dashboard.member_counts(session, period, dashboard.period_figures(session, period), dashboard.members_now(session), now=NOW)
        assert 0 < counts.total == len(enrolled) < session.scalar(select(func.count()).select_from(Member))
        buyers = {
            p.member_id
            for p in session.scalars(select(Purchase)).all()
            if p.member_id is not None and period.starts_at <= p.occurred_at < period.ends_at
        }
        assert buyers
        assert dashboard.active_members(session, period, now=NOW) == len(buyers)


def test_a_late_return_shows_once_the_worker_counts_its_day_again(seeded, app, sessions, caught_up) -> None:
    period = Period.last_days(30, today=NOW.date())
    with session_scope(sessions) as session:
        roll_up(session)
        old = session.scalars(
            select(Purchase).where(Purchase.member_id.is_not(None), Purchase.occurred_at < NOW - timedelta(days=5)).order_by(Purchase.id)
        ).first()
        assert old is not None
        before = dashboard.purchase_figures(period, dashboard.period_figures(session, period)).returned
    caught_up()  # what the seed announced
    with session_scope(sessions) as session:  # as the till's return does
        record_return(session, purchase_id=old.id, return_no="LATE-1", amount=Decimal("1.00"), now=NOW)
    with session_scope(sessions) as session:
        assert dashboard.purchase_figures(period, dashboard.period_figures(session, period)).returned == before  # counted once

    caught_up()  # the worker: the return's day counted again
    with session_scope(sessions) as session:
        purchases = [p for p in session.scalars(select(Purchase)).all() if p.member_id is not None and period.starts_at <= p.occurred_at]
        after = dashboard.purchase_figures(period, dashboard.period_figures(session, period)).returned
    assert after == before + Decimal("1.00") == sum((p.returned_amount for p in purchases), Decimal("0"))

    result = app.test_cli_runner().invoke(args=["loyalty", "dashboard-recount", "--from", str(old.occurred_at.date())])
    assert result.exit_code == 0, result.output
    assert "days counted again" in result.output
    with session_scope(sessions) as session:
        assert dashboard.purchase_figures(period, dashboard.period_figures(session, period)).returned == after
