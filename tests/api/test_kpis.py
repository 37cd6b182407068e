"""Scenario KPIs, played through the engine: members enter (some in the holdout group, the others
split between two variants), messages go out by email and SMS, some are delivered, opened, clicked,
some members buy; the figures must say exactly that."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from notifications.journeys.models import Journey
from notifications.messages.kpis import comparisons, scenario_kpis, scenario_timeline
from notifications.messages.lift import lift
from notifications.messages.models import Message
from notifications.runtime import Runtime
from notifications.scenarios.models import Scenario
from tests.api.scenario_engine import (
    account_link,
    add_scenario,
    make_runtime,
    pixel,
    run_due,
)

SECRET = "webhook-secret"
MEMBERS = 24
#: Two variants waiting one or two hours before the message; a purchase within a week converts.
DEFINITION = {
    "params": {"delay": "1h"},
    "variants": [{"key": "soon", "params": {"delay": "1h"}}, {"key": "later", "params": {"delay": "2h"}}],
    "holdout_percent": 25,
    "goal": {"event": "purchase", "within_days": 7},
}
STEPS = [{"id": "pause", "wait": "$delay"}, {"id": "hello", "send": "note"}]


@dataclass(frozen=True)
class Member:
    id: int
    index: int
    variant: str
    is_holdout: bool
    channel: str

    @property
    def opens(self) -> bool:
        return self.channel == "email" and self.index % 4 == 0

    @property
    def clicks(self) -> bool:
        return self.channel == "email" and self.index % 8 == 0

    @property
    def delivery_confirmed(self) -> bool:
        return self.channel == "sms" and self.index % 3 == 1

    @property
    def spends(self) -> Decimal | None:
        return Decimal(10 + self.index) if self.index % 3 == 0 else None


@pytest.fixture
def runtime(app: Flask, tmp_path: Path) -> Runtime:
    return make_runtime(app, tmp_path)


@pytest.fixture
def played(client, admin, app, clock, make_member, make_purchase, runtime, sessions, monkeypatch) -> list[Member]:
    """The story of the module's docstring; the members as the journeys placed them."""
    monkeypatch.setitem(app.config, "LOYALTY_WEBHOOK_SECRET", SECRET)
    add_scenario(client, admin, "promo", STEPS, **DEFINITION)
    add_scenario(client, admin, "quiet", [{"id": "pause", "wait": "30d"}, {"id": "hello", "send": "note"}])
    ids = []
    for index in range(MEMBERS):
        by_sms = {"preferred_channel": "sms", "phone": f"+3361234{index:04d}"} if index % 2 else {}
        ids.append(make_member(**by_sms)["id"])
    run_due(app, runtime, clock)
    clock.advance(timedelta(hours=3))
    run_due(app, runtime, clock)

    with sessions() as session:
        promo = select(Journey).join(Scenario, Scenario.id == Journey.scenario_id).where(Scenario.key == "promo")
        journeys = {j.member_id: j for j in session.scalars(promo)}
        sent = select(Message).where(Message.scenario_key == "promo", Message.copy_of_id.is_(None))
        messages = {m.member_id: m for m in session.scalars(sent)}
        session.expunge_all()
    members = [
        Member(
            member_id,
            index,
            journeys[member_id].variant,
            journeys[member_id].is_holdout,
            "sms" if index % 2 else "email",
        )
        for index, member_id in enumerate(ids)
    ]
    for member in members:
        if member.is_holdout:
            continue
        message = messages[member.id]
        if member.opens:
            client.get(pixel(message))
        if member.clicks:
            client.get(account_link(message))
        if member.delivery_confirmed:
            body = {"send_key": message.send_key, "status": "delivered"}
            assert (
                client.post("/api/v1/webhooks/sms", json=body, headers={"X-Webhook-Secret": SECRET}).status_code == 200
            )
    for member in members:
        if member.spends is not None:
            make_purchase(member_id=member.id, occurred_at=clock.now().isoformat(), total=str(member.spends), lines=[])
    run_due(app, runtime, clock)
    return members


def expected(members: list[Member]) -> dict[str, Any]:
    """The figures, counted member by member."""
    bought = [m for m in members if m.spends is not None]
    return {
        "entered": len(members),
        "sent": len(members),
        "sent_by_channel": {
            channel: count for channel in ("email", "sms") if (count := sum(m.channel == channel for m in members))
        },
        "delivered": sum(m.delivery_confirmed for m in members),
        "opened": sum(m.opens or m.clicks for m in members),
        "clicked": sum(m.clicks for m in members),
        "converted": len(bought),
        "revenue": str(sum((m.spends for m in bought if m.spends), Decimal("0.00"))),
    }


def test_the_scenario_figures_count_what_happened(client, admin, played) -> None:
    treated = [m for m in played if not m.is_holdout]
    held = [m for m in played if m.is_holdout]
    assert treated and held, "the story needs members on both sides"

    kpis = client.get("/api/v1/admin/scenarios/promo/kpis", headers=admin).json

    assert {name: kpis[name] for name in expected(treated)} == expected(treated)
    assert kpis["holdout"] == len(held)
    assert kpis["open_rate"] == round(kpis["opened"] / kpis["sent"], 4)
    assert kpis["click_rate"] == round(kpis["clicked"] / kpis["sent"], 4)
    assert kpis["conversion_rate"] == round(kpis["converted"] / kpis["entered"], 4)


def test_each_variant_has_its_own_figures(client, admin, played) -> None:
    kpis = client.get("/api/v1/admin/scenarios/promo/kpis", headers=admin).json

    assert [v["variant"] for v in kpis["variants"]] == ["later", "soon"]
    for line in kpis["variants"]:
        members = [m for m in played if m.variant == line["variant"] and not m.is_holdout]
        assert {name: line[name] for name in expected(members)} == expected(members)


def test_the_treatment_is_compared_with_the_holdout(client, admin, played) -> None:
    treated = [m for m in played if not m.is_holdout]
    held = [m for m in played if m.is_holdout]
    treated_rate = round(sum(m.spends is not None for m in treated) / len(treated), 4)
    held_rate = round(sum(m.spends is not None for m in held) / len(held), 4)

    comparison = client.get("/api/v1/admin/scenarios/promo/kpis", headers=admin).json["holdout_comparison"]

    assert comparison["treatment"]["conversion_rate"] == treated_rate
    assert comparison["holdout"] == {
        "entered": len(held),
        "converted": sum(m.spends is not None for m in held),
        "conversion_rate": held_rate,
    }
    assert comparison["lift"] == round(treated_rate - held_rate, 4)
    if held_rate:
        assert comparison["relative_lift"] == round(comparison["lift"] / held_rate, 4)


def test_the_summary_has_one_line_per_scenario(client, admin, played) -> None:
    summary = client.get("/api/v1/admin/scenarios/kpis", headers=admin).json
    promo = client.get("/api/v1/admin/scenarios/promo/kpis", headers=admin).json

    assert [line["scenario"] for line in summary] == ["promo", "quiet"]
    figures = ("entered", "sent", "sent_by_channel", "opened", "clicked", "converted", "revenue", "conversion_rate")
    assert {name: summary[0][name] for name in figures} == {name: promo[name] for name in figures}
    assert summary[0]["lift"] == promo["holdout_comparison"]["lift"]
    quiet = summary[1]
    assert quiet["sent"] == 0 and quiet["open_rate"] is None and quiet["entered"] > 0


def test_a_scenario_nobody_entered_has_no_rates(client, admin) -> None:
    add_scenario(client, admin, "unused", STEPS, **DEFINITION)

    kpis = client.get("/api/v1/admin/scenarios/unused/kpis", headers=admin).json

    assert (kpis["entered"], kpis["sent"], kpis["revenue"], kpis["variants"]) == (0, 0, "0.00", [])
    assert kpis["conversion_rate"] is None and kpis["holdout_comparison"]["lift"] is None
    assert client.get("/api/v1/admin/scenarios/nothing/kpis", headers=admin).status_code == 404


def test_the_timeline_counts_each_day_the_journeys_entered_that_day(
    client, admin, app, clock, make_member, played, runtime, sessions
) -> None:
    first_day = clock.now().date()
    clock.advance(timedelta(days=1))
    newcomers = [make_member()["id"] for _ in range(4)]
    run_due(app, runtime, clock)
    with sessions() as session:
        held = set(session.scalars(select(Journey.member_id).where(Journey.is_holdout, Journey.member_id.in_(newcomers))))

        timeline = scenario_timeline(session, "promo", since=first_day - timedelta(days=1), until=first_day + timedelta(days=1))

    before, on_first, on_second = timeline.days
    assert on_first == first_day
    treated = [m for m in played if not m.is_holdout]
    first = timeline.treatment[on_first].figures()
    assert {**{name: first[name] for name in expected(treated)}, "revenue": str(first["revenue"])} == expected(treated)
    assert timeline.holdout[on_first].entered == sum(m.is_holdout for m in played)
    assert timeline.treatment[before].figures() == timeline.holdout[before].figures()
    assert timeline.treatment[before].entered == 0
    assert (timeline.treatment[on_second].entered, timeline.holdout[on_second].entered) == (4 - len(held), len(held))
    for variant, by_day in timeline.variants.items():
        members = [m for m in treated if m.variant == variant]
        figures = by_day[on_first].figures()
        assert {**{name: figures[name] for name in expected(members)}, "revenue": str(figures["revenue"])} == expected(members)


def test_the_treatment_and_each_variant_are_compared_with_the_holdout_and_the_variants_together(
    played, sessions
) -> None:
    held = [m for m in played if m.is_holdout]

    def group(members: list[Member]) -> tuple[int, int]:
        return sum(m.spends is not None for m in members), len(members)

    with sessions() as session:
        found = comparisons(scenario_kpis(session, "promo"))

    later = [m for m in played if m.variant == "later" and not m.is_holdout]
    soon = [m for m in played if m.variant == "soon" and not m.is_holdout]
    assert [(c.group, c.reference) for c in found] == [
        ("treatment", "holdout"), ("later", "holdout"), ("soon", "holdout"), ("soon", "later"),
    ]  # fmt: skip
    assert [c.lift for c in found] == [
        lift(*group(later + soon), *group(held)),
        lift(*group(later), *group(held)),
        lift(*group(soon), *group(held)),
        lift(*group(soon), *group(later)),
    ]
