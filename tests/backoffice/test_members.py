"""Support's member pages: the search, the member page, and the audited actions on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from loyalty.audit import AuditEntry
from loyalty.db import session_scope
from loyalty.members.models import Member
from loyalty.tiers.models import CardIssuance
from notifications.pressure.models import Complaint
from tests.conftest import DEFAULT_PROGRAM


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.mark.parametrize(
    "text",
    ["2900000000123", "Alice.Martin@Example.com", "+33612345678", "crm-77", "alice martin", "Martin ALICE", "  martin "],
)
def test_one_exact_match_opens_the_member_page(staff_client, make_member, text: str) -> None:
    member = make_member(
        first_name="Alice", last_name="Martin", email="alice.martin@example.com", card_number="2900000000123",
        phone="+33612345678", external_id="crm-77",
    )
    make_member(first_name="Alicia", last_name="Martinez")
    response = staff_client("support").get("/admin/members", query_string={"q": text})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/members/{member['id']}"


def test_several_matches_are_listed_and_none_says_so(staff_client, make_member) -> None:
    for first_name in ("Hugo", "Léa"):
        make_member(first_name=first_name, last_name="Bernard")
    marketer = staff_client("marketer")
    page = marketer.get("/admin/members?q=bernard").get_data(as_text=True)
    assert "Hugo Bernard" in page and "Léa Bernard" in page and "1–2 of 2" in page
    assert "No member matches" in marketer.get("/admin/members?q=nobody").get_data(as_text=True)


def test_the_member_page_shows_every_section(staff_client, make_member, make_purchase, client, admin) -> None:
    member = make_member()
    make_purchase(member_id=member["id"], total="150.00")
    client.post(f"/api/v1/members/{member['id']}/redemptions", json={"reward_code": "FREESHIP"}, headers=admin)
    page = staff_client("marketer").get(f"/admin/members/{member['id']}").get_data(as_text=True)
    for section in ("Status", "Profile", "Ledger", "Purchases and returns", "Points and when they expire", "Tiers and cards",
                    "Badges, challenges and streaks", "Journeys", "Messages", "Complaints"):
        assert f">{section}</h2>" in page
    assert "Livraison offerte" in page and "R0" in page  # the reward's name as the program writes it
    # A marketer reads, but has no form to change anything.
    assert "Adjust points" not in page and "Save consents" not in page


def audit_of(sessions, entity: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)))


def test_support_opens_and_closes_a_complaint_audited(staff_client, make_member, sessions) -> None:
    member = make_member()
    support = staff_client("support")
    refused = support.post(f"/admin/members/{member['id']}/complaints", data={"subject": "", "note": "x"})
    assert refused.status_code == 422
    assert 'id="field-subject-error"' in refused.get_data(as_text=True)
    assert support.post(f"/admin/members/{member['id']}/complaints", data={"subject": "Too many SMS"}).status_code == 302
    with session_scope(sessions) as session:
        complaint = session.scalars(select(Complaint)).one()
    assert support.post(f"/admin/members/{member['id']}/complaints/{complaint.id}/close").status_code == 302
    opened, closed = audit_of(sessions, "complaints")
    assert (opened.action, opened.after["subject"], closed.action) == ("create", "Too many SMS", "update")
    assert closed.before == {"closed_at": None} and closed.after["closed_at"]
    other = staff_client("admin")
    assert other.post(f"/admin/members/{member['id'] + 1}/complaints/{complaint.id}/close").status_code == 404


def test_support_changes_consents_at_the_members_request_audited(staff_client, make_member, sessions) -> None:
    member = make_member()  # consents email and SMS
    support = staff_client("support")
    assert support.post(f"/admin/members/{member['id']}/consents", data={"consent_push": "1"}).status_code == 302
    with session_scope(sessions) as session:
        assert session.get(Member, member["id"]).consents == {"email": False, "sms": False, "push": True, "postal": False}  # type: ignore[union-attr]
    [entry] = [e for e in audit_of(sessions, "members") if e.action == "update"]
    assert entry.actor == "staff:support@brand.example"
    assert {k: entry.before[k] for k in ("consent_email", "consent_sms", "consent_push")} == {"consent_email": True, "consent_sms": True, "consent_push": False}
    assert {k: entry.after[k] for k in ("consent_email", "consent_sms", "consent_push")} == {"consent_email": False, "consent_sms": False, "consent_push": True}


def test_support_queues_a_new_card_audited(staff_client, make_member, sessions) -> None:
    member = make_member()
    assert staff_client("support").post(f"/admin/members/{member['id']}/cards").status_code == 302
    with session_scope(sessions) as session:
        card = session.scalars(select(CardIssuance)).one()
    assert (card.member_id, card.status) == (member["id"], "pending")
    [entry] = audit_of(sessions, "card_issuances")
    assert entry.after["card_number"] == card.card_number


def test_an_adjustment_without_a_reason_changes_nothing_and_keeps_the_input(staff_client, make_member, sessions) -> None:
    member = make_member()
    response = staff_client("support").post(f"/admin/members/{member['id']}/adjustments", data={"points": "40", "reason": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#field-reason"' in page and 'value="40"' in page
    assert [e for e in audit_of(sessions, "ledger_entries") if e.actor.startswith("staff:")] == []
