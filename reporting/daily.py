"""The dashboard's figures by UTC day, counted by one statement that serves twice.

Each row is ``(day, figure, key, value)``: ``key`` names a channel, a tier, a reward or a scenario
(``""`` when the figure has none), amounts of money are in cents. The ``dashboard-days`` task
(:func:`reporting.tasks.refresh_dashboard_days`) counts each day once, when it is neither today nor
yesterday any more, into the roll-up (:class:`~reporting.models.DashboardDay`), with one
``INSERT … SELECT … GROUP BY``;
:func:`figures_of` reads a period from the roll-up for the days counted, and counts the others
(today, yesterday, any day the task has not reached yet) live with the same statement, over the few
indexed rows of those days.

A change made to a day after it was counted (a return of a purchase made three days before, an open
of a message sent last week, a receipt posted days late) is followed by an outbox consumer
(:mod:`reporting.late_changes`), which counts that day again after commit; ``flask loyalty
dashboard-recount --from DAY`` counts days again by hand (after a change no event announces).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, Select, String, cast, delete, func, insert, literal_column, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CompoundSelect

from loyalty.dates import as_date
from loyalty.ledger.models import LedgerEntry
from loyalty.members.models import Member
from loyalty.receipts.models import Purchase
from loyalty.sql import utc_day
from loyalty.tiers.models import TierChange
from notifications.journeys.models import Journey
from notifications.messages.kpis import SENT
from notifications.messages.models import Message
from reporting.models import DashboardDay, DashboardDayRun
from reporting.period import Period
from rewards.vouchers.models import Voucher

#: Days counted into the roll-up by one statement (the task runs again until it is up to date).
BATCH_DAYS = 31
#: The figures drawn day by day; the others are totals over the period.
SERIES = ("members.new", "purchases.revenue", "points.issued", "points.redeemed")
NO_KEY = literal_column("''", String)


@dataclass
class Figures:
    """The figures of a period: totals per figure and key, and the series by day."""

    totals: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    series: dict[str, dict[date, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, day: date, figure: str, key: str, value: int) -> None:
        self.totals[figure][key] = self.totals[figure].get(key, 0) + value
        if figure in SERIES:
            self.series[figure][day] = self.series[figure].get(day, 0) + value

    def total(self, figure: str) -> int:
        return sum(self.totals.get(figure, {}).values())

    def by_key(self, figure: str) -> dict[str, int]:
        return dict(self.totals.get(figure, {}))

    def by_day(self, figure: str, days: Iterable[date]) -> list[tuple[date, int]]:
        values = self.series.get(figure, {})
        return [(day, values.get(day, 0)) for day in days]


def counting(starts_at: datetime, ends_at: datetime) -> CompoundSelect:
    """Rows ``(day, figure, key, value)`` of every figure, for the instants ``[starts_at, ends_at)``:
    one grouped scan per source table, over its index on the instant it counts by."""

    def within(column: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return column >= starts_at, column < ends_at

    def grouped(at: Any, key: Any, where: Iterable[Any], **values: Any) -> list[Select[Any]]:
        day = utc_day(at)
        counted = (
            select(day.label("day"), key.label("key"), *(cast(v, BigInteger).label(n) for n, v in values.items()))
            .where(*within(at), *where)
            .group_by(day, *([] if key is NO_KEY else [key]))
            .cte()
        )
        return [
            select(counted.c.day, literal_column(f"'{name}'", String).label("figure"), counted.c.key, counted.c[name])
            for name in values
        ]

    parts = [
        *grouped(Member.enrolled_at, NO_KEY, [], **{"members.new": func.count()}),
        *grouped(
            Purchase.occurred_at,
            NO_KEY,
            [Purchase.member_id.is_not(None)],
            **{
                "purchases.count": func.count(),
                "purchases.revenue": func.sum(Purchase.total),
                "purchases.returned": func.sum(Purchase.returned_amount),
            },
        ),
        *grouped(
            LedgerEntry.created_at,
            NO_KEY,
            [],
            **{
                "points.issued": func.sum(case((LedgerEntry.points > 0, LedgerEntry.points), else_=0)),
                "points.redeemed": func.sum(case((LedgerEntry.kind == "redeem", -LedgerEntry.points), else_=0)),
                "points.expired": func.sum(case((LedgerEntry.kind == "expire", -LedgerEntry.points), else_=0)),
            },
        ),
        *grouped(
            Voucher.issued_at,
            cast(Voucher.reward_id, String),
            [],
            **{"rewards.vouchers": func.count(), "rewards.points": func.sum(Voucher.points_cost)},
        ),
        *grouped(
            Message.sent_at,
            Message.channel,
            [Message.copy_of_id.is_(None), Message.status.in_(SENT)],
            **{
                "messages.sent": func.count(),
                "messages.delivered": func.count(Message.delivered_at),
                "messages.opened": func.count(Message.opened_at),
                "messages.clicked": func.count(Message.clicked_at),
            },
        ),
        *grouped(TierChange.changed_at, TierChange.to_code, [TierChange.reason == "upgrade"], **{"tiers.upgrades": func.count()}),
        *grouped(
            Journey.converted_at,
            cast(Journey.scenario_id, String),
            [],
            **{"scenarios.conversions": func.count(), "scenarios.revenue": func.coalesce(func.sum(Journey.revenue), 0)},
        ),
    ]
    return union_all(*parts)


def recount(session: Session, first: date, last: date, *, now: datetime) -> int:
    """Count the days ``first`` to ``last`` (none of them today or yesterday) again: their rows are
    replaced, in one transaction, by what one ``INSERT … SELECT … GROUP BY`` counts now."""
    if last >= now.date() - timedelta(days=1):
        raise ValueError("today and yesterday are counted live, never into the roll-up")
    period = Period(first=first, last=last)
    session.execute(delete(DashboardDay).where(DashboardDay.day >= first, DashboardDay.day <= last))
    session.execute(delete(DashboardDayRun).where(DashboardDayRun.day >= first, DashboardDayRun.day <= last))
    session.execute(
        insert(DashboardDay).from_select(["day", "figure", "key", "value"], counting(period.starts_at, period.ends_at))
    )
    session.execute(insert(DashboardDayRun), [{"day": day, "counted_at": now} for day in period.days])
    return len(period.days)


def figures_of(session: Session, period: Period) -> Figures:
    """The figures of ``period``: the roll-up's for the days it counted, the others counted live."""
    figures = Figures()
    counted = {
        as_date(day)
        for day in session.scalars(
            select(DashboardDayRun.day).where(DashboardDayRun.day >= period.first, DashboardDayRun.day <= period.last)
        )
    }
    in_period = (DashboardDay.day >= period.first, DashboardDay.day <= period.last)
    for figure, key, value in session.execute(
        select(DashboardDay.figure, DashboardDay.key, func.sum(DashboardDay.value))
        .where(*in_period, DashboardDay.figure.not_in(SERIES))
        .group_by(DashboardDay.figure, DashboardDay.key)
    ):
        figures.add(period.first, figure, key, int(value))
    for day, figure, key, value in session.execute(
        select(DashboardDay.day, DashboardDay.figure, DashboardDay.key, DashboardDay.value).where(
            *in_period, DashboardDay.figure.in_(SERIES)
        )
    ):
        figures.add(as_date(day), figure, key, value)
    open_days = [day for day in period.days if day not in counted]
    if open_days:
        live = Period(first=open_days[0], last=open_days[-1])
        for day, figure, key, value in session.execute(counting(live.starts_at, live.ends_at)):
            if as_date(day) not in counted:
                figures.add(as_date(day), figure, key, int(value or 0))
    return figures


def first_day(session: Session) -> date | None:
    """The first day anything was counted on (the minimum of each source's index)."""
    columns = (
        Member.enrolled_at, Purchase.occurred_at, LedgerEntry.created_at, Voucher.issued_at, Message.sent_at,
        TierChange.changed_at, Journey.converted_at,
    )  # fmt: skip
    firsts = session.execute(select(*(select(func.min(column)).scalar_subquery() for column in columns))).one()
    known = [at for at in firsts if at is not None]
    return min(known).date() if known else None
