"""Message template use cases: list, read, and save a template after checking that every part compiles."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty import audit
from loyalty.db import insert_if_absent
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.i18n import Languages, normalize
from loyalty.program.operations import get_settings
from notifications.rendering import PARTS, TemplateParts, placeholders, validate
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
    """Create or replace the template ``key`` (its parts in the program's original language, and
    ``translations``); returns it and whether it is new.

    Refused, naming the template, the locale and the part: a part that does not compile (broken
    Jinja), a language the program declares left untranslated, a translation reading other
    placeholders than the original. Messages already queued keep the text they were rendered with.
    """
    if not KEY.fullmatch(key):
        raise InvalidOperation("a key of lower-case letters, digits and _, starting with a letter", field="key")
    values = {name: parts[name] for name in PARTS}
    translations = {normalize(locale): {name: text[name] for name in PARTS} for locale, text in parts.get("translations", {}).items()}
    check_template_set(
        TemplateParts(key=key, **values),
        {locale: TemplateParts(key=key, **text) for locale, text in translations.items()},
        declared=get_settings(session).locales,
    )
    row = {"key": key, **values, "translations": translations, "updated_at": now}
    created = insert_if_absent(session, MessageTemplate, row, key=["key"])
    if created is not None:  # an INSERT statement: the audit log's flush listener does not see it
        audit.record(
            session, action="create", entity="message_templates", entity_key=created, before=None,
            after={"id": created, **row},
        )  # fmt: skip
    template = get_template(session, key)
    if created is None:
        for name, value in row.items():
            setattr(template, name, value)
        session.flush()
    return template, created is not None


def check_template_set(original: TemplateParts, translations: Mapping[str, TemplateParts], *, declared: Sequence[str]) -> None:
    """Every part compiles, every declared language (after the original, the first) is there, and
    each translated part reads exactly the placeholders of the original's."""
    key = original.key
    errors = validate(original)
    if errors:
        part, error = errors[0]
        raise InvalidOperation(f"template {key!r}: the part does not compile: {error}", field=part)
    for locale in declared[1:]:
        if locale not in translations:
            raise InvalidOperation(
                f"template {key!r} has no translation in {locale!r}, a language the program declares",
                field=f"translations.{locale}",
            )
    for locale, translation in translations.items():
        errors = validate(translation)
        if errors:
            part, error = errors[0]
            raise InvalidOperation(
                f"template {key!r}, locale {locale!r}: the part does not compile: {error}", field=f"translations.{locale}.{part}"
            )
        for part in PARTS:
            expected, found = placeholders(getattr(original, part)), placeholders(getattr(translation, part))
            if expected != found:
                name, verb = (
                    (min(found - expected), "is not in the original")
                    if found - expected
                    else (min(expected - found), "of the original is missing")
                )
                raise InvalidOperation(
                    f"template {key!r}, locale {locale!r}, {part}: the placeholder {name!r} {verb}",
                    field=f"translations.{locale}.{part}",
                )


def parts_for(template: MessageTemplate, languages: Languages) -> tuple[TemplateParts, str]:
    """The template in the reader's best language, and that language's locale."""
    locale = languages.pick(template.translations)
    texts = template.translations.get(locale) if locale != languages.original else None
    if texts is None:
        return TemplateParts(key=template.key, **{name: getattr(template, name) for name in PARTS}), languages.original
    return TemplateParts(key=template.key, **{name: texts[name] for name in PARTS}), locale


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
    current = {name: getattr(template, name) for name in PARTS}
    return save_template(session, key, {**current, "translations": template.translations, **changes}, now=now)[0]
