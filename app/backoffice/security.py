"""The staff's login session, CSRF tokens and permission checks.

The session lives in Flask's signed cookie (HttpOnly, SameSite=Lax, Secure outside debug, path
``/admin``): the staff id, the account's session generation (a password change ends the other
sessions), when it started and when it was last used. It ends after ``LOYALTY_STAFF_IDLE_MINUTES``
without a request, after ``LOYALTY_STAFF_SESSION_HOURS`` in all, at logout, or when the account is
disabled. Every state-changing request carries the session's CSRF token (the ``csrf_token`` form field
or the ``X-CSRF-Token`` header), or is refused with a 400.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, redirect, request, session, url_for
from werkzeug.exceptions import abort

from app import db
from app.backoffice.models import StaffAccount
from app.backoffice.roles import may
from app.clock import now
from loyalty import audit

F = TypeVar("F", bound=Callable[..., Any])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def csrf_token() -> str:
    """The session's CSRF token, created on first use (the login form has one before any login)."""
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return cast(str, token)


def check_csrf() -> None:
    """Refuse a state-changing request without the session's token (before any view runs)."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get("csrf")
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(given.encode(), str(expected).encode()):
        abort(400, description="The form had expired or did not come from this site: nothing was changed. "
              "Go back, reload the page and try again.")


def start_session(staff: StaffAccount) -> None:
    """Log ``staff`` in: a fresh session (and CSRF token), so nothing from before the login carries on."""
    session.clear()
    moment = now().timestamp()
    session.update(staff=staff.id, gen=staff.session_generation, since=moment, seen=moment)
    csrf_token()


def end_session() -> None:
    session.clear()


def current_staff() -> StaffAccount | None:
    """The logged-in staff member, or None (no session, expired, ended by a password change)."""
    if "staff" in g:
        return cast(StaffAccount | None, g.staff)
    g.staff = _load_staff()
    return cast(StaffAccount | None, g.staff)


def _load_staff() -> StaffAccount | None:
    staff_id = session.get("staff")
    if staff_id is None:
        return None
    moment = now()
    config = current_app.config
    idle = timedelta(minutes=config["LOYALTY_STAFF_IDLE_MINUTES"])
    lifetime = timedelta(hours=config["LOYALTY_STAFF_SESSION_HOURS"])
    seen = datetime.fromtimestamp(session.get("seen", 0), moment.tzinfo)
    since = datetime.fromtimestamp(session.get("since", 0), moment.tzinfo)
    staff = db.session().get(StaffAccount, staff_id)
    if (
        staff is None
        or not staff.is_active
        or staff.session_generation != session.get("gen")
        or moment - seen > idle
        or moment - since > lifetime
    ):
        session.clear()
        g.session_expired = True
        return None
    session["seen"] = moment.timestamp()
    audit.act_as(db.session(), f"staff:{staff.email}", now=moment)
    return staff


def requires(permission: str) -> Callable[[F], F]:
    """Open a view to staff holding ``permission``: a login page without a session, 403 otherwise."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if staff is None:
                return redirect(url_for("backoffice.login", next=request.full_path.rstrip("?")))
            if not may(staff.role, permission):
                abort(403, description=f"Your role ({staff.role}) does not allow this page or action.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def can(permission: str) -> bool:
    """For templates: whether the logged-in staff member holds ``permission``."""
    staff = current_staff()
    return staff is not None and may(staff.role, permission)
