"""Languages: the fallback chain of a locale, and picking the text of a translatable thing in it.

Translatable things (templates, tiers, rewards, badges, challenges, quizzes, games) keep their text in
the program's original language (the first locale it declares) in their own columns, and the other
languages in a ``translations`` column: ``{"en": {"name": "…", "description": "…"}}``. A reader in
``fr-CA`` gets ``fr-CA``, else ``fr``, else the program's default locale, else the original.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import Mapped, mapped_column

#: What a ``translations`` column holds: locale → field → text (or a list of texts, as tier benefits).
Translations = Mapping[str, Mapping[str, Any]]


def normalize(tag: str) -> str:
    """``fr_fr`` or ``FR-fr`` → ``fr-FR``."""
    language, _, region = tag.replace("_", "-").partition("-")
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


def language(tag: str) -> str:
    """``fr-CA`` → ``fr``."""
    return normalize(tag).split("-")[0]


@dataclass(frozen=True)
class Languages:
    """The locales a reader accepts, best first, ending with the program's original language."""

    chain: tuple[str, ...]
    #: The program's original language: the text of the columns themselves.
    original: str

    @classmethod
    def of(cls, requested: Iterable[str], *, default_locale: str, original: str) -> Languages:
        """``requested`` (best first), each followed by its language, then the program's default
        locale and its language, then the original language."""
        chain: list[str] = []
        for tag in [*requested, default_locale, original]:
            for candidate in (normalize(tag), language(tag)):
                if candidate not in chain:
                    chain.append(candidate)
        return cls(chain=tuple(chain), original=normalize(original))

    def pick(self, available: Iterable[str]) -> str:
        """The first locale of the chain among ``available`` (the original is always available)."""
        present = {normalize(tag) for tag in available} | {self.original}
        return next((tag for tag in self.chain if tag in present), self.original)

    def localized(self, captured: Mapping[str, Any]) -> dict[str, Any]:
        """A captured figure (``{"name": …, "translations": {"en": {"name": …}}}``) in the reader's
        language, without its translations."""
        translations = captured.get("translations")
        return {key: self.text(value, translations, key) for key, value in captured.items() if key != "translations"}

    def text(self, base: Any, translations: Translations | None, field: str) -> Any:
        """``field`` in the best locale that has it; ``base`` (the original's) when none has."""
        for tag in self.chain:
            if tag == self.original:
                return base
            value = (translations or {}).get(tag, {}).get(field)
            if value:
                return value
        return base


class Translatable:
    """A table whose texts may be translated (a declarative mixin)."""

    #: Locale → field → text, for the languages other than the program's original one.
    translations: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict)
