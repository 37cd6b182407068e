"""Amounts are read as people write them: plain decimals, never exponents, and no minus zero."""

from __future__ import annotations

import pytest

from tests.builders import purchase_body


@pytest.mark.parametrize("total", ["1e3", "1E3", "+45.90", " 45.90", "45.90 ", "NaN", "Infinity", "4_5.90"])
def test_an_amount_not_written_plainly_is_refused(client, till, total):
    response = client.post("/api/v1/purchases", json=purchase_body(total=total, lines=[]), headers=till)
    assert response.status_code == 422
    assert [param["name"] for param in response.json["invalid_params"]] == ["total"]


@pytest.mark.parametrize("total", ["-0", "-0.00", "0"])
def test_minus_zero_is_zero(client, till, total):
    response = client.post("/api/v1/purchases", json=purchase_body(total=total, lines=[]), headers=till)
    assert response.status_code == 201, response.json
    assert response.json["total"] == "0.00"


@pytest.mark.parametrize(("total", "answered"), [("45.9", "45.90"), (45.9, "45.90"), ("1000", "1000.00")])
def test_a_plain_amount_is_answered_with_two_decimals(client, till, total, answered):
    response = client.post("/api/v1/purchases", json=purchase_body(total=total, lines=[]), headers=till)
    assert response.status_code == 201, response.json
    assert response.json["total"] == answered
