"""The audit log, read-only: every change made through the back office or the admin API."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import render_template, request
from sqlalchemy import select

from app import db
from app.backoffice import bp
from app.backoffice.pagination import page_number, paginate
from app.backoffice.security import requires
from loyalty.audit import AuditEntry


@bp.route("/audit")
@requires("audit.read")
def audit_log() -> str:
    """Entries newest first, filtered by actor, thing changed (table and key), action and dates."""
    filters = {name: request.args.get(name, "").strip() for name in ("actor", "entity", "entity_key", "action", "since", "until")}
    query = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    if filters["actor"]:
        query = query.where(AuditEntry.actor.contains(filters["actor"], autoescape=True))
    for name in ("entity", "entity_key", "action"):
        if filters[name]:
            query = query.where(getattr(AuditEntry, name) == filters[name])
    since, until = _day(filters["since"]), _day(filters["until"])
    if since:
        query = query.where(AuditEntry.occurred_at >= since)
    if until:
        query = query.where(AuditEntry.occurred_at < until + timedelta(days=1))
    session = db.session()
    entities = session.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)).all()
    page = paginate(session, query, page_number(request.args.get("page")))
    return render_template("backoffice/audit.html", page=page, filters=filters, entities=entities)


def _day(value: str) -> datetime | None:
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(), tzinfo=UTC)
    except ValueError:
        return None
