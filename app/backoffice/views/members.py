"""Members: the search in every page's header, the member page, and support's actions on it."""

from __future__ import annotations

from collections import defaultdict

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import db
from app.backoffice import bp
from app.backoffice.forms import Form, load
from app.backoffice.member_page import member_page
from app.backoffice.pagination import page_number, paginate
from app.backoffice.security import current_staff, requires
from app.clock import now
from app.schemas.ledger import AdjustmentSchema
from loyalty.errors import DomainError
from loyalty.ledger import operations as ledger
from loyalty.members.operations import get_member
from loyalty.members.search import search_query


@bp.route("/members")
@requires("members.read")
def members() -> Response | str:
    """Members matching ``q``: one exact match opens its page; several are listed, a page at a time."""
    text = request.args.get("q", "").strip()
    if not text:
        return render_template("backoffice/members.html", text=text, page=None)
    session = db.session()
    page = paginate(session, search_query(text), page_number(request.args.get("page")))
    if page.total == 1 and page.number == 1:
        return redirect(url_for("backoffice.member", member_id=page.items[0].id))
    return render_template("backoffice/members.html", text=text, page=page)


@bp.route("/members/<id:member_id>")
@requires("members.read")
def member(member_id: int) -> str:
    """Everything about one member on one page."""
    return _member_page(member_id)


@bp.route("/members/<id:member_id>/adjustments", methods=["POST"])
@requires("members.write")
def adjust_points(member_id: int) -> Response | tuple[str, int]:
    """Credit or debit points by hand, with a reason (the API's own schema and operation)."""
    session = db.session()
    get_member(session, member_id)
    data, form = load(AdjustmentSchema(), request.form, integers=("points",))
    if form.is_valid:
        staff = current_staff()
        assert staff is not None
        try:
            posting = ledger.adjust_points(
                session, member_id=member_id, points=data["points"], reason=data["reason"],
                actor=f"staff:{staff.email}", now=now(),
            )
        except DomainError as error:
            form.add_domain_error(error, "points")
        else:
            flash(f"{data['points']:+,} points adjusted: the balance is {posting.balance:,}.")
            return redirect(url_for("backoffice.member", member_id=member_id) + "#ledger")
    return _member_page(member_id, adjust=form), 422


def _member_page(member_id: int, **submitted: Form) -> str:
    """The member page, with the forms just submitted (their input and errors), the others blank."""
    view = member_page(db.session(), member_id, request.args)
    return render_template("backoffice/member.html", view=view, submitted=defaultdict(Form, submitted))
