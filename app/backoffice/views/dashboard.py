"""The dashboard: how the program is doing over a chosen period."""

from __future__ import annotations

from datetime import date, datetime

from flask import render_template, request

from app import db
from app.backoffice import bp
from app.backoffice.security import requires
from app.clock import now
from loyalty.program.operations import get_settings
from app.backoffice.charts import bar_chart, line_chart
from reporting import dashboard as figures
from reporting.period import Period

PRESETS = (7, 30, 90)
#: The longest custom period, so a page never scans years of rows by mistake.
MAX_DAYS = 366
#: The width of the charts that span the page.
WIDE = 1240


@bp.route("/")
@requires("dashboard.read")
def dashboard() -> str:
    """The figures of the period chosen (``days`` = 7, 30 or 90, or ``from`` and ``to`` dates)."""
    period, chosen, error = _period()
    session = db.session()
    by_day = figures.period_figures(session, period)
    members_now = figures.members_now(session)
    members = figures.member_counts(session, period, by_day, members_now, now=now())
    purchases = figures.purchase_figures(period, by_day)
    points = figures.points_figures(period, by_day)
    days = [f"{day:%d %b}" for day in period.days]
    charts = {
        "new_members": line_chart("New members by day", days, [("New members", [n for _, n in members.new_by_day])]),
        "revenue": line_chart(
            "Revenue from members by day", days, [("Revenue", [float(v) for _, v in purchases.revenue_by_day])], width=WIDE
        ),
        "points": line_chart(
            "Points issued and redeemed by day",
            days,
            [("Issued", [n for _, n in points.issued_by_day]), ("Redeemed", [n for _, n in points.redeemed_by_day])],
            width=WIDE,
        ),
        "tiers": bar_chart("Members by tier", figures.tier_distribution(session, members_now)),
        "engagement": bar_chart(
            "Members by engagement level", [(level.replace("_", " "), n) for level, n in figures.engagement_levels(session)]
        ),
    }
    return render_template(
        "backoffice/dashboard.html",
        period=period,
        chosen=chosen,
        presets=PRESETS,
        period_error=error,
        members=members,
        purchases=purchases,
        points=points,
        liability=figures.points_liability(session, members_now),
        currency=get_settings(session).currency,
        upgrades=figures.tier_upgrades(session, by_day),
        rewards=figures.rewards_redeemed(session, by_day),
        messages=figures.message_figures(by_day),
        scenarios=figures.scenarios_by_revenue(session, by_day),
        charts=charts,
    )


def _period() -> tuple[Period, str, str | None]:
    """The period asked for, what the period picker shows as chosen, and what is wrong with a custom one."""
    today = now().date()
    first, last = request.args.get("from", ""), request.args.get("to", "")
    if first or last:
        try:
            period = Period(first=_date(first), last=_date(last))
        except ValueError:
            return Period.last_days(30, today=today), "custom", "Enter both dates as YYYY-MM-DD."
        if period.last < period.first:
            return Period.last_days(30, today=today), "custom", "The end date is before the start date."
        if (period.last - period.first).days >= MAX_DAYS:
            return Period.last_days(30, today=today), "custom", f"Choose at most {MAX_DAYS} days."
        return period, "custom", None
    days = request.args.get("days", "30")
    chosen = int(days) if days.isdigit() and int(days) in PRESETS else 30
    return Period.last_days(chosen, today=today), str(chosen), None


def _date(value: str) -> date:
    return datetime.strptime(value, "%Y-%m-%d").date()
