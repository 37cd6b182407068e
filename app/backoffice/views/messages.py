"""Messages and marketing pressure: the delivery log with its filters, a message, dead letters and
their redrive, and the blackout calendar (the cap and quiet hours are a setting of the program)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import db
from app.backoffice import bp
from app.backoffice.blackout_calendar import months
from app.backoffice.schema_forms import Submission, apply, inputs_of, submit
from app.backoffice.security import requires
from app.clock import now
from app.schemas.scenarios import BlackoutSchema
from loyalty.errors import Conflict, NotFound
from notifications.channels.base import CHANNELS
from notifications.messages import operations as messages
from notifications.pressure import operations as pressure
from notifications.scenarios.operations import list_scenarios

PER_PAGE = 50
#: The months the blackout calendar shows, from the current one.
CALENDAR_MONTHS = 3


@bp.route("/messages")
@requires("messages.read")
def message_log() -> str:
    """Messages newest first, filtered by status, channel, scenario and member; ``before`` pages on."""
    session = db.session()
    filters = {name: request.args.get(name, "").strip() for name in ("status", "channel", "scenario", "member")}
    status = filters["status"] if filters["status"] in messages.STATUSES else None
    channel = filters["channel"] if filters["channel"] in CHANNELS else None
    member = _number(filters["member"])
    page = messages.list_messages(
        session, status=status, channel=channel, scenario_key=filters["scenario"] or None, member_id=member,
        limit=PER_PAGE, before=_number(request.args.get("before", "")),
    )  # fmt: skip
    return render_template(
        "backoffice/messages/log.html", page=page, filters=filters, statuses=messages.STATUSES, channels=CHANNELS,
        scenarios=[scenario.key for scenario in list_scenarios(session)],
    )  # fmt: skip


@bp.route("/messages/<id:message_id>")
@requires("messages.read")
def message(message_id: int) -> str:
    """One message: to whom, on which channel, what it said, what became of it and why."""
    try:
        found = messages.get_message(db.session(), message_id)
    except NotFound:
        abort(404)
    return render_template("backoffice/messages/show.html", message=found)


@bp.route("/messages/<id:message_id>/redrive", methods=["POST"])
@requires("messages.write")
def redrive(message_id: int) -> Response:
    """Queue a dead letter again with a fresh count of attempts (after its provider was fixed)."""
    try:
        messages.redrive_message(db.session(), message_id, now=now())
    except NotFound:
        abort(404)
    except Conflict as error:
        abort(409, description=f"Only a dead letter can be sent again: {error.detail}.")
    flash(f"Message {message_id} is queued again: the next pass of the scheduler sends it.")
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/admin/") else url_for("backoffice.message", message_id=message_id))


@bp.route("/blackouts")
@requires("messages.read")
def blackouts() -> str:
    """The blackout calendar: the coming months, and every period."""
    return _blackouts(Submission({}, {}, {}))


@bp.route("/blackouts", methods=["POST"])
@requires("pressure.write")
def add_blackout() -> Response | tuple[str, int]:
    """Plan a blackout period: marketing scenarios pause over it, their messages wait for its end."""
    schema = BlackoutSchema()
    submission = submit(schema, request.form)
    if apply(submission, schema, lambda data: pressure.add_blackout(db.session(), **data)):
        flash(f"Blackout “{submission.data['name']}” planned.")
        return redirect(url_for("backoffice.blackouts"))
    return _blackouts(submission), 422


@bp.route("/blackouts/<id:blackout_id>/delete", methods=["POST"])
@requires("pressure.write")
def delete_blackout(blackout_id: int) -> Response:
    """Remove a blackout period; what it held back goes out at the next pass."""
    pressure.delete_blackout(db.session(), blackout_id)
    flash("The blackout period was removed.")
    return redirect(url_for("backoffice.blackouts"))


def _blackouts(submission: Submission) -> str:
    periods = pressure.list_blackouts(db.session())
    return render_template(
        "backoffice/messages/blackouts.html", periods=periods, months=months(now().date(), CALENDAR_MONTHS, periods),
        inputs=inputs_of(BlackoutSchema()), form=submission,
    )  # fmt: skip


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 19 else None
