"""Loading a whole program: the core, the rewards, then the message templates, the pressure rules
and the scenarios."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.pressure.models import PressureSettings
from notifications.pressure.operations import save_pressure_settings
from loyalty.program.operations import get_settings
from notifications.rendering import PARTS, read_default_templates
from notifications.scenarios.models import MessageTemplate, Scenario
from notifications.scenarios.operations import save_scenarios
from rewards.program import load_program as load_rewards_program


def load_program(session: Session, data: dict[str, Any], *, now: datetime) -> bool:
    """Load every part of ``data`` whose table is still empty; returns whether anything was loaded.

    The message templates come from the files shipped in ``notifications/default_templates``: in the
    program's original language, translated in the others shipped.
    """
    loaded = load_rewards_program(session, data)
    if session.scalar(select(MessageTemplate.id).limit(1)) is None:
        original = get_settings(session).locales[0]
        for key, by_locale in read_default_templates().items():
            # A program written in a language the templates are not shipped in starts from English.
            parts = by_locale.get(original) or by_locale["en"]
            session.add(
                MessageTemplate(
                    key=key,
                    **{name: getattr(parts, name) for name in PARTS},
                    translations={
                        locale: {name: getattr(text, name) for name in PARTS}
                        for locale, text in by_locale.items()
                        if text is not parts
                    },
                    updated_at=now,
                )
            )
        session.flush()
        loaded = True
    if session.get(PressureSettings, 1) is None:
        save_pressure_settings(session, dict(data.get("marketing", {})), now=now)
        loaded = True
    if data.get("scenarios") and session.scalar(select(Scenario.id).limit(1)) is None:
        save_scenarios(session, [dict(s) for s in data["scenarios"]], now=now)
        loaded = True
    return loaded
