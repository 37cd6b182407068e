"""Who may reach what in the back office: every route, for every role, on the server.

:data:`TABLE` is the back-office table of ``docs/authorization.md`` (a test keeps them equal), and every
route under ``/admin`` must have a row. A cell is the status the request answers: for an allowed
page 200, for an allowed change the 302 that follows it (bodies are valid), 403 for a role without
the permission; without a session a page sends to the login form (302) and a change is refused for
its missing CSRF token (400). Creating a staff account answers its page (200), which shows the
new password once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.backoffice.models import StaffAccount
from loyalty.db import session_scope
from loyalty.tiers.operations import queue_card
from rewards.leaderboards.operations import save_board
from tests.api.scenario_engine import add_scenario, make_runtime, message_world
from tests.backoffice.conftest import PASSWORD, StaffClient

DOC = Path(__file__).parents[2] / "docs" / "authorization.md"
CALLERS = ("anonymous", "admin", "marketer", "support", "analyst")


@dataclass(frozen=True)
class Row:
    method: str
    #: With ``{member_id}`` filled in by the test.
    path: str
    expected: dict[str, int]
    form: Callable[[str], dict[str, Any]] = field(default=lambda email: {})
    #: Values of the path's names that differ from row to row (which catalog, which item).
    values: dict[str, str] = field(default_factory=dict)


def page(*allowed: str) -> dict[str, int]:
    """A page: 200 for ``allowed`` roles (all of them if none is named)."""
    roles = allowed or CALLERS[1:]
    return {"anonymous": 302, **{role: 200 if role in roles or role == "admin" else 403 for role in CALLERS[1:]}}


def change(*allowed: str) -> dict[str, int]:
    roles = allowed or CALLERS[1:]
    return {"anonymous": 400, **{role: 302 if role in roles or role == "admin" else 403 for role in CALLERS[1:]}}


def new_password(email: str) -> dict[str, Any]:
    return {"current_password": PASSWORD, "new_password": "a-new-long-password", "confirm_password": "a-new-long-password"}


PRESSURE = {"cap_messages": "3", "cap_days": "7", "quiet_start": "21:00", "quiet_end": "08:00", "max_attempts": "6"}
BOARD = {"key": "monthly", "name": "Monthly", "periods": "month", "scope": "all"}
NEW_SCENARIO = {"key": "hello", "name": "Hello", "definition": "trigger: {event: MemberEnrolled}\nsteps: [{id: hi, send: note}]"}
BLACKOUT = {"name": "Sale", "starts_at": "2026-12-26T00:00", "ends_at": "2026-12-27T00:00"}

TABLE = [
    Row("GET", "/admin/login", {"anonymous": 200, **dict.fromkeys(CALLERS[1:], 302)}),
    Row("POST", "/admin/login", change(), form=lambda email: {"email": email, "password": PASSWORD}),
    Row("POST", "/admin/logout", change()),
    Row("GET", "/admin/password", page()),
    Row("POST", "/admin/password", change(), form=new_password),
    Row("GET", "/admin/", page()),
    Row("GET", "/admin/members?q=nobody", page("marketer", "support")),
    Row("GET", "/admin/members/{member_id}", page("marketer", "support")),
    Row(
        "POST",
        "/admin/members/{member_id}/adjustments",
        change("support"),
        form=lambda email: {"points": "10", "reason": "Goodwill gesture"},
    ),
    Row(
        "POST",
        "/admin/members/{member_id}/complaints",
        change("support"),
        form=lambda email: {"subject": "Too many emails", "note": "Called the hotline"},
    ),
    Row("POST", "/admin/members/{member_id}/complaints/{complaint_id}/close", change("support")),
    Row("POST", "/admin/members/{member_id}/consents", change("support"), form=lambda email: {"consent_email": "1"}),
    Row("POST", "/admin/members/{member_id}/cards", change("support")),
    Row("GET", "/admin/audit", page("admin")),
    Row("GET", "/admin/staff", page("admin")),
    Row(
        "POST",
        "/admin/staff",
        {"anonymous": 400, "admin": 200, "marketer": 403, "support": 403, "analyst": 403},
        form=lambda email: {"email": "new.colleague@brand.example", "name": "New colleague", "role": "support"},
    ),
    Row("POST", "/admin/staff/{staff_id}/active", change("admin")),
    # Program configuration: a setting, a catalog's list, its items.
    Row("GET", "/admin/program", page("marketer")),
    Row("GET", "/admin/program/{slug}", page("marketer"), values={"slug": "rewards"}),
    Row("POST", "/admin/program/{slug}", change("marketer"), form=lambda email: PRESSURE, values={"slug": "marketing"}),
    Row("GET", "/admin/program/{slug}/new", page("marketer"), values={"slug": "rewards"}),
    Row("POST", "/admin/program/{slug}/new", change("marketer"), form=lambda email: BOARD, values={"slug": "leaderboards"}),
    Row("GET", "/admin/program/{slug}/{key}", page("marketer"), values={"slug": "leaderboards", "key": "weekly"}),
    Row("POST", "/admin/program/{slug}/{key}", change("marketer"), form=lambda email: {**BOARD, "name": "Week"},
        values={"slug": "leaderboards", "key": "weekly"}),
    Row("POST", "/admin/program/{slug}/{key}/delete", change("marketer"), values={"slug": "leaderboards", "key": "weekly"}),
    Row("GET", "/admin/translations", page("marketer")),
    # Scenarios.
    Row("GET", "/admin/scenarios", page("marketer", "analyst")),
    Row("GET", "/admin/scenarios/new", page("marketer")),
    Row("POST", "/admin/scenarios/new", change("marketer"), form=lambda email: NEW_SCENARIO),
    Row("GET", "/admin/scenarios/{key}", page("marketer", "analyst"), values={"key": "promo"}),
    Row("GET", "/admin/scenarios/{key}/edit", page("marketer"), values={"key": "promo"}),
    Row("POST", "/admin/scenarios/{key}/edit", change("marketer"), form=lambda email: {"name": "Promo"}, values={"key": "promo"}),
    Row("POST", "/admin/scenarios/{key}/activate", change("marketer"), values={"key": "promo"}),
    Row("POST", "/admin/scenarios/{key}/pause", change("marketer"), values={"key": "promo"}),
    Row("GET", "/admin/scenarios/{key}/versions", page("marketer", "analyst"), values={"key": "promo"}),
    Row("GET", "/admin/scenarios/{key}/preview?template=note&member={member_id}", page("marketer", "analyst"),
        values={"key": "promo"}),
    Row("GET", "/admin/scenarios/{key}/preview/email?template=note&member={member_id}", page("marketer", "analyst"),
        values={"key": "promo"}),
    Row("GET", "/admin/scenarios/{key}/kpis", page("marketer", "analyst"), values={"key": "promo"}),
    # Messages and pressure.
    Row("GET", "/admin/messages", page("marketer", "support")),
    Row("GET", "/admin/messages/{message_id}", page("marketer", "support")),
    Row("POST", "/admin/messages/{message_id}/redrive", change("support")),
    Row("GET", "/admin/blackouts", page("marketer", "support")),
    Row("POST", "/admin/blackouts", change("marketer"), form=lambda email: BLACKOUT),
    Row("POST", "/admin/blackouts/{blackout_id}/delete", change("marketer")),
    # Cards.
    Row("GET", "/admin/cards", page("support")),
    Row("GET", "/admin/cards.csv", page("support")),
    Row("POST", "/admin/cards/{card_id}/status", change("support"), form=lambda email: {"status": "printed"}),
]  # fmt: skip


def world(app, client, admin, sessions, clock, tmp_path, member_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What the rows act on: a scenario sending the template ``note``, a dead letter, a blackout
    period and the member's open complaint, a leaderboard nobody is ranked on, a card to print."""
    add_scenario(client, admin, "promo", [{"id": "hello", "send": "note"}])
    messages = message_world(sessions, make_runtime(app, tmp_path), member_id, now=clock.now())
    with session_scope(sessions) as session:
        save_board(session, {"key": "weekly", "name": "Weekly", "periods": ["week"], "scope": "all"})
        card = queue_card(session, member_id, "base", now=clock.now())
    return {
        "message_id": messages["dead_message_id"], "blackout_id": messages["blackout_id"],
        "complaint_id": messages["complaint_id"], "card_id": card.id,
    }  # fmt: skip


def caller(app: Flask, make_staff: Callable[..., str], role: str) -> tuple[StaffClient, str]:
    client = app.test_client()
    if role == "anonymous":
        return StaffClient(client, ""), ""
    from tests.backoffice.conftest import log_in

    email = make_staff(role)
    return StaffClient(client, log_in(client, email)), email


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("row", TABLE, ids=lambda row: f"{row.method} {row.path}")
def test_each_role_gets_the_answer_the_table_gives(
    app, make_staff, make_member, row: Row, role: str, client, admin, sessions, clock, tmp_path
) -> None:
    member = make_member()
    colleague = make_staff("analyst", email="colleague@brand.example")
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        staff_id = session.scalar(select(StaffAccount.id).where(StaffAccount.email == colleague))
    values = {
        "member_id": member["id"], "staff_id": staff_id,
        **world(app, client, admin, sessions, clock, tmp_path, member["id"]),
    }  # fmt: skip
    client, email = caller(app, make_staff, role)
    path = row.path.format(**values, **row.values)
    if row.method == "GET":
        response = client.get(path)
    elif role == "anonymous":
        response = client.client.post(path, data=row.form(email))
    else:
        response = client.post(path, data=row.form(email))
    assert response.status_code == row.expected[role], response.get_data(as_text=True)[:500]


def test_every_back_office_route_has_a_row_in_the_table(app: Flask) -> None:
    routes = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin") and rule.endpoint != "backoffice.static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {(row.method, row.path.split("?")[0]) for row in TABLE}


def test_the_documented_table_is_the_tested_table() -> None:
    documented = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        method, _, path = cells[0].partition(" ")
        if path.startswith("/admin"):
            documented.append((method, path, [int(cell) for cell in cells[1 : 1 + len(CALLERS)]]))
    assert documented == [(row.method, row.path, [row.expected[role] for role in CALLERS]) for row in TABLE]
