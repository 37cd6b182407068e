"""Games, quizzes and leaderboards at the same instant, over real connections to PostgreSQL.

Each thread has its own test client; a barrier releases them together. After each test every member's
balance still equals the sum of their ledger entries.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loyalty.ledger.models import LedgerEntry
from rewards.games.models import GamePlay, GamePlayCredit, GamePrize
from rewards.leaderboards.models import LeaderboardScore
from rewards.quizzes.models import QuizAttempt
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM
from tests.integration.concurrency import statuses

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("points_stay_consistent")]

Headers = dict[str, str]
ALL_RIGHT = [
    {"question": 1, "choices": ["b"]},
    {"question": 2, "choices": ["a", "b"]},
    {"question": 3, "choices": ["b"]},
]


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def scratch(client, admin) -> Any:
    """``scratch(prize, no_prize_weight=0)``: the wheel off, and a scratch card every purchase earns."""

    def make(prize: dict[str, Any], no_prize_weight: int = 0) -> None:
        assert client.patch("/api/v1/admin/games/WHEEL", json={"is_active": False}, headers=admin).status_code == 200
        game = {
            "code": "SCRATCH",
            "kind": "scratch",
            "name": "Scratch and win",
            "earn_on": "purchase",
            "no_prize_weight": no_prize_weight,
            "prizes": [{"name": "The prize", "weight": 1, **prize}],
        }
        created = client.post("/api/v1/admin/games", json=game, headers=admin)
        assert created.status_code == 201, created.json

    return make


def with_plays(client, till: Headers, member: dict[str, Any], plays: int) -> dict[str, Any]:
    for _ in range(plays):
        body = purchase_body(member_id=member["id"], total="10.00", lines=[])
        assert client.post("/api/v1/purchases", json=body, headers=till).status_code == 201
    return member


def play(client: FlaskClient, member: dict[str, Any], headers: Headers) -> Any:
    return client.post(f"/api/v1/members/{member['id']}/games/SCRATCH/plays", headers=headers)


def outcomes(sessions) -> Counter[str]:
    with sessions() as session:
        return Counter(session.scalars(select(GamePlay.outcome)))


def test_twenty_members_playing_at_once_never_win_more_units_than_the_stock(
    together, client, service, till, make_member, scratch, sessions, caught_up
):
    scratch({"code": "P25", "kind": "points", "points": 25, "stock": 5})
    members = [with_plays(client, till, make_member(), 1) for _ in range(20)]
    caught_up()  # the purchases' plays earned
    responses = together(20, lambda client, n: play(client, members[n], service))
    assert statuses(responses) == {201: 20}
    assert outcomes(sessions) == {"prize": 5, "out_of_stock": 15}
    with sessions() as session:
        assert session.scalar(select(GamePrize.stock).where(GamePrize.code == "P25")) == 0
        stocks_after = session.scalars(select(GamePlay.stock_after).where(GamePlay.outcome == "prize"))
        assert sorted(stocks_after) == [0, 1, 2, 3, 4]
        prizes = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.source_type == "game_play")
        assert session.scalar(prizes) == 5


def test_a_voucher_prize_whose_reward_runs_out_gives_the_games_unit_back(
    together, client, admin, service, till, make_member, scratch, sessions, caught_up
):
    assert client.patch("/api/v1/admin/rewards/WHEEL-COFFEE", json={"stock": 3}, headers=admin).status_code == 200
    scratch({"code": "CUP", "kind": "reward", "reward_code": "WHEEL-COFFEE", "stock": 10})
    members = [with_plays(client, till, make_member(), 1) for _ in range(12)]
    caught_up()  # the purchases' plays earned
    responses = together(12, lambda client, n: play(client, members[n], service))
    assert statuses(responses) == {201: 12}
    assert outcomes(sessions) == {"prize": 3, "out_of_stock": 9}
    with sessions() as session:
        assert session.scalar(select(GamePrize.stock).where(GamePrize.code == "CUP")) == 7
    assert sum(len(client.get(f"/api/v1/members/{m['id']}/vouchers", headers=admin).json) for m in members) == 3


def test_a_members_plays_sent_at_once_spend_each_credit_once(
    together, client, service, till, make_member, scratch, sessions, caught_up
):
    scratch({"code": "P5", "kind": "points", "points": 5}, no_prize_weight=1)
    member = with_plays(client, till, make_member(), 3)
    caught_up()  # the purchases' plays earned
    responses = together(10, lambda client, _: play(client, member, service))
    assert statuses(responses) == {201: 3, 409: 7}
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(GamePlay)) == 3
        spent = session.scalars(select(GamePlayCredit.spent_at.is_not(None))).all()
    assert spent == [True, True, True]


def test_a_quiz_answered_ten_times_at_once_is_answered_once(together, client, make_member, login, sessions):
    member = make_member()
    headers = login(member)
    url = f"/api/v1/members/{member['id']}/quizzes/BRAND-QUIZ/answers"
    responses = together(10, lambda client, _: client.post(url, json={"answers": ALL_RIGHT}, headers=headers))
    assert statuses(responses) == {201: 1, 409: 9}
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(QuizAttempt)) == 1
        quiz_points = session.scalars(select(LedgerEntry.points).where(LedgerEntry.source_type == "quiz_attempt")).all()
    assert quiz_points == [30]


def test_purchases_racing_an_opt_in_are_all_counted_and_all_listed(
    together, client, till, make_member, login, sessions, caught_up
):
    member = make_member()
    headers = login(member)

    def act(client: FlaskClient, n: int) -> Any:
        if n == 0:
            body = {"display_name": "Racer", "opted_in": True}
            return client.put(f"/api/v1/members/{member['id']}/leaderboard-profile", json=body, headers=headers)
        body = purchase_body(member_id=member["id"], total=f"{n}.00", lines=[])
        return client.post("/api/v1/purchases", json=body, headers=till)

    responses = together(10, act)
    assert [response.status_code for response in responses] == [200] + [201] * 9
    caught_up()
    board = client.get("/api/v1/leaderboards/monthly-points?period=all", headers=headers).json
    # The welcome points (account_created, 10) and 1 + 2 + … + 9 for the purchases.
    assert board["entries"] == [{"rank": 1, "display_name": "Racer", "points": 10 + 45}]
    with sessions() as session:
        assert set(session.scalars(select(LeaderboardScore.is_listed))) == {True}
