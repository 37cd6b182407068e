"""Staff logins: cookies, CSRF, session expiry, password change, lock-out and rate limiting."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.backoffice.models import StaffAccount
from loyalty.audit import AuditEntry
from loyalty.db import session_scope
from loyalty.ledger.models import LedgerEntry
from tests.backoffice.conftest import PASSWORD, csrf_of, log_in


def login_form(client, email: str, password: str, address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/admin/login").get_data(as_text=True))
    data = {"csrf_token": token, "email": email, "password": password}
    return client.post("/admin/login", data=data, environ_base={"REMOTE_ADDR": address})


def test_a_page_sends_a_visitor_without_a_session_to_the_login_form(client) -> None:
    response = client.get("/admin/members?q=x")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/members?q%3Dx"


def test_staff_log_in_reach_the_dashboard_and_log_out(client, make_staff) -> None:
    csrf = log_in(client, make_staff("analyst"))
    assert "Dashboard" in client.get("/admin/").get_data(as_text=True)
    assert client.post("/admin/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_the_session_cookie_is_httponly_samesite_secure_and_kept_to_the_back_office(client, make_staff) -> None:
    email = make_staff("admin")
    response = login_form(client, email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("loyalty_admin=")
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/admin"} <= {part.strip() for part in cookie.split(";")}


def test_a_login_only_sends_to_pages_of_the_back_office(client, make_staff) -> None:
    email = make_staff("admin")
    token = csrf_of(client.get("/admin/login").get_data(as_text=True))
    data = {"csrf_token": token, "email": email, "password": PASSWORD, "next": "//evil.example/admin"}
    assert client.post("/admin/login", data=data).headers["Location"] == "/admin/"


def test_a_change_without_the_csrf_token_is_refused_and_nothing_changes(app, client, make_staff, make_member, sessions) -> None:
    member = make_member()
    log_in(client, make_staff("support"))
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"/admin/members/{member['id']}/adjustments", data={**data, "points": 50, "reason": "gift"})
        assert response.status_code == 400
        assert "nothing was changed" in response.get_data(as_text=True)
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).where(LedgerEntry.kind == "adjust")) == 0
    # The login form itself needs the token too.
    fresh = app.test_client()
    assert fresh.post("/admin/login", data={"email": "x@y.z", "password": "p"}).status_code == 400


def test_an_account_locks_after_five_failed_logins_even_against_the_right_password(client, make_staff, clock, sessions) -> None:
    email = make_staff("support")
    for _ in range(5):
        assert login_form(client, email, "wrong-password-here", "203.0.113.7").status_code == 401
    refused = login_form(client, email, PASSWORD)
    assert refused.status_code == 401
    assert "locked" in refused.get_data(as_text=True)
    with session_scope(sessions) as session:
        staff = session.scalar(select(StaffAccount).where(StaffAccount.email == email))
        assert staff is not None
        locks = session.scalars(select(AuditEntry).where(AuditEntry.entity == "staff_accounts")).all()
        assert [(e.actor, e.entity_key, e.occurred_at) for e in locks] == [("login from 203.0.113.7", str(staff.id), clock.now())]
        assert locks[0].before is not None and locks[0].before["locked_until"] is None
        assert locks[0].after is not None and locks[0].after["locked_until"] is not None
    clock.advance(timedelta(minutes=16))
    assert login_form(client, email, PASSWORD).status_code == 302


def test_an_address_with_too_many_failures_must_wait(client, make_staff) -> None:
    for number in range(20):
        assert login_form(client, f"nobody{number}@brand.example", "guess-number-one").status_code == 401
    email = make_staff("admin")
    throttled = login_form(client, email, PASSWORD)
    assert throttled.status_code == 429
    assert "Too many failed logins from your address" in throttled.get_data(as_text=True)
    assert login_form(client, email, PASSWORD, "198.51.100.9").status_code == 302  # another address may


def test_a_session_ends_after_half_an_hour_without_a_request(client, make_staff, clock) -> None:
    log_in(client, make_staff("admin"))
    clock.advance(timedelta(minutes=29))
    assert client.get("/admin/").status_code == 200
    clock.advance(timedelta(minutes=29))
    assert client.get("/admin/").status_code == 200
    clock.advance(timedelta(minutes=31))
    assert client.get("/admin/").status_code == 302


def test_a_password_change_ends_the_other_sessions_of_the_account(app, make_staff, sessions) -> None:
    email = make_staff("marketer")
    laptop, tablet = app.test_client(), app.test_client()
    csrf = log_in(laptop, email)
    log_in(tablet, email)
    form = {"csrf_token": csrf, "current_password": PASSWORD, "new_password": "another-long-password", "confirm_password": "another-long-password"}
    assert laptop.post("/admin/password", data=form).status_code == 302
    assert laptop.get("/admin/").status_code == 200
    assert tablet.get("/admin/").status_code == 302
    assert login_form(app.test_client(), email, "another-long-password").status_code == 302


def test_a_wrong_current_password_is_shown_beside_its_field(client, make_staff) -> None:
    csrf = log_in(client, make_staff("analyst"))
    form = {"csrf_token": csrf, "current_password": "not-it-at-all", "new_password": "x", "confirm_password": "x"}
    response = client.post("/admin/password", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#field-current_password"' in page
    assert 'id="field-current_password-error"' in page


def test_create_staff_prints_a_generated_password_once_or_reads_one(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["loyalty", "create-staff", "Ann@Brand.example", "--role", "admin"])
    assert result.exit_code == 0, result.output
    password = result.output.split("password: ")[1].split()[0]
    assert login_form(app.test_client(), "ann@brand.example", password).status_code == 302
    again = runner.invoke(args=["loyalty", "create-staff", "ann@brand.example", "--role", "admin"])
    assert again.exit_code != 0
    given = runner.invoke(
        args=["loyalty", "create-staff", "bob@brand.example", "--role", "support", "--password-stdin"],
        input="bobs-own-long-password\n",
    )
    assert given.exit_code == 0 and "bobs-own-long-password" not in given.output
    assert login_form(app.test_client(), "bob@brand.example", "bobs-own-long-password").status_code == 302
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        assert session.scalar(select(StaffAccount.role).where(StaffAccount.email == "bob@brand.example")) == "support"


def test_an_admin_creates_an_account_whose_password_is_shown_once_and_disables_it(app, staff_client, sessions) -> None:
    admin = staff_client("admin")
    refused = admin.post("/admin/staff", data={"email": "not-an-email", "role": "boss"})
    assert refused.status_code == 422
    assert 'id="field-email-error"' in refused.get_data(as_text=True) and 'id="field-role-error"' in refused.get_data(as_text=True)
    created = admin.post("/admin/staff", data={"email": "Zoe@Brand.example", "name": "Zoé", "role": "support"})
    assert created.status_code == 200
    password = created.get_data(as_text=True).split('id="new-password">')[1].split("<")[0]
    colleague = app.test_client()
    assert login_form(colleague, "zoe@brand.example", password).status_code == 302
    assert "new-password" not in admin.get("/admin/staff").get_data(as_text=True)
    with session_scope(sessions) as session:
        zoe = session.scalar(select(StaffAccount).where(StaffAccount.email == "zoe@brand.example"))
    assert zoe is not None
    assert admin.post(f"/admin/staff/{zoe.id}/active").status_code == 302
    assert colleague.get("/admin/").status_code == 302  # the disabled account's session has ended
    assert login_form(app.test_client(), "zoe@brand.example", password).status_code == 401
