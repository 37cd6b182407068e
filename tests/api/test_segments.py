"""Segments: a definition's count, pages and CSV export equal an independent evaluation in Python of
the same definition over a seeded population (members, purchases, custom events, badges, scores)."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from loyalty.customevents.models import CustomEvent
from loyalty.engagement.models import EngagementScore
from loyalty.ledger.models import LedgerEntry
from loyalty.ledger.operations import members_out_of_balance, members_with_lots_out_of_step
from loyalty.members.models import Member
from loyalty.program.operations import get_settings
from loyalty.receipts.models import Purchase, PurchaseLine
from loyalty.segments.tasks import roll_windows
from loyalty.tiers.operations import window_start
from rewards.badges.models import Badge, MemberBadge
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM, NOW

Headers = dict[str, str]
TIMEZONES = ("Europe/Paris", "Europe/London", "America/New_York")
CATEGORIES = ("shoes", "beauty", "textile")



@pytest.fixture
def client(caught_up_client: FlaskClient) -> FlaskClient:
    """Requests read the derived figures (badges, challenges) once the outbox consumers have caught up."""
    return caught_up_client

@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@dataclass
class Facts:
    """What the database holds about one member, read back as plain values."""

    member: Member
    purchases: list[tuple[datetime, Decimal, set[str]]] = field(default_factory=list)
    events: list[datetime] = field(default_factory=list)
    qualifying: int = 0
    level: str | None = None
    badges: set[str] = field(default_factory=set)


def seed(client: FlaskClient, admin: Headers, till: Headers, service: Headers, clock: FrozenClock) -> None:
    """36 members enrolled over 60 days, with purchases over 300 days and store events over 45."""
    rng = random.Random(12)
    event_type = {"key": "store_event_attended", "name": "Store event", "schema": {"type": "object"}}
    assert client.post("/api/v1/admin/event-types", json=event_type, headers=admin).status_code == 201
    badge = {"code": "regular", "name": "Regular", "metric": "custom_events", "qualifier": "store_event_attended", "target": 2}
    assert client.post("/api/v1/admin/badges", json=badge, headers=admin).status_code == 201
    for number in range(36):
        clock.set(NOW - timedelta(days=rng.randrange(60)))
        body = {
            "email": f"seg{number}@example.com",
            "first_name": "Seg",
            "last_name": f"Member {number}",
            "timezone": rng.choice(TIMEZONES),
            "consents": {"email": rng.random() < 0.6, "sms": rng.random() < 0.4, "push": False},
        }
        member = client.post("/api/v1/members", json=body, headers=admin).json
        clock.set(NOW)
        for _ in range(rng.choice((0, 0, 1, 2, 3, 4))):
            categories = rng.sample(CATEGORIES, rng.choice((1, 2)))
            lines = [{"sku": f"{c.upper()}-1", "category": c, "quantity": 1, "unit_price": "10.00"} for c in categories]
            at = NOW - timedelta(days=rng.randrange(1, 300), hours=rng.randrange(24))
            total = f"{rng.randrange(10, 160)}.{rng.randrange(100):02d}"
            purchase = purchase_body(member_id=member["id"], occurred_at=at.isoformat(), total=total, lines=lines)
            assert client.post("/api/v1/purchases", json=purchase, headers=till).status_code == 201
        for ref in range(rng.choice((0, 1, 2, 3))):
            at = NOW - timedelta(days=rng.randrange(45))
            posted = {"member_id": member["id"], "type": "store_event_attended", "ref": f"{number}-{ref}", "occurred_at": at.isoformat()}
            assert client.post("/api/v1/events", json=posted, headers=service).status_code == 201


def read_facts(session: Session) -> list[Facts]:
    facts = {member.id: Facts(member) for member in session.scalars(select(Member).order_by(Member.id))}
    lines: dict[int, set[str]] = defaultdict(set)
    for purchase_id, category in session.execute(select(PurchaseLine.purchase_id, PurchaseLine.category)):
        lines[purchase_id].add(category)
    for purchase in session.scalars(select(Purchase).where(Purchase.member_id.is_not(None))):
        net = purchase.total - purchase.returned_amount
        facts[purchase.member_id].purchases.append((purchase.occurred_at, net, lines[purchase.id]))
    for event in session.scalars(select(CustomEvent)):
        facts[event.member_id].events.append(event.occurred_at)
    since = window_start(get_settings(session), NOW)
    for entry in session.scalars(select(LedgerEntry).where(LedgerEntry.is_qualifying.is_(True))):
        if entry.created_at > since:
            facts[entry.member_id].qualifying += entry.points
    for score in session.scalars(select(EngagementScore)):
        facts[score.member_id].level = score.level
    for member_id, code in session.execute(select(MemberBadge.member_id, Badge.code).join(Badge)):
        facts[member_id].badges.add(code)
    return list(facts.values())


def days(n: int) -> datetime:
    return NOW - timedelta(days=n)


def recent(f: Facts, within: int) -> list[tuple[datetime, Decimal, set[str]]]:
    return [p for p in f.purchases if p[0] >= days(within)]


#: Each definition with the same question asked in Python.
DEFINITIONS: list[tuple[str, dict[str, Any], Callable[[Facts], bool]]] = [
    ("tier", {"tier": ["vip"]}, lambda f: f.member.tier_code == "vip"),
    ("balance", {"balance": {"gte": 150}}, lambda f: f.member.points_balance >= 150),
    ("lifetime", {"lifetime_points": {"gte": 100, "lt": 300}}, lambda f: 100 <= f.member.lifetime_points < 300),
    ("qualifying", {"qualifying_points": {"gt": 200}}, lambda f: f.qualifying > 200),
    ("engaged", {"engagement_level": ["engaged"]}, lambda f: f.level == "engaged"),
    ("new", {"enrolled": {"within_days": 20}}, lambda f: f.member.enrolled_at >= days(20)),
    ("lapsed", {"last_purchase": {"not_within_days": 60}}, lambda f: f.member.last_purchase_at is None or f.member.last_purchase_at < days(60)),
    ("never", {"last_purchase": "never"}, lambda f: f.member.last_purchase_at is None),
    ("frequent", {"purchases": {"within_days": 150, "count": {"gte": 2}}}, lambda f: len(recent(f, 150)) >= 2),
    (
        "small_spenders",
        {"purchases": {"within_days": 180, "spend": {"lt": "100.00"}}},
        lambda f: sum((p[1] for p in recent(f, 180)), Decimal(0)) < 100,
    ),
    ("beauty", {"categories": {"any_of": ["beauty"], "within_days": 120}}, lambda f: any("beauty" in p[2] for p in recent(f, 120))),
    ("email_only", {"consent": {"email": True, "sms": False}}, lambda f: f.member.consent_email and not f.member.consent_sms),
    ("london", {"timezone": ["Europe/London"]}, lambda f: f.member.timezone == "Europe/London"),
    (
        "event_goers",
        {"custom_event": {"type": "store_event_attended", "within_days": 30, "count": {"gte": 2}}},
        lambda f: sum(at >= days(30) for at in f.events) >= 2,
    ),
    ("regulars", {"badge": "regular"}, lambda f: "regular" in f.badges),
    (
        "combined",
        {"all": [{"any": [{"consent": {"email": True}}, {"not": {"purchases": {"count": {"lt": 2}}}}]}, {"balance": {"lt": 300}}]},
        lambda f: (f.member.consent_email or len(f.purchases) >= 2) and f.member.points_balance < 300,
    ),
    (
        "neither",
        {"not": {"any": [{"timezone": ["Europe/Paris"]}, {"custom_event": {"type": "store_event_attended"}}]}},
        lambda f: f.member.timezone != "Europe/Paris" and not f.events,
    ),
]


@pytest.fixture
def population(client, admin, till, service, clock, sessions: sessionmaker[Session]) -> list[Facts]:
    seed(client, admin, till, service, clock)
    with sessions() as session:
        return read_facts(session)


@pytest.mark.parametrize("windows_counted", [False, True], ids=["monthly-summary", "rolling-windows"])
def test_each_segment_counts_the_members_python_finds(client, admin, population, sessions, windows_counted) -> None:
    """Before the daily pass has counted the rolling purchase windows, and after."""
    if windows_counted:
        with sessions.begin() as session:
            assert roll_windows(session, NOW) == 1
    found = {}
    for key, definition, predicate in DEFINITIONS:
        response = client.post("/api/v1/admin/segments", json={"key": key, "name": key, "definition": definition}, headers=admin)
        assert response.status_code == 201, response.json
        expected = sorted(f.member.id for f in population if predicate(f))
        assert 0 < len(expected) < len(population), (key, len(expected))  # each definition tells members apart
        count = client.get(f"/api/v1/admin/segments/{key}/count", headers=admin).json["count"]
        found[key] = (count, len(expected))
        ids, after = [], 0
        while after is not None:
            page = client.get(f"/api/v1/admin/segments/{key}/members?after_id={after}&limit=5", headers=admin).json
            ids += [member["id"] for member in page["members"]]
            after = page["next_after_id"]
        assert ids == expected, key
    assert all(count == expected for count, expected in found.values()), found


def test_the_csv_export_streams_every_member_of_the_segment(client, admin, population) -> None:
    definition = {"last_purchase": {"not_within_days": 60}}
    client.post("/api/v1/admin/segments", json={"key": "lapsed", "name": "Lapsed", "definition": definition}, headers=admin)
    response = client.get("/api/v1/admin/segments/lapsed/members.csv", headers=admin)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    lapsed = [f.member for f in population if f.member.last_purchase_at is None or f.member.last_purchase_at < days(60)]
    assert [(int(row["id"]), row["email"]) for row in rows] == [(m.id, m.email) for m in lapsed]


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"tier": "vip"}, "definition.tier"),
        ({"all": []}, "definition.all"),
        ({"all": [{"tier": ["vip"]}, {"height": 2}]}, "definition.all.1.height"),
        ({"not": {"purchases": {"count": {"over": 2}}}}, "definition.not.purchases.count"),
        ({"purchases": {"within_days": 0, "count": {"gte": 1}}}, "definition.purchases.within_days"),
        ({"purchases": {"spend": {"gte": "1.001"}}}, "definition.purchases.spend.gte"),
        ({"enrolled": {"after": "yesterday"}}, "definition.enrolled.after"),
        ({"tier": ["vip"], "balance": {"gte": 1}}, "definition"),
        ({"engagement_level": ["sleepy"]}, "definition.engagement_level"),
    ],
)
def test_a_faulty_definition_is_refused_naming_the_failing_part(client, admin, definition, field) -> None:
    response = client.post("/api/v1/admin/segments", json={"key": "bad", "name": "Bad", "definition": definition}, headers=admin)
    assert response.status_code == 422, response.json
    assert response.json["invalid_params"][0]["name"] == field


def test_a_promotion_for_a_segment_multiplies_the_points_of_its_members_only(client, admin, make_member, make_purchase) -> None:
    big = {"key": "big_balances", "name": "Big balances", "definition": {"balance": {"gte": 100}}}
    assert client.post("/api/v1/admin/segments", json=big, headers=admin).status_code == 201
    rule = {"kind": "promotion", "name": "Double for big balances", "multiplier": "2", "segment_key": "big_balances"}
    assert client.post("/api/v1/admin/earning-rules", json=rule, headers=admin).status_code == 201
    rich, poor = make_member(), make_member()
    grant = {"points": 200, "reason": "welcome gift"}
    assert client.post(f"/api/v1/members/{rich['id']}/adjustments", json=grant, headers=admin).status_code == 201
    earned = [make_purchase(member_id=m["id"], total="40.00", lines=[])["points_awarded"] for m in (rich, poor)]
    assert earned[0] == 2 * earned[1] > 0


def test_a_promotion_for_an_unknown_segment_is_refused(client, admin) -> None:
    rule = {"kind": "promotion", "name": "Double", "multiplier": "2", "segment_key": "nobody"}
    response = client.post("/api/v1/admin/earning-rules", json=rule, headers=admin)
    assert response.status_code == 422 and response.json["invalid_params"][0]["name"] == "segment_key"


def test_a_campaign_awards_each_member_of_its_segment_once(client, admin, make_member, sessions) -> None:
    london = {"key": "london", "name": "London", "definition": {"timezone": ["Europe/London"]}}
    assert client.post("/api/v1/admin/segments", json=london, headers=admin).status_code == 201
    members = [make_member(timezone=zone) for zone in ("Europe/London", "Europe/Paris", "Europe/London")]
    before = [client.get(f"/api/v1/members/{m['id']}", headers=admin).json["points_balance"] for m in members]
    campaign = {"ref": "london-2026", "points": 25, "reason": "London store opening"}
    first = client.post("/api/v1/admin/segments/london/awards", json=campaign, headers=admin)
    again = client.post("/api/v1/admin/segments/london/awards", json=campaign, headers=admin)
    changed = client.post("/api/v1/admin/segments/london/awards", json={**campaign, "points": 30}, headers=admin)
    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
    assert first.json["members_awarded"] == again.json["members_awarded"] == 2
    after = [client.get(f"/api/v1/members/{m['id']}", headers=admin).json["points_balance"] for m in members]
    assert [a - b for a, b in zip(after, before)] == [25, 0, 25]
    with sessions() as session:
        assert members_out_of_balance(session) == members_with_lots_out_of_step(session) == []


def test_a_promotion_changed_to_an_empty_window_for_a_segment_is_refused_beside_its_end(client, admin) -> None:
    created = client.post("/api/v1/admin/earning-rules", json={"kind": "promotion", "name": "p", "multiplier": "2"}, headers=admin)
    change = {"segment_key": "nobody", "starts_at": "2000-01-01T00:00:00Z", "ends_at": "2000-01-01T00:00:00Z"}

    response = client.patch(f"/api/v1/admin/earning-rules/{created.json['id']}", json=change, headers=admin)

    assert response.status_code == 422
    assert [param["name"] for param in response.json["invalid_params"]] == ["segment_key"]
