"""Reading and changing the program's settings; reading a program file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from loyalty.errors import InvalidOperation, NotFound
from loyalty.program.cache import current_settings, settings_row, touch
from loyalty.program.models import BOUND_SETTINGS, ProgramSettings, amounts_as_strings

DEFAULT_PROGRAM = "default_program.yaml"


def get_settings(session: Session) -> ProgramSettings:
    """The program's settings (this process's copy, see :mod:`loyalty.program.cache`: read, never
    change it); the program must have been loaded (``loyalty init``)."""
    settings = current_settings(session)
    if settings is None:
        raise NotFound("no program is loaded; run `flask --app wsgi loyalty init`")
    return settings


def read_program_file(path: str | Path | None = None) -> dict[str, Any]:
    """The program description in ``path``, or the default program shipped with the package."""
    if path is None:
        text = resources.files("loyalty.program").joinpath(DEFAULT_PROGRAM).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or "program" not in data:
        raise ValueError("a program file needs a top-level `program:` mapping")
    return data


def update_settings(session: Session, changes: dict[str, Any]) -> ProgramSettings:
    """Change the program's settings (already validated by the caller's schema)."""
    settings = settings_row(session)
    if settings is None:
        raise NotFound("no program is loaded; run `flask --app wsgi loyalty init`")
    locales = changes.get("locales")
    if locales is not None and settings.locales and locales[:1] != settings.locales[:1]:
        raise InvalidOperation(
            f"the first locale is the texts' original language, {settings.locales[0]!r}: add languages after it",
            field="locales",
        )
    for name, value in changes.items():
        setattr(settings, name, amounts_as_strings(value) if name in BOUND_SETTINGS else value)
    touch(session)
    session.refresh(settings)  # answer the stored values (2 → 2.0000), as a later read would
    return settings
