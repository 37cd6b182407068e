"""Tiers: up as soon as qualifying points reach a threshold, down one tier at a review date, cards.

The tests run on the shipped default program: tiers ``member`` (0) and ``vip`` (100 qualifying points,
points x1.5, a physical card), 10 points for creating an account, qualifying points counted over 12
months and tiers reviewed on their anniversary.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from loyalty.outbox import OutboxEvent
from tests.conftest import DEFAULT_PROGRAM, NOW

Member = dict[str, Any]
Buy = Callable[[Member, int], dict[str, Any]]

#: The qualifying points every member of the default program earns by creating their account.
WELCOME = 10
#: The first and second reviews of a tier reached at :data:`NOW`: its anniversaries.
ANNIVERSARY = datetime(2027, 11, 22, 10, 0, tzinfo=UTC)
SECOND_ANNIVERSARY = datetime(2028, 11, 22, 10, 0, tzinfo=UTC)
#: The default ladder, written as ``PUT /admin/tiers`` takes it.
MEMBER = {"code": "member", "name": "Member", "rank": 0, "threshold": 0}
VIP = {"code": "vip", "name": "VIP", "rank": 1, "threshold": 100, "multiplier": "1.5", "has_card": True}
GOLD = {"code": "gold", "name": "Gold", "rank": 2, "threshold": 300, "multiplier": "2", "has_card": True}
#: A card's statuses, in the only order it may take them.
CARD_STEPS = ("pending", "printed", "shipped")


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def buy(make_purchase, clock) -> Buy:
    """``buy(member, 90)``: a 90.00 receipt without lines at the clock's instant (90 points, before the
    tier multiplier)."""

    def post(member: Member, euros: int) -> dict[str, Any]:
        return make_purchase(
            member_id=member["id"], total=f"{euros}.00", lines=[], occurred_at=clock.now().isoformat()
        )

    return post


@pytest.fixture
def tier_of(client, admin) -> Callable[[Member], str]:
    def read(member: Member) -> str:
        return client.get(f"/api/v1/members/{member['id']}", headers=admin).json["tier_code"]

    return read


@pytest.fixture
def history(client, admin) -> Callable[[Member], list[tuple[str | None, str, str, int]]]:
    """``history(member)``: the member's tier changes, newest first, as ``(from, to, reason, qualifying)``."""

    def read(member: Member) -> list[tuple[str | None, str, str, int]]:
        response = client.get(f"/api/v1/members/{member['id']}/tier-history", headers=admin)
        assert response.status_code == 200, response.json
        return [(row["from_code"], row["to_code"], row["reason"], row["qualifying_points"]) for row in response.json]

    return read


@pytest.fixture
def review(app, clock) -> Callable[[datetime], str]:
    """``review(at)``: run ``loyalty review-tiers`` with the clock set to ``at``; its output."""

    def run(at: datetime) -> str:
        clock.set(at)
        result = app.test_cli_runner().invoke(args=["loyalty", "review-tiers"])
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    return run


@pytest.fixture
def three_tiers(client, admin) -> None:
    """The default ladder with a third tier, gold, at 300 qualifying points."""
    response = client.put("/api/v1/admin/tiers", json={"tiers": [MEMBER, VIP, GOLD]}, headers=admin)
    assert response.status_code == 200, response.json


def events_of(sessions, event_type: str) -> list[dict[str, Any]]:
    """The payloads of the outbox events of one type, oldest first."""
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboxEvent.payload).where(OutboxEvent.event_type == event_type).order_by(OutboxEvent.id)
            )
        )


@pytest.mark.parametrize(("qualifying", "tier"), [(99, "member"), (100, "vip"), (101, "vip")])
def test_a_member_moves_up_as_soon_as_qualifying_points_reach_the_threshold(
    qualifying, tier, make_member, buy, tier_of, sessions
):
    member = make_member()
    buy(member, qualifying - WELCOME)
    assert tier_of(member) == tier
    upgrades = [] if tier == "member" else [
        {
            "occurred_at": NOW.isoformat(),
            "member_id": member["id"],
            "from_tier": "member",
            "to_tier": "vip",
            "qualifying_points": qualifying,
        }
    ]
    assert events_of(sessions, "TierUpgraded") == upgrades


@pytest.mark.parametrize(
    ("later", "tier"),
    [(timedelta(seconds=-1), "vip"), (timedelta(0), "member")],
    ids=["last-second-of-the-window", "window-over"],
)
def test_an_upgrade_counts_only_points_earned_in_the_last_twelve_months(later, tier, make_member, buy, tier_of, clock):
    member = make_member()
    buy(member, 60)  # with the welcome points: 70 qualifying points at NOW
    clock.set(ANNIVERSARY + later)
    buy(member, 30)
    assert tier_of(member) == tier


def test_redemptions_do_not_lower_qualifying_points(client, make_member, login, buy, tier_of):
    member = make_member()
    buy(member, 80)
    redeemed = client.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_code": "FREESHIP"}, headers=login(member)
    )
    assert (redeemed.status_code, redeemed.json["points_cost"]) == (201, 50)
    purchase = buy(member, 10)
    assert purchase["points_balance"] == 50
    assert tier_of(member) == "vip"


def test_vip_members_earn_one_and_a_half_times_the_points_from_their_next_purchase(make_member, buy, tier_of):
    member = make_member()
    crossing = buy(member, 90)
    assert (crossing["points_awarded"], tier_of(member)) == (90, "vip")
    assert buy(member, 10)["points_awarded"] == 15


def test_enough_points_for_two_tiers_at_once_jump_straight_to_the_higher(
    three_tiers, make_member, buy, tier_of, history, sessions
):
    member = make_member()
    buy(member, 300)
    assert tier_of(member) == "gold"
    assert history(member) == [("member", "gold", "upgrade", 310), (None, "member", "enrolment", 0)]
    assert [(event["from_tier"], event["to_tier"]) for event in events_of(sessions, "TierUpgraded")] == [
        ("member", "gold")
    ]
    assert [event["tier"] for event in events_of(sessions, "CardIssuanceQueued")] == ["gold"]


def test_a_tier_holds_until_its_review_date_then_falls_one_tier_a_year(
    three_tiers, make_member, buy, tier_of, history, review, sessions
):
    member = make_member()
    buy(member, 300)
    assert review(ANNIVERSARY - timedelta(seconds=1)) == "0 members reviewed"
    assert tier_of(member) == "gold"
    assert review(ANNIVERSARY) == "1 members reviewed"
    assert tier_of(member) == "vip"
    assert review(SECOND_ANNIVERSARY - timedelta(seconds=1)) == "0 members reviewed"
    assert review(SECOND_ANNIVERSARY) == "1 members reviewed"
    assert tier_of(member) == "member"
    assert review(SECOND_ANNIVERSARY + timedelta(days=400)) == "0 members reviewed"
    assert history(member)[:2] == [("vip", "member", "downgrade", 0), ("gold", "vip", "downgrade", 0)]
    assert [(event["from_tier"], event["to_tier"]) for event in events_of(sessions, "TierDowngraded")] == [
        ("gold", "vip"),
        ("vip", "member"),
    ]


@pytest.mark.parametrize(
    ("earned", "tier"),
    [(timedelta(seconds=-1), "member"), (timedelta(0), "member"), (timedelta(seconds=1), "vip")],
    ids=["before-the-window", "at-its-start", "just-inside"],
)
def test_a_review_counts_only_points_earned_in_the_twelve_months_before_it(
    earned, tier, make_member, buy, tier_of, history, review, clock
):
    reviewed_at = ANNIVERSARY + timedelta(days=30)
    window_start = datetime(2026, 12, 22, 10, 0, tzinfo=UTC)
    member = make_member()
    buy(member, 90)  # vip at NOW, reviewed on the anniversary: the review runs a month late
    clock.set(window_start + earned)
    buy(member, 100)  # 150 points at the vip rate
    review(reviewed_at)
    assert tier_of(member) == tier
    kept = tier == "vip"
    assert history(member)[0] == (("member", "vip", "upgrade", 100) if kept else ("vip", "member", "downgrade", 0))


def test_a_calendar_review_date_replaces_the_anniversary(client, admin, make_member, buy, tier_of, review):
    response = client.patch("/api/v1/admin/program", json={"tier_review_month_day": "01-01"}, headers=admin)
    assert (response.status_code, response.json["tier_review_month_day"]) == (200, "01-01")
    member = make_member()
    buy(member, 90)
    assert review(datetime(2027, 1, 1, 10, 0, tzinfo=UTC)) == "1 members reviewed"  # 100 points in the window
    assert tier_of(member) == "vip"
    # Past the anniversary the points have left the window, but the next review is on January 1st.
    assert review(ANNIVERSARY + timedelta(days=1)) == "0 members reviewed"
    assert tier_of(member) == "vip"
    assert review(datetime(2028, 1, 1, 10, 0, tzinfo=UTC)) == "1 members reviewed"
    assert tier_of(member) == "member"


def test_members_see_their_own_tier_history_and_no_one_else_s(client, make_member, login, buy):
    member, other = make_member(), make_member()
    buy(member, 90)
    own = client.get(f"/api/v1/members/{member['id']}/tier-history", headers=login(member))
    assert [(row["from_code"], row["to_code"]) for row in own.json] == [("member", "vip"), (None, "member")]
    assert own.json[0]["changed_at"] == NOW.isoformat()
    assert client.get(f"/api/v1/members/{member['id']}/tier-history", headers=login(other)).status_code == 403


def test_an_upgrade_to_a_tier_with_a_card_queues_a_new_card(client, admin, make_member, buy):
    member = make_member()
    buy(member, 90)
    cards = client.get("/api/v1/admin/card-issuances", headers=admin).json
    assert [(card["member_id"], card["tier_code"], card["status"]) for card in cards] == [
        (member["id"], "vip", "pending")
    ]
    assert cards[0]["card_number"] != member["card_number"]


def test_a_shipped_card_becomes_the_member_s_card(client, admin, till, make_member, buy):
    member = make_member()
    buy(member, 90)
    card = client.get("/api/v1/admin/card-issuances", headers=admin).json[0]
    url = f"/api/v1/admin/card-issuances/{card['id']}"
    printed = client.patch(url, json={"status": "printed"}, headers=admin)
    assert (printed.status_code, printed.json["status"]) == (200, "printed")
    assert client.get(f"/api/v1/members/{member['id']}", headers=admin).json["card_number"] == member["card_number"]
    shipped = client.patch(url, json={"status": "shipped"}, headers=admin)
    assert (shipped.status_code, shipped.json["status"]) == (200, "shipped")
    found = client.get(f"/api/v1/members/lookup?card_number={card['card_number']}", headers=till)
    assert (found.status_code, found.json["id"]) == (200, member["id"])
    old_card = client.get(f"/api/v1/members/lookup?card_number={member['card_number']}", headers=till)
    assert old_card.status_code == 404


@pytest.mark.parametrize(("status", "to"), [("pending", "shipped"), ("printed", "pending"), ("shipped", "printed")])
def test_a_card_only_moves_forward_one_step_at_a_time(status, to, client, admin, make_member, buy):
    buy(make_member(), 90)
    card = client.get("/api/v1/admin/card-issuances", headers=admin).json[0]
    url = f"/api/v1/admin/card-issuances/{card['id']}"
    for step in CARD_STEPS[1 : CARD_STEPS.index(status) + 1]:
        assert client.patch(url, json={"status": step}, headers=admin).status_code == 200
    refused = client.patch(url, json={"status": to}, headers=admin)
    assert refused.status_code == 409
    assert refused.json["invalid_params"][0]["name"] == "status"
    assert client.get("/api/v1/admin/card-issuances", headers=admin).json[0]["status"] == status


def test_cards_are_listed_and_exported_by_status_for_the_printer_with_the_address_they_are_posted_to(
    client, admin, make_member, buy
):
    address = {"line1": "12 rue des Lilas", "postcode": "75011", "city": "Paris", "country": "FR"}
    first, second = make_member(first_name="Anne"), make_member(first_name="Paul", postal_address=address)
    buy(first, 90)
    buy(second, 90)
    cards = client.get("/api/v1/admin/card-issuances", headers=admin).json
    client.patch(f"/api/v1/admin/card-issuances/{cards[0]['id']}", json={"status": "printed"}, headers=admin)
    pending = client.get("/api/v1/admin/card-issuances?status=pending", headers=admin).json
    assert [card["member_id"] for card in pending] == [second["id"]]
    export = client.get("/api/v1/admin/card-issuances.csv?status=pending", headers=admin)
    assert (export.status_code, export.mimetype) == (200, "text/csv")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows == [
        ["id", "member_id", "first_name", "last_name", "tier_code", "card_number", "status", "created_at",
         "address_line1", "address_line2", "postcode", "city", "country"],
        [str(cards[1]["id"]), str(second["id"]), "Paul", "Duchemin", "vip", cards[1]["card_number"], "pending",
         NOW.isoformat(), "12 rue des Lilas", "", "75011", "Paris", "FR"],
    ]
    everything = client.get("/api/v1/admin/card-issuances.csv", headers=admin).get_data(as_text=True)
    assert len(everything.splitlines()) == 3


@pytest.mark.parametrize(
    ("ladder", "field"),
    [
        ([MEMBER, VIP, {**GOLD, "threshold": 100}], "tiers.2.threshold"),
        ([MEMBER, VIP, {**GOLD, "threshold": 50}], "tiers.2.threshold"),
        ([{**MEMBER, "threshold": 10}, VIP], "tiers.0.threshold"),
        ([MEMBER, VIP, {**GOLD, "rank": 1}], "tiers.2"),
        ([MEMBER, VIP, {**GOLD, "code": "vip"}], "tiers.2"),
    ],
    ids=["same-threshold", "lower-threshold", "entry-needs-points", "same-rank", "same-code"],
)
def test_a_ladder_whose_thresholds_do_not_rise_with_the_rank_is_refused(ladder, field, client, admin):
    response = client.put("/api/v1/admin/tiers", json={"tiers": ladder}, headers=admin)
    assert response.status_code == 422
    assert [param["name"] for param in response.json["invalid_params"]] == [field]
    ladder_now = client.get("/api/v1/admin/tiers", headers=admin).json["tiers"]
    assert [tier["code"] for tier in ladder_now] == ["member", "vip"]


def test_a_tier_members_hold_cannot_be_removed(client, admin, make_member, buy):
    member = make_member()
    buy(member, 90)
    refused = client.put("/api/v1/admin/tiers", json={"tiers": [MEMBER]}, headers=admin)
    assert refused.status_code == 409
    assert "vip" in refused.json["detail"]
    assert client.put("/api/v1/admin/tiers", json={"tiers": [MEMBER, VIP, GOLD]}, headers=admin).status_code == 200


def test_a_tier_a_reward_requires_cannot_be_removed(client, admin, make_member):
    make_member()
    refused = client.put("/api/v1/admin/tiers", json={"tiers": [MEMBER]}, headers=admin)
    assert refused.status_code == 409
    assert "vip" in refused.json["detail"]
    assert client.get("/api/v1/admin/tiers", headers=admin).json["tiers"][1]["code"] == "vip"


def test_a_tier_nobody_holds_and_no_reward_requires_can_be_removed(client, admin, make_member):
    make_member()
    client.patch("/api/v1/admin/rewards/VIPEVENT", json={"min_tier_code": None}, headers=admin)
    response = client.put("/api/v1/admin/tiers", json={"tiers": [MEMBER]}, headers=admin)
    assert response.status_code == 200
    assert [tier["code"] for tier in response.json["tiers"]] == ["member"]
