"""The texts of the program not translated yet, language by language, each linked to its form."""

from __future__ import annotations

from itertools import groupby

from flask import render_template, url_for

from app import db
from app.backoffice import bp
from app.backoffice.security import requires
from notifications.translations import MissingTranslation, missing_translations

#: Where each kind of text is edited: the program page of its collection (``None``: a setting, edited whole).
PAGES: dict[str, tuple[str, bool]] = {
    "template": ("templates", True),
    "tier": ("tiers", False),
    "reward": ("rewards", True),
    "badge": ("badges", True),
    "challenge": ("challenges", True),
    "quiz": ("quizzes", True),
    "game": ("games", True),
}


@bp.route("/translations")
@requires("program.write")
def translations() -> str:
    """Per language the program declares (its original one apart), the texts it lacks."""
    report = missing_translations(db.session())
    by_locale = {locale: list(rows) for locale, rows in groupby(sorted(report.missing, key=lambda m: m.locale), key=lambda m: m.locale)}
    return render_template(
        "backoffice/translations.html",
        original=report.locales[0] if report.locales else None,
        languages=[(locale, by_locale.get(locale, [])) for locale in report.locales[1:]],
        link=_link,
    )


def _link(missing: MissingTranslation) -> str:
    """The form where ``missing`` is translated."""
    slug, one_by_one = PAGES[missing.kind]
    if one_by_one:
        return url_for("backoffice.show_item", slug=slug, key=missing.key)
    return url_for("backoffice.program_page", slug=slug)
