"""Message template use cases: list, read, and save a template after checking that every part compiles."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty import audit
from loyalty.db import insert_if_absent
from loyalty.errors import Conflict, InvalidOperation, NotFound
from notifications.rendering import PARTS, TemplateParts, validate
from notifications.scenarios.models import MessageTemplate

#: A template's key, as a send step names it.
KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")


def list_templates(session: Session) -> list[MessageTemplate]:
    return list(session.scalars(select(MessageTemplate).order_by(MessageTemplate.key)))


def get_template(session: Session, key: str) -> MessageTemplate:
    template = session.scalar(select(MessageTemplate).where(MessageTemplate.key == key))
    if template is None:
        raise NotFound(f"no message template has the key {key!r}", field="key")
    return template


def save_template(session: Session, key: str, parts: dict[str, Any], *, now: datetime) -> tuple[MessageTemplate, bool]:
    """Create or replace the template ``key``; returns it and whether it is new.

    A part that does not compile (broken Jinja) is refused, naming the part and the line. Messages
    already queued keep the text they were rendered with; the next ones use the new template.
    """
    if not KEY.fullmatch(key):
        raise InvalidOperation("a key of lower-case letters, digits and _, starting with a letter", field="key")
    values = {name: parts[name] for name in PARTS}
    errors = validate(TemplateParts(key=key, **values))
    if errors:
        part, error = errors[0]
        raise InvalidOperation(f"the template does not compile: {error}", field=part)
    created = insert_if_absent(session, MessageTemplate, {"key": key, **values, "updated_at": now}, key=["key"])
    if created is not None:  # an INSERT statement: the audit log's flush listener does not see it
        audit.record(
            session, action="create", entity="message_templates", entity_key=created, before=None,
            after={"id": created, "key": key, **values, "updated_at": now},
        )  # fmt: skip
    template = get_template(session, key)
    if created is None:
        for name, value in values.items():
            setattr(template, name, value)
        template.updated_at = now
        session.flush()
    return template, created is not None


def create_template(session: Session, key: str, parts: dict[str, Any], *, now: datetime) -> MessageTemplate:
    """Create the template ``key``; a key another template has is a conflict (nothing replaced)."""
    if session.scalar(select(MessageTemplate.id).where(MessageTemplate.key == key)) is not None:
        raise Conflict(f"a message template has the key {key!r} already", field="key")
    template, created = save_template(session, key, parts, now=now)
    if not created:  # created at the same instant by another request: this one replaced nothing yet
        raise Conflict(f"a message template has the key {key!r} already", field="key")
    return template


def change_template(session: Session, key: str, changes: dict[str, Any], *, now: datetime) -> MessageTemplate:
    """Change some parts of the template ``key``; the others stay as they are."""
    template = get_template(session, key)
    return save_template(session, key, {**{name: getattr(template, name) for name in PARTS}, **changes}, now=now)[0]
