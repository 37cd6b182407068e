"""Cards: the issuance queue (cards to print and send), moving a card forward, the CSV export."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app import db
from app.backoffice import bp
from app.backoffice.pagination import page_number, paginate
from app.backoffice.security import requires
from app.clock import now
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.tiers import operations as tiers
from loyalty.tiers.card_export import cards_csv
from loyalty.tiers.models import CARD_STATUSES, CardIssuance


@bp.route("/cards")
@requires("cards.read")
def cards() -> str:
    """The cards of a status (pending first: the next print run), oldest first, a page at a time."""
    session = db.session()
    status = request.args.get("status", "pending")
    status = status if status in CARD_STATUSES else ""
    query = select(CardIssuance).order_by(CardIssuance.id)
    if status:
        query = query.where(CardIssuance.status == status)
    counts = dict(session.execute(select(CardIssuance.status, func.count()).group_by(CardIssuance.status)).all())
    page = paginate(session, query, page_number(request.args.get("page")))
    return render_template(
        "backoffice/cards/queue.html", page=page, status=status, statuses=CARD_STATUSES, counts=counts,
        next_status={current: sorted(following) for current, following in tiers.CARD_TRANSITIONS.items()},
    )  # fmt: skip


@bp.route("/cards.csv")
@requires("cards.read")
def export_cards() -> Response:
    """The cards of a status as CSV, for the card printer."""
    status = request.args.get("status") or None
    if status is not None and status not in CARD_STATUSES:
        abort(404)
    text = cards_csv(tiers.list_cards(db.session(), status=status))
    name = f"cards-{status or 'all'}-{now():%Y%m%d}.csv"
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/cards/<id:card_id>/status", methods=["POST"])
@requires("cards.write")
def advance_card(card_id: int) -> Response:
    """Move a card forward: pending → printed → shipped (then its number becomes the member's card)."""
    status = request.form.get("status", "")
    try:
        card = tiers.advance_card(db.session(), card_id, status, now=now())
    except NotFound:
        abort(404)
    except (Conflict, InvalidOperation) as error:
        abort(409, description=f"This card cannot move on: {error.detail}.")
    flash(f"Card {card.card_number} is {card.status}.")
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/admin/") else url_for("backoffice.cards", status=card.status))
