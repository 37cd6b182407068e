"""A process-wide copy of the configuration read on every purchase (earning rules, tiers, thresholds).

Each copy is kept with the program's ``config_token``, a random value replaced by every change of the
configuration (:func:`touch`). Reading the settings row, which every purchase does anyway, tells
whether a copy is still current: a change made through any worker is seen by all the others at their
next request, and the till path saves a query per cached table.

The settings row is read once per transaction (:func:`settings_row`, which ``get_settings`` uses too)
and held in ``session.info`` until the next one: the session's identity map holds rows only weakly, so
every use of the settings would otherwise read the row again.

Copies must be immutable plain values, never ORM objects.

With ``configure(max_age=…)`` (``LOYALTY_CONFIG_CHECK_SECONDS``) a process reads the settings row at
most that often: :func:`current_settings` hands out a copy of it, detached from any session, so the
hot paths send no query for the configuration at all. A change made through this process is seen at
once; one made through another worker within ``max_age`` seconds.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from loyalty.program.models import ProgramSettings

T = TypeVar("T")

_copies: dict[str, tuple[str, Any]] = {}
#: How long a copy of the settings row may be used before it is read again, in seconds.
_max_age = 0.0
#: ``(time.monotonic() of the read, detached copy of the settings row)``.
_settings_copy: tuple[float, ProgramSettings] | None = None
#: ``session.info`` key of ``(transaction, settings row)``: the row as read in the session's transaction.
_HELD = "loyalty.program_settings"


def new_token() -> str:
    return secrets.token_hex(16)


def configure(*, max_age: float) -> None:
    """Let each process use its copy of the settings for ``max_age`` seconds before reading them again."""
    global _max_age, _settings_copy
    _max_age, _settings_copy = max_age, None


def current_settings(session: Session) -> ProgramSettings | None:
    """The settings as last read by this process, if less than ``max_age`` ago; else read now. The copy
    belongs to no session: read it, never change it (``settings_row`` is the row to change)."""
    global _settings_copy
    held = _settings_copy
    now = time.monotonic()
    if held is not None and now - held[0] < _max_age:
        return held[1]
    row = settings_row(session)
    if row is None:
        return None
    copy = ProgramSettings(**{attribute.key: getattr(row, attribute.key) for attribute in inspect(ProgramSettings).column_attrs})
    _settings_copy = (now, copy)
    return copy


def cached(session: Session, name: str, build: Callable[[Session], T]) -> T:
    """The copy called ``name``, built with ``build(session)`` when missing or out of date."""
    settings = current_settings(session)
    if settings is None:  # no program yet: nothing worth keeping
        return build(session)
    token = settings.config_token
    copy = _copies.get(name)
    if copy is not None and copy[0] == token:
        return copy[1]
    value = build(session)
    _copies[name] = (token, value)
    return value


def refreshed(session: Session, name: str, build: Callable[[Session], T]) -> T:
    """The copy called ``name`` built again now, for a caller that found it older than the database."""
    value = build(session)
    settings = current_settings(session)
    if settings is not None:
        _copies[name] = (settings.config_token, value)
    return value


def touch(session: Session) -> None:
    """Mark the configuration changed: every copy is rebuilt at its next use, in every process."""
    global _settings_copy
    settings = settings_row(session)
    if settings is not None:
        settings.config_token = new_token()
        session.flush()
    _settings_copy = None


def settings_row(session: Session) -> ProgramSettings | None:
    """The program's settings row, read once in the session's current transaction; None without a program."""
    held = session.info.get(_HELD)
    if held is not None and held[0] is session.get_transaction() and held[1] is not None and held[1] in session:
        return held[1]
    # A new transaction (or a program loaded since) reads the row afresh, even if the session still
    # holds it from before.
    settings = session.get(ProgramSettings, 1, populate_existing=True)
    session.info[_HELD] = (session.get_transaction(), settings)
    return settings
