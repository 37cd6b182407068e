"""Scenario KPIs: who entered, what was sent, opened and clicked, who bought, and the lift over the
holdout group.

Everything is counted by the database in two aggregate queries (journeys, messages) grouped by what a
report shows (variant, channel, scenario): a scenario with a million journeys costs two index scans,
not a million rows in Python.

- ``entered``: journeys of members who were to receive the scenario (the holdout group apart);
- ``sent``: messages the provider took or delivered (``sent``, ``delivered``), per channel, in-app
  copies of messages sent on another channel excluded; ``delivered``, ``opened``, ``clicked``: those of
  them with the provider's confirmation, an open, a click;
- ``converted``: journeys the goal (a purchase within its window) converted; ``revenue``: their
  purchases' total;
- rates: ``opened / sent``, ``clicked / sent``, ``converted / entered``; the lift compares the
  conversion rate of the members who got the scenario with the holdout's, who got nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.sql import utc_day
from notifications.journeys.models import Journey
from notifications.messages.lift import Lift, lift
from notifications.messages.models import Message
from notifications.scenarios.models import Scenario
from notifications.scenarios.operations import get_scenario, list_scenarios

SENT = ("sent", "delivered")


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` to four decimals; None when nothing was there to count."""
    return round(part / whole, 4) if whole else None


@dataclass
class Group:
    """The journeys and messages of one group (the treatment, the holdout, a variant)."""

    entered: int = 0
    converted: int = 0
    revenue: Decimal = Decimal("0.00")
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    delivered: int = 0
    opened: int = 0
    clicked: int = 0

    @property
    def sent(self) -> int:
        return sum(self.sent_by_channel.values())

    def add_journeys(self, entered: int, converted: int, revenue: Decimal | None) -> None:
        self.entered += entered
        self.converted += converted
        self.revenue += revenue or Decimal("0.00")

    def add_messages(self, channel: str, sent: int, delivered: int, opened: int, clicked: int) -> None:
        self.sent_by_channel[channel] = self.sent_by_channel.get(channel, 0) + sent
        self.delivered += delivered
        self.opened += opened
        self.clicked += clicked

    def figures(self) -> dict[str, Any]:
        return {
            "entered": self.entered,
            "sent": self.sent,
            "sent_by_channel": dict(sorted(self.sent_by_channel.items())),
            "delivered": self.delivered,
            "opened": self.opened,
            "clicked": self.clicked,
            "converted": self.converted,
            "revenue": self.revenue,
            "open_rate": rate(self.opened, self.sent),
            "click_rate": rate(self.clicked, self.sent),
            "conversion_rate": rate(self.converted, self.entered),
        }


def comparison(treatment: Group, holdout: Group) -> dict[str, Any]:
    """The conversion of the members who got the scenario against the holdout's, and the lift."""
    treated, held = rate(treatment.converted, treatment.entered), rate(holdout.converted, holdout.entered)
    lift = round(treated - held, 4) if treated is not None and held is not None else None
    return {
        "treatment": {"entered": treatment.entered, "converted": treatment.converted, "conversion_rate": treated},
        "holdout": {"entered": holdout.entered, "converted": holdout.converted, "conversion_rate": held},
        "lift": lift,
        "relative_lift": round(lift / held, 4) if lift is not None and held else None,
    }


def _journey_counts(session: Session, *by: Any, where: Iterable[Any]) -> list[Any]:
    """Journeys grouped by ``by`` and the holdout flag: entered, converted, revenue."""
    return list(
        session.execute(
            select(*by, Journey.is_holdout, func.count(), func.count(Journey.converted_at), func.sum(Journey.revenue))
            .where(*where)
            .group_by(*by, Journey.is_holdout)
        )
    )


def message_counts(session: Session, *by: Any, where: Iterable[Any]) -> list[Any]:
    """Messages sent (copies apart) grouped by ``by`` and the channel: sent, delivered, opened, clicked."""
    return list(
        session.execute(
            select(
                *by,
                Message.channel,
                func.count(),
                func.count(Message.delivered_at),
                func.count(Message.opened_at),
                func.count(Message.clicked_at),
            )
            .where(*where, Message.copy_of_id.is_(None), Message.status.in_(SENT))
            .group_by(*by, Message.channel)
        )
    )


def scenario_kpis(session: Session, key: str) -> dict[str, Any]:
    """One scenario's figures, per variant, and its treatment against its holdout."""
    scenario = get_scenario(session, key)
    treatment, holdout = Group(), Group()
    variants: dict[str | None, Group] = {}
    for variant, is_holdout, entered, converted, revenue in _journey_counts(
        session, Journey.variant, where=[Journey.scenario_id == scenario.id]
    ):
        if is_holdout:
            holdout.add_journeys(entered, converted, revenue)
        else:
            treatment.add_journeys(entered, converted, revenue)
            variants.setdefault(variant, Group()).add_journeys(entered, converted, revenue)
    for variant, channel, *counts in message_counts(session, Message.variant, where=[Message.scenario_key == key]):
        treatment.add_messages(channel, *counts)
        variants.setdefault(variant, Group()).add_messages(channel, *counts)
    return {
        **_identity(scenario),
        **treatment.figures(),
        "holdout": holdout.entered,
        "variants": [
            {"variant": variant, **group.figures()}
            for variant, group in sorted(variants.items(), key=lambda item: item[0] or "")
        ],
        "holdout_comparison": comparison(treatment, holdout),
    }


def kpi_summary(session: Session) -> list[dict[str, Any]]:
    """One line per scenario: its main figures and the lift over its holdout."""
    scenarios = list_scenarios(session)
    treatments = {scenario.id: Group() for scenario in scenarios}
    holdouts = {scenario.id: Group() for scenario in scenarios}
    for scenario_id, is_holdout, *counts in _journey_counts(session, Journey.scenario_id, where=[]):
        (holdouts if is_holdout else treatments)[scenario_id].add_journeys(*counts)
    ids = {scenario.key: scenario.id for scenario in scenarios}
    for key, channel, *counts in message_counts(
        session, Message.scenario_key, where=[Message.scenario_key.is_not(None)]
    ):
        if key in ids:
            treatments[ids[key]].add_messages(channel, *counts)
    summary = []
    for scenario in scenarios:
        treatment, holdout = treatments[scenario.id], holdouts[scenario.id]
        versus = comparison(treatment, holdout)
        summary.append(
            {
                **_identity(scenario),
                **treatment.figures(),
                "holdout": holdout.entered,
                "holdout_conversion_rate": versus["holdout"]["conversion_rate"],
                "lift": versus["lift"],
            }
        )
    return summary


def _identity(scenario: Scenario) -> dict[str, Any]:
    return {"scenario": scenario.key, "name": scenario.name, "status": scenario.status}


@dataclass
class Timeline:
    """A scenario's figures day by day (UTC), for the journeys that entered that day: what was sent
    to them, opened, clicked, and who converted, however long after. Every day of the period has its
    groups, empty ones included, so a chart's axis has no holes."""

    days: list[date]
    #: The journeys that got the scenario (every variant), by day.
    treatment: dict[date, Group]
    #: The same per variant (None: journeys without a variant).
    variants: dict[str | None, dict[date, Group]]
    holdout: dict[date, Group]


def scenario_timeline(session: Session, key: str, *, since: date, until: date) -> Timeline:
    """The scenario's funnel for the journeys entered from ``since`` to ``until`` (both included),
    per day and variant: two aggregate queries, like :func:`scenario_kpis`."""
    scenario = get_scenario(session, key)
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]
    day = utc_day(Journey.entered_at)
    entered = [
        Journey.scenario_id == scenario.id,
        Journey.entered_at >= datetime.combine(since, time(), UTC),
        Journey.entered_at < datetime.combine(until + timedelta(days=1), time(), UTC),
    ]
    timeline = Timeline(days, {d: Group() for d in days}, {}, {d: Group() for d in days})

    def variant_days(variant: str | None) -> dict[date, Group]:
        return timeline.variants.setdefault(variant, {d: Group() for d in days})

    for on, variant, is_holdout, *counts in _journey_counts(session, day, Journey.variant, where=entered):
        if is_holdout:
            timeline.holdout[on].add_journeys(*counts)
        else:
            timeline.treatment[on].add_journeys(*counts)
            variant_days(variant)[on].add_journeys(*counts)
    for on, variant, channel, *counts in message_counts(
        session, day, Journey.variant, where=[Message.journey_id == Journey.id, *entered]
    ):
        timeline.treatment[on].add_messages(channel, *counts)
        variant_days(variant)[on].add_messages(channel, *counts)
    return timeline


@dataclass(frozen=True)
class Comparison:
    """One group's conversion against a reference group's (the holdout, or the first variant)."""

    group: str
    reference: str
    lift: Lift | None


def comparisons(kpis: dict[str, Any], *, confidence: float = 0.95) -> list[Comparison]:
    """From :func:`scenario_kpis`: the treatment and each variant against the holdout, then each
    other variant against the first one ("is variant B better than A?")."""
    held = kpis["holdout_comparison"]["holdout"]

    def versus(group: dict[str, Any], reference: dict[str, Any]) -> Lift | None:
        return lift(
            group["converted"], group["entered"], reference["converted"], reference["entered"], confidence=confidence
        )

    result = [Comparison("treatment", "holdout", versus(kpis, held))]
    variants = [line for line in kpis["variants"] if line["variant"] is not None]
    result.extend(Comparison(line["variant"], "holdout", versus(line, held)) for line in variants)
    if variants:
        first = variants[0]
        result.extend(Comparison(line["variant"], first["variant"], versus(line, first)) for line in variants[1:])
    return result
