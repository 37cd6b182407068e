"""Returns: points taken back in proportion to what comes back, once per return number."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loyalty.ledger.operations import members_out_of_balance

Return = Callable[..., Any]


@pytest.fixture
def give_back(client, till) -> Return:
    """``give_back(purchase_id, "RET-1", amount="10.00")``: post a return from store S1's till."""

    def post(purchase_id: int, return_no: str, **body: Any) -> Any:
        return client.post(f"/api/v1/purchases/{purchase_id}/returns", json={"return_no": return_no, **body}, headers=till)

    return post


@pytest.fixture
def bought(make_member, make_purchase) -> dict[str, Any]:
    """A member's 45.90 purchase (SHOE-42 20.00 + 2 × SOCK-1 12.95), which earned 45 points."""
    member = make_member()
    purchase = make_purchase(member_id=member["id"])
    assert purchase["points_awarded"] == 45
    return purchase


def test_return_by_amount_takes_back_points_in_proportion_rounded_down(give_back, bought):
    response = give_back(bought["id"], "RET-1", amount="10.00")
    assert response.status_code == 201
    # 45 × 10.00 / 45.90 = 9.8
    assert response.json["points_reversed"] == 9
    assert response.json["points_balance"] == 36
    assert (response.json["amount"], response.json["lines"]) == ("10.00", None)


def test_partial_returns_are_reversed_on_the_cumulative_amount_and_never_drift(give_back, bought):
    reversed_points = [give_back(bought["id"], f"RET-{n}", amount="15.30").json["points_reversed"] for n in range(3)]
    # floor(45 × 1/3) = 15, floor(45 × 2/3) = 30, then the rest: 45.
    assert reversed_points == [15, 15, 15]


def test_full_return_in_small_parts_reverses_exactly_what_was_awarded(give_back, bought):
    answers = [give_back(bought["id"], f"RET-{n}", amount="4.59").json for n in range(10)]
    assert sum(answer["points_reversed"] for answer in answers) == 45
    assert answers[-1]["points_balance"] == 0


def test_return_by_lines_is_valued_at_the_line_price(give_back, bought):
    response = give_back(bought["id"], "RET-1", lines=[{"sku": "SOCK-1", "quantity": 1}])
    assert response.status_code == 201
    assert response.json["amount"] == "12.95"
    assert response.json["lines"] == [{"sku": "SOCK-1", "quantity": 1}]
    # The two socks earned 25 of the 45 points (25.90 worth, rounded down): one sock takes back 12.
    assert response.json["points_reversed"] == 12


def test_return_by_lines_of_a_discounted_receipt_is_valued_pro_rata(give_back, make_member, make_purchase):
    member = make_member()
    purchase = make_purchase(member_id=member["id"], total="36.00")
    response = give_back(purchase["id"], "RET-1", lines=[{"sku": "SHOE-42", "quantity": 1}])
    # 20.00 of 45.90 of goods paid 36.00: 15.69, and 15.69 points; the socks 20.31. Rounded down, 35 of
    # the 36 points: the one left went to the shoe, the larger remainder.
    assert (response.json["amount"], response.json["points_reversed"]) == ("15.69", 16)


def test_return_by_lines_takes_back_what_those_lines_earned_not_their_share_of_the_amount(
    give_back, make_member, make_purchase
):
    # The README's basket: the lipstick (beauty) earns double. 40 + 25.90 points, 65 awarded.
    lines = [
        {"sku": "LIP-1", "category": "beauty", "quantity": 1, "unit_price": "20.00"},
        {"sku": "SOCK-1", "quantity": 2, "unit_price": "12.95"},
    ]
    purchase = make_purchase(member_id=make_member()["id"], total="45.90", lines=lines)
    assert purchase["points_awarded"] == 65
    sock = give_back(purchase["id"], "RET-1", lines=[{"sku": "SOCK-1", "quantity": 1}]).json
    assert (sock["amount"], sock["points_reversed"]) == ("12.95", 12)  # not 65 × 12.95 / 45.90 = 18
    lipstick = give_back(purchase["id"], "RET-2", lines=[{"sku": "LIP-1", "quantity": 1}]).json
    assert lipstick["points_reversed"] == 40
    last = give_back(purchase["id"], "RET-3", lines=[{"sku": "SOCK-1", "quantity": 1}]).json
    assert last["points_reversed"] == 13
    assert last["points_balance"] == 0


def test_return_by_amount_of_a_basket_with_multipliers_keeps_the_proportion(give_back, make_member, make_purchase):
    lines = [
        {"sku": "LIP-1", "category": "beauty", "quantity": 1, "unit_price": "20.00"},
        {"sku": "SOCK-1", "quantity": 2, "unit_price": "12.95"},
    ]
    purchase = make_purchase(member_id=make_member()["id"], total="45.90", lines=lines)
    response = give_back(purchase["id"], "RET-1", amount="12.95")
    assert response.json["points_reversed"] == 18  # 65 × 12.95 / 45.90 = 18.3


def test_a_return_by_lines_after_one_by_amount_adds_up_without_taking_back_too_much(
    give_back, make_member, make_purchase
):
    purchase = make_purchase(member_id=make_member()["id"])  # 45 points: shoe 20, socks 25
    assert give_back(purchase["id"], "RET-1", amount="10.00").json["points_reversed"] == 9  # 45 × 10 / 45.90
    assert give_back(purchase["id"], "RET-2", lines=[{"sku": "SHOE-42", "quantity": 1}]).json["points_reversed"] == 20
    rest = give_back(purchase["id"], "RET-3", amount="15.90").json
    assert rest["points_reversed"] == 16
    assert rest["points_balance"] == 0


def test_returning_every_line_returns_exactly_the_total_paid(give_back, make_member, make_purchase):
    member = make_member()
    purchase = make_purchase(member_id=member["id"], total="10.00", lines=[
        {"sku": "CUP", "quantity": 3, "unit_price": "10.00"},
    ])
    answers = [give_back(purchase["id"], f"RET-{n}", lines=[{"sku": "CUP", "quantity": 1}]).json for n in range(3)]
    # 3.33 + 3.33, then the rest of what was paid, not 3.33 again.
    assert [answer["amount"] for answer in answers] == ["3.33", "3.33", "3.34"]
    assert sum(answer["points_reversed"] for answer in answers) == purchase["points_awarded"] == 10
    assert answers[-1]["points_balance"] == 0


def test_returning_more_than_was_bought_by_amount_is_refused(give_back, bought, client, admin):
    assert give_back(bought["id"], "RET-1", amount="40.00").status_code == 201
    response = give_back(bought["id"], "RET-2", amount="5.91")
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "amount"
    detail = client.get(f"/api/v1/purchases/{bought['id']}", headers=admin).json
    assert (detail["returned_amount"], detail["points_reversed"]) == ("40.00", 39)


def test_returning_the_rest_exactly_is_accepted(give_back, bought):
    assert give_back(bought["id"], "RET-1", amount="40.00").status_code == 201
    response = give_back(bought["id"], "RET-2", amount="5.90")
    assert (response.status_code, response.json["points_balance"]) == (201, 0)


def test_returning_more_of_a_line_than_was_bought_is_refused(give_back, bought):
    assert give_back(bought["id"], "RET-1", lines=[{"sku": "SOCK-1", "quantity": 2}]).status_code == 201
    response = give_back(bought["id"], "RET-2", lines=[{"sku": "SOCK-1", "quantity": 1}])
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "lines.0.quantity"


def test_sku_repeated_in_one_return_adds_up(give_back, bought):
    response = give_back(bought["id"], "RET-1", lines=[{"sku": "SOCK-1", "quantity": 1}, {"sku": "SOCK-1", "quantity": 1}])
    assert (response.status_code, response.json["amount"]) == (201, "25.90")


def test_sku_repeated_in_one_return_beyond_what_was_bought_is_refused(give_back, bought):
    response = give_back(bought["id"], "RET-1", lines=[{"sku": "SHOE-42", "quantity": 1}, {"sku": "SHOE-42", "quantity": 1}])
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "lines.1.quantity"


def test_returning_a_line_that_was_not_bought_is_refused(give_back, bought):
    response = give_back(bought["id"], "RET-1", lines=[{"sku": "SHOE-42", "quantity": 1}, {"sku": "HAT", "quantity": 1}])
    assert response.status_code == 422
    assert response.json["invalid_params"] == [
        {"name": "lines.1.sku", "in": "json", "reason": "HAT is not on the receipt"}
    ]


def test_returning_lines_after_the_whole_amount_came_back_is_refused(give_back, bought):
    assert give_back(bought["id"], "RET-1", amount="45.90").status_code == 201
    response = give_back(bought["id"], "RET-2", lines=[{"sku": "SHOE-42", "quantity": 1}, {"sku": "SOCK-1", "quantity": 2}])
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "lines"


def test_replayed_return_answers_the_original_result_and_reverses_once(give_back, bought, client, admin):
    first = give_back(bought["id"], "RET-1", amount="10.00")
    again = give_back(bought["id"], "RET-1", amount="10.00")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert client.get(f"/api/v1/members/{bought['member_id']}", headers=admin).json["points_balance"] == 36


def test_return_number_reused_with_other_content_is_a_conflict(give_back, bought):
    assert give_back(bought["id"], "RET-1", amount="10.00").status_code == 201
    response = give_back(bought["id"], "RET-1", amount="11.00")
    assert response.status_code == 409
    assert response.json["invalid_params"][0]["name"] == "return_no"
    assert give_back(bought["id"], "RET-1", lines=[{"sku": "SOCK-1", "quantity": 1}]).status_code == 409


def test_same_return_number_on_another_purchase_is_another_return(give_back, bought, make_purchase):
    other = make_purchase(member_id=bought["member_id"])
    assert give_back(bought["id"], "RET-1", amount="10.00").status_code == 201
    assert give_back(other["id"], "RET-1", amount="10.00").status_code == 201


def test_balance_goes_negative_when_returned_points_were_already_spent(give_back, bought, client, admin):
    spent = client.post(
        f"/api/v1/members/{bought['member_id']}/adjustments", json={"points": -40, "reason": "gift card"}, headers=admin
    )
    assert spent.json["points_balance"] == 5
    response = give_back(bought["id"], "RET-1", amount="45.90")
    assert (response.json["points_reversed"], response.json["points_balance"]) == (45, -40)
    ledger = client.get(f"/api/v1/members/{bought['member_id']}/ledger", headers=admin).json["items"]
    assert [(entry["kind"], entry["points"], entry["balance_after"]) for entry in ledger] == [
        ("reverse", -45, -40),
        ("adjust", -40, 5),
        ("earn", 45, 45),
    ]


def test_return_of_an_anonymous_purchase_reverses_no_points(give_back, make_purchase):
    purchase = make_purchase()
    response = give_back(purchase["id"], "RET-1", amount="10.00")
    assert response.status_code == 201
    assert (response.json["points_reversed"], response.json["points_balance"]) == (0, None)


def test_return_of_an_unknown_purchase_is_not_found(give_back):
    assert give_back(999_999, "RET-1", amount="1.00").status_code == 404


def test_return_of_a_purchase_without_lines_must_be_by_amount(give_back, make_member, make_purchase):
    purchase = make_purchase(member_id=make_member()["id"], lines=[])
    response = give_back(purchase["id"], "RET-1", lines=[{"sku": "SHOE-42", "quantity": 1}])
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "lines"


def test_returns_keep_the_ledger_balanced(give_back, bought, sessions):
    give_back(bought["id"], "RET-1", lines=[{"sku": "SOCK-1", "quantity": 1}])
    give_back(bought["id"], "RET-2", amount="3.00")
    with sessions() as session:
        assert members_out_of_balance(session) == []
