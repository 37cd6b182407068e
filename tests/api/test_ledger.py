"""A member's ledger: pages newest first, and adjustments by the back office."""

from __future__ import annotations

import pytest

from loyalty.ledger.operations import members_out_of_balance


def adjust(client, admin, member_id: int, points: int, reason: str = "goodwill", key: str | None = None):
    headers = {**admin, "Idempotency-Key": key} if key else admin
    body = {"points": points, "reason": reason}
    return client.post(f"/api/v1/members/{member_id}/adjustments", json=body, headers=headers)


@pytest.fixture
def member_with_entries(client, admin, make_member) -> dict:
    """A member with five adjustments of 1, 2, 3, 4 and 5 points, in that order."""
    member = make_member()
    for points in range(1, 6):
        assert adjust(client, admin, member["id"], points).status_code == 201
    return member


def test_ledger_lists_entries_newest_first_with_the_balance_after_each(client, admin, member_with_entries):
    page = client.get(f"/api/v1/members/{member_with_entries['id']}/ledger", headers=admin).json
    rows = [(entry["points"], entry["balance_after"]) for entry in page["items"]]
    assert rows == [(5, 15), (4, 10), (3, 6), (2, 3), (1, 1)]
    assert page["next_before"] is None


def test_ledger_pages_follow_next_before_to_the_oldest_entry(client, admin, member_with_entries):
    url = f"/api/v1/members/{member_with_entries['id']}/ledger"
    pages, query = [], {"limit": 2}
    while True:
        page = client.get(url, query_string=query, headers=admin).json
        pages.append([entry["points"] for entry in page["items"]])
        if page["next_before"] is None:
            break
        query = {"limit": 2, "before": page["next_before"]}
    assert pages == [[5, 4], [3, 2], [1]]


def test_ledger_page_that_ends_exactly_at_the_oldest_entry_has_no_next_page(client, admin, member_with_entries):
    url = f"/api/v1/members/{member_with_entries['id']}/ledger"
    assert client.get(url, query_string={"limit": 5}, headers=admin).json["next_before"] is None


def test_ledger_shows_only_the_members_own_entries(client, admin, make_member, member_with_entries):
    other = make_member()
    adjust(client, admin, other["id"], 100)
    page = client.get(f"/api/v1/members/{other['id']}/ledger", headers=admin).json
    assert [entry["points"] for entry in page["items"]] == [100]


def test_ledger_entry_names_its_kind_reason_and_source(client, admin, make_member, make_purchase):
    member = make_member()
    purchase = make_purchase(member_id=member["id"])
    entry = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"][0]
    assert entry["kind"] == "earn" and entry["reason"] == "purchase"
    assert (entry["source_type"], entry["source_id"]) == ("purchase", str(purchase["id"]))
    assert entry["created_at"] == "2026-11-22T10:00:00+00:00"


def test_member_reads_their_own_ledger(client, member_with_entries, login):
    page = client.get(f"/api/v1/members/{member_with_entries['id']}/ledger", headers=login(member_with_entries)).json
    assert len(page["items"]) == 5


def test_ledger_of_an_unknown_member_is_not_found(client, admin):
    assert client.get("/api/v1/members/999999/ledger", headers=admin).status_code == 404


def test_adjustment_answers_the_entry_and_the_new_balance(client, admin, make_member):
    member = make_member()
    response = adjust(client, admin, member["id"], 250, reason="  compensation for a late delivery ")
    assert response.status_code == 201
    assert response.json["points_balance"] == 250
    entry = response.json["entry"]
    assert (entry["kind"], entry["points"], entry["balance_after"]) == ("adjust", 250, 250)
    assert entry["reason"] == "compensation for a late delivery"


def test_debit_adjustment_may_take_the_balance_below_zero(client, admin, make_member):
    member = make_member()
    response = adjust(client, admin, member["id"], -30, reason="fraud correction")
    assert (response.status_code, response.json["points_balance"]) == (201, -30)


@pytest.mark.parametrize(("points", "reason", "field"), [(0, "nothing", "points"), (5, "", "reason"), (5, "   ", "reason")])
def test_adjustment_without_points_or_reason_is_refused(client, admin, make_member, points, reason, field):
    response = adjust(client, admin, make_member()["id"], points, reason=reason)
    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == field


def test_adjustment_of_an_unknown_member_is_not_found(client, admin):
    assert adjust(client, admin, 999_999, 5).status_code == 404


def test_adjustment_replayed_with_its_idempotency_key_is_applied_once(client, admin, make_member):
    member = make_member()
    first = adjust(client, admin, member["id"], 40, key="adj-1")
    again = adjust(client, admin, member["id"], 40, key="adj-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"] == 40


def test_adjustment_idempotency_key_reused_for_another_member_is_a_conflict(client, admin, make_member):
    first, second = make_member(), make_member()
    assert adjust(client, admin, first["id"], 40, key="adj-1").status_code == 201
    assert adjust(client, admin, second["id"], 40, key="adj-1").status_code == 409


def test_adjustments_keep_every_balance_equal_to_the_sum_of_its_entries(client, admin, member_with_entries, sessions):
    adjust(client, admin, member_with_entries["id"], -20)
    with sessions() as session:
        assert members_out_of_balance(session) == []
