"""Many clients at the same instant, over real connections to PostgreSQL, against the real app.

Each thread has its own test client; a barrier releases them together. After each test every
member's balance still equals the sum of their ledger entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loyalty.ledger.models import LedgerEntry
from loyalty.ledger.operations import members_out_of_balance
from loyalty.members.models import Member
from loyalty.receipts.models import Purchase, PurchaseReturn
from tests.builders import member_body, purchase_body
from tests.integration.concurrency import statuses

pytestmark = pytest.mark.postgres

@pytest.fixture(autouse=True)
def ledger_stays_balanced(sessions) -> Iterator[None]:
    yield
    with sessions() as session:
        assert members_out_of_balance(session) == []


def count(sessions, model: type, *where: Any) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_fifty_tills_posting_one_receipt_at_once_record_it_once(together, till, make_member, sessions, app):
    member = make_member()
    body = purchase_body(member_id=member["id"])
    responses = together(50, lambda client, _: client.post("/api/v1/purchases", json=body, headers=till))
    assert statuses(responses) == {201: 1, 200: 49}
    assert {response.json["id"] for response in responses} == {responses[0].json["id"]}
    assert {response.json["points_balance"] for response in responses} == {45}
    assert count(sessions, Purchase) == 1
    assert count(sessions, LedgerEntry, LedgerEntry.member_id == member["id"]) == 1
    pool = app.extensions["loyalty.engine"].pool
    assert together.peak > pool.size(), "the requests did not overlap beyond the pool's base size"


def test_two_hundred_purchases_from_eight_tills_for_one_member_lose_no_points(together, till, make_member, sessions):
    member = make_member()
    per_till = 25

    def post_receipts(client: FlaskClient, index: int) -> list[int]:
        awarded = []
        for number in range(per_till):
            total = f"{index + 1}{number % 10}.{number:02d}"
            body = purchase_body(member_id=member["id"], receipt_no=f"T{index}-{number}", total=total, lines=[])
            response = client.post("/api/v1/purchases", json=body, headers=till)
            assert response.status_code == 201, response.json
            awarded.append(response.json["points_awarded"])
        return awarded

    awarded = [points for till_points in together(8, post_receipts) for points in till_points]
    expected = sum((index + 1) * 10 + number % 10 for index in range(8) for number in range(per_till))
    assert sum(awarded) == expected
    with sessions() as session:
        balance, purchases = session.execute(
            select(Member.points_balance, Member.purchase_count).where(Member.id == member["id"])
        ).one()
        ledger_sum = session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.member_id == member["id"]))
    assert (balance, ledger_sum, purchases) == (expected, expected, 200)


def test_concurrent_returns_by_amount_never_return_more_than_was_bought(
    together, till, make_member, make_purchase, sessions
):
    purchase = make_purchase(member_id=make_member()["id"])
    url = f"/api/v1/purchases/{purchase['id']}/returns"
    responses = together(
        20, lambda client, n: client.post(url, json={"return_no": f"RET-{n}", "amount": "10.00"}, headers=till)
    )
    # 45.90 bought: four returns of 10.00 fit, a fifth would exceed it.
    assert statuses(responses) == {201: 4, 422: 16}
    accepted = [response.json for response in responses if response.status_code == 201]
    with sessions() as session:
        row = session.get_one(Purchase, purchase["id"])
    assert row.returned_amount == sum(Decimal(answer["amount"]) for answer in accepted) == Decimal("40.00")
    assert row.points_reversed == sum(answer["points_reversed"] for answer in accepted) == 39
    assert row.points_reversed <= row.points_awarded
    assert min(answer["points_balance"] for answer in accepted) == 45 - 39


def test_concurrent_returns_by_lines_never_return_more_of_a_line_than_was_bought(
    together, till, make_member, make_purchase, sessions
):
    lines = [{"sku": "CUP", "quantity": 5, "unit_price": "3.00"}]
    purchase = make_purchase(member_id=make_member()["id"], total="14.00", lines=lines)
    url = f"/api/v1/purchases/{purchase['id']}/returns"
    body = {"lines": [{"sku": "CUP", "quantity": 1}]}
    responses = together(15, lambda client, n: client.post(url, json={**body, "return_no": f"RET-{n}"}, headers=till))
    answers = statuses(responses)
    assert set(answers) <= {201, 409, 422}
    assert answers[201] == 5
    with sessions() as session:
        row = session.get_one(Purchase, purchase["id"])
        assert row.lines[0].returned_quantity == 5
    assert (row.returned_amount, row.points_reversed) == (row.total, row.points_awarded)
    assert count(sessions, PurchaseReturn) == 5


def test_concurrent_replays_of_one_return_record_it_once(together, till, make_member, make_purchase, sessions):
    purchase = make_purchase(member_id=make_member()["id"])
    url = f"/api/v1/purchases/{purchase['id']}/returns"
    body = {"return_no": "RET-1", "amount": "10.00"}
    responses = together(20, lambda client, _: client.post(url, json=body, headers=till))
    assert statuses(responses) == {201: 1, 200: 19}
    assert len({response.json["id"] for response in responses}) == 1
    assert count(sessions, PurchaseReturn) == 1
    with sessions() as session:
        row = session.get_one(Purchase, purchase["id"])
    assert (row.returned_amount, row.points_reversed) == (Decimal("10.00"), 9)


def test_concurrent_claims_of_one_receipt_are_won_by_exactly_one_member(
    together, till, make_member, make_purchase, client, admin
):
    purchase = make_purchase()
    members = [make_member() for _ in range(10)]
    body = {"store_code": "S1", "receipt_no": purchase["receipt_no"]}
    responses = together(
        10, lambda client, n: client.post(f"/api/v1/members/{members[n]['id']}/claims", json=body, headers=till)
    )
    assert statuses(responses) == {201: 1, 409: 9}
    winner = next(members[n] for n, response in enumerate(responses) if response.status_code == 201)
    balances = [client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"] for member in members]
    assert balances == [45 if member is winner else 0 for member in members]


def test_concurrent_enrolments_with_one_idempotency_key_create_one_member(together, admin, sessions):
    body = member_body()
    headers = {**admin, "Idempotency-Key": "enrol-once"}
    responses = together(20, lambda client, _: client.post("/api/v1/members", json=body, headers=headers))
    assert statuses(responses) == {201: 20}
    assert sum("Idempotent-Replayed" not in response.headers for response in responses) == 1
    assert all(response.json == responses[0].json for response in responses)
    assert count(sessions, Member) == 1
