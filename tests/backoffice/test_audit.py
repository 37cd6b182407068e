"""The audit log: written for the back office and the admin API, in the transaction of the change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from loyalty import audit
from loyalty.audit import AuditEntry
from loyalty.db import session_scope
from loyalty.members.models import Member
from notifications.pressure.operations import open_complaint


def entries(sessions) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_an_adjustment_in_the_back_office_is_logged_with_who_when_and_what(staff_client, make_member, sessions, clock) -> None:
    member = make_member()
    support = staff_client("support")
    response = support.post(f"/admin/members/{member['id']}/adjustments", data={"points": "25", "reason": "Receipt not scanned"})
    assert response.status_code == 302
    [entry] = [entry for entry in entries(sessions) if entry.entity == "ledger_entries"]
    assert (entry.actor, entry.action, entry.occurred_at, entry.before) == ("staff:support@brand.example", "create", clock.now(), None)
    assert entry.after is not None
    assert {key: entry.after[key] for key in ("member_id", "kind", "points", "reason", "actor")} == {
        "member_id": member["id"], "kind": "adjust", "points": 25, "reason": "Receipt not scanned",
        "actor": "staff:support@brand.example",
    }
    page = staff_client("admin").get("/admin/audit?entity=ledger_entries").get_data(as_text=True)
    assert "staff:support@brand.example" in page and "Receipt not scanned" in page


def test_a_change_through_the_admin_api_is_logged_with_the_values_before_and_after(client, admin, sessions) -> None:
    assert client.patch("/api/v1/admin/program", json={"name": "Club Renamed"}, headers=admin).status_code == 200
    [entry] = [entry for entry in entries(sessions) if entry.entity == "program_settings"]
    assert entry.entity == "program_settings" and entry.action == "update"
    assert entry.actor.startswith("client:cl_")
    assert entry.after == {"name": "Club Renamed", **{key: entry.after[key] for key in entry.after if key != "name"}}
    assert entry.before is not None and entry.before["name"] != "Club Renamed"


def test_secrets_never_enter_the_log(app, sessions) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["loyalty", "create-staff", "ann@brand.example", "--role", "admin"]).exit_code == 0
    [entry] = entries(sessions)
    assert (entry.actor, entry.entity, entry.after["password_hash"]) == ("cli", "staff_accounts", audit.REDACTED)


def test_what_tills_and_members_do_is_not_in_the_log(make_member, make_purchase, login, client, sessions) -> None:
    member = make_member()
    [enrolment] = entries(sessions)  # by the admin client of the fixture
    make_purchase(member_id=member["id"])
    client.patch(f"/api/v1/members/{member['id']}", json={"first_name": "Paula"}, headers=login(member))
    assert [entry.id for entry in entries(sessions)] == [enrolment.id]


def test_a_change_that_rolls_back_leaves_no_audit_entry(app, make_member, sessions, clock) -> None:
    member = make_member()
    before = entries(sessions)
    with pytest.raises(RuntimeError), session_scope(sessions) as session:
        audit.act_as(session, "staff:support@brand.example", now=clock.now())
        open_complaint(session, member["id"], subject="Too many emails", note="", now=clock.now())
        session.get(Member, member["id"]).consent_email = False  # type: ignore[union-attr]
        session.flush()
        # Written by the flush, in the transaction: the complaint and the consent.
        assert len(session.scalars(select(AuditEntry)).all()) == len(before) + 2
        raise RuntimeError("the request fails after the change")
    assert [entry.id for entry in entries(sessions)] == [entry.id for entry in before]
    with session_scope(sessions) as session:
        assert session.get(Member, member["id"]).consent_email is True  # type: ignore[union-attr]
