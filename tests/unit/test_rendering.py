"""Templates: the shipped defaults render with realistic contexts; the sandbox and its rules hold."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from notifications.rendering import Formats, RenderFailed, TemplateParts, read_default_templates, render, validate

UNSUBSCRIBE = "https://club.maison-lumiere.example/u/9f2c?channel=email&sig=ab12"
PIXEL = "https://club.maison-lumiere.example/o/j12.welcome.email.gif"

#: What every message has (the engine always provides it).
BASE: dict[str, Any] = {
    "member": {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille.durand@example.com",
        "tier": "silver",
        "tier_name": "Silver",
        "card_number": "2900012345678",
    },
    "points": {"balance": 460},
    "brand": {"name": "Maison Lumière", "currency": "EUR"},
    "links": {
        "account": "https://club.maison-lumiere.example/c/1?to=account",
        "unsubscribe": UNSUBSCRIBE,
        "newsletter": "https://club.maison-lumiere.example/c/2?to=newsletter",
        "program": "https://club.maison-lumiere.example/c/3?to=program",
    },
    "open_pixel": PIXEL,
}

OFFER = {
    "code": "VIP-7QX2",
    "amount": Decimal("10.00"),
    "currency": "EUR",
    "description": "Valid on everything but gift cards.",
    "valid_from": date(2026, 11, 29),
    "valid_until": date(2026, 12, 6),
}
NEAR = {"balance": 460, "threshold": 500, "missing": 40}

#: What each scenario adds to the base context, and what its message must say.
SCENARIOS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "near_threshold_reminder": ({"points": NEAR}, ["40 more", "500 points", "460 points"]),
    "near_threshold_vip_offer": ({"points": NEAR, "offer": OFFER}, ["VIP", "€10.00 off", "VIP-7QX2", "6 December 2026"]),
    "near_threshold_vip_thanks": ({"member": {**BASE["member"], "tier_name": "VIP"}}, ["VIP", "card is on its way"]),
    "welcome": (
        {
            "purchase": {
                "total": Decimal("84.90"),
                "store": "Paris Marais",
                "products": [
                    {"name": "Linen shirt", "category": "shirts", "quantity": 1},
                    {"name": "Fig candle", "category": "home", "quantity": 2},
                ],
            }
        },
        ["Linen shirt", "2 ", "Fig candle", "Paris Marais", "newsletter", "2900012345678"],
    ),
    "welcome_selection": (
        {
            "selection": [
                {"name": "Cashmere scarf", "url": "https://shop.example/p/scarf"},
                {"name": "Leather tote", "url": "https://shop.example/p/tote"},
            ]
        },
        ["Cashmere scarf", "https://shop.example/p/scarf", "Leather tote"],
    ),
    "tier_upgrade": (
        {"tier": {"from_name": "Silver", "to_name": "Gold", "benefits": ["Points x1.5", "Free shipping"]}},
        ["Gold", "Silver", "Points x1.5", "Free shipping"],
    ),
    "reactivation_offer": ({"offer": OFFER}, ["miss you", "€10.00", "VIP-7QX2", "6 December 2026"]),
    "reactivation_bigger_offer": (
        {"offer": {**OFFER, "amount": Decimal(20), "code": "BACK-20"}},
        ["best offer", "€20.00", "BACK-20"],
    ),
    "first_purchase_nudge": ({"offer": OFFER}, ["first purchase", "€10.00", "VIP-7QX2"]),
    "birthday": (
        {
            "offer": {**OFFER, "valid_until": date(2026, 11, 29), "code": "BDAY-15", "amount": Decimal(15)},
            "date": {"day": date(2026, 11, 29)},
        },
        ["birthday", "€15.00", "BDAY-15", "29 November 2026"],
    ),
    "membership_anniversary": (
        {"offer": OFFER, "date": {"day": date(2026, 12, 15), "years": 2}},
        ["2 years", "€10.00 off", "VIP-7QX2", "15 December 2026"],
    ),
    "points_expiring": (
        {"points": {"balance": 460, "expiring": 120, "expires_on": date(2026, 12, 31)}},
        ["120", "31 December 2026", "460 points"],
    ),
    "badge_awarded": (
        {"badge": {"name": "Early Bird", "level": 2, "description": "Five visits before 10 a.m."}},
        ["Early Bird", "level 2", "Five visits before 10 a.m."],
    ),
}

FULL = {
    **BASE,
    "points": {**NEAR, "expiring": 120, "expires_on": date(2026, 12, 31)},
    "reward": {"name": "a Fig candle", "description": "hand-poured in Grasse"},
    "offer": OFFER,
    **{name: value for extra, _ in SCENARIOS.values() for name, value in extra.items() if name != "points"},
}

#: The shipped templates in English, figures written the British way for these tests.
DEFAULTS = {key: by_locale["en"] for key, by_locale in read_default_templates().items()}
BRITISH = Formats(locale="en-GB", timezone="Europe/Paris")


def test_the_defaults_hold_a_template_for_every_scenario() -> None:
    assert set(DEFAULTS) == set(SCENARIOS)


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_each_default_template_renders_with_only_what_its_scenario_provides(key: str) -> None:
    extra, says = SCENARIOS[key]
    rendered = render(DEFAULTS[key], {**BASE, **extra}, BRITISH)

    assert "Camille" in rendered.subject + rendered.text
    assert rendered.html is not None
    for phrase in says:
        assert phrase in rendered.text, phrase
        assert phrase in rendered.html, phrase
    assert "\n" not in rendered.subject and "\n" not in rendered.short
    assert len(rendered.short) <= 200
    assert rendered.text.endswith(f"Unsubscribe: {UNSUBSCRIBE}")


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_each_default_template_renders_with_every_variable(key: str) -> None:
    rendered = render(DEFAULTS[key], FULL, BRITISH)

    assert rendered.html is not None
    assert rendered.html.startswith("<!DOCTYPE html>")
    links = re.findall(r'href="([^"]+)"', rendered.html)
    assert links[-1] == UNSUBSCRIBE.replace("&", "&amp;")
    assert f'<img src="{PIXEL}" width="1" height="1"' in rendered.html


def test_the_reminder_names_the_reward_only_when_there_is_one() -> None:
    template = DEFAULTS["near_threshold_reminder"]

    with_reward = render(template, {**BASE, "points": NEAR, "reward": {"name": "a Fig candle"}}, BRITISH)
    without = render(template, {**BASE, "points": NEAR}, BRITISH)

    assert with_reward.subject == "Camille, just 40 points to go for a Fig candle"
    assert without.subject == "Camille, just 40 points to go"
    assert "to your next reward" in without.short


def test_a_birthday_offer_over_several_days_gives_both_dates() -> None:
    rendered = render(DEFAULTS["birthday"], {**BASE, "offer": OFFER, "date": {"day": date(2026, 11, 29)}}, BRITISH)

    assert "from 29 November 2026 to 6 December 2026" in rendered.text


def test_a_missing_variable_fails_the_render_and_names_the_part() -> None:
    parts = TemplateParts(key="k", subject="Hi", text="You have {{ points.missing }} to go", html="", short="")

    with pytest.raises(RenderFailed) as failure:
        render(parts, BASE)

    assert failure.value.part == "text"
    assert "missing" in failure.value.reason


def test_html_is_escaped_and_text_is_kept_as_written() -> None:
    parts = TemplateParts(
        key="k", subject="{{ name }}", text="{{ name }}", html="<p>{{ name }}</p>", short="{{ name }}"
    )

    rendered = render(parts, {**BASE, "name": "Bob & <Alice>"})

    assert rendered.text == rendered.subject == rendered.short == "Bob & <Alice>"
    assert rendered.html is not None and "<p>Bob &amp; &lt;Alice&gt;</p>" in rendered.html


def test_the_sandbox_refuses_to_reach_python_internals() -> None:
    parts = TemplateParts(key="k", subject="{{ member.__class__.__mro__ }}", text="", html="", short="")

    with pytest.raises(RenderFailed) as failure:
        render(parts, BASE)

    assert failure.value.part == "subject"


def test_a_template_without_html_gives_a_text_only_email() -> None:
    parts = TemplateParts(key="k", subject="Hi", text="Hello", html="", short="Hello")

    assert render(parts, BASE).html is None


def test_no_open_pixel_without_its_url() -> None:
    rendered = render(DEFAULTS["welcome"], {**FULL, "open_pixel": ""}, BRITISH)

    assert rendered.html is not None and "<img" not in rendered.html


def test_validate_names_each_part_that_does_not_compile() -> None:
    broken = TemplateParts(
        key="k", subject="{{ member.first_name", text="fine", html="<p>{% if x %}</p>", short="{{ x | nosuchfilter }}"
    )

    errors = dict(validate(broken))

    assert set(errors) == {"subject", "html", "short"}
    assert errors["html"].startswith("line 1:")


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_validate_accepts_every_default_template(key: str) -> None:
    assert validate(DEFAULTS[key]) == []


@pytest.mark.parametrize(
    ("locale", "source", "expected"),
    [
        ("en", "{{ 10 | money('EUR') }}", "€10.00"),
        ("en", "{{ '12.5' | money('GBP') }}", "£12.50"),
        ("en", "{{ 1250 | money }}", "€1,250.00"),
        ("en", "{{ 1250 | number }}", "1,250"),
        ("en", "{{ day | date }}", "November 29, 2026"),
        ("en-GB", "{{ day | date }}", "29 November 2026"),
        ("fr", "{{ 20 | money }}", "20,00\xa0€"),
        ("fr", "{{ 1250 | number }}", "1\u202f250"),
        ("fr", "{{ '2026-12-15' | date }}", "15 décembre 2026"),
        ("fr-CA", "{{ 20 | money('CAD') }}", "20,00\xa0$"),
        # 23:00 UTC is already the 7th in Paris.
        ("fr", "{{ '2026-12-06T23:00:00+00:00' | date }}", "7 décembre 2026"),
        ("de", "{{ 7 | money('SEK') }}", "7,00\xa0SEK"),
    ],
)
def test_amounts_and_dates_are_written_for_the_readers_locale_and_time_zone(locale: str, source: str, expected: str) -> None:
    parts = TemplateParts(key="k", subject=source, text="", html="", short="")

    rendered = render(parts, {**BASE, "day": date(2026, 11, 29)}, Formats(locale=locale, timezone="Europe/Paris"))

    assert rendered.subject == expected
