"""Staff accounts (admins only): who has access, creating an account, disabling one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import db
from app.backoffice import bp, staff
from app.backoffice.forms import Form
from app.backoffice.roles import ROLES
from app.backoffice.security import current_staff, requires
from app.clock import now
from loyalty.errors import DomainError


@bp.route("/staff")
@requires("staff.manage")
def staff_accounts() -> str:
    return _page(Form())


@bp.route("/staff", methods=["POST"])
@requires("staff.manage")
def create_staff_account() -> str | tuple[str, int]:
    """Create an account with a generated password, shown on this page only, once."""
    values = {name: request.form.get(name, "").strip() for name in ("email", "name", "role")}
    form = Form(values=values)
    if "@" not in values["email"]:
        form.error("email", "Enter an email address, like ann@brand.example")
    if values["role"] not in ROLES:
        form.error("role", f"Choose a role: {', '.join(ROLES)}")
    if form.is_valid:
        try:
            account, password = staff.create_staff(
                db.session(), email=values["email"], role=values["role"], name=values["name"], now=now()
            )
        except DomainError as error:
            form.add_domain_error(error, "email")
        else:
            return _page(Form(), created=(account.email, password))
    return _page(form), 422


@bp.route("/staff/<id:staff_id>/active", methods=["POST"])
@requires("staff.manage")
def set_staff_active(staff_id: int) -> Response:
    """Disable an account (``active`` absent) or enable it again (``active=1``)."""
    by = current_staff()
    assert by is not None
    account = staff.set_active(db.session(), staff_id, active=request.form.get("active") == "1", by=by)
    flash(f"{account.email} is {'enabled' if account.is_active else 'disabled: their sessions have ended'}.")
    return redirect(url_for("backoffice.staff_accounts"))


def _page(form: Form, created: tuple[str, str] | None = None) -> str:
    accounts = staff.list_staff(db.session())
    options = [("", "Choose a role")] + [(role, role) for role in ROLES]
    return render_template("backoffice/staff.html", accounts=accounts, form=form, created=created, role_options=options)
