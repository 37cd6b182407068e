"""Leaderboards: ranks with ties, opt-in under a display name, the caller's own rank, periods and stores.

The module runs on the core test program (1 point per euro, no engagement action): a member's points
are exactly what their purchases earn. Weeks and months are those of its time zone, Europe/Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from loyalty.purchases.operations import release_pending_points
from tests.builders import purchase_body

Headers = dict[str, str]



@pytest.fixture
def client(caught_up_client: FlaskClient) -> FlaskClient:
    """Requests read the derived figures once the outbox consumers have caught up."""
    return caught_up_client

@pytest.fixture(autouse=True)
def boards(client, admin) -> None:
    """``points``: every member, by week, month or all time; ``store``: per store, by month."""
    for board in (
        {"key": "points", "name": "Top members", "periods": ["month", "week", "all"], "scope": "all"},
        {"key": "store", "name": "Top of the store", "periods": ["month"], "scope": "store"},
    ):
        created = client.post("/api/v1/admin/leaderboards", json=board, headers=admin)
        assert created.status_code == 201, created.json


@pytest.fixture
def player(client, make_member, till, login) -> Any:
    """``player("Ada", 50)``: a member opted in as ``Ada`` who bought for 50.00 at S1 (or ``store``)."""

    def make(
        name: str | None, points: int, *, store_headers: Headers | None = None, store: str = "S1"
    ) -> dict[str, Any]:
        member = make_member()
        if name is not None:
            opt_in(client, login(member), member, name)
        if points:
            buy(client, store_headers or till, member, points, store=store)
        return member

    return make


def opt_in(client, headers: Headers, member: dict[str, Any], name: str, opted_in: bool = True) -> Any:
    response = client.put(
        f"/api/v1/members/{member['id']}/leaderboard-profile",
        json={"display_name": name, "opted_in": opted_in},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    return response.json


def buy(client, till: Headers, member: dict[str, Any], points: int, *, store: str = "S1") -> int:
    """The member buys for ``points`` euros; the purchase's id."""
    body = purchase_body(member_id=member["id"], total=f"{points}.00", lines=[], store_code=store)
    response = client.post("/api/v1/purchases", json=body, headers=till)
    assert response.status_code == 201, response.json
    return response.json["id"]


def board(client, headers: Headers, key: str = "points", **query: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/leaderboards/{key}", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def standings(document: dict[str, Any]) -> list[tuple[int, str, int]]:
    return [(entry["rank"], entry["display_name"], entry["points"]) for entry in document["entries"]]


def test_ties_share_a_rank_and_the_next_rank_skips(client, service, player):
    for name, points in [("Dora", 10), ("Bea", 30), ("Ada", 50), ("Cleo", 30), ("Eve", 10)]:
        player(name, points)
    assert standings(board(client, service, period="month")) == [
        (1, "Ada", 50),
        (2, "Bea", 30),
        (2, "Cleo", 30),
        (4, "Dora", 10),
        (4, "Eve", 10),
    ]


def test_only_opted_in_members_appear_and_only_by_display_name(client, service, login, player):
    members = [player(None, 80), player("Ada", 50), player("Bea", 40)]
    opt_in(client, login(members[2]), members[2], "Bea", opted_in=False)
    document = board(client, service)
    assert standings(document) == [(1, "Ada", 50)]
    assert [set(entry) for entry in document["entries"]] == [{"rank", "display_name", "points"}]
    text = str(document)
    for member in members:
        assert not [member[key] for key in ("email", "first_name", "last_name", "card_number") if member[key] in text]


def test_a_member_sees_their_own_rank_and_points_outside_the_top(client, login, player):
    for name, points in [("Ada", 50), ("Bea", 40), ("Cleo", 30)]:
        player(name, points)
    me = player("Dora", 20)
    document = board(client, login(me), limit=2)
    assert standings(document) == [(1, "Ada", 50), (2, "Bea", 40)]
    assert document["me"] == {"rank": 4, "points": 20, "listed": True}


def test_a_member_not_opted_in_sees_where_they_would_rank(client, login, player):
    player("Ada", 50)
    player("Bea", 30)
    me = player(None, 40)
    document = board(client, login(me))
    assert standings(document) == [(1, "Ada", 50), (2, "Bea", 30)]
    assert document["me"] == {"rank": 2, "points": 40, "listed": False}
    newcomer = player("Cleo", 0)
    assert board(client, login(newcomer))["me"] == {"rank": None, "points": 0, "listed": True}


def test_clients_ask_for_a_members_line_and_get_none_otherwise(client, service, player):
    player("Ada", 50)
    me = player("Bea", 20)
    assert board(client, service)["me"] is None
    assert board(client, service, member_id=me["id"])["me"] == {"rank": 2, "points": 20, "listed": True}


def test_opting_in_later_shows_the_whole_period(client, service, login, player):
    late = player(None, 60)
    player("Ada", 50)
    opt_in(client, login(late), late, "Late Comer")
    assert standings(board(client, service)) == [(1, "Late Comer", 60), (2, "Ada", 50)]


def test_the_week_turns_at_midnight_on_sunday_in_the_programs_time_zone(client, service, till, clock, player):
    ada, bea = player("Ada", 0), player("Bea", 0)
    clock.set(datetime(2026, 11, 22, 22, 30, tzinfo=UTC))  # Sunday 23:30 in Paris: week 47
    buy(client, till, ada, 40)
    clock.set(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))  # Monday 00:30 in Paris: week 48
    buy(client, till, bea, 10)
    week = board(client, service, period="week")
    assert (week["period_key"], standings(week)) == ("2026-W48", [(1, "Bea", 10)])
    assert (week["starts_at"], week["ends_at"]) == ("2026-11-22T23:00:00+00:00", "2026-11-29T23:00:00+00:00")
    assert standings(board(client, service, period="month")) == [(1, "Ada", 40), (2, "Bea", 10)]


def test_the_month_turns_at_midnight_in_the_programs_time_zone(client, service, till, clock, player):
    ada, bea = player("Ada", 0), player("Bea", 0)
    clock.set(datetime(2026, 11, 30, 22, 30, tzinfo=UTC))  # 23:30 on 30 November in Paris
    buy(client, till, ada, 40)
    clock.set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 00:30 on 1 December in Paris
    buy(client, till, bea, 10)
    month = board(client, service, period="month")
    assert (month["period_key"], standings(month)) == ("2026-12", [(1, "Bea", 10)])
    every = board(client, service, period="all")
    assert (every["period_key"], every["starts_at"], standings(every)) == (
        "all",
        None,
        [(1, "Ada", 40), (2, "Bea", 10)],
    )


def test_a_store_board_counts_the_points_earned_in_that_store(client, service, client_headers, player):
    other_till = client_headers("till", store="S2")
    player("Ada", 50)
    player("Bea", 70, store_headers=other_till, store="S2")
    cleo = player("Cleo", 20)
    buy(client, other_till, cleo, 30, store="S2")
    assert standings(board(client, service, "store", store="S1")) == [(1, "Ada", 50), (2, "Cleo", 20)]
    assert standings(board(client, service, "store", store="S2")) == [(1, "Bea", 70), (2, "Cleo", 30)]
    assert standings(board(client, service)) == [(1, "Bea", 70), (2, "Ada", 50), (2, "Cleo", 50)]


@pytest.mark.parametrize(
    ("key", "query", "status", "field"),
    [
        ("store", {}, 422, "store"),
        ("points", {"store": "S1"}, 422, "store"),
        ("store", {"store": "S1", "period": "week"}, 422, "period"),
        ("nothing", {}, 404, "key"),
    ],
    ids=[
        "store board without a store",
        "all-members board with a store",
        "period the board does not keep",
        "unknown board",
    ],
)
def test_a_board_is_read_for_its_own_periods_and_scope(client, service, key, query, status, field):
    response = client.get(f"/api/v1/leaderboards/{key}", query_string=query, headers=service)
    assert response.status_code == status, response.json
    assert [param["name"] for param in response.json["invalid_params"]] == [field]


def return_goods(client, till: Headers, purchase_id: int, return_no: str, amount: str) -> None:
    returned = client.post(
        f"/api/v1/purchases/{purchase_id}/returns", json={"return_no": return_no, "amount": amount}, headers=till
    )
    assert returned.status_code == 201, returned.json


def test_adjustments_do_not_count_and_returns_take_their_points_back(client, admin, service, till, player):
    ada = player("Ada", 0)
    purchase_id = buy(client, till, ada, 50)
    player("Bea", 40)
    client.post(f"/api/v1/members/{ada['id']}/adjustments", json={"points": 500, "reason": "goodwill"}, headers=admin)
    assert standings(board(client, service)) == [(1, "Ada", 50), (2, "Bea", 40)]
    return_goods(client, till, purchase_id, "R1", "20.00")
    assert standings(board(client, service)) == [(1, "Bea", 40), (2, "Ada", 30)]
    assert standings(board(client, service, "store", store="S1")) == [(1, "Bea", 40), (2, "Ada", 30)]
    return_goods(client, till, purchase_id, "R2", "30.00")
    assert standings(board(client, service, period="all")) == [(1, "Bea", 40), (2, "Ada", 0)]


def test_a_return_takes_the_points_out_of_the_week_they_were_counted_in(client, admin, service, till, clock, player):
    ada, bea = player("Ada", 0), player("Bea", 0)
    clock.set(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))  # Sunday: week 47
    purchase_id = buy(client, till, ada, 60)
    clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))  # Tuesday: week 48
    buy(client, till, ada, 10)
    buy(client, till, bea, 20)
    return_goods(client, till, purchase_id, "R1", "45.00")
    assert standings(board(client, service, period="week")) == [(1, "Bea", 20), (2, "Ada", 10)]
    assert standings(board(client, service, period="month")) == [(1, "Ada", 25), (2, "Bea", 20)]


def test_points_held_for_the_return_window_count_when_released_and_leave_when_returned(
    client, admin, service, till, clock, sessions, player
):
    assert client.patch("/api/v1/admin/program", json={"pending_days": 14}, headers=admin).status_code == 200
    ada = player("Ada", 0)
    clock.set(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    purchase_id = buy(client, till, ada, 60)
    return_goods(client, till, purchase_id, "R1", "20.00")  # taken from the points still held
    assert standings(board(client, service, period="all")) == []
    clock.set(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    with sessions() as session:
        assert release_pending_points(session, now=clock.now()) == 1
        session.commit()
    assert standings(board(client, service, period="month")) == [(1, "Ada", 40)]
    return_goods(client, till, purchase_id, "R2", "30.00")
    assert standings(board(client, service, period="month")) == [(1, "Ada", 10)]
    assert standings(board(client, service, period="all")) == [(1, "Ada", 10)]


@pytest.mark.parametrize(
    "name",
    ["ab", "x" * 33, "ada@example.com", "ada.lovelace", "Ada 0612345678", " -Ada", "Ada!"],
    ids=[
        "too short",
        "too long",
        "an email address",
        "a dotted name",
        "a phone number",
        "a leading dash",
        "punctuation",
    ],
)
def test_a_display_name_that_could_expose_the_member_or_is_not_a_name_is_refused(client, make_member, login, name):
    member = make_member()
    response = client.put(
        f"/api/v1/members/{member['id']}/leaderboard-profile",
        json={"display_name": name, "opted_in": True},
        headers=login(member),
    )
    assert response.status_code == 422, response.json
    assert [param["name"] for param in response.json["invalid_params"]] == ["display_name"]


def test_a_profile_is_read_back_as_it_was_set(client, make_member, login):
    member = make_member()
    headers = login(member)
    url = f"/api/v1/members/{member['id']}/leaderboard-profile"
    assert client.get(url, headers=headers).json == {"display_name": None, "opted_in": False}
    opt_in(client, headers, member, "  Jean   Dupont-2 ")
    assert client.get(url, headers=headers).json == {"display_name": "Jean Dupont-2", "opted_in": True}


def test_boards_are_listed_and_configured(client, admin, service):
    assert [b["key"] for b in client.get("/api/v1/leaderboards", headers=service).json] == ["points", "store"]
    patched = client.patch("/api/v1/admin/leaderboards/store", json={"is_active": False}, headers=admin)
    assert patched.status_code == 200, patched.json
    assert [b["key"] for b in client.get("/api/v1/leaderboards", headers=service).json] == ["points"]
    assert client.get("/api/v1/leaderboards/store?store=S1", headers=service).status_code == 404
    assert client.delete("/api/v1/admin/leaderboards/store", headers=admin).status_code == 204
    assert [b["key"] for b in client.get("/api/v1/admin/leaderboards", headers=admin).json] == ["points"]
    twice = {"key": "weekly", "name": "Weekly", "periods": ["week", "week"], "scope": "all"}
    refused = client.post("/api/v1/admin/leaderboards", json=twice, headers=admin)
    assert (refused.status_code, refused.json["invalid_params"][0]["name"]) == (422, "periods")


def test_engagement_points_count_like_purchase_points(client, admin, service, player):
    action = {"key": "review_posted", "name": "Review posted", "points": 15}
    assert client.post("/api/v1/admin/engagement-actions", json=action, headers=admin).status_code == 201
    ada = player("Ada", 10)
    review = {
        "member_id": ada["id"],
        "action": "review_posted",
        "ref": "r-1",
        "occurred_at": "2026-11-22T09:00:00+00:00",
    }
    assert client.post("/api/v1/engagements", json=review, headers=service).status_code == 201
    assert standings(board(client, service)) == [(1, "Ada", 25)]
