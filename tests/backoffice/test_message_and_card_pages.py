"""Messages and pressure (delivery log, dead letters and redrive, the blackout calendar) and cards
(the issuance queue, status changes, the CSV export), each change audited."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from loyalty.audit import AuditEntry
from loyalty.db import session_scope
from loyalty.members.models import Member
from loyalty.tiers.models import CardIssuance
from loyalty.tiers.operations import queue_card
from notifications.messages.models import Message
from notifications.pressure.models import BlackoutPeriod
from tests.api.scenario_engine import make_runtime, message_world
from tests.backoffice.test_program_pages import error_beside


@pytest.fixture
def world(app: Flask, make_member, sessions, clock, tmp_path: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    member = make_member(first_name="Aline")
    return {"member_id": member["id"], **message_world(sessions, make_runtime(app, tmp_path), member["id"], now=clock.now())}


def audit(sessions, entity: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        found = list(session.scalars(select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)))
        session.expunge_all()
    return found


def test_the_delivery_log_lists_messages_and_filters_them(staff_client, world) -> None:
    support = staff_client("support")

    everything = support.get("/admin/messages").get_data(as_text=True)
    dead = support.get("/admin/messages?status=dead").get_data(as_text=True)
    by_channel = support.get("/admin/messages?channel=in_app").get_data(as_text=True)

    for message_id in (world["inbox_message_id"], world["sent_message_id"], world["dead_message_id"]):
        assert f'href="/admin/messages/{message_id}"' in everything
    assert f'href="/admin/messages/{world["dead_message_id"]}"' in dead
    assert f'href="/admin/messages/{world["sent_message_id"]}"' not in dead
    assert "mailbox unknown" in dead
    assert f'href="/admin/messages/{world["inbox_message_id"]}"' in by_channel
    assert f'href="/admin/messages/{world["dead_message_id"]}"' not in by_channel


def test_a_dead_letter_is_sent_again_and_the_redrive_is_audited(staff_client, world, sessions) -> None:
    support = staff_client("support")
    dead = world["dead_message_id"]

    response = support.post(f"/admin/messages/{dead}/redrive", data={"next": "/admin/messages?status=dead"})

    assert (response.status_code, response.headers["Location"]) == (302, "/admin/messages?status=dead")
    with session_scope(sessions) as session:
        message = session.get_one(Message, dead)
        assert (message.status, message.attempts) == ("queued", 0)
    (entry,) = audit(sessions, "messages")
    assert (entry.actor, entry.entity_key, entry.before["status"], entry.after["status"]) == (  # type: ignore[index]
        "staff:support@brand.example", str(dead), "dead", "queued",
    )  # fmt: skip
    assert support.post(f"/admin/messages/{dead}/redrive").status_code == 409


def test_a_message_page_says_what_became_of_it(staff_client, world) -> None:
    html = staff_client("support").get(f"/admin/messages/{world['dead_message_id']}").get_data(as_text=True)

    assert "mailbox unknown" in html and "Aline" in html and "Send again" in html


def test_a_blackout_is_planned_on_the_calendar_and_an_inverted_one_is_refused_beside_its_end(
    staff_client, world, sessions
) -> None:
    marketer = staff_client("marketer")

    refused = marketer.post(
        "/admin/blackouts",
        data={"name": "Boxing day", "starts_at": "2026-12-26T00:00", "ends_at": "2026-12-25T00:00"},
    )

    assert refused.status_code == 422
    assert error_beside(refused.get_data(as_text=True), "ends_at") == "The end must come after the start"
    planned = marketer.post(
        "/admin/blackouts", data={"name": "Boxing day", "starts_at": "2026-12-26T00:00", "ends_at": "2026-12-27T00:00"}
    )
    assert planned.status_code == 302
    html = marketer.get("/admin/blackouts").get_data(as_text=True)
    assert 'title="Boxing day">26' in html
    assert [entry.action for entry in audit(sessions, "blackout_periods")] == ["create"]
    with session_scope(sessions) as session:
        boxing = session.scalars(select(BlackoutPeriod).where(BlackoutPeriod.name == "Boxing day")).one()
    assert marketer.post(f"/admin/blackouts/{boxing.id}/delete").status_code == 302
    assert [entry.action for entry in audit(sessions, "blackout_periods")] == ["create", "delete"]


def test_support_reads_the_calendar_but_may_not_plan_a_blackout(staff_client, world) -> None:
    support = staff_client("support")

    assert "Plan a blackout" not in support.get("/admin/blackouts").get_data(as_text=True)
    refused = support.post(
        "/admin/blackouts", data={"name": "Mine", "starts_at": "2026-12-26T00:00", "ends_at": "2026-12-27T00:00"}
    )
    assert refused.status_code == 403


@pytest.fixture
def cards(make_member, sessions, clock) -> list[int]:  # type: ignore[no-untyped-def]
    members = [make_member(first_name=name)["id"] for name in ("Aline", "Bruno")]
    with session_scope(sessions) as session:
        return [queue_card(session, member_id, "base", now=clock.now()).id for member_id in members]


def test_the_queue_lists_pending_cards_and_moves_them_forward_to_the_member(staff_client, cards, sessions) -> None:
    support = staff_client("support")
    assert "Aline" in support.get("/admin/cards").get_data(as_text=True)

    for status in ("printed", "shipped"):
        response = support.post(f"/admin/cards/{cards[0]}/status", data={"status": status})
        assert response.status_code == 302

    with session_scope(sessions) as session:
        card = session.get_one(CardIssuance, cards[0])
        member = session.get_one(Member, card.member_id)
        assert (card.status, member.card_number) == ("shipped", card.card_number)
    assert [entry.after["status"] for entry in audit(sessions, "card_issuances") if entry.action == "update"] == [  # type: ignore[index]
        "printed", "shipped",
    ]  # fmt: skip
    (member_change,) = [entry for entry in audit(sessions, "members") if entry.action == "update"]
    assert member_change.after == {"card_number": card.card_number}
    assert support.post(f"/admin/cards/{cards[0]}/status", data={"status": "pending"}).status_code == 409
    assert "Aline" not in support.get("/admin/cards?status=pending").get_data(as_text=True)


def test_the_export_is_the_csv_of_the_cards_of_a_status(staff_client, cards) -> None:
    response = staff_client("support").get("/admin/cards.csv?status=pending")

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=cards-pending-")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(int(row["id"]), row["first_name"], row["status"]) for row in rows] == [
        (cards[0], "Aline", "pending"), (cards[1], "Bruno", "pending"),
    ]  # fmt: skip


def test_a_marketer_cannot_reach_the_card_queue(staff_client, cards) -> None:
    marketer = staff_client("marketer")

    assert marketer.get("/admin/cards").status_code == 403
    assert marketer.post(f"/admin/cards/{cards[0]}/status", data={"status": "printed"}).status_code == 403
