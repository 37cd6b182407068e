"""Logging in and out, and changing one's password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import db
from app.backoffice import bp, security, staff
from app.backoffice.forms import Form
from app.backoffice.throttle import SharedAddressThrottle
from app.clock import now
from loyalty.db import session_scope
from loyalty.errors import DomainError


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """The login form; a failure is recorded (and committed) whatever the answer."""
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if security.current_staff() is not None:
            return redirect(target)
        return render_template("backoffice/login.html", form=Form(), next=target)
    email, password = request.form.get("email", "").strip(), request.form.get("password", "")
    form = Form(values={"email": email})
    if not email:
        form.error("email", "Enter your email address")
    if not password:
        form.error("password", "Enter your password")
    if not form.is_valid:
        return render_template("backoffice/login.html", form=form, next=target), 422
    policy = staff.LoginPolicy(
        lock_after=current_app.config["LOYALTY_STAFF_LOCK_AFTER"],
        lock_minutes=current_app.config["LOYALTY_STAFF_LOCK_MINUTES"],
    )
    with session_scope(db.sessions()) as session:
        try:
            account = staff.log_in(
                session, email=email, password=password, remote_addr=request.remote_addr or "", now=now(), policy=policy,
                throttle=SharedAddressThrottle(policy),
            )
        except staff.LoginRefused as refused:
            # Committed: the failure counts even though the page answers an error.
            form.error("password" if not refused.throttled else "email", refused.detail)
            account = None
            status = 429 if refused.throttled else 401
    if account is None:
        return render_template("backoffice/login.html", form=form, next=target), status
    security.start_session(account)
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    security.end_session()
    flash("You are logged out.")
    return redirect(url_for("backoffice.login"))


@bp.route("/password", methods=["GET", "POST"])
@security.requires("dashboard.read")
def change_password() -> Response | str | tuple[str, int]:
    """Change one's password; the other sessions of the account end, this one goes on."""
    account = security.current_staff()
    assert account is not None
    form = Form()
    if request.method == "POST":
        new, confirm = request.form.get("new_password", ""), request.form.get("confirm_password", "")
        if new != confirm:
            form.error("confirm_password", "The two new passwords are not the same")
        else:
            try:
                staff.change_password(
                    db.session(), account, current=request.form.get("current_password", ""), new=new, now=now()
                )
            except DomainError as error:
                form.add_domain_error(error, "new_password")
        if form.is_valid:
            security.start_session(account)
            flash("Your password is changed. Your other sessions are logged out.")
            return redirect(url_for("backoffice.dashboard"))
        return render_template("backoffice/password.html", form=form), 422
    return render_template("backoffice/password.html", form=form)


def _safe_next(target: str | None) -> str:
    """Only a path of the back office: a login never sends anyone to another site."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and parts.path.startswith("/admin") and "\\" not in target:
        return target
    return url_for("backoffice.dashboard")
