"""Referral: a sponsor's code at enrolment; the referee's first purchase of at least 20.00 rewards both
(25 points to the referee, the ``referral`` action's 50 to the sponsor), once; the sponsor's KPIs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loyalty.members.models import Member
from tests.builders import member_body
from tests.conftest import DEFAULT_PROGRAM, Headers

MemberJson = dict[str, Any]


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def sponsor(make_member) -> MemberJson:
    return make_member(phone="+33 6 12 34 56 78")


@pytest.fixture
def refer(make_member, sponsor: MemberJson) -> Callable[..., MemberJson]:
    """``refer()``: enrol a member with the sponsor's referral code."""

    def enrol(**overrides: Any) -> MemberJson:
        return make_member(referral_code=sponsor["referral_code"], **overrides)

    return enrol


@pytest.fixture
def buy(make_purchase) -> Callable[[MemberJson, str], dict[str, Any]]:
    """``buy(member, "20.00")``: a receipt of that total, without lines."""

    def purchase(member: MemberJson, total: str) -> dict[str, Any]:
        return make_purchase(member_id=member["id"], total=total, lines=[])

    return purchase


@pytest.fixture
def rewards(client: FlaskClient, admin: Headers) -> Callable[[MemberJson], list[tuple[str, int]]]:
    """``rewards(member)``: the member's bonus entries as ``(reason, points)``, oldest first."""

    def read(member: MemberJson) -> list[tuple[str, int]]:
        items = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"]
        return [(item["reason"], item["points"]) for item in reversed(items) if item["kind"] == "bonus"]

    return read


WELCOME = [("engagement account_created", 10)]
REFEREE_REWARD = ("referral welcome", 25)
SPONSOR_REWARD = ("engagement referral", 50)


def test_enrolling_with_a_referral_code_names_the_sponsor(make_member, sponsor):
    referee = make_member(referral_code=sponsor["referral_code"].lower())
    assert referee["sponsor_id"] == sponsor["id"]
    assert referee["referral_code"] != sponsor["referral_code"]


def test_a_first_purchase_of_twenty_euros_rewards_the_referee_and_the_sponsor_once(refer, sponsor, buy, rewards):
    referee = refer()
    first = buy(referee, "20.00")
    assert first["points_balance"] == 10 + 20 + 25  # the receipt shows the balance with the reward
    buy(referee, "35.00")
    assert rewards(referee) == [*WELCOME, REFEREE_REWARD]
    assert rewards(sponsor) == [*WELCOME, SPONSOR_REWARD]


def test_a_first_purchase_under_twenty_euros_rewards_nothing_but_a_later_one_does(refer, sponsor, buy, rewards):
    referee = refer()
    buy(referee, "19.99")
    assert (rewards(referee), rewards(sponsor)) == (WELCOME, WELCOME)
    buy(referee, "20.00")
    assert (rewards(referee), rewards(sponsor)) == ([*WELCOME, REFEREE_REWARD], [*WELCOME, SPONSOR_REWARD])


def test_a_member_enrolled_without_a_code_earns_no_referral_reward(make_member, buy, rewards):
    member = make_member()
    buy(member, "50.00")
    assert rewards(member) == WELCOME


def test_claiming_an_anonymous_purchase_rewards_the_referral(client, till, refer, sponsor, make_purchase, rewards):
    referee = refer()
    purchase = make_purchase(total="25.00", lines=[])
    body = {"store_code": "S1", "receipt_no": purchase["receipt_no"]}
    response = client.post(f"/api/v1/members/{referee['id']}/claims", json=body, headers=till)
    assert response.status_code == 201, response.json
    assert response.json["points_balance"] == 10 + 25 + 25
    assert rewards(referee) == [*WELCOME, REFEREE_REWARD]
    assert rewards(sponsor) == [*WELCOME, SPONSOR_REWARD]


def test_the_sponsor_shares_the_referral_actions_monthly_limit(client, admin, refer, sponsor, buy, rewards):
    referees = [refer() for _ in range(11)]
    for referee in referees:
        buy(referee, "20.00")
    engagements = client.get(f"/api/v1/members/{sponsor['id']}/engagements", headers=admin).json
    referrals = [item for item in reversed(engagements) if item["action"] == "referral"]
    assert [item["points_awarded"] for item in referrals] == [50] * 10 + [0]
    assert referrals[-1]["ref"] == f"member:{referees[-1]['id']}"
    assert rewards(referees[-1]) == [*WELCOME, REFEREE_REWARD]


@pytest.mark.parametrize(
    "overrides",
    [
        {"phone": "06 12 34 56 78"},  # the sponsor's number, written the national way
        {"last_name": "DUCHEMIN", "birth_date": "1990-05-04"},  # the sponsor's name and birth date
    ],
)
def test_referring_oneself_is_refused(client, admin, sessions, make_member, overrides):
    sponsor = make_member(phone="+33 6 12 34 56 78", birth_date="1990-05-04")
    body = member_body(referral_code=sponsor["referral_code"], **overrides)
    response = client.post("/api/v1/members", json=body, headers=admin)
    assert response.status_code == 422, response.json
    assert response.json["invalid_params"][0]["name"] == "referral_code"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 1


def test_an_unknown_referral_code_is_refused(client, admin):
    response = client.post("/api/v1/members", json=member_body(referral_code="NOSUCHCODE"), headers=admin)
    assert response.status_code == 422, response.json
    assert response.json["invalid_params"][0]["name"] == "referral_code"


def test_the_sponsors_kpis_count_referees_rewards_and_revenue_net_of_returns(
    client, admin, till, refer, sponsor, buy, make_member, login
):
    paid, small = refer(), refer()
    refer()  # enrolled, never bought
    purchase = buy(paid, "45.90")
    body = {"return_no": "RET-1", "amount": "10.00"}
    returned = client.post(f"/api/v1/purchases/{purchase['id']}/returns", json=body, headers=till)
    assert returned.status_code == 201, returned.json
    buy(small, "12.00")
    buy(make_member(), "99.00")  # not a referee
    response = client.get(f"/api/v1/members/{sponsor['id']}/referrals", headers=login(sponsor))
    assert response.status_code == 200, response.json
    assert response.json == {
        "referral_code": sponsor["referral_code"],
        "referees": 3,
        "rewarded_referees": 1,
        "referees_revenue": "47.90",
    }


@pytest.mark.parametrize("role", ["till", "other member"])
def test_only_the_sponsor_and_back_office_read_the_kpis(client, client_headers, sponsor, make_member, login, role):
    headers = client_headers("till", store="S1") if role == "till" else login(make_member())
    assert client.get(f"/api/v1/members/{sponsor['id']}/referrals", headers=headers).status_code == 403
