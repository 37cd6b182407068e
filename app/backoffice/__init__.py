"""The back office under ``/admin``: server-rendered pages for the brand's staff.

Pages are Jinja templates over the same operations the API calls; the few places that change in
place use a few lines of plain JavaScript (``static/backoffice/backoffice.js``), shipped with the
package like the stylesheet. Staff accounts, sessions and CSRF: :mod:`app.backoffice.security`;
roles: :mod:`app.backoffice.roles`.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from decimal import Decimal

from flask import Blueprint, Flask, Request, Response, render_template, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from app.backoffice import security
from loyalty.errors import NotFound

bp = Blueprint(
    "backoffice",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, which build their signer only for a request bearing the cookie.

    Flask opens the session of every request; the API's never bear the back office's cookie (its path
    is ``/admin``), and building the signer cost more than the rest of opening it. A request whose
    ``Cookie`` header does not even name it is not parsed for cookies either.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        name = self.get_cookie_name(app)
        if app.secret_key and (name not in request.headers.get("Cookie", "") or not request.cookies.get(name)):
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    # The session cookie is the back office's only: signed with a key derived from the signing key
    # (commands that serve nothing may run without one).
    signing_key = app.config["LOYALTY_JWT_SECRET_KEY"]
    if signing_key:
        app.secret_key = hmac.new(signing_key.encode(), b"back-office sessions", hashlib.sha256).hexdigest()
    app.session_interface = CookieSessions()
    app.config.update(
        SESSION_COOKIE_NAME="loyalty_admin",
        SESSION_COOKIE_PATH="/admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not app.debug,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    # Globals, not context: the macros imported by the templates call them too.
    app.jinja_env.globals.update(csrf_token=security.csrf_token, can=security.can)
    from app.backoffice.views import (  # noqa: F401  (they add routes to bp)
        audit, auth, cards, dashboard, members, messages, program, scenarios, staff, translations,
    )

    app.register_blueprint(bp)


@bp.app_template_filter("number")
def _number(value: float | int | Decimal | None) -> str:
    """``12,345`` (and two decimals for money and fractions)."""
    if value is None:
        return "—"
    if isinstance(value, Decimal) or (isinstance(value, float) and not value.is_integer()):
        return f"{value:,.2f}"
    return f"{int(value):,}"


@bp.app_template_filter("compact")
def _compact(value: float | int) -> str:
    """``1.2k``, ``3.4M``: for chart axes and labels."""
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return f"{value:.1f}".removesuffix(".0") if isinstance(value, float) else str(value)


@bp.app_template_filter("day")
def _day(value: date | datetime | None) -> str:
    return "—" if value is None else f"{value:%d %b %Y}"


@bp.app_template_filter("when")
def _when(value: datetime | None) -> str:
    """A UTC instant, to the minute."""
    return "—" if value is None else f"{value:%d %b %Y %H:%M}"


@bp.before_request
def _check_csrf() -> None:
    security.check_csrf()


@bp.after_request
def _no_store(response: Response) -> Response:
    """Pages show personal data: no cache keeps them; no other site frames them."""
    if not request.path.startswith("/admin/static/"):
        response.headers["Cache-Control"] = "no-store"
    # A view may set its own (the preview of an email, framed by a page of the back office).
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.app_context_processor
def _template_globals() -> dict[str, object]:
    if not request.path.startswith("/admin"):
        return {}
    return {"current_staff": security.current_staff()}


@bp.errorhandler(HTTPException)
def _error_page(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    return render_template("backoffice/error.html", status=status, title=error.name, detail=error.description), status


@bp.errorhandler(NotFound)
def _not_found_page(error: NotFound) -> tuple[str, int]:
    """A thing a page names that does not exist (a scenario key, a message id): the 404 page, not the
    API's problem+json."""
    return render_template("backoffice/error.html", status=404, title="Not Found", detail=error.detail.capitalize() + "."), 404
