"""Message templates: four parts rendered in a sandbox, one per way a message is shown.

Admins edit templates through the API, so they run in Jinja2's :class:`SandboxedEnvironment`. A
variable the template uses but the context lacks is an error at render time; ``{% if reward %}`` is
how a template guards a variable its scenario may leave out. The HTML part is autoescaped and placed
in the email frame (``default_templates/_frame/``: the brand, the unsubscribe link, the open
pixel; its words in the reader's language: ``_frame/<language>.json``), so no edited template can
lose the unsubscribe link; the other parts are plain text.

Which part each channel uses: email = subject + text + html; SMS = short; push = subject (the title) +
short; in-app = subject + text.

Figures are written for the reader with Babel: ``{{ offer.amount | money }}`` (``20,00 €`` in French,
``€20.00`` in English), ``{{ points.balance | number }}``, ``{{ offer.valid_until | date }}``
(``15 décembre 2026``; an instant is first moved to the member's time zone).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import StrictUndefined, Template, TemplateError, meta, nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from loyalty.i18n import language

#: The parts of a template, in the order the admin API lists them.
PARTS = ("subject", "text", "html", "short")
#: Part → file name in ``default_templates/<key>/``.
PART_FILES = {"subject": "subject.txt", "text": "text.txt", "html": "html.html", "short": "short.txt"}
#: Parts that are one line: a subject header, an SMS, a push body.
ONE_LINE_PARTS = ("subject", "short")
#: Runs of white space a one-line part collapses; the no-break spaces of ``20,00 €`` stay.
_BREAKS = re.compile(r"[^\S\u00a0\u202f]+")

@dataclass(frozen=True, kw_only=True)
class TemplateParts:
    """The editable source of one template; an empty ``html`` means a text-only email."""

    key: str
    subject: str
    text: str
    html: str
    short: str


@dataclass(frozen=True, kw_only=True)
class Rendered:
    """A template rendered for one member: ``html`` is the complete email document, or None."""

    subject: str
    text: str
    html: str | None
    short: str


class RenderFailed(Exception):
    """A template could not be rendered with the context given (a missing variable, a forbidden access)."""

    def __init__(self, key: str, part: str, reason: str) -> None:
        super().__init__(f"template {key!r}, part {part!r}: {reason}")
        self.key = key
        self.part = part
        self.reason = reason


class GuardedUndefined(StrictUndefined):
    """A missing variable: false in a test (``{% if reward %}``), an error anywhere else."""

    def __bool__(self) -> bool:  # type: ignore[override]  # StrictUndefined makes it raise
        return False


@dataclass(frozen=True)
class Formats:
    """How figures are written for one reader: their locale (Babel's formats) and their time zone."""

    locale: str = "en"
    timezone: str = "UTC"

    def money(self, value: Any, currency: str) -> str:
        """``20`` in EUR → ``20,00 €`` in French, ``€20.00`` in English."""
        return format_currency(Decimal(str(value)), currency.upper(), locale=self._babel)

    def number(self, value: Any) -> str:
        """``1250`` → ``1 250`` in French, ``1,250`` in English."""
        return format_decimal(Decimal(str(value)), locale=self._babel)

    def date(self, value: date | datetime | str) -> str:
        """A day written out (``15 décembre 2026``, ``December 15, 2026``); an instant is first moved
        to the reader's time zone; other text is kept as given."""
        day: date | datetime
        if isinstance(value, str):
            try:
                day = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
            except ValueError:
                return value
        else:
            day = value
        if isinstance(day, datetime):
            day = (day if day.tzinfo else day.replace(tzinfo=UTC)).astimezone(ZoneInfo(self.timezone)).date()
        return format_date(day, format="long", locale=self._babel)

    @property
    def _babel(self) -> Locale:
        return _babel_locale(self.locale)


@functools.lru_cache(maxsize=64)
def _babel_locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(language(tag))


def _formats(context: Context) -> Formats:
    formats = context.get("formats")
    return formats if isinstance(formats, Formats) else Formats()


@pass_context
def _money(context: Context, value: Any, currency: Any = None) -> str:
    """The ``money`` filter: the currency given, else the brand's."""
    brand = context.get("brand")
    fallback = brand.get("currency") if isinstance(brand, Mapping) else None
    return _formats(context).money(value, str(currency or fallback or "EUR"))


@pass_context
def _number(context: Context, value: Any) -> str:
    return _formats(context).number(value)


@pass_context
def _date(context: Context, value: date | datetime | str) -> str:
    return _formats(context).date(value)


def _environment(*, autoescape: bool) -> SandboxedEnvironment:
    environment = SandboxedEnvironment(
        undefined=GuardedUndefined, autoescape=autoescape, trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["money"] = _money
    environment.filters["number"] = _number
    environment.filters["date"] = _date
    return environment


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


@functools.lru_cache(maxsize=512)
def _compile(source: str, *, is_html: bool) -> Template:
    return (_HTML if is_html else _TEXT).from_string(source)


@functools.lru_cache(maxsize=1)
def _frame() -> Template:
    source = resources.files("notifications").joinpath("default_templates", "_frame", "frame.html").read_text("utf-8")
    return _compile(source, is_html=True)


@functools.lru_cache(maxsize=16)
def _frame_words(lang: str) -> dict[str, str]:
    """The frame's words in the language ``lang`` (``_frame/<lang>.json``), else in English."""
    folder = resources.files("notifications").joinpath("default_templates", "_frame")
    source = folder.joinpath(f"{lang}.json")
    words: dict[str, str] = json.loads((source if source.is_file() else folder.joinpath("en.json")).read_text("utf-8"))
    return words


def validate(parts: TemplateParts) -> list[tuple[str, str]]:
    """Compile every part without rendering it: ``[(part, error), …]``, empty when all compile."""
    errors = []
    for part in PARTS:
        try:
            _compile(getattr(parts, part), is_html=part == "html")
        except TemplateError as error:
            line = getattr(error, "lineno", None)
            errors.append((part, f"line {line}: {error.message}" if line else str(error.message)))
    return errors


def render(parts: TemplateParts, context: Mapping[str, Any], formats: Formats = Formats()) -> Rendered:
    """Render every part of ``parts`` for one member, figures written in ``formats``; raises
    :class:`RenderFailed` naming the part."""
    context = {**context, "formats": formats}
    values = {part: _render_part(parts, part, context) for part in PARTS}
    body = values["html"]
    return Rendered(
        subject=values["subject"],
        text=values["text"],
        html=(
            _run(parts.key, "html", _frame(), {**context, "body": Markup(body), "words": _frame_words(language(formats.locale))})
            if body
            else None
        ),
        short=values["short"],
    )


def _render_part(parts: TemplateParts, part: str, context: Mapping[str, Any]) -> str:
    try:
        template = _compile(getattr(parts, part), is_html=part == "html")
    except TemplateError as error:
        raise RenderFailed(parts.key, part, str(error.message)) from error
    rendered = _run(parts.key, part, template, context)
    return _BREAKS.sub(" ", rendered).strip() if part in ONE_LINE_PARTS else rendered.strip()


def _run(key: str, part: str, template: Template, context: Mapping[str, Any]) -> str:
    try:
        return template.render(context)
    except Exception as error:  # templates are data: whatever they do wrong is theirs, not a crash
        raise RenderFailed(key, part, str(error)) from error


def placeholders(source: str) -> frozenset[str]:
    """The context variables a part reads, dotted (``offer.code``, ``member.first_name``): a
    translation must read the same ones as its original. Names the template sets itself (a loop's
    ``item``) are not placeholders."""
    tree = _TEXT.parse(source)
    free = meta.find_undeclared_variables(tree)
    found: set[str] = set()
    inner: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Name)):
        if id(node) in inner:
            continue
        path = []
        current: nodes.Node = node
        while isinstance(current, nodes.Getattr):
            path.append(current.attr)
            current = current.node
            inner.add(id(current))
        if isinstance(current, nodes.Name) and current.name in free:
            found.add(".".join([current.name, *reversed(path)]))
    return frozenset(found)


def read_default_templates() -> dict[str, dict[str, TemplateParts]]:
    """The templates shipped in ``notifications/default_templates/<key>/<locale>/``: key → locale → parts."""
    root = resources.files("notifications").joinpath("default_templates")
    templates: dict[str, dict[str, TemplateParts]] = {}
    for folder in sorted(root.iterdir(), key=lambda entry: entry.name):
        if not folder.is_dir() or folder.name.startswith("_"):
            continue
        templates[folder.name] = {
            locale.name: TemplateParts(
                key=folder.name, **{part: locale.joinpath(name).read_text("utf-8") for part, name in PART_FILES.items()}
            )
            for locale in sorted(folder.iterdir(), key=lambda entry: entry.name)
            if locale.is_dir()
        }
    return templates
