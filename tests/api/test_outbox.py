"""Domain events go to the outbox in the same transaction as the change, and never without it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from loyalty import outbox
from loyalty.db import session_scope
from loyalty.errors import InvalidOperation
from loyalty.events import PointsEarned, PointsExpiring
from loyalty.outbox import OutboxEvent
from tests.builders import member_body, purchase_body
from tests.conftest import NOW

Events = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def events(sessions) -> Callable[[], Events]:
    """``events()``: the outbox as ``(event_type, payload)`` pairs, oldest first."""

    def read() -> Events:
        with sessions() as session:
            rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
            return [(row.event_type, row.payload) for row in rows]

    return read


def by_type(events: Events) -> dict[str, dict[str, Any]]:
    """The payload of each event type, for a step that records each type at most once."""
    assert len({name for name, _ in events}) == len(events), events
    return dict(events)


@pytest.fixture
def refusing_reaction() -> Iterator[Callable[[], None]]:
    """An in-process reaction to ``PointsEarned`` that refuses the change; call the fixture's value to lift it."""

    def refuse(_session: Any, _event: PointsEarned) -> None:
        raise InvalidOperation("refused by a reaction")

    outbox.subscribe(PointsEarned, refuse)
    subscribed = [refuse]

    def lift() -> None:
        outbox.unsubscribe(PointsEarned, subscribed.pop())

    yield lift
    if subscribed:
        lift()


def expiring(member_id: int) -> PointsExpiring:
    """An event no in-transaction handler reacts to."""
    return PointsExpiring(occurred_at=NOW, member_id=member_id, points=1, expires_at=NOW)


def test_events_are_written_in_the_order_recorded_and_only_if_kept(sessions, events):
    """Ids follow the order of recording within a flush and across flushes; an event recorded in a
    savepoint rolled back before any flush is not written; a transaction recording nothing else writes
    its events."""
    with session_scope(sessions) as session:
        outbox.record_all(session, [expiring(3), expiring(1)])
        session.flush()
        outbox.record(session, expiring(4))
        with pytest.raises(InvalidOperation), session.begin_nested():
            outbox.record(session, expiring(9))
            raise InvalidOperation("given up")
        outbox.record_all(session, [expiring(2), expiring(5)])
    assert [payload["member_id"] for _, payload in events()] == [3, 1, 4, 2, 5]


def test_enrolment_records_member_enrolled(make_member, events):
    member = make_member()
    assert events() == [
        (
            "MemberEnrolled",
            {"member_id": member["id"], "occurred_at": "2026-11-22T10:00:00+00:00", "sponsor_id": None, "source": "admin"},
        )
    ]


def test_purchase_records_the_purchase_and_the_points_earned(make_member, make_purchase, events):
    member = make_member()
    purchase = make_purchase(member_id=member["id"])
    recorded = by_type(events()[1:])
    assert recorded["PurchaseRecorded"] == {
        "occurred_at": "2026-11-22T10:00:00+00:00",
        "member_id": member["id"],
        "purchase_id": purchase["id"],
        "store_code": "S1",
        "channel": "store",
        "total": "45.90",
        "currency": "EUR",
        "is_first_purchase": True,
        "is_history": False,
    }
    assert recorded["PointsEarned"] == {
        "occurred_at": "2026-11-22T10:00:00+00:00",
        "member_id": member["id"],
        "points": 45,
        "balance": 45,
        "kind": "earn",
        "reason": "purchase",
        "qualifying": True,
        "lifetime_points": 45,
        "tier": "member",
        "store_code": "S1",
    }


def test_only_the_first_purchase_of_a_member_is_flagged_first(make_member, make_purchase, events):
    member = make_member()
    make_purchase(member_id=member["id"])
    make_purchase(member_id=member["id"])
    flags = [payload["is_first_purchase"] for name, payload in events() if name == "PurchaseRecorded"]
    assert flags == [True, False]


def test_anonymous_purchase_records_points_only_when_claimed(client, till, make_member, make_purchase, events):
    purchase = make_purchase()
    assert [name for name, _ in events()] == ["PurchaseRecorded"]
    member = make_member()
    before = len(events())
    body = {"store_code": "S1", "receipt_no": purchase["receipt_no"]}
    client.post(f"/api/v1/members/{member['id']}/claims", json=body, headers=till)
    claimed = by_type(events()[before:])
    assert claimed["PurchaseClaimed"]["purchase_id"] == purchase["id"]
    assert (claimed["PointsEarned"]["member_id"], claimed["PointsEarned"]["points"]) == (member["id"], 45)


def test_return_records_the_return_and_the_points_debited(client, till, make_member, make_purchase, events):
    purchase = make_purchase(member_id=make_member()["id"])
    before = len(events())
    body = {"return_no": "RET-1", "amount": "10.00"}
    client.post(f"/api/v1/purchases/{purchase['id']}/returns", json=body, headers=till)
    returned = by_type(events()[before:])
    assert (returned["PurchaseReturned"]["amount"], returned["PurchaseReturned"]["purchase_id"]) == ("10.00", purchase["id"])
    debited = returned["PointsDebited"]
    assert (debited["points"], debited["balance"], debited["reason"]) == (-9, 36, "return")


def test_replays_record_no_new_event(client, till, admin, make_member, events):
    member = make_member()
    body = purchase_body(member_id=member["id"])
    returns_url = f"/api/v1/purchases/{client.post('/api/v1/purchases', json=body, headers=till).json['id']}/returns"
    refund = {"return_no": "RET-1", "amount": "1.00"}
    adjustments_url = f"/api/v1/members/{member['id']}/adjustments"
    adjustment, headers = {"points": 5, "reason": "sorry"}, {**admin, "Idempotency-Key": "adj-1"}
    assert client.post(returns_url, json=refund, headers=till).status_code == 201
    assert client.post(adjustments_url, json=adjustment, headers=headers).status_code == 201
    before = events()
    replays = [
        client.post("/api/v1/purchases", json=body, headers=till),
        client.post(returns_url, json=refund, headers=till),
        client.post(adjustments_url, json=adjustment, headers=headers),
    ]
    assert [response.status_code for response in replays] == [200, 200, 201]
    assert events() == before


def test_refused_requests_record_no_event(client, till, admin, make_member, make_purchase, events):
    member = make_member(email="taken@example.com")
    purchase = make_purchase(member_id=member["id"])
    before = events()
    refused = [
        client.post("/api/v1/members", json=member_body(email="TAKEN@example.com"), headers=admin),
        client.post("/api/v1/purchases", json=purchase_body(card_number="2900000000000007"), headers=till),
        client.post(f"/api/v1/purchases/{purchase['id']}/returns", json={"return_no": "R", "amount": "99.00"}, headers=till),
        client.patch(f"/api/v1/members/{make_member()['id']}", json={"email": "TAKEN@example.com"}, headers=admin),
    ]
    assert [response.status_code for response in refused] == [409, 422, 422, 409]
    assert [name for name, _ in events()] == [name for name, _ in before] + ["MemberEnrolled"]


def test_purchase_refused_by_a_reaction_leaves_neither_purchase_nor_events(
    client, till, admin, make_member, events, refusing_reaction
):
    member = make_member()
    before = events()
    response = client.post("/api/v1/purchases", json=purchase_body(member_id=member["id"]), headers=till)
    assert response.status_code == 422
    assert events() == before
    profile = client.get(f"/api/v1/members/{member['id']}", headers=admin).json
    assert (profile["points_balance"], profile["purchase_count"]) == (0, 0)
    assert client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"] == []


def test_receipt_refused_by_a_reaction_is_recorded_when_posted_again(client, till, make_member, refusing_reaction):
    body = purchase_body(member_id=make_member()["id"])
    assert client.post("/api/v1/purchases", json=body, headers=till).status_code == 422
    refusing_reaction()
    response = client.post("/api/v1/purchases", json=body, headers=till)
    assert (response.status_code, response.json["points_balance"]) == (201, 45)
