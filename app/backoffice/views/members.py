"""Members: the search in every page's header, the member page, and support's actions on it.

Each action goes through the domain operation the API uses, with the API's schema, and is audited
(the staff member is the session's actor); a refused form shows its errors on the page, changing
nothing.
"""

from __future__ import annotations

from collections import defaultdict

from flask import flash, redirect, render_template, request, url_for
from werkzeug.exceptions import abort
from werkzeug.wrappers import Response

from app import db
from app.backoffice import bp
from app.backoffice.forms import Form, load
from app.backoffice.member_page import member_page
from app.backoffice.pagination import page_number, paginate
from app.backoffice.security import current_staff, requires
from app.clock import now
from app.schemas.ledger import AdjustmentSchema
from app.schemas.scenarios import ComplaintSchema
from loyalty.errors import DomainError
from loyalty.ledger import operations as ledger
from loyalty.members.operations import get_member, update_member
from loyalty.members.search import search_query
from loyalty.tiers.operations import queue_card
from notifications.pressure.models import Complaint
from notifications.pressure.operations import close_complaint, open_complaint

CONSENT_CHANNELS = ("email", "sms", "push")


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
    """Credit or debit points by hand, with a reason."""
    session = db.session()
    get_member(session, member_id)
    data, form = load(
        AdjustmentSchema(), request.form, integers=("points",),
        names={"points": "the number of points to credit or debit", "reason": "the reason for the adjustment"},
    )
    if form.is_valid:
        try:
            posting = ledger.adjust_points(
                session, member_id=member_id, points=data["points"], reason=data["reason"], actor=_actor(), now=now()
            )
        except DomainError as error:
            form.add_domain_error(error, "points")
        else:
            flash(f"{data['points']:+,} points adjusted: the balance is {posting.balance:,}.")
            return _back_to(member_id, "ledger")
    return _member_page(member_id, adjust=form), 422


@bp.route("/members/<id:member_id>/complaints", methods=["POST"])
@requires("members.write")
def open_member_complaint(member_id: int) -> Response | tuple[str, int]:
    """Record a complaint: no marketing reaches the member until it is closed."""
    data, form = load(ComplaintSchema(), request.form, names={"subject": "what the member complains about"})
    if form.is_valid:
        open_complaint(db.session(), member_id, subject=data["subject"], note=data.get("note", ""), now=now())
        flash("Complaint opened: no marketing message reaches the member until it is closed.")
        return _back_to(member_id, "complaints")
    return _member_page(member_id, complaint=form), 422


@bp.route("/members/<id:member_id>/complaints/<id:complaint_id>/close", methods=["POST"])
@requires("members.write")
def close_member_complaint(member_id: int, complaint_id: int) -> Response:
    session = db.session()
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.member_id != member_id:
        abort(404, description="This member has no such complaint.")
    if complaint.closed_at is None:
        close_complaint(session, complaint_id, now=now())
    flash("Complaint closed.")
    return _back_to(member_id, "complaints")


@bp.route("/members/<id:member_id>/consents", methods=["POST"])
@requires("members.write")
def change_consents(member_id: int) -> Response:
    """Record the member's consents as they asked (every box unticked is a consent withdrawn)."""
    consents = {channel: f"consent_{channel}" in request.form for channel in CONSENT_CHANNELS}
    update_member(db.session(), member_id, {"consents": consents}, now=now())
    flash("Consents saved.")
    return _back_to(member_id, "profile")


@bp.route("/members/<id:member_id>/cards", methods=["POST"])
@requires("members.write")
def queue_member_card(member_id: int) -> Response:
    """Queue a new physical card (a lost or damaged one) in the member's tier, with a new number."""
    session = db.session()
    card = queue_card(session, member_id, get_member(session, member_id).tier_code, now=now())
    flash(f"A new card ({card.card_number}) is queued for printing.")
    return _back_to(member_id, "cards")


def _actor() -> str:
    staff = current_staff()
    assert staff is not None
    return f"staff:{staff.email}"


def _back_to(member_id: int, section: str) -> Response:
    return redirect(url_for("backoffice.member", member_id=member_id, _anchor=section))


def _member_page(member_id: int, **submitted: Form) -> str:
    """The member page, with the forms just submitted (their input and errors), the others blank."""
    view = member_page(db.session(), member_id, request.args, now=now())
    return render_template("backoffice/member.html", view=view, submitted=defaultdict(Form, submitted))
