"""Message templates: four parts rendered in a sandbox, one per way a message is shown.

Admins edit templates through the API, so they run in Jinja2's :class:`SandboxedEnvironment`. A
variable the template uses but the context lacks is an error at render time; ``{% if reward %}`` is
how a template guards a variable its scenario may leave out. The HTML part is autoescaped and placed
in the email frame (``default_templates/_frame.html``: the brand, the unsubscribe link, the open
pixel), so no edited template can lose the unsubscribe link; the other parts are plain text.

Which part each channel uses: email = subject + text + html; SMS = short; push = subject (the title) +
short; in-app = subject + text.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

#: The parts of a template, in the order the admin API lists them.
PARTS = ("subject", "text", "html", "short")
#: Part → file name in ``default_templates/<key>/``.
PART_FILES = {"subject": "subject.txt", "text": "text.txt", "html": "html.html", "short": "short.txt"}
#: Parts that are one line: a subject header, an SMS, a push body.
ONE_LINE_PARTS = ("subject", "short")

_CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF "}
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


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


def money(value: Any, currency: Any = None) -> str:
    """``12.5`` in EUR → ``€12.50``; whole amounts lose their cents (``€10``)."""
    amount = Decimal(str(value))
    figure = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    code = str(currency) if currency else ""
    symbol = _CURRENCY_SYMBOLS.get(code.upper())
    if symbol is not None:
        return f"{symbol}{figure}"
    return f"{figure} {code}".strip()


@pass_context
def _money(context: Context, value: Any, currency: Any = None) -> str:
    """The ``money`` filter: the currency given, else the brand's."""
    brand = context.get("brand")
    fallback = brand.get("currency") if isinstance(brand, Mapping) else None
    return money(value, currency or fallback)


def long_date(value: date | datetime | str) -> str:
    """``2026-11-29`` → ``29 November 2026``, whatever the locale; other text is kept as given."""
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
    else:
        day = value
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _environment(*, autoescape: bool) -> SandboxedEnvironment:
    environment = SandboxedEnvironment(
        undefined=GuardedUndefined, autoescape=autoescape, trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["money"] = _money
    environment.filters["date"] = long_date
    return environment


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


@functools.lru_cache(maxsize=512)
def _compile(source: str, *, is_html: bool) -> Template:
    return (_HTML if is_html else _TEXT).from_string(source)


@functools.lru_cache(maxsize=1)
def _frame() -> Template:
    source = resources.files("notifications").joinpath("default_templates", "_frame.html").read_text("utf-8")
    return _compile(source, is_html=True)


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


def render(parts: TemplateParts, context: Mapping[str, Any]) -> Rendered:
    """Render every part of ``parts`` for one member; raises :class:`RenderFailed` naming the part."""
    values = {part: _render_part(parts, part, context) for part in PARTS}
    body = values["html"]
    return Rendered(
        subject=values["subject"],
        text=values["text"],
        html=_run(parts.key, "html", _frame(), {**context, "body": Markup(body)}) if body else None,
        short=values["short"],
    )


def _render_part(parts: TemplateParts, part: str, context: Mapping[str, Any]) -> str:
    try:
        template = _compile(getattr(parts, part), is_html=part == "html")
    except TemplateError as error:
        raise RenderFailed(parts.key, part, str(error.message)) from error
    rendered = _run(parts.key, part, template, context)
    return " ".join(rendered.split()) if part in ONE_LINE_PARTS else rendered.strip()


def _run(key: str, part: str, template: Template, context: Mapping[str, Any]) -> str:
    try:
        return template.render(context)
    except Exception as error:  # templates are data: whatever they do wrong is theirs, not a crash
        raise RenderFailed(key, part, str(error)) from error


def read_default_templates() -> dict[str, TemplateParts]:
    """The templates shipped in ``notifications/default_templates/<key>/``, by key."""
    root = resources.files("notifications").joinpath("default_templates")
    templates = {}
    for folder in sorted(root.iterdir(), key=lambda entry: entry.name):
        if not folder.is_dir():
            continue
        sources = {part: folder.joinpath(name).read_text("utf-8") for part, name in PART_FILES.items()}
        templates[folder.name] = TemplateParts(key=folder.name, **sources)
    return templates
