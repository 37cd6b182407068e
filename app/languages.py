"""The caller's language: which translation an answer is written in, stated in ``Content-Language``.

The ``Accept-Language`` header comes first, then, for a member's own call, the member's locale, then
the program's default locale (:class:`loyalty.i18n.Languages`). Answers whose schemas hold translated
texts (``app.schemas.common.TranslatedString``) carry the locale used in ``Content-Language``.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from app import db
from app.auth.access import current_principal
from loyalty.i18n import Languages, normalize
from loyalty.identifiers import LOCALE
from loyalty.members.models import Member
from loyalty.program.operations import get_settings

#: How the OpenAPI document describes the header on the routes that answer in the caller's language.
CONTENT_LANGUAGE = {
    "Content-Language": {
        "description": "The locale the names and descriptions are written in: the first of Accept-Language, "
        "then the member's own locale on a member's call, then the program's default, that the program has",
        "schema": {"type": "string", "example": "fr"},
    }
}


def init_app(app: Flask) -> None:
    app.after_request(_state_language)


def languages() -> Languages:
    """The caller's languages for this request (computed once)."""
    if "languages" not in g:
        session = db.session()
        settings = get_settings(session)
        requested = [normalize(tag) for tag, _quality in request.accept_languages if tag != "*"]
        member_id = _calling_member()
        member = session.get(Member, member_id) if member_id is not None else None
        if member is not None:
            requested.append(member.locale)
        chosen = Languages.of(
            [tag for tag in requested if LOCALE.matches(tag)],
            default_locale=settings.default_locale,
            original=settings.locales[0],
        )
        g.languages = chosen
        g.content_language = chosen.pick(settings.locales)
    languages_: Languages = g.languages
    return languages_


def _calling_member() -> int | None:
    try:
        return current_principal().member_id
    except (KeyError, RuntimeError):  # no token verified: an anonymous call
        return None


def _state_language(response: Response) -> Response:
    if "content_language" in g:
        response.headers["Content-Language"] = g.content_language
        response.vary.add("Accept-Language")
    return response
