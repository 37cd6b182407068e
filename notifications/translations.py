"""Which texts of the program are not translated yet: the admin API and the back office list them.

A text is missing in a language the program declares (after its original one, the first) when the
original has it and its ``translations`` do not: a tier's name or benefits, a reward's, badge's,
challenge's or game's name or description, a quiz's title, description or questions, or a whole message
template (whose translations are complete or refused, see ``notifications.scenarios.templates``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.i18n import Translatable
from loyalty.program.operations import get_settings
from loyalty.tiers.models import Tier
from notifications.rendering import PARTS
from notifications.scenarios.models import MessageTemplate
from rewards.badges.models import Badge
from rewards.catalog.models import Reward
from rewards.challenges.models import Challenge
from rewards.games.models import Game
from rewards.quizzes.models import Quiz

#: Each kind of translatable thing, its table, its key column and its texts.
TEXTS: tuple[tuple[str, type[Translatable], tuple[str, ...]], ...] = (
    ("template", MessageTemplate, PARTS),
    ("tier", Tier, ("name", "benefits")),
    ("reward", Reward, ("name", "description")),
    ("badge", Badge, ("name", "description")),
    ("challenge", Challenge, ("name", "description")),
    ("quiz", Quiz, ("title", "description")),
    ("game", Game, ("name", "description")),
)


@dataclass(frozen=True)
class MissingTranslation:
    """The ``fields`` of the ``kind`` thing ``key`` have no text in ``locale``."""

    kind: str
    key: str
    locale: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class TranslationReport:
    #: The program's languages, the original first.
    locales: list[str]
    missing: list[MissingTranslation]


def missing_translations(session: Session) -> TranslationReport:
    """Every text the program has in its original language and not in one of the others it declares,
    by kind, key and locale."""
    locales = list(get_settings(session).locales)
    return TranslationReport(locales=locales, missing=list(_missing(session, locales[1:])))


def _missing(session: Session, languages: list[str]) -> Iterator[MissingTranslation]:
    for kind, model, texts in TEXTS:
        key_column = getattr(model, "key" if model is MessageTemplate else "code")
        for thing in session.scalars(select(model).order_by(key_column)):
            for locale in languages:
                translated = thing.translations.get(locale, {})
                absent = tuple(name for name in texts if getattr(thing, name) and not translated.get(name))
                if isinstance(thing, Quiz) and any(not q.translations.get(locale, {}).get("text") for q in thing.questions):
                    absent += ("questions",)
                if absent:
                    yield MissingTranslation(kind=kind, key=getattr(thing, key_column.key), locale=locale, fields=absent)
