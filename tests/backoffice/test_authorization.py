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
from notifications.pressure.operations import open_complaint
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


def page(*allowed: str) -> dict[str, int]:
    """A page: 200 for ``allowed`` roles (all of them if none is named)."""
    roles = allowed or CALLERS[1:]
    return {"anonymous": 302, **{role: 200 if role in roles or role == "admin" else 403 for role in CALLERS[1:]}}


def change(*allowed: str) -> dict[str, int]:
    roles = allowed or CALLERS[1:]
    return {"anonymous": 400, **{role: 302 if role in roles or role == "admin" else 403 for role in CALLERS[1:]}}


def new_password(email: str) -> dict[str, Any]:
    return {"current_password": PASSWORD, "new_password": "a-new-long-password", "confirm_password": "a-new-long-password"}


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
]


def caller(app: Flask, make_staff: Callable[..., str], role: str) -> tuple[StaffClient, str]:
    client = app.test_client()
    if role == "anonymous":
        return StaffClient(client, ""), ""
    from tests.backoffice.conftest import log_in

    email = make_staff(role)
    return StaffClient(client, log_in(client, email)), email


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("row", TABLE, ids=lambda row: f"{row.method} {row.path}")
def test_each_role_gets_the_answer_the_table_gives(app, make_staff, make_member, clock, row: Row, role: str) -> None:
    member = make_member()
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        complaint = open_complaint(session, member["id"], subject="Lost card", note="", now=clock.now())
    colleague = make_staff("analyst", email="colleague@brand.example")
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        staff_id = session.scalar(select(StaffAccount.id).where(StaffAccount.email == colleague))
    client, email = caller(app, make_staff, role)
    path = row.path.format(member_id=member["id"], complaint_id=complaint.id, staff_id=staff_id)
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
