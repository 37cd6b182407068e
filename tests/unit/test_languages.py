"""The fallback chain of a reader's locale, and the text picked in it."""

from __future__ import annotations

import pytest

from loyalty.i18n import Languages

#: The default program: French originals, English translations, French members by default.
PROGRAM = {"default_locale": "fr-FR", "original": "fr"}
TRANSLATIONS = {"en": {"name": "Free shipping"}, "fr-CA": {"name": "Livraison gratuite"}}


@pytest.mark.parametrize(
    ("requested", "chain"),
    [
        (["fr-CA"], ("fr-CA", "fr", "fr-FR")),
        (["en-GB"], ("en-GB", "en", "fr-FR", "fr")),
        (["de_de"], ("de-DE", "de", "fr-FR", "fr")),
        ([], ("fr-FR", "fr")),
    ],
)
def test_a_locale_falls_back_to_its_language_then_the_programs_default_then_the_original(
    requested: list[str], chain: tuple[str, ...]
) -> None:
    assert Languages.of(requested, **PROGRAM).chain == chain


@pytest.mark.parametrize(
    ("requested", "name", "locale"),
    [
        (["en-US"], "Free shipping", "en"),
        (["fr-CA"], "Livraison gratuite", "fr-CA"),
        (["fr-BE"], "Livraison offerte", "fr"),
        (["de"], "Livraison offerte", "fr"),
    ],
)
def test_the_text_is_the_best_translation_else_the_original(requested: list[str], name: str, locale: str) -> None:
    languages = Languages.of(requested, **PROGRAM)

    assert languages.text("Livraison offerte", TRANSLATIONS, "name") == name
    assert languages.pick(TRANSLATIONS) == locale


def test_an_empty_translation_is_no_translation() -> None:
    languages = Languages.of(["en"], **PROGRAM)

    assert languages.text("Membre", {"en": {"name": ""}}, "name") == "Membre"


def test_a_captured_figure_is_given_in_the_readers_language_without_its_translations() -> None:
    badge = {"name": "Premier avis", "level": 1, "translations": {"en": {"name": "First review"}}}

    assert Languages.of(["en"], **PROGRAM).localized(badge) == {"name": "First review", "level": 1}
    assert Languages.of(["fr"], **PROGRAM).localized(badge) == {"name": "Premier avis", "level": 1}
