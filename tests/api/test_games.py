"""Instant-win games: plays earned by purchases and engagement, drawn on the server, audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from loyalty.outbox import OutboxEvent
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM

Headers = dict[str, str]



@pytest.fixture
def client(caught_up_client: FlaskClient) -> FlaskClient:
    """Requests read the derived figures once the outbox consumers have caught up."""
    return caught_up_client

@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def member(make_member) -> dict[str, Any]:
    return make_member()


def game_body(**overrides: Any) -> dict[str, Any]:
    """A scratch card every purchase earns, which always gives its one prize: 25 points, 3 in stock."""
    body = {
        "code": "SCRATCH",
        "kind": "scratch",
        "name": "Scratch and win",
        "earn_on": "purchase",
        "no_prize_weight": 0,
        "prizes": [{"code": "P25", "name": "25 points", "kind": "points", "points": 25, "weight": 1, "stock": 3}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def scratch(client, admin) -> dict[str, Any]:
    """The default wheel off, and the scratch card of :func:`game_body` on."""
    assert client.patch("/api/v1/admin/games/WHEEL", json={"is_active": False}, headers=admin).status_code == 200
    created = client.post("/api/v1/admin/games", json=game_body(), headers=admin)
    assert created.status_code == 201, created.json
    return created.json


def games_of(client, member, headers) -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/v1/members/{member['id']}/games", headers=headers)
    assert response.status_code == 200, response.json
    return {game["code"]: game for game in response.json}


def play(client, member, headers, code: str = "WHEEL") -> Any:
    return client.post(f"/api/v1/members/{member['id']}/games/{code}/plays", headers=headers)


def balance(client, admin, member) -> int:
    return client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"]


def test_a_purchase_of_at_least_the_minimum_earns_one_play(client, admin, till, member):
    client.post("/api/v1/purchases", json=purchase_body(member_id=member["id"], total="29.99", lines=[]), headers=till)
    assert games_of(client, member, admin)["WHEEL"]["plays_available"] == 0
    receipt = purchase_body(member_id=member["id"], total="30.00", lines=[])
    assert client.post("/api/v1/purchases", json=receipt, headers=till).status_code == 201
    assert client.post("/api/v1/purchases", json=receipt, headers=till).status_code == 200  # the till retries
    assert games_of(client, member, admin)["WHEEL"]["plays_available"] == 1


def test_a_claimed_purchase_earns_its_play(client, admin, till, member):
    receipt = purchase_body(total="45.00", lines=[])
    assert client.post("/api/v1/purchases", json=receipt, headers=till).status_code == 201
    claim = {"store_code": "S1", "receipt_no": receipt["receipt_no"]}
    assert client.post(f"/api/v1/members/{member['id']}/claims", json=claim, headers=admin).status_code == 201
    assert games_of(client, member, admin)["WHEEL"]["plays_available"] == 1


def buy(client, till: Headers, total: str, member: dict[str, Any] | None = None) -> dict[str, Any]:
    body = purchase_body(total=total, lines=[], **({"member_id": member["id"]} if member else {}))
    response = client.post("/api/v1/purchases", json=body, headers=till)
    assert response.status_code == 201, response.json
    return {**response.json, "receipt_no": body["receipt_no"]}


def give_back(client, till: Headers, purchase: dict[str, Any], return_no: str, amount: str) -> None:
    body = {"return_no": return_no, "amount": amount}
    response = client.post(f"/api/v1/purchases/{purchase['id']}/returns", json=body, headers=till)
    assert response.status_code == 201, response.json


def test_a_return_below_the_minimum_takes_back_the_unspent_play(client, admin, till, member):
    purchase = buy(client, till, "40.00", member)
    give_back(client, till, purchase, "R1", "5.00")
    assert games_of(client, member, admin)["WHEEL"]["plays_available"] == 1
    give_back(client, till, purchase, "R2", "10.00")
    assert games_of(client, member, admin)["WHEEL"]["plays_available"] == 0


def test_a_play_already_made_stays_when_its_purchase_is_returned(client, admin, till, member, login, scratch):
    kept, returned = buy(client, till, "10.00", member), buy(client, till, "12.00", member)
    assert play(client, member, login(member), "SCRATCH").status_code == 201  # spends the oldest play: ``kept``'s
    give_back(client, till, kept, "R1", "10.00")
    give_back(client, till, returned, "R2", "2.00")
    mine = games_of(client, member, admin)["SCRATCH"]
    assert (mine["plays_available"], len(mine["plays"])) == (1, 1)
    give_back(client, till, returned, "R3", "10.00")
    mine = games_of(client, member, admin)["SCRATCH"]
    assert (mine["plays_available"], len(mine["plays"])) == (0, 1)


def test_a_purchase_claimed_after_a_return_earns_by_what_was_kept(client, admin, till, member):
    purchase = buy(client, till, "45.00")
    give_back(client, till, purchase, "R1", "20.00")
    claim = {"store_code": "S1", "receipt_no": purchase["receipt_no"]}
    assert client.post(f"/api/v1/members/{member['id']}/claims", json=claim, headers=admin).status_code == 201
    assert games_of(client, member, admin)["WHEEL"]["plays_available"] == 0


def test_an_engagement_earns_a_play_while_its_action_awards_points(client, admin, service, member):
    game = game_body(code="SHARE-CARD", earn_on="engagement", earn_action_key="share")
    assert client.post("/api/v1/admin/games", json=game, headers=admin).status_code == 201
    for number in range(4):  # `share` awards at most 3 a week: the fourth earns nothing, and no play
        body = {
            "member_id": member["id"],
            "action": "share",
            "ref": f"share-{number}",
            "occurred_at": "2026-11-22T09:00:00+00:00",
        }
        assert client.post("/api/v1/engagements", json=body, headers=service).status_code == 201
    assert games_of(client, member, admin)["SHARE-CARD"]["plays_available"] == 3


def test_a_play_spends_a_credit_gives_its_prize_and_is_recorded(client, admin, till, member, login, scratch, sessions):
    client.post("/api/v1/purchases", json=purchase_body(member_id=member["id"], total="10.00", lines=[]), headers=till)
    before = balance(client, admin, member)
    response = play(client, member, login(member), "SCRATCH")
    assert response.status_code == 201, response.json
    result = response.json
    assert (result["game_code"], result["plays_left"], result["play"]["outcome"], result["play"]["prize_code"]) == (
        "SCRATCH",
        0,
        "prize",
        "P25",
    )
    assert balance(client, admin, member) == before + 25
    entry = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"][0]
    assert (entry["kind"], entry["points"], entry["source_type"], entry["source_id"]) == (
        "bonus",
        25,
        "game_play",
        str(result["play"]["id"]),
    )
    [audited] = client.get("/api/v1/admin/games/SCRATCH/plays", headers=admin).json["items"]
    assert {
        key: audited[key]
        for key in ("id", "member_id", "played_at", "draw_value", "draw_total", "outcome", "prize_code", "stock_after")
    } == {
        "id": result["play"]["id"],
        "member_id": member["id"],
        "played_at": "2026-11-22T10:00:00+00:00",
        "draw_value": 0,
        "draw_total": 1,
        "outcome": "prize",
        "prize_code": "P25",
        "stock_after": 2,
    }
    with sessions() as session:
        played = session.scalars(select(OutboxEvent.payload).where(OutboxEvent.event_type == "GamePlayed")).one()
    assert (played["member_id"], played["game_code"], played["play_id"], played["prize_code"]) == (
        member["id"],
        "SCRATCH",
        result["play"]["id"],
        "P25",
    )
    mine = games_of(client, member, admin)["SCRATCH"]
    assert (mine["plays_available"], [p["id"] for p in mine["plays"]]) == (0, [result["play"]["id"]])


def test_without_a_play_left_playing_is_refused_and_records_nothing(client, admin, member, login, scratch):
    response = play(client, member, login(member), "SCRATCH")
    assert response.status_code == 409, response.json
    assert client.get("/api/v1/admin/games/SCRATCH/plays", headers=admin).json["items"] == []


def test_a_prize_drawn_when_its_stock_is_gone_wins_nothing(client, admin, till, member, scratch):
    for _ in range(4):
        client.post(
            "/api/v1/purchases", json=purchase_body(member_id=member["id"], total="10.00", lines=[]), headers=till
        )
    outcomes = [play(client, member, admin, "SCRATCH").json["play"] for _ in range(4)]
    # The fourth play drew P25 too, but none was left: recorded as drawn, nothing given.
    assert [(p["outcome"], p["prize_code"], p["points_awarded"]) for p in outcomes] == [("prize", "P25", 25)] * 3 + [
        ("out_of_stock", "P25", 0)
    ]
    audit = client.get("/api/v1/admin/games/SCRATCH/plays", headers=admin).json["items"]
    assert [(p["outcome"], p["prize_code"], p["stock_after"]) for p in reversed(audit)] == [
        ("prize", "P25", 2),
        ("prize", "P25", 1),
        ("prize", "P25", 0),
        ("out_of_stock", "P25", None),
    ]
    [game] = [game for game in client.get("/api/v1/admin/games", headers=admin).json if game["code"] == "SCRATCH"]
    assert game["prizes"][0]["stock"] == 0
    assert games_of(client, member, admin)["SCRATCH"]["prizes"][0]["in_stock"] is False


def test_a_reward_prize_gives_a_voucher_of_an_offer(client, admin, till, member):
    prize = {"code": "COFFEE", "name": "A coffee", "kind": "reward", "reward_code": "WHEEL-COFFEE", "weight": 1}
    game = game_body(code="COFFEE-CARD", prizes=[prize])
    assert client.post("/api/v1/admin/games", json=game, headers=admin).status_code == 201, game
    client.post("/api/v1/purchases", json=purchase_body(member_id=member["id"], total="10.00", lines=[]), headers=till)
    result = play(client, member, admin, "COFFEE-CARD").json["play"]
    [voucher] = client.get(f"/api/v1/members/{member['id']}/vouchers", headers=admin).json
    assert (result["voucher_code"], voucher["reward_code"], voucher["source"], voucher["points_cost"]) == (
        voucher["code"],
        "WHEEL-COFFEE",
        "game",
        0,
    )


def test_plays_of_the_default_wheel_follow_its_draw(client, admin, till, member):
    """Every outcome of the wheel's draw is one of its prizes or nothing, recorded with its value."""
    for _ in range(5):
        client.post(
            "/api/v1/purchases", json=purchase_body(member_id=member["id"], total="30.00", lines=[]), headers=till
        )
    for _ in range(5):
        assert play(client, member, admin).status_code == 201
    page = client.get("/api/v1/admin/games/WHEEL/plays?limit=3", headers=admin).json
    rest = client.get(f"/api/v1/admin/games/WHEEL/plays?limit=3&before={page['next_before']}", headers=admin).json
    plays = page["items"] + rest["items"]
    assert rest["next_before"] is None
    assert [p["id"] for p in plays] == sorted((p["id"] for p in plays), reverse=True) and len(plays) == 5
    # The wheel's weights in order: POINTS10 30, COFFEE 12, POINTS50 6, POINTS500 2, then 50 for nothing.
    bounds = [("POINTS10", 30), ("COFFEE", 42), ("POINTS50", 48), ("POINTS500", 50), (None, 100)]
    for p in plays:
        assert p["draw_total"] == 100
        assert p["prize_code"] == next(code for code, bound in bounds if p["draw_value"] < bound)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"prizes": [{"code": "P", "name": "P", "kind": "points", "weight": 1}]}, "prizes.0.points"),
        (
            {"prizes": [{"code": "V", "name": "V", "kind": "reward", "reward_code": "VOUCHER10", "weight": 1}]},
            "prizes.0.reward_code",
        ),
        (
            {"prizes": [{"code": "P", "name": "P", "kind": "points", "points": 5, "weight": 1}] * 2},
            "prizes.1.code",
        ),
        ({"earn_on": "engagement"}, "earn_action_key"),
        ({"earn_on": "engagement", "earn_action_key": "moon_landing"}, "earn_action_key"),
        ({"earn_action_key": "share"}, "earn_action_key"),
        ({"earn_on": "engagement", "earn_action_key": "share", "earn_min_total": "10.00"}, "earn_min_total"),
        ({"prizes": [], "no_prize_weight": 0}, "no_prize_weight"),
        ({"starts_at": "2026-12-01T00:00:00+00:00", "ends_at": "2026-11-01T00:00:00+00:00"}, "ends_at"),
    ],
    ids=[
        "points prize without points",
        "reward prize of a reward that is no offer",
        "two prizes of one code",
        "engagement game without an action",
        "engagement game of an unknown action",
        "purchase game with an action",
        "engagement game with a minimum total",
        "no weight at all",
        "window backwards",
    ],
)
def test_a_game_that_does_not_hold_together_is_refused(client, admin, overrides, field):
    response = client.post("/api/v1/admin/games", json=game_body(**overrides), headers=admin)
    assert response.status_code == 422, response.json
    assert [param["name"] for param in response.json["invalid_params"]] == [field]


def test_a_prize_once_won_stays_but_its_stock_and_weight_change(client, admin, till, member, scratch):
    client.post("/api/v1/purchases", json=purchase_body(member_id=member["id"], total="10.00", lines=[]), headers=till)
    play(client, member, admin, "SCRATCH")
    other = {"code": "P5", "name": "5 points", "kind": "points", "points": 5, "weight": 1}
    refused = client.patch("/api/v1/admin/games/SCRATCH", json={"prizes": [other]}, headers=admin)
    assert refused.status_code == 409, refused.json
    kept = {**scratch["prizes"][0], "weight": 0, "stock": 100}
    changed = client.patch("/api/v1/admin/games/SCRATCH", json={"prizes": [kept, other]}, headers=admin)
    assert changed.status_code == 200, changed.json
    assert [(p["code"], p["weight"], p["stock"]) for p in changed.json["prizes"]] == [("P25", 0, 100), ("P5", 1, None)]


def test_a_closed_game_earns_and_plays_nothing(client, admin, till, member):
    window = {"ends_at": "2026-11-22T09:00:00+00:00", "starts_at": "2026-11-01T00:00:00+00:00"}
    assert client.patch("/api/v1/admin/games/WHEEL", json=window, headers=admin).status_code == 200
    client.post("/api/v1/purchases", json=purchase_body(member_id=member["id"], total="50.00", lines=[]), headers=till)
    assert "WHEEL" not in games_of(client, member, admin)
    response = play(client, member, admin)
    assert (response.status_code, response.json["invalid_params"][0]["name"]) == (422, "code")


def test_a_play_retried_with_its_idempotency_key_is_the_same_play(client, admin, till, member, scratch):
    for _ in range(2):
        client.post(
            "/api/v1/purchases", json=purchase_body(member_id=member["id"], total="10.00", lines=[]), headers=till
        )
    headers = {**admin, "Idempotency-Key": "spin-1"}
    first = play(client, member, headers, "SCRATCH")
    again = play(client, member, headers, "SCRATCH")
    assert (first.status_code, again.status_code, again.headers["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json == first.json
    assert games_of(client, member, admin)["SCRATCH"]["plays_available"] == 1
