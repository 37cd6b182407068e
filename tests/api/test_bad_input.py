"""Bad input, route by route: each is answered with a 4xx problem naming the field, and changes nothing.

Every case starts from a valid body (``test_the_bodies_the_cases_start_from_are_accepted`` proves
it) and breaks one thing. After each answer the whole database is compared with what it held
before. Routes whose only input is the bearer token (``auth/refresh``, ``auth/logout``, ``me``,
``me/status``, the ``GET`` of the configuration) are covered by ``test_authorization.py``. The module
runs on the shipped default program: its rewards, tiers and engagement actions are what the cases name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from app.auth.clients import create_client
from app.models import Base
from loyalty.db import session_scope
from tests.api.scenario_engine import bilingual_note, message_world
from tests.builders import member_body, purchase_body
from tests.conftest import DEFAULT_PROGRAM
from tests.snapshots import Reused

Headers = dict[str, str]
MISSING: Any = object()
BEYOND_BIGINT = 2**63
UNKNOWN_ID = 999_999


@dataclass(frozen=True)
class World:
    """Callers and data: a member with a purchase at S1 and vouchers, another member at the VIP tier
    with a card on its way, an anonymous receipt."""

    callers: dict[str, Headers]
    #: What the paths and bodies name: member_id, purchase_id (the member's, at S1), rule_id, …
    values: dict[str, Any]


@dataclass(frozen=True)
class Raw:
    """A body sent as it is, labelled JSON."""

    text: str


Body = dict[str, Any] | list[Any] | Raw | Callable[[World], Any] | None


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    #: The path, with ``{placeholders}`` filled from :attr:`World.values`.
    path: str
    body: Body = None
    status: int = 422
    #: The field ``invalid_params`` must name (every 422 names one).
    field: str | None = None
    caller: str = "admin"
    headers: Headers = dataclasses.field(default_factory=dict)


def shaped(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without the keys set to :data:`MISSING`."""
    return {key: value for key, value in body.items() if value is not MISSING}


def new_member(**overrides: Any) -> Body:
    return lambda world: shaped(member_body(**overrides))


def purchase(**overrides: Any) -> Body:
    """A 45.90 receipt at S1 for the world's member (its points would show in the ledger)."""
    return lambda world: shaped(purchase_body(**{"member_id": world.values["member_id"], **overrides}))


def line(**overrides: Any) -> Body:
    """A purchase whose one line is the shoe line with ``overrides``."""
    shoe = {"sku": "SHOE-42", "category": "shoes", "quantity": 1, "unit_price": "45.90"}
    return purchase(lines=[shaped({**shoe, **overrides})])


def claim(receipt: str = "anonymous_receipt", **overrides: Any) -> Body:
    """A claim of the world's anonymous receipt, or of the receipt named by the world value ``receipt``."""
    return lambda world: shaped({"store_code": "S1", "receipt_no": world.values[receipt], **overrides})


def adjustment(**overrides: Any) -> dict[str, Any]:
    return shaped({"points": 10, "reason": "goodwill gesture", **overrides})


def refund(**overrides: Any) -> dict[str, Any]:
    return shaped({"return_no": "RET-1", "amount": "5.00", **overrides})


def returned_lines(*lines: tuple[str, int]) -> dict[str, Any]:
    return refund(amount=MISSING, lines=[{"sku": sku, "quantity": quantity} for sku, quantity in lines])


def promotion(**overrides: Any) -> dict[str, Any]:
    return shaped(
        {
            "kind": "promotion",
            "name": "Double weekend",
            "multiplier": "2",
            "starts_at": "2026-11-28T00:00:00+01:00",
            "ends_at": "2026-11-30T00:00:00+01:00",
            **overrides,
        }
    )


def engagement(member: str = "member_id", **overrides: Any) -> Body:
    """The world's member (or the member named by the world value ``member``) posted a review half an
    hour ago."""
    return lambda world: shaped(
        {
            "member_id": world.values[member],
            "action": "review_posted",
            "ref": "review-1",
            "occurred_at": "2026-11-22T09:30:00+00:00",
            **overrides,
        }
    )


def reward(**overrides: Any) -> dict[str, Any]:
    return shaped(
        {
            "code": "VOUCHER50",
            "name": "50 € voucher",
            "kind": "fixed_voucher",
            "amount": "50.00",
            "cost_points": 500,
            "validity_days": 90,
            **overrides,
        }
    )


def thresholds(*specs: dict[str, Any]) -> dict[str, Any]:
    return {"thresholds": list(specs)}


def voucher10(**overrides: Any) -> dict[str, Any]:
    """A threshold: the 10 € voucher at 100 points."""
    return shaped({"points": 100, "reward_code": "VOUCHER10", **overrides})


def tier(code: str, rank: int, threshold: int, **overrides: Any) -> dict[str, Any]:
    return shaped({"code": code, "name": code.capitalize(), "rank": rank, "threshold": threshold, **overrides})


def ladder(*tiers: dict[str, Any]) -> dict[str, Any]:
    """The default program's ladder (member, vip) followed by ``tiers``."""
    return {"tiers": [tier("member", 0, 0), tier("vip", 1, 100, multiplier="1.5", has_card=True), *tiers]}


def action(**overrides: Any) -> dict[str, Any]:
    return shaped({"key": "photo_posted", "name": "Photo posted", "points": 5, **overrides})


#: The default quiz answered all right.
ANSWERS = [{"question": 1, "choices": ["b"]}, {"question": 2, "choices": ["a", "b"]}, {"question": 3, "choices": ["b"]}]


def answer_sheet(*changes: dict[str, Any]) -> dict[str, Any]:
    """The default quiz's right answers, the first one changed by ``changes`` (MISSING drops a key)."""
    first = shaped({**ANSWERS[0], **{key: value for change in changes for key, value in change.items()}})
    return {"answers": [first, *ANSWERS[1:]]}


def question(**overrides: Any) -> dict[str, Any]:
    choices = [{"id": "a", "text": "Green"}, {"id": "b", "text": "Red"}]
    return shaped({"text": "Which colour leads the collection?", "choices": choices, "correct": ["a"], **overrides})


def quiz(*questions: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return shaped(
        {
            "code": "SPRING-QUIZ",
            "title": "Spring collection",
            "points_per_correct": 5,
            "questions": list(questions) or [question()],
            **overrides,
        }
    )


def prize(**overrides: Any) -> dict[str, Any]:
    return shaped({"code": "P5", "name": "5 points", "kind": "points", "points": 5, "weight": 1, **overrides})


def game(*prizes: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return shaped(
        {
            "code": "SCRATCH",
            "kind": "scratch",
            "name": "Scratch card",
            "earn_on": "purchase",
            "earn_min_total": "20.00",
            "no_prize_weight": 9,
            "prizes": list(prizes) or [prize()],
            **overrides,
        }
    )


def board(**overrides: Any) -> dict[str, Any]:
    return shaped({"key": "weekly", "name": "This week", "periods": ["week"], "scope": "all", **overrides})


def profile(**overrides: Any) -> dict[str, Any]:
    return shaped({"display_name": "Jean D", "opted_in": True, **overrides})


def badge(**overrides: Any) -> dict[str, Any]:
    return shaped({"code": "sharer", "name": "Sharer", "metric": "shares", "target": 10, **overrides})


def level(name: str | None, target: Any, **overrides: Any) -> dict[str, Any]:
    return shaped({"name": name, "target": target, **overrides})


def leveled(*levels: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A badge with ``levels`` instead of a target."""
    return badge(target=MISSING, levels=list(levels), **overrides)


def step(**overrides: Any) -> dict[str, Any]:
    return shaped({"kind": "engagement", "action": "share", "count": 2, **overrides})


def challenge(*steps: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A December challenge: two shares, unless ``steps`` say otherwise."""
    window = {"starts_at": "2026-12-01T00:00:00+01:00", "ends_at": "2026-12-31T00:00:00+01:00"}
    return shaped({"code": "WINTER", "name": "Winter challenge", **window, "steps": list(steps) or [step()], **overrides})


def streak(**overrides: Any) -> dict[str, Any]:
    body = {"code": "daily", "name": "Every day", "period": "day", "counts_purchases": False, "actions": ["store_visit"]}
    return shaped({**body, **overrides})


def score_settings(**overrides: Any) -> dict[str, Any]:
    weights = {"purchase": 10, "engagement": 3}
    return shaped({"half_life_days": 30, "weights": weights, "engaged_from": 20, "at_risk_from": 5, **overrides})


UNKNOWN_TEMPLATE = {"id": "sms", "send": "nothing"}
UNKNOWN_OFFER = {"id": "gift", "grant": {"offer": "NOPE"}}
WEB_PUSH_ENDPOINT = "https://push.example.com/send/1"


def sms_steps(*steps: dict[str, Any]) -> dict[str, Any]:
    """A definition: on a tier upgrade, ``steps``."""
    return {"trigger": {"event": "TierUpgraded"}, "steps": list(steps)}


def scenario(**overrides: Any) -> dict[str, Any]:
    """A scenario sending the tier-upgrade message by SMS."""
    definition = sms_steps({"id": "sms", "send": "tier_upgrade", "channels": ["sms"]})
    return shaped({"key": "upgrade_sms", "name": "Tier upgrade by SMS", "definition": definition, **overrides})


def template(**overrides: Any) -> dict[str, Any]:
    return shaped({**bilingual_note(), **overrides})


def pressure(**overrides: Any) -> dict[str, Any]:
    return shaped(
        {"cap_messages": 3, "cap_days": 7, "quiet_start": "21:00", "quiet_end": "08:00", "max_attempts": 6, **overrides}
    )


def blackout(**overrides: Any) -> dict[str, Any]:
    return shaped(
        {
            "name": "Winter sale",
            "starts_at": "2027-01-08T00:00:00+01:00",
            "ends_at": "2027-02-05T00:00:00+01:00",
            **overrides,
        }
    )


def web_push(**overrides: Any) -> dict[str, Any]:
    subscription = {"endpoint": WEB_PUSH_ENDPOINT, "keys": {"p256dh": "BOr-key", "auth": "secret"}}
    return shaped({**subscription, **overrides})


def cases(
    method: str, path: str, *entries: tuple[Any, ...], caller: str = "admin", headers: Headers | None = None
) -> list[Case]:
    """The cases of one route: ``(id, body, field)`` for a 422, or ``(id, body, status, field)``.

    The body of a GET is its query string.
    """
    built = []
    for case_id, body, *answer in entries:
        status, name = (422, *answer) if len(answer) == 1 else answer
        built.append(Case(f"{method} {path}: {case_id}", method, path, body, status, name, caller, headers or {}))
    return built


def oversized(length: int) -> str:
    return "x" * length


NAIVE = "2026-11-22T09:30:00"
YEAR_1800 = "1800-06-01T10:00:00+00:00"
#: Before the first instant UTC can hold.
YEAR_1 = "0001-01-01T00:30:00+01:00"
FAR_FUTURE = "9999-12-31T23:59:59-05:00"
NOT_JSON = Raw('{"unterminated": ')
LONG_KEY = {"Idempotency-Key": oversized(201)}
BACKWARDS_WINDOW = {"active_from": "2026-12-01T00:00:00+01:00", "active_until": "2026-11-30T00:00:00+01:00"}

CASES: list[Case] = [
    *cases(
        "POST",
        "/api/v1/auth/token",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("a list instead of an object", ["cl_1", "secret"], "body"),
        ("missing secret", {"client_id": "cl_1"}, "client_secret"),
        ("id of the wrong type", {"client_id": 42, "client_secret": "s"}, "client_id"),
        ("unknown field", {"client_id": "cl_1", "client_secret": "s", "scope": "admin"}, "scope"),
        ("oversized secret", {"client_id": "cl_1", "client_secret": oversized(201)}, "client_secret"),
        ("NUL character", {"client_id": "cl_\x00", "client_secret": "s"}, "client_id"),
        ("unknown client", {"client_id": "cl_unknown", "client_secret": "s"}, 401, None),
        caller="anonymous",
    ),
    *cases(
        "POST",
        "/api/v1/auth/login",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("not an email", {"email": "somebody", "password": "correct-horse"}, "email"),
        ("missing password", {"email": "a@example.com"}, "password"),
        ("oversized password", {"email": "a@example.com", "password": oversized(129)}, "password"),
        ("unknown field", {"email": "a@example.com", "password": "p", "remember": True}, "remember"),
        ("wrong password", lambda w: {"email": w.values["member_email"], "password": "wrong-horse"}, 401, None),
        caller="anonymous",
    ),
    *cases(
        "POST",
        "/api/v1/members",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("null body", Raw("null"), "body"),
        ("missing email", new_member(email=MISSING), "email"),
        ("missing first name", new_member(first_name=MISSING), "first_name"),
        ("first name of the wrong type", new_member(first_name=42), "first_name"),
        ("unknown field", new_member(nickname="JD"), "nickname"),
        ("read-only field", new_member(points_balance=1000), "points_balance"),
        ("oversized first name", new_member(first_name=oversized(101)), "first_name"),
        ("oversized email", new_member(email=oversized(250) + "@example.com"), "email"),
        ("not an email", new_member(email="jean at example.com"), "email"),
        ("birth date in 1800", new_member(birth_date="1800-01-01"), "birth_date"),
        ("birth date in the future", new_member(birth_date="2999-01-01"), "birth_date"),
        ("birth date not a date", new_member(birth_date="31/12/1990"), "birth_date"),
        ("not a phone number", new_member(phone="call me"), "phone"),
        ("unknown time zone", new_member(timezone="Mars/Olympus_Mons"), "timezone"),
        ("not a locale", new_member(locale="french"), "locale"),
        ("consent not a boolean", new_member(consents={"email": "maybe"}), "consents.email"),
        ("consent for an unknown channel", new_member(consents={"fax": True}), "consents.fax"),
        ("password too short", new_member(password="short"), "password"),
        ("card number with spaces", new_member(card_number="1234 5678"), "card_number"),
        ("unknown referral code", new_member(referral_code="NOSUCHCODE"), "referral_code"),
        ("NUL character", new_member(last_name="Du\x00chemin"), "last_name"),
        ("email of another member", lambda w: member_body(email=w.values["member_email"].upper()), 409, "email"),
        ("card of another member", lambda w: member_body(card_number=w.values["card_number"]), 409, "card_number"),
    ),
    *cases(
        "POST",
        "/api/v1/members",
        ("oversized Idempotency-Key", new_member(), 400, "Idempotency-Key"),
        headers=LONG_KEY,
    ),
    *cases("GET", f"/api/v1/members/{UNKNOWN_ID}", ("unknown member", None, 404, "member_id")),
    *cases(
        "PATCH",
        "/api/v1/members/{member_id}",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("last name of the wrong type", {"last_name": ["Du", "chemin"]}, "last_name"),
        ("null first name", {"first_name": None}, "first_name"),
        ("unknown field", {"nickname": "JD"}, "nickname"),
        ("read-only balance", {"points_balance": 1000}, "points_balance"),
        ("oversized last name", {"last_name": oversized(101)}, "last_name"),
        ("birth date in 1800", {"birth_date": "1800-01-01"}, "birth_date"),
        ("unknown time zone", {"timezone": "Europe/Atlantis"}, "timezone"),
        ("NUL character", {"first_name": "Je\x00an"}, "first_name"),
        ("email of another member", lambda w: {"email": w.values["other_member_email"]}, 409, "email"),
    ),
    *cases("PATCH", f"/api/v1/members/{UNKNOWN_ID}", ("unknown member", {"first_name": "Paula"}, 404, "member_id")),
    *cases(
        "GET",
        "/api/v1/members/lookup",
        ("missing card number", {}, "card_number"),
        ("card number with spaces", {"card_number": "1234 5678"}, "card_number"),
        ("oversized card number", {"card_number": "9" * 33}, "card_number"),
        ("NUL character", {"card_number": "1234\x005678"}, "card_number"),
        ("unknown card number", {"card_number": "0000-0000"}, 404, "card_number"),
    ),
    *cases(
        "GET",
        "/api/v1/members/{member_id}/ledger",
        ("limit=0", {"limit": 0}, "limit"),
        ("limit=abc", {"limit": "abc"}, "limit"),
        ("limit=201", {"limit": 201}, "limit"),
        ("limit=-5", {"limit": -5}, "limit"),
        ("before=0", {"before": 0}, "before"),
        ("before=abc", {"before": "abc"}, "before"),
        ("before beyond BIGINT", {"before": BEYOND_BIGINT}, "before"),
    ),
    *cases("GET", f"/api/v1/members/{UNKNOWN_ID}/ledger", ("unknown member", {}, 404, "member_id")),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/adjustments",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("zero points", adjustment(points=0), "points"),
        ("points as a string", adjustment(points="10"), "points"),
        ("fractional points", adjustment(points=1.5), "points"),
        ("absurd points", adjustment(points=10_000_000), "points"),
        ("missing reason", adjustment(reason=MISSING), "reason"),
        ("reason too short", adjustment(reason="ok"), "reason"),
        ("oversized reason", adjustment(reason=oversized(201)), "reason"),
        ("unknown field", adjustment(kind="bonus"), "kind"),
    ),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/adjustments",
        ("oversized Idempotency-Key", adjustment(), 400, "Idempotency-Key"),
        headers=LONG_KEY,
    ),
    *cases("POST", f"/api/v1/members/{UNKNOWN_ID}/adjustments", ("unknown member", adjustment(), 404, "member_id")),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/claims",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing receipt number", claim(receipt_no=MISSING), "receipt_no"),
        ("store code with spaces", claim(store_code="S 1"), "store_code"),
        ("oversized receipt number", claim(receipt_no=oversized(65)), "receipt_no"),
        ("unknown field", claim(member_id=1), "member_id"),
        ("unknown receipt", claim(receipt_no="NO-SUCH-RECEIPT"), "receipt_no"),
    ),
    *cases(
        "POST",
        "/api/v1/members/{other_member_id}/claims",
        ("a receipt another member holds", claim("member_receipt"), 409, "receipt_no"),
    ),
    *cases("POST", f"/api/v1/members/{UNKNOWN_ID}/claims", ("unknown member", claim(), 404, "member_id")),
    *cases(
        "POST",
        "/api/v1/purchases",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("a body over 1 MiB", Raw('{"pad": "' + oversized(1024 * 1024) + '"}'), 413, None),
        ("a list instead of an object", [purchase_body()], "body"),
        ("missing total", purchase(total=MISSING), "total"),
        ("missing occurred_at", purchase(occurred_at=MISSING), "occurred_at"),
        ("total not a number", purchase(total="forty"), "total"),
        ("total a boolean", purchase(total=True), "total"),
        ("negative total", purchase(total="-45.90"), "total"),
        ("total with three decimals", purchase(total="45.905"), "total"),
        ("absurd total", purchase(total="10000000.01"), "total"),
        ("another currency", purchase(currency="USD"), "currency"),
        ("currency in lower case", purchase(currency="eur"), "currency"),
        ("unknown channel", purchase(channel="fax"), "channel"),
        ("naive occurred_at", purchase(occurred_at=NAIVE), "occurred_at"),
        ("occurred_at in 1800", purchase(occurred_at=YEAR_1800), "occurred_at"),
        ("occurred_at far in the future", purchase(occurred_at=FAR_FUTURE), "occurred_at"),
        ("occurred_at not a date", purchase(occurred_at="yesterday"), "occurred_at"),
        ("unknown member id", purchase(member_id=UNKNOWN_ID), "member_id"),
        ("member id as a string", lambda w: purchase_body(member_id=str(w.values["member_id"])), "member_id"),
        ("member id beyond BIGINT", purchase(member_id=BEYOND_BIGINT), "member_id"),
        ("member id zero", purchase(member_id=0), "member_id"),
        ("unknown card number", purchase(member_id=MISSING, card_number="0000-0000"), "card_number"),
        ("card of another member", lambda w: purchase_body(**w.values["member_with_other_card"]), "card_number"),
        ("oversized store code", purchase(store_code="S" * 33), "store_code"),
        ("receipt number with spaces", purchase(receipt_no="R 1"), "receipt_no"),
        ("unknown field", purchase(cashier="Zoe"), "cashier"),
        ("lines not a list", purchase(lines="SHOE-42"), "lines"),
        ("unknown field in a line", line(colour="red"), "lines.0.colour"),
        ("line quantity zero", line(quantity=0), "lines.0.quantity"),
        ("line quantity as a string", line(quantity="1"), "lines.0.quantity"),
        ("negative unit price", line(unit_price="-45.90"), "lines.0.unit_price"),
        ("unit price with three decimals", line(unit_price="45.901"), "lines.0.unit_price"),
        ("line without a sku", line(sku=MISSING), "lines.0.sku"),
        ("oversized sku", line(sku=oversized(65)), "lines.0.sku"),
        ("NUL character in a sku", line(sku="SHOE\x00"), "lines.0.sku"),
        caller="till",
    ),
    *cases("GET", f"/api/v1/purchases/{UNKNOWN_ID}", ("unknown purchase", {}, 404, None)),
    *cases(
        "POST",
        "/api/v1/purchases/{purchase_id}/returns",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("amount and lines", refund(lines=[{"sku": "SHOE-42", "quantity": 1}]), "amount"),
        ("neither amount nor lines", refund(amount=MISSING), "amount"),
        ("negative amount", refund(amount="-5.00"), "amount"),
        ("zero amount", refund(amount="0"), "amount"),
        ("amount with three decimals", refund(amount="5.001"), "amount"),
        ("more than was bought", refund(amount="45.91"), "amount"),
        ("unknown sku", returned_lines(("HAT-1", 1)), "lines.0.sku"),
        ("more of a line than was bought", returned_lines(("SHOE-42", 2)), "lines.0.quantity"),
        ("a good line, then an unknown one", returned_lines(("SHOE-42", 1), ("HAT-1", 1)), "lines.1.sku"),
        ("line quantity zero", returned_lines(("SHOE-42", 0)), "lines.0.quantity"),
        ("return number with spaces", refund(return_no="RET 1"), "return_no"),
        ("unknown field", refund(reason="too small"), "reason"),
        caller="till",
    ),
    *cases("POST", f"/api/v1/purchases/{UNKNOWN_ID}/returns", ("unknown purchase", refund(), 404, None), caller="till"),
    *cases(
        "PATCH",
        "/api/v1/admin/program",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("claim window as a string", {"claim_window_days": "30"}, "claim_window_days"),
        ("negative claim window", {"claim_window_days": -1}, "claim_window_days"),
        ("negative earning rate", {"points_per_unit": "-1"}, "points_per_unit"),
        ("earning rate with five decimals", {"points_per_unit": "1.00001"}, "points_per_unit"),
        ("minimum amount with three decimals", {"minimum_amount": "5.001"}, "minimum_amount"),
        ("read-only currency", {"currency": "USD"}, "currency"),
        ("unknown time zone", {"default_timezone": "Europe/Atlantis"}, "default_timezone"),
        ("null name", {"name": None}, "name"),
        ("oversized name", {"name": oversized(121)}, "name"),
        ("unknown field", {"tiers": []}, "tiers"),
    ),
    *cases(
        "POST",
        "/api/v1/admin/earning-rules",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing kind", promotion(kind=MISSING), "kind"),
        ("unknown kind", promotion(kind="bogus"), "kind"),
        ("unknown channel", promotion(channel="fax"), "channel"),
        ("negative multiplier", promotion(multiplier="-2"), "multiplier"),
        ("absurd multiplier", promotion(multiplier="101"), "multiplier"),
        ("multiplier with five decimals", promotion(multiplier="1.00001"), "multiplier"),
        ("naive start", promotion(starts_at=NAIVE), "starts_at"),
        ("start in 1800", promotion(starts_at=YEAR_1800), "starts_at"),
        ("end far in the future", promotion(ends_at=FAR_FUTURE), "ends_at"),
        ("end before the start", promotion(ends_at="2026-11-27T00:00:00+01:00"), "ends_at"),
        ("category rule without a category", promotion(kind="category", ends_at=MISSING), "category"),
        ("category rule with a channel", promotion(kind="category", category="beauty", channel="web"), "kind"),
        ("read-only id", promotion(id=7), "id"),
        ("oversized name", promotion(name=oversized(121)), "name"),
        ("unknown field", promotion(priority=1), "priority"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/earning-rules/{rule_id}",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("is_active not a boolean", {"is_active": "maybe"}, "is_active"),
        ("multiplier not a number", {"multiplier": "double"}, "multiplier"),
        ("naive start", {"starts_at": NAIVE}, "starts_at"),
        ("a channel on the category rule", {"channel": "web"}, "kind"),
    ),
    *cases("PATCH", f"/api/v1/admin/earning-rules/{UNKNOWN_ID}", ("unknown rule", {"name": "Shoes"}, 404, "rule_id")),
    *cases("DELETE", f"/api/v1/admin/earning-rules/{UNKNOWN_ID}", ("unknown rule", None, 404, "rule_id")),
    *cases("GET", f"/api/v1/members/{UNKNOWN_ID}/status", ("unknown member", {}, 404, "member_id")),
    *cases(
        "POST",
        "/api/v1/engagements",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("a list instead of an object", [], "body"),
        ("missing action", engagement(action=MISSING), "action"),
        ("missing ref", engagement(ref=MISSING), "ref"),
        ("missing occurred_at", engagement(occurred_at=MISSING), "occurred_at"),
        ("member id as a string", lambda w: {**engagement()(w), "member_id": str(w.values["member_id"])}, "member_id"),
        ("member id zero", engagement(member_id=0), "member_id"),
        ("member id beyond BIGINT", engagement(member_id=BEYOND_BIGINT), "member_id"),
        ("unknown member", engagement(member_id=UNKNOWN_ID), 422, "member_id"),
        ("unknown action", engagement(action="moon_landing"), "action"),
        ("action in capitals", engagement(action="REVIEW_POSTED"), "action"),
        ("action of the wrong type", engagement(action=["review_posted"]), "action"),
        ("empty ref", engagement(ref=""), "ref"),
        ("oversized ref", engagement(ref=oversized(129)), "ref"),
        ("NUL character in the ref", engagement(ref="review\x00"), "ref"),
        ("naive occurred_at", engagement(occurred_at=NAIVE), "occurred_at"),
        ("occurred_at not a date", engagement(occurred_at="yesterday"), "occurred_at"),
        ("occurred_at in the future", engagement(occurred_at="2026-11-22T11:00:00+00:00"), "occurred_at"),
        ("occurred_at far in the future", engagement(occurred_at=FAR_FUTURE), "occurred_at"),
        ("occurred_at in 1800", engagement(occurred_at=YEAR_1800), "occurred_at"),
        ("occurred_at in year 1", engagement(occurred_at=YEAR_1), "occurred_at"),
        ("occurred_at more than a year ago", engagement(occurred_at="2025-11-21T09:30:00+00:00"), "occurred_at"),
        ("unknown field", engagement(points=100), "points"),
    ),
    *cases(
        "POST",
        "/api/v1/engagements",
        ("an action members cannot report themselves", engagement(), 403, "action"),
        ("for another member", engagement("other_member_id", action="share"), 403, None),
        ("a share reported hours after it", engagement(action="share", occurred_at="2026-11-22T08:30:00+00:00"), 422, "occurred_at"),
        caller="member",
    ),
    *cases(
        "GET",
        "/api/v1/rewards",
        ("member id a word", {"member_id": "abc"}, "member_id"),
        ("member id zero", {"member_id": 0}, "member_id"),
        ("member id beyond BIGINT", {"member_id": BEYOND_BIGINT}, "member_id"),
        ("NUL character", {"member_id": "1\x00"}, "member_id"),
        ("unknown member", {"member_id": UNKNOWN_ID}, 404, "member_id"),
    ),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/redemptions",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing reward code", {}, "reward_code"),
        ("reward code of the wrong type", {"reward_code": 10}, "reward_code"),
        ("reward code with spaces", {"reward_code": "VOUCHER 10"}, "reward_code"),
        ("oversized reward code", {"reward_code": "V" * 65}, "reward_code"),
        ("unknown field", {"reward_code": "FREESHIP", "quantity": 2}, "quantity"),
        ("unknown reward", {"reward_code": "NOSUCHREWARD"}, 422, "reward_code"),
        ("more points than the member has", {"reward_code": "VOUCHER20"}, "reward_code"),
        ("a reward for a higher tier", {"reward_code": "VIPEVENT"}, "reward_code"),
        ("a reward out of stock", {"reward_code": "COFFEE"}, 409, "reward_code"),
    ),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/redemptions",
        ("oversized Idempotency-Key", {"reward_code": "FREESHIP"}, 400, "Idempotency-Key"),
        headers=LONG_KEY,
    ),
    *cases(
        "POST",
        f"/api/v1/members/{UNKNOWN_ID}/redemptions",
        ("unknown member", {"reward_code": "FREESHIP"}, 404, "member_id"),
    ),
    *cases("GET", "/api/v1/vouchers/{unknown_voucher}", ("unknown voucher", None, 404, "code")),
    *cases(
        "POST",
        "/api/v1/vouchers/{voucher}/redeem",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing receipt number", {"store_code": "S1"}, "receipt_no"),
        ("store code of the wrong type", {"store_code": 1, "receipt_no": "R-1"}, "store_code"),
        ("receipt number with spaces", {"store_code": "S1", "receipt_no": "R 1"}, "receipt_no"),
        ("oversized store code", {"store_code": "S" * 33, "receipt_no": "R-1"}, "store_code"),
        ("unknown field", {"store_code": "S1", "receipt_no": "R-1", "amount": "10.00"}, "amount"),
        caller="till",
    ),
    *cases(
        "POST",
        "/api/v1/vouchers/{voucher}/redeem",
        ("for another store", {"store_code": "S2", "receipt_no": "R-1"}, 403, None),
        caller="till",
    ),
    *cases(
        "POST",
        "/api/v1/vouchers/{used_voucher}/redeem",
        ("a voucher used already", {"store_code": "S1", "receipt_no": "R-2"}, 409, "code"),
        caller="till",
    ),
    *cases(
        "POST",
        "/api/v1/vouchers/{unknown_voucher}/redeem",
        ("unknown voucher", {"store_code": "S1", "receipt_no": "R-1"}, 404, "code"),
        caller="till",
    ),
    *cases("POST", "/api/v1/vouchers/{used_voucher}/cancel", ("a voucher used already", None, 409, "code")),
    *cases("POST", "/api/v1/vouchers/{unknown_voucher}/cancel", ("unknown voucher", None, 404, "code")),
    *cases(
        "POST",
        "/api/v1/admin/rewards",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing code", reward(code=MISSING), "code"),
        ("missing cost", reward(cost_points=MISSING), "cost_points"),
        ("code with spaces", reward(code="VOUCHER 50"), "code"),
        ("code of another reward", reward(code="VOUCHER10"), 409, "code"),
        ("unknown kind", reward(kind="cash"), "kind"),
        ("fixed voucher without an amount", reward(amount=MISSING), "amount"),
        ("percent voucher without a percent", reward(kind="percent_voucher", amount=MISSING), "percent"),
        ("percent over 100", reward(kind="percent_voucher", amount=MISSING, percent=101), "percent"),
        ("negative amount", reward(amount="-50.00"), "amount"),
        ("amount with three decimals", reward(amount="50.001"), "amount"),
        ("negative cost", reward(cost_points=-1), "cost_points"),
        ("cost as a string", reward(cost_points="500"), "cost_points"),
        ("absurd cost", reward(cost_points=10_000_001), "cost_points"),
        ("negative stock", reward(stock=-1), "stock"),
        ("stock beyond BIGINT", reward(stock=BEYOND_BIGINT), "stock"),
        ("zero validity", reward(validity_days=0), "validity_days"),
        ("unknown minimum tier", reward(min_tier_code="platinum"), "min_tier_code"),
        ("naive start", reward(active_from=NAIVE), "active_from"),
        ("end far in the future", reward(active_until=FAR_FUTURE), "active_until"),
        ("start in year 1", reward(active_from=YEAR_1), "active_from"),
        ("end before the start", reward(**BACKWARDS_WINDOW), "active_until"),
        ("oversized name", reward(name=oversized(121)), "name"),
        ("NUL character in the name", reward(name="50 €\x00"), "name"),
        ("unknown field", reward(colour="gold"), "colour"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/rewards/FREESHIP",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("read-only code", {"code": "SHIPFREE"}, "code"),
        ("cost as a string", {"cost_points": "50"}, "cost_points"),
        ("is_active not a boolean", {"is_active": "maybe"}, "is_active"),
        ("a fixed voucher without an amount", {"kind": "fixed_voucher"}, "amount"),
        ("unknown minimum tier", {"min_tier_code": "platinum"}, "min_tier_code"),
        ("end before the start", BACKWARDS_WINDOW, "active_until"),
    ),
    *cases("PATCH", "/api/v1/admin/rewards/NOSUCHREWARD", ("unknown reward", {"stock": 1}, 404, "reward_code")),
    *cases(
        "PUT",
        "/api/v1/admin/thresholds",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing thresholds", {}, "thresholds"),
        ("thresholds not a list", {"thresholds": {"points": 100}}, "thresholds"),
        ("zero points", thresholds(voucher10(points=0)), "thresholds.0.points"),
        ("points as a string", thresholds(voucher10(points="100")), "thresholds.0.points"),
        ("missing reward code", thresholds(voucher10(reward_code=MISSING)), "thresholds.0.reward_code"),
        ("unknown reward", thresholds(voucher10(reward_code="NOSUCHREWARD")), "thresholds.0.reward_code"),
        (
            "two thresholds at the same points",
            thresholds(voucher10(), voucher10(reward_code="VOUCHER20")),
            "thresholds",
        ),
        ("auto_issue not a boolean", thresholds(voucher10(auto_issue="maybe")), "thresholds.0.auto_issue"),
        ("unknown field in a threshold", thresholds(voucher10(tier="vip")), "thresholds.0.tier"),
        ("over 100 thresholds", thresholds(*(voucher10(points=n) for n in range(1, 102))), "thresholds"),
    ),
    *cases(
        "PUT",
        "/api/v1/admin/tiers",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing tiers", {}, "tiers"),
        ("no tier", {"tiers": []}, "tiers"),
        ("lowest tier above 0 points", {"tiers": [tier("member", 0, 10)]}, "tiers.0.threshold"),
        ("thresholds not rising", ladder(tier("gold", 2, 100)), "tiers.2.threshold"),
        ("thresholds falling", ladder(tier("gold", 2, 50)), "tiers.2.threshold"),
        ("duplicate codes", ladder(tier("vip", 2, 1000)), "tiers.2"),
        ("duplicate ranks", ladder(tier("gold", 1, 1000)), "tiers.2"),
        ("code in capitals", ladder(tier("GOLD", 2, 1000)), "tiers.2.code"),
        ("negative rank", ladder(tier("gold", -1, 1000)), "tiers.2.rank"),
        ("threshold as a string", ladder(tier("gold", 2, "1000")), "tiers.2.threshold"),
        ("negative multiplier", ladder(tier("gold", 2, 1000, multiplier="-2")), "tiers.2.multiplier"),
        ("multiplier not a number", ladder(tier("gold", 2, 1000, multiplier="double")), "tiers.2.multiplier"),
        ("benefits not a list", ladder(tier("gold", 2, 1000, benefits="Lounge")), "tiers.2.benefits"),
        ("missing name", ladder(tier("gold", 2, 1000, name=MISSING)), "tiers.2.name"),
        ("unknown field in a tier", ladder(tier("gold", 2, 1000, colour="gold")), "tiers.2.colour"),
        ("over 20 tiers", ladder(*(tier(f"t{n}", n, n * 1000) for n in range(2, 21))), "tiers"),
        ("a tier members hold left out", {"tiers": [tier("member", 0, 0)]}, 409, "tiers"),
    ),
    *cases(
        "POST",
        "/api/v1/admin/engagement-actions",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing key", action(key=MISSING), "key"),
        ("missing points", action(points=MISSING), "points"),
        ("key in capitals", action(key="Photo_Posted"), "key"),
        ("key of another action", action(key="share"), 409, "key"),
        ("negative points", action(points=-5), "points"),
        ("points as a string", action(points="5"), "points"),
        ("absurd points", action(points=1_000_001), "points"),
        ("unknown period", action(max_per_period=3, period="year"), "period"),
        ("a limit without a period", action(max_per_period=3), "period"),
        ("a period without a limit", action(period="week"), "period"),
        ("zero limit", action(max_per_period=0, period="week"), "max_per_period"),
        ("zero cooldown", action(cooldown_minutes=0), "cooldown_minutes"),
        ("self_reportable not a boolean", action(self_reportable="maybe"), "self_reportable"),
        ("unknown field", action(badge="camera"), "badge"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/engagement-actions/share",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("read-only key", {"key": "shared"}, "key"),
        ("negative points", {"points": -5}, "points"),
        ("a limit without its period", {"period": None}, "period"),
        ("unknown period", {"period": "year"}, "period"),
        ("unknown field", {"badge": "camera"}, "badge"),
    ),
    *cases(
        "PATCH", "/api/v1/admin/engagement-actions/moon_landing", ("unknown action", {"points": 5}, 404, "key")
    ),
    *cases(
        "GET",
        "/api/v1/admin/card-issuances",
        ("unknown status", {"status": "lost"}, "status"),
        ("NUL character", {"status": "pending\x00"}, "status"),
    ),
    *cases("GET", "/api/v1/admin/card-issuances.csv", ("unknown status", {"status": "lost"}, "status")),
    *cases(
        "PATCH",
        "/api/v1/admin/card-issuances/{card_id}",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing status", {}, "status"),
        ("unknown status", {"status": "lost"}, "status"),
        ("status of the wrong type", {"status": 2}, "status"),
        ("unknown field", {"status": "shipped", "carrier": "post"}, "carrier"),
        ("back to pending", {"status": "pending"}, 409, "status"),
    ),
    *cases(
        "PATCH", f"/api/v1/admin/card-issuances/{UNKNOWN_ID}", ("unknown card", {"status": "printed"}, 404, "card_id")
    ),
    *cases("GET", "/api/v1/quizzes/NOSUCHQUIZ", ("unknown quiz", None, 404, "code")),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/quizzes/BRAND-QUIZ/answers",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing answers", {}, "answers"),
        ("answers not a list", {"answers": {"1": ["b"]}}, "answers"),
        ("no answer", {"answers": []}, "answers"),
        ("question as a string", answer_sheet({"question": "1"}), "answers.0.question"),
        ("question zero", answer_sheet({"question": 0}), "answers.0.question"),
        ("missing choices", answer_sheet({"choices": MISSING}), "answers.0.choices"),
        ("no choice", answer_sheet({"choices": []}), "answers.0.choices"),
        ("choice id with spaces", answer_sheet({"choices": ["b b"]}), "answers.0.choices.0"),
        ("NUL character in a choice", answer_sheet({"choices": ["b\x00"]}), "answers.0.choices.0"),
        ("unknown field", {"answers": ANSWERS, "score": 3}, "score"),
        ("unknown question", {"answers": [*ANSWERS, {"question": 4, "choices": ["a"]}]}, "answers.3.question"),
        ("a question left out", {"answers": ANSWERS[:2]}, "answers"),
        ("unknown choice", answer_sheet({"choices": ["z"]}), "answers.0.choices"),
        ("two choices of a single-choice question", answer_sheet({"choices": ["a", "b"]}), "answers.0.choices"),
    ),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/quizzes/BRAND-QUIZ/answers",
        ("oversized Idempotency-Key", {"answers": ANSWERS}, 400, "Idempotency-Key"),
        headers=LONG_KEY,
    ),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/games/WHEEL/plays",
        ("oversized Idempotency-Key", None, 400, "Idempotency-Key"),
        headers=LONG_KEY,
    ),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/quizzes/NOSUCHQUIZ/answers",
        ("unknown quiz", {"answers": ANSWERS}, 404, "code"),
    ),
    *cases(
        "POST",
        f"/api/v1/members/{UNKNOWN_ID}/quizzes/BRAND-QUIZ/answers",
        ("unknown member", {"answers": ANSWERS}, 404, "member_id"),
    ),
    *cases("GET", "/api/v1/members/{member_id}/quizzes/BRAND-QUIZ/answers", ("not answered yet", None, 404, "code")),
    *cases(
        "POST",
        "/api/v1/admin/quizzes",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing code", quiz(code=MISSING), "code"),
        ("code with spaces", quiz(code="SPRING QUIZ"), "code"),
        ("code of another quiz", quiz(code="BRAND-QUIZ"), 409, "code"),
        ("negative points", quiz(points_per_correct=-1), "points_per_correct"),
        ("points as a string", quiz(points_per_correct="5"), "points_per_correct"),
        ("no question", quiz(questions=[]), "questions"),
        ("question without text", quiz(question(text=MISSING)), "questions.0.text"),
        ("a single choice", quiz(question(choices=[{"id": "a", "text": "Green"}])), "questions.0.choices"),
        ("choice id with spaces", quiz(question(choices=[{"id": "a a", "text": "G"}, {"id": "b", "text": "R"}])), "questions.0.choices.0.id"),
        ("no right choice", quiz(question(correct=[])), "questions.0.correct"),
        ("duplicate choice ids", quiz(question(choices=[{"id": "a", "text": "G"}, {"id": "a", "text": "R"}])), "questions.0.choices"),
        ("a right choice that is not a choice", quiz(question(correct=["c"])), "questions.0.correct"),
        ("two right choices of a single-choice question", quiz(question(correct=["a", "b"])), "questions.0.correct"),
        ("multiple not a boolean", quiz(question(multiple="maybe")), "questions.0.multiple"),
        ("naive start", quiz(starts_at=NAIVE), "starts_at"),
        ("end before the start", quiz(starts_at="2026-12-01T00:00:00+01:00", ends_at="2026-11-30T00:00:00+01:00"), "ends_at"),
        ("oversized title", quiz(title=oversized(201)), "title"),
        ("unknown field", quiz(colour="green"), "colour"),
        ("unknown field in a question", quiz(question(hint="red")), "questions.0.hint"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/quizzes/BRAND-QUIZ",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("read-only code", {"code": "OTHER"}, "code"),
        ("null title", {"title": None}, "title"),
        ("no question", {"questions": []}, "questions"),
        ("no right choice", {"questions": [question(correct=[])]}, "questions.0.correct"),
    ),
    *cases("PATCH", "/api/v1/admin/quizzes/NOSUCHQUIZ", ("unknown quiz", {"title": "Quiz"}, 404, "code")),
    *cases("POST", "/api/v1/members/{member_id}/games/NOSUCHGAME/plays", ("unknown game", None, 404, "code")),
    *cases("POST", f"/api/v1/members/{UNKNOWN_ID}/games/WHEEL/plays", ("unknown member", None, 404, "member_id")),
    *cases(
        "POST",
        "/api/v1/admin/games",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing code", game(code=MISSING), "code"),
        ("code of another game", game(code="WHEEL"), 409, "code"),
        ("unknown kind", game(kind="dice"), "kind"),
        ("unknown earning event", game(earn_on="birthday"), "earn_on"),
        ("minimum total with three decimals", game(earn_min_total="20.001"), "earn_min_total"),
        ("negative no-prize weight", game(no_prize_weight=-1), "no_prize_weight"),
        ("negative weight", game(prize(weight=-1)), "prizes.0.weight"),
        ("weight as a string", game(prize(weight="1")), "prizes.0.weight"),
        ("unknown prize kind", game(prize(kind="car")), "prizes.0.kind"),
        ("points prize without points", game(prize(points=MISSING)), "prizes.0.points"),
        ("reward prize of a reward that is no offer", game(prize(kind="reward", points=MISSING, reward_code="VOUCHER10")), "prizes.0.reward_code"),
        ("two prizes of one code", game(prize(), prize()), "prizes.1.code"),
        ("negative stock", game(prize(stock=-1)), "prizes.0.stock"),
        ("over 20 prizes", game(*(prize(code=f"P{n}") for n in range(21))), "prizes"),
        ("engagement game without an action", game(earn_on="engagement", earn_min_total=MISSING), "earn_action_key"),
        ("engagement game of an unknown action", game(earn_on="engagement", earn_min_total=MISSING, earn_action_key="moon_landing"), "earn_action_key"),
        ("purchase game with an action", game(earn_action_key="share"), "earn_action_key"),
        ("no weight at all", game(prize(weight=0), no_prize_weight=0), "no_prize_weight"),
        ("unknown field", game(colour="gold"), "colour"),
        ("unknown field in a prize", game(prize(colour="gold")), "prizes.0.colour"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/games/WHEEL",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("read-only code", {"code": "WHEEL2"}, "code"),
        ("no-prize weight as a string", {"no_prize_weight": "50"}, "no_prize_weight"),
        ("an engagement game without its action", {"earn_on": "engagement"}, "earn_action_key"),
        ("unknown prize kind", {"prizes": [prize(kind="car")]}, "prizes.0.kind"),
    ),
    *cases("PATCH", "/api/v1/admin/games/NOSUCHGAME", ("unknown game", {"no_prize_weight": 1}, 404, "code")),
    *cases(
        "GET",
        "/api/v1/admin/games/WHEEL/plays",
        ("limit=0", {"limit": 0}, "limit"),
        ("limit=abc", {"limit": "abc"}, "limit"),
        ("before=0", {"before": 0}, "before"),
    ),
    *cases("GET", "/api/v1/admin/games/NOSUCHGAME/plays", ("unknown game", {}, 404, "code")),
    *cases(
        "GET",
        "/api/v1/leaderboards/monthly-points",
        ("unknown period", {"period": "year"}, "period"),
        ("limit=0", {"limit": 0}, "limit"),
        ("limit=101", {"limit": 101}, "limit"),
        ("a store on a board of all members", {"store": "S1"}, "store"),
        ("member id a word", {"member_id": "abc"}, "member_id"),
        ("unknown member", {"member_id": UNKNOWN_ID}, 404, "member_id"),
    ),
    *cases(
        "GET",
        "/api/v1/leaderboards/store-points",
        ("no store", {}, "store"),
        ("store with spaces", {"store": "S 1"}, "store"),
        ("a period the board does not keep", {"store": "S1", "period": "week"}, "period"),
    ),
    *cases("GET", "/api/v1/leaderboards/nothing", ("unknown board", {}, 404, "key")),
    *cases(
        "PUT",
        "/api/v1/members/{member_id}/leaderboard-profile",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing display name", profile(display_name=MISSING), "display_name"),
        ("missing opt-in", profile(opted_in=MISSING), "opted_in"),
        ("opt-in not a boolean", profile(opted_in="maybe"), "opted_in"),
        ("display name too short", profile(display_name="JD"), "display_name"),
        ("an email address as display name", profile(display_name="jean@example.com"), "display_name"),
        ("a phone number as display name", profile(display_name="0612345678"), "display_name"),
        ("oversized display name", profile(display_name=oversized(101)), "display_name"),
        ("unknown field", profile(email="jean@example.com"), "email"),
    ),
    *cases(
        "PUT", f"/api/v1/members/{UNKNOWN_ID}/leaderboard-profile", ("unknown member", profile(), 404, "member_id")
    ),
    *cases(
        "POST",
        "/api/v1/admin/leaderboards",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing key", board(key=MISSING), "key"),
        ("key in capitals", board(key="Weekly"), "key"),
        ("key of another board", board(key="monthly-points"), 409, "key"),
        ("unknown metric", board(metric="visits"), "metric"),
        ("no period", board(periods=[]), "periods"),
        ("unknown period", board(periods=["year"]), "periods.0"),
        ("a period twice", board(periods=["week", "week"]), "periods"),
        ("unknown scope", board(scope="region"), "scope"),
        ("unknown field", board(limit=10), "limit"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/leaderboards/monthly-points",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("read-only key", {"key": "monthly"}, "key"),
        ("no period", {"periods": []}, "periods"),
        ("unknown scope", {"scope": "region"}, "scope"),
    ),
    *cases("PATCH", "/api/v1/admin/leaderboards/nothing", ("unknown board", {"name": "Top"}, 404, "key")),
    *cases("DELETE", "/api/v1/admin/leaderboards/nothing", ("unknown board", None, 404, "key")),
    *cases("GET", f"/api/v1/members/{UNKNOWN_ID}/badges", ("unknown member", None, 404, "member_id")),
    *cases(
        "POST",
        "/api/v1/admin/badges",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing code", badge(code=MISSING), "code"),
        ("code with spaces", badge(code="shar er"), "code"),
        ("code of another badge", badge(code="reviewer"), 409, "code"),
        ("missing metric", badge(metric=MISSING), "metric"),
        ("unknown metric", badge(metric="moon_landings"), "metric"),
        ("neither target nor levels", badge(target=MISSING), "levels"),
        ("a target and levels", badge(levels=[level(None, 3)]), "target"),
        ("points without a target", leveled(level(None, 3), points=5), "points"),
        ("zero target", badge(target=0), "target"),
        ("target as a string", badge(target="10"), "target"),
        ("negative points", badge(points=-5), "points"),
        ("no level", leveled(), "levels"),
        ("targets falling", leveled(level("bronze", 5), level("silver", 3)), "levels.1.target"),
        ("targets not rising", leveled(level("bronze", 5), level("silver", 5)), "levels.1.target"),
        ("a level without a name among several", leveled(level(None, 5), level("silver", 20)), "levels.0.name"),
        ("two levels of one name", leveled(level("bronze", 5), level("bronze", 20)), "levels.1.name"),
        ("over 10 levels", leveled(*(level(f"l{n}", n) for n in range(1, 12))), "levels"),
        ("zero target in a level", leveled(level(None, 0)), "levels.0.target"),
        ("unknown field in a level", leveled(level(None, 5, colour="gold")), "levels.0.colour"),
        ("a category metric without its category", badge(metric="category_purchases"), "qualifier"),
        ("a qualifier on a metric without one", badge(qualifier="instagram"), "qualifier"),
        ("unknown tier", badge(metric="tier", qualifier="platinum", target=1), "qualifier"),
        ("unknown streak", badge(metric="streak", qualifier="yearly", target=4), "qualifier"),
        ("unknown challenge", badge(metric="challenges_completed", qualifier="moon", target=1), "qualifier"),
        ("image not a URL", badge(image_url="sharer.png"), "image_url"),
        ("oversized name", badge(name=oversized(121)), "name"),
        ("hidden not a boolean", badge(is_hidden="maybe"), "is_hidden"),
        ("unknown field", badge(colour="gold"), "colour"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/badges/reviewer",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("read-only code", {"code": "critic"}, "code"),
        ("null name", {"name": None}, "name"),
        ("unknown metric", {"metric": "moon_landings"}, "metric"),
        ("a category metric without its category", {"metric": "category_purchases"}, "qualifier"),
        ("targets falling", {"levels": [level("bronze", 5), level("silver", 3)]}, "levels.1.target"),
    ),
    *cases("PATCH", "/api/v1/admin/badges/nothing", ("unknown badge", {"name": "Nothing"}, 404, "code")),
    *cases("DELETE", "/api/v1/admin/badges/nothing", ("unknown badge", None, 404, "code")),
    *cases("GET", f"/api/v1/members/{UNKNOWN_ID}/challenges", ("unknown member", None, 404, "member_id")),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/challenges/OVER/join",
        ("a challenge that is over", None, "code"),
    ),
    *cases("POST", "/api/v1/members/{member_id}/challenges/nothing/join", ("unknown challenge", None, 404, "code")),
    *cases(
        "POST",
        f"/api/v1/members/{UNKNOWN_ID}/challenges/discover_store/join",
        ("unknown member", None, 404, "member_id"),
    ),
    *cases(
        "POST",
        "/api/v1/admin/challenges",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing code", challenge(code=MISSING), "code"),
        ("code with spaces", challenge(code="WIN TER"), "code"),
        ("code of another challenge", challenge(code="discover_store"), 409, "code"),
        ("missing start", challenge(starts_at=MISSING), "starts_at"),
        ("naive start", challenge(starts_at=NAIVE), "starts_at"),
        ("start in 1800", challenge(starts_at=YEAR_1800), "starts_at"),
        ("end before the start", challenge(ends_at="2026-11-30T00:00:00+01:00"), "ends_at"),
        ("end at the start", challenge(ends_at="2026-12-01T00:00:00+01:00"), "ends_at"),
        ("missing steps", challenge(steps=MISSING), "steps"),
        ("no step", challenge(steps=[]), "steps"),
        ("over 20 steps", challenge(*(step() for _ in range(21))), "steps"),
        ("unknown step kind", challenge(step(kind="quiz")), "steps.0.kind"),
        ("an engagement step without its action", challenge(step(action=MISSING)), "steps.0.action"),
        ("an engagement step of an unknown action", challenge(step(action="moon_landing")), "steps.0.action"),
        ("a purchase step with an action", challenge(step(kind="purchase")), "steps.0.action"),
        ("an engagement step with a category", challenge(step(category="shoes")), "steps.0.category"),
        ("zero count", challenge(step(count=0)), "steps.0.count"),
        ("count as a string", challenge(step(count="2")), "steps.0.count"),
        ("unknown field in a step", challenge(step(colour="blue")), "steps.0.colour"),
        ("negative reward points", challenge(reward_points=-10), "reward_points"),
        ("unknown reward badge", challenge(reward_badge_code="moon"), "reward_badge_code"),
        ("a reward voucher that is not an offer", challenge(reward_code="VOUCHER10"), "reward_code"),
        ("unknown reward voucher", challenge(reward_code="NOSUCH"), "reward_code"),
        ("opt-in not a boolean", challenge(requires_join="maybe"), "requires_join"),
        ("unknown field", challenge(colour="blue"), "colour"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/challenges/discover_store",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("read-only code", {"code": "discover"}, "code"),
        ("null name", {"name": None}, "name"),
        ("end before the start", {"ends_at": "2025-12-01T00:00:00+01:00"}, "ends_at"),
        ("no step", {"steps": []}, "steps"),
        ("unknown reward badge", {"reward_badge_code": "moon"}, "reward_badge_code"),
    ),
    *cases("PATCH", "/api/v1/admin/challenges/nothing", ("unknown challenge", {"name": "Nothing"}, 404, "code")),
    *cases("DELETE", "/api/v1/admin/challenges/nothing", ("unknown challenge", None, 404, "code")),
    *cases("GET", f"/api/v1/members/{UNKNOWN_ID}/streaks", ("unknown member", None, 404, "member_id")),
    *cases(
        "POST",
        "/api/v1/admin/streaks",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing code", streak(code=MISSING), "code"),
        ("code of another streak", streak(code="weekly_activity"), 409, "code"),
        ("missing period", streak(period=MISSING), "period"),
        ("unknown period", streak(period="month"), "period"),
        ("actions not a list", streak(actions="store_visit"), "actions"),
        ("action in capitals", streak(actions=["Store_Visit"]), "actions.0"),
        ("unknown action", streak(actions=["store_visit", "moon_landing"]), "actions.1"),
        ("nothing qualifies", streak(actions=[]), "actions"),
        ("unknown field", streak(colour="gold"), "colour"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/streaks/weekly_activity",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("read-only code", {"code": "weekly"}, "code"),
        ("unknown period", {"period": "month"}, "period"),
        ("nothing qualifies", {"counts_purchases": False, "actions": []}, "actions"),
        ("the period of a streak members ran", {"period": "day"}, 409, "period"),
    ),
    *cases("PATCH", "/api/v1/admin/streaks/nothing", ("unknown streak", {"name": "Nothing"}, 404, "code")),
    *cases("DELETE", "/api/v1/admin/streaks/nothing", ("unknown streak", None, 404, "code")),
    *cases(
        "PUT",
        "/api/v1/admin/engagement-score",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing weights", score_settings(weights=MISSING), "weights"),
        ("weights not an object", score_settings(weights=[10, 3]), "weights"),
        ("unknown interaction", score_settings(weights={"visit": 1}), "weights.visit.key"),
        ("negative weight", score_settings(weights={"purchase": -1}), "weights.purchase.value"),
        ("weight not a number", score_settings(weights={"purchase": "ten"}), "weights.purchase.value"),
        ("zero half-life", score_settings(half_life_days=0), "half_life_days"),
        ("half-life not a number", score_settings(half_life_days="a month"), "half_life_days"),
        ("missing boundary", score_settings(engaged_from=MISSING), "engaged_from"),
        ("boundaries the wrong way", score_settings(engaged_from=5, at_risk_from=20), "engaged_from"),
        ("equal boundaries", score_settings(engaged_from=5, at_risk_from=5), "engaged_from"),
        ("zero lower boundary", score_settings(at_risk_from=0), "at_risk_from"),
        ("unknown field", score_settings(decay="linear"), "decay"),
    ),
    *cases(
        "POST",
        "/api/v1/admin/scenarios",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing key", scenario(key=MISSING), "key"),
        ("key in capitals", scenario(key="Upgrade_SMS"), "key"),
        ("the reserved key", scenario(key="kpis"), "key"),
        ("oversized name", scenario(name=oversized(121)), "name"),
        ("unknown status", scenario(status="running"), "status"),
        ("missing definition", scenario(definition=MISSING), "definition"),
        ("definition not an object", scenario(definition=["TierUpgraded"]), "definition"),
        ("read-only version", scenario(version=2), "version"),
        ("unknown field", scenario(priority=1), "priority"),
        ("NUL character", scenario(name="SMS\x00"), "name"),
        ("no steps", scenario(definition={"trigger": {"event": "TierUpgraded"}}), "definition.steps"),
        ("unknown template", scenario(definition=sms_steps(UNKNOWN_TEMPLATE)), "definition.steps[0].send"),
        ("unknown offer", scenario(definition=sms_steps(UNKNOWN_OFFER)), "definition.steps[0].grant.offer"),
        ("step kind unknown", scenario(definition=sms_steps({"id": "dance", "dance": True})), "definition.steps[0]"),
        ("key of another scenario", scenario(key="near_threshold"), 409, "key"),
    ),
    *cases(
        "PATCH",
        "/api/v1/admin/scenarios/near_threshold",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("status through a change", {"status": "paused"}, "status"),
        ("null definition", {"definition": None}, "definition"),
        ("is_marketing not a boolean", {"is_marketing": "maybe"}, "is_marketing"),
        ("wait not a duration", {"definition": sms_steps({"id": "wait", "wait": "soon"})}, "definition.steps[0].wait"),
    ),
    *cases("GET", "/api/v1/admin/scenarios/nothing", ("unknown scenario", None, 404, "key")),
    *cases("PATCH", "/api/v1/admin/scenarios/nothing", ("unknown scenario", {"name": "Nothing"}, 404, "key")),
    *cases("POST", "/api/v1/admin/scenarios/nothing/activate", ("unknown scenario", None, 404, "key")),
    *cases("POST", "/api/v1/admin/scenarios/nothing/pause", ("unknown scenario", None, 404, "key")),
    *cases("GET", "/api/v1/admin/scenarios/nothing/versions", ("unknown scenario", None, 404, "key")),
    *cases("GET", "/api/v1/admin/scenarios/nothing/kpis", ("unknown scenario", None, 404, "key")),
    *cases("GET", "/api/v1/admin/templates/nothing", ("unknown template", None, 404, "key")),
    *cases(
        "PUT",
        "/api/v1/admin/templates/welcome",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing short", template(short=MISSING), "short"),
        ("empty subject", template(subject=""), "subject"),
        ("oversized subject", template(subject=oversized(1001)), "subject"),
        ("read-only key", template(key="welcome2"), "key"),
        ("unknown field", template(footer="Bye"), "footer"),
        ("html that does not compile", template(html="<p>{% for x in %}</p>"), "html"),
        ("subject that does not compile", template(subject="{{ member.first_name "), "subject"),
    ),
    *cases("PUT", "/api/v1/admin/templates/Welcome-Back", ("key in capitals", template(), "key")),
    *cases(
        "PUT",
        "/api/v1/admin/marketing",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing cap_days", pressure(cap_days=MISSING), "cap_days"),
        ("cap as a string", pressure(cap_messages="3"), "cap_messages"),
        ("negative cap", pressure(cap_messages=-1), "cap_messages"),
        ("zero days", pressure(cap_days=0), "cap_days"),
        ("quiet hours at 25:00", pressure(quiet_start="25:00"), "quiet_start"),
        ("quiet hours with seconds", pressure(quiet_end="08:00:00"), "quiet_end"),
        ("zero attempts", pressure(max_attempts=0), "max_attempts"),
        ("unknown field", pressure(cap_weeks=1), "cap_weeks"),
    ),
    *cases(
        "POST",
        "/api/v1/admin/blackouts",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing name", blackout(name=MISSING), "name"),
        ("naive start", blackout(starts_at=NAIVE), "starts_at"),
        ("start in 1800", blackout(starts_at=YEAR_1800), "starts_at"),
        ("end far in the future", blackout(ends_at=FAR_FUTURE), "ends_at"),
        ("end before the start", blackout(ends_at="2027-01-01T00:00:00+01:00"), "ends_at"),
        ("read-only id", blackout(id=7), "id"),
    ),
    *cases("DELETE", f"/api/v1/admin/blackouts/{UNKNOWN_ID}", ("unknown blackout", None, 404, "blackout_id")),
    *cases(
        "POST",
        "/api/v1/members/{member_id}/complaints",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("missing subject", {"note": "late"}, "subject"),
        ("oversized subject", {"subject": oversized(201)}, "subject"),
        ("unknown field", {"subject": "Late", "severity": "high"}, "severity"),
    ),
    *cases(
        "POST", f"/api/v1/members/{UNKNOWN_ID}/complaints", ("unknown member", {"subject": "Late"}, 404, "member_id")
    ),
    *cases("GET", f"/api/v1/members/{UNKNOWN_ID}/complaints", ("unknown member", None, 404, "member_id")),
    *cases("POST", f"/api/v1/admin/complaints/{UNKNOWN_ID}/close", ("unknown complaint", None, 404, "complaint_id")),
    *cases(
        "GET",
        "/api/v1/admin/messages",
        ("unknown status", {"status": "lost"}, "status"),
        ("limit=0", {"limit": 0}, "limit"),
        ("before=abc", {"before": "abc"}, "before"),
    ),
    *cases(
        "POST",
        "/api/v1/admin/messages/{sent_message_id}/redrive",
        ("a message that is not dead", None, 409, "message_id"),
    ),
    *cases("POST", f"/api/v1/admin/messages/{UNKNOWN_ID}/redrive", ("unknown message", None, 404, "message_id")),
    *cases("GET", "/api/v1/members/{member_id}/messages", ("limit=201", {"limit": 201}, "limit")),
    *cases("GET", f"/api/v1/members/{UNKNOWN_ID}/messages", ("unknown member", None, 404, "member_id")),
    *cases("GET", "/api/v1/me/inbox", ("limit=0", {"limit": 0}, "limit"), caller="member"),
    *cases(
        "POST",
        "/api/v1/me/inbox/{sent_message_id}/read",
        ("an email, not an in-app message", None, 404, "message_id"),
        caller="member",
    ),
    *cases(
        "POST",
        f"/api/v1/me/messages/{UNKNOWN_ID}/opened",
        ("unknown message", None, 404, "message_id"),
        caller="member",
    ),
    *cases(
        "POST",
        "/api/v1/me/push-subscriptions",
        ("malformed JSON", NOT_JSON, 400, "body"),
        ("unknown kind", web_push(kind="fax"), "kind"),
        ("web push without keys", web_push(keys=MISSING), "keys"),
        ("web push keys without auth", web_push(keys={"p256dh": "BOr-key"}), "keys.auth"),
        ("endpoint not https", web_push(endpoint="http://push.example.com/send/1"), "endpoint"),
        ("endpoint not a URL", web_push(endpoint="push service"), "endpoint"),
        ("web push with a token", web_push(token="t-1"), "token"),
        ("device without a token", {"kind": "device"}, "token"),
        ("device with an endpoint", {"kind": "device", "token": "t-1", "endpoint": WEB_PUSH_ENDPOINT}, "endpoint"),
        ("unknown field", web_push(expirationTime=None), "expirationTime"),
        caller="member",
    ),
    *cases(
        "DELETE",
        f"/api/v1/me/push-subscriptions/{UNKNOWN_ID}",
        ("unknown subscription", None, 404, "subscription_id"),
        caller="member",
    ),
    *cases(
        "POST",
        "/api/v1/webhooks/email",
        ("without the webhook secret", {"provider_ref": "ref-1", "status": "delivered"}, 403, None),
        caller="anonymous",
    ),
]

#: The routes with an id in the path, and a caller allowed on them: what is not an id is a 404.
ID_ROUTES = [
    ("GET", "/api/v1/members/{}", "admin"),
    ("PATCH", "/api/v1/members/{}", "admin"),
    ("GET", "/api/v1/members/{}/ledger", "admin"),
    ("POST", "/api/v1/members/{}/adjustments", "admin"),
    ("POST", "/api/v1/members/{}/claims", "admin"),
    ("GET", "/api/v1/purchases/{}", "admin"),
    ("POST", "/api/v1/purchases/{}/returns", "till"),
    ("PATCH", "/api/v1/admin/earning-rules/{}", "admin"),
    ("DELETE", "/api/v1/admin/earning-rules/{}", "admin"),
    ("GET", "/api/v1/members/{}/status", "admin"),
    ("GET", "/api/v1/members/{}/engagements", "admin"),
    ("GET", "/api/v1/members/{}/referrals", "admin"),
    ("GET", "/api/v1/members/{}/tier-history", "admin"),
    ("POST", "/api/v1/members/{}/redemptions", "admin"),
    ("GET", "/api/v1/members/{}/vouchers", "admin"),
    ("PATCH", "/api/v1/admin/card-issuances/{}", "admin"),
    ("POST", "/api/v1/members/{}/quizzes/BRAND-QUIZ/answers", "admin"),
    ("GET", "/api/v1/members/{}/quizzes/BRAND-QUIZ/answers", "admin"),
    ("GET", "/api/v1/members/{}/games", "admin"),
    ("POST", "/api/v1/members/{}/games/WHEEL/plays", "admin"),
    ("GET", "/api/v1/members/{}/leaderboard-profile", "admin"),
    ("PUT", "/api/v1/members/{}/leaderboard-profile", "admin"),
    ("GET", "/api/v1/members/{}/badges", "admin"),
    ("GET", "/api/v1/members/{}/challenges", "admin"),
    ("POST", "/api/v1/members/{}/challenges/discover_store/join", "admin"),
    ("GET", "/api/v1/members/{}/streaks", "admin"),
    ("DELETE", "/api/v1/admin/blackouts/{}", "admin"),
    ("POST", "/api/v1/members/{}/complaints", "admin"),
    ("GET", "/api/v1/members/{}/complaints", "admin"),
    ("POST", "/api/v1/admin/complaints/{}/close", "admin"),
    ("POST", "/api/v1/admin/messages/{}/redrive", "admin"),
    ("GET", "/api/v1/members/{}/messages", "admin"),
    ("POST", "/api/v1/me/inbox/{}/read", "member"),
    ("POST", "/api/v1/me/messages/{}/opened", "member"),
    ("DELETE", "/api/v1/me/push-subscriptions/{}", "member"),
]
NOT_IDS = {"a word": "abc", "negative": "-1", "zero": "0", "a decimal": "1.5", "beyond BIGINT": str(BEYOND_BIGINT)}
CASES += [
    Case(f"{method} {path.format('{id}')}: id {label}", method, path.format(value), None, 404, caller=caller)
    for method, path, caller in ID_ROUTES
    for label, value in NOT_IDS.items()
]

#: The routes with a code in the path, a caller allowed on them and a valid body: a code holding the NUL
#: character, which no row holds (PostgreSQL cannot even compare with it), is a 404.
CODE_ROUTES = [
    ("GET", "/api/v1/vouchers/{}", "till", None),
    ("POST", "/api/v1/vouchers/{}/redeem", "till", {"store_code": "S1", "receipt_no": "R-1"}),
    ("POST", "/api/v1/vouchers/{}/cancel", "admin", None),
    ("PATCH", "/api/v1/admin/rewards/{}", "admin", {"stock": 1}),
    ("PATCH", "/api/v1/admin/engagement-actions/{}", "admin", {"points": 5}),
    ("GET", "/api/v1/quizzes/{}", "admin", None),
    ("POST", "/api/v1/members/1/quizzes/{}/answers", "admin", {"answers": ANSWERS}),
    ("PATCH", "/api/v1/admin/quizzes/{}", "admin", {"title": "Quiz"}),
    ("POST", "/api/v1/members/1/games/{}/plays", "admin", None),
    ("PATCH", "/api/v1/admin/games/{}", "admin", {"no_prize_weight": 1}),
    ("GET", "/api/v1/admin/games/{}/plays", "admin", None),
    ("GET", "/api/v1/leaderboards/{}", "admin", None),
    ("PATCH", "/api/v1/admin/leaderboards/{}", "admin", {"name": "Top"}),
    ("DELETE", "/api/v1/admin/leaderboards/{}", "admin", None),
    ("PATCH", "/api/v1/admin/badges/{}", "admin", {"name": "Badge"}),
    ("DELETE", "/api/v1/admin/badges/{}", "admin", None),
    ("POST", "/api/v1/members/1/challenges/{}/join", "admin", None),
    ("PATCH", "/api/v1/admin/challenges/{}", "admin", {"name": "Challenge"}),
    ("DELETE", "/api/v1/admin/challenges/{}", "admin", None),
    ("PATCH", "/api/v1/admin/streaks/{}", "admin", {"name": "Streak"}),
    ("DELETE", "/api/v1/admin/streaks/{}", "admin", None),
    ("GET", "/api/v1/admin/scenarios/{}", "admin", None),
    ("PATCH", "/api/v1/admin/scenarios/{}", "admin", {"name": "Scenario"}),
    ("POST", "/api/v1/admin/scenarios/{}/activate", "admin", None),
    ("POST", "/api/v1/admin/scenarios/{}/pause", "admin", None),
    ("GET", "/api/v1/admin/scenarios/{}/versions", "admin", None),
    ("GET", "/api/v1/admin/scenarios/{}/kpis", "admin", None),
    ("GET", "/api/v1/admin/templates/{}", "admin", None),
    ("PUT", "/api/v1/admin/templates/{}", "admin", bilingual_note()),
    ("POST", "/api/v1/webhooks/{}", "anonymous", {"provider_ref": "ref-1", "status": "delivered"}),
]
CASES += [
    Case(f"{method} {path.format('{code}')}: code with NUL", method, path.format("AB%00CD"), body, 404, None, caller)
    for method, path, caller, body in CODE_ROUTES
]

#: A valid call per kind of body the cases break: the cases fail only for what they break.
VALID = [
    ("POST", "/api/v1/auth/token", lambda w: w.values["client_credentials"], "anonymous", 200),
    ("POST", "/api/v1/auth/login", lambda w: w.values["member_credentials"], "anonymous", 200),
    ("POST", "/api/v1/members", new_member(), "admin", 201),
    ("PATCH", "/api/v1/members/{member_id}", {"last_name": "Durand"}, "admin", 200),
    ("GET", "/api/v1/members/lookup", lambda w: {"card_number": w.values["card_number"]}, "admin", 200),
    ("GET", "/api/v1/members/{member_id}/ledger", {"limit": 200, "before": 1}, "admin", 200),
    ("POST", "/api/v1/members/{member_id}/adjustments", adjustment(), "admin", 201),
    ("POST", "/api/v1/members/{member_id}/claims", claim(), "admin", 201),
    ("POST", "/api/v1/purchases", purchase(), "till", 201),
    ("POST", "/api/v1/purchases", line(), "till", 201),
    ("POST", "/api/v1/purchases/{purchase_id}/returns", refund(), "till", 201),
    ("POST", "/api/v1/purchases/{purchase_id}/returns", returned_lines(("SHOE-42", 1)), "till", 201),
    ("PATCH", "/api/v1/admin/program", {"points_per_unit": "1.2345", "minimum_amount": "5.00"}, "admin", 200),
    ("POST", "/api/v1/admin/earning-rules", promotion(), "admin", 201),
    ("PATCH", "/api/v1/admin/earning-rules/{rule_id}", {"multiplier": "2.5", "is_active": False}, "admin", 200),
    ("POST", "/api/v1/engagements", engagement(), "admin", 201),
    ("POST", "/api/v1/engagements", engagement(action="share"), "member", 201),
    ("GET", "/api/v1/rewards", lambda w: {"member_id": w.values["member_id"]}, "admin", 200),
    ("POST", "/api/v1/members/{member_id}/redemptions", {"reward_code": "FREESHIP"}, "admin", 201),
    ("GET", "/api/v1/vouchers/{voucher}", None, "till", 200),
    ("POST", "/api/v1/vouchers/{voucher}/redeem", {"store_code": "S1", "receipt_no": "R-1"}, "till", 201),
    ("POST", "/api/v1/vouchers/{voucher}/cancel", None, "admin", 200),
    ("POST", "/api/v1/admin/rewards", reward(), "admin", 201),
    ("POST", "/api/v1/admin/rewards", reward(kind="percent_voucher", amount=None, percent=100, stock=0), "admin", 201),
    (
        "PATCH",
        "/api/v1/admin/rewards/FREESHIP",
        {"cost_points": 60, "min_tier_code": "vip", "active_from": "2026-12-01T00:00:00+01:00"},
        "admin",
        200,
    ),
    ("PUT", "/api/v1/admin/thresholds", thresholds(voucher10(), voucher10(points=500, auto_issue=False)), "admin", 200),
    ("PUT", "/api/v1/admin/tiers", ladder(tier("gold", 2, 1000, multiplier="2", benefits=["Lounge"])), "admin", 200),
    ("POST", "/api/v1/admin/engagement-actions", action(max_per_period=3, period="week"), "admin", 201),
    ("PATCH", "/api/v1/admin/engagement-actions/share", {"points": 6, "period": "day"}, "admin", 200),
    ("GET", "/api/v1/admin/card-issuances", {"status": "printed"}, "admin", 200),
    ("PATCH", "/api/v1/admin/card-issuances/{card_id}", {"status": "shipped"}, "admin", 200),
    ("POST", "/api/v1/members/{member_id}/quizzes/BRAND-QUIZ/answers", {"answers": ANSWERS}, "admin", 201),
    ("POST", "/api/v1/admin/quizzes", quiz(question(multiple=True, correct=["a", "b"])), "admin", 201),
    ("PATCH", "/api/v1/admin/quizzes/BRAND-QUIZ", {"title": "Our brand", "questions": [question()]}, "admin", 200),
    ("POST", "/api/v1/members/{member_id}/games/WHEEL/plays", None, "admin", 201),
    ("POST", "/api/v1/admin/games", game(prize(stock=10), prize(code="P50", points=50, weight=0)), "admin", 201),
    (
        "POST",
        "/api/v1/admin/games",
        game(earn_on="engagement", earn_min_total=MISSING, earn_action_key="share", prizes=[]),
        "admin",
        201,
    ),
    ("PATCH", "/api/v1/admin/games/WHEEL", {"no_prize_weight": 40, "ends_at": "2026-12-31T00:00:00+01:00"}, "admin", 200),
    ("GET", "/api/v1/admin/games/WHEEL/plays", {"limit": 200, "before": 1}, "admin", 200),
    (
        "GET",
        "/api/v1/leaderboards/monthly-points",
        lambda w: {"period": "week", "limit": 100, "member_id": w.values["member_id"]},
        "admin",
        200,
    ),
    ("GET", "/api/v1/leaderboards/store-points", {"store": "S1"}, "admin", 200),
    ("PUT", "/api/v1/members/{member_id}/leaderboard-profile", profile(), "admin", 200),
    ("POST", "/api/v1/admin/leaderboards", board(periods=["week", "all"], scope="store"), "admin", 201),
    ("PATCH", "/api/v1/admin/leaderboards/monthly-points", {"periods": ["week"], "is_active": False}, "admin", 200),
    ("POST", "/api/v1/admin/badges", badge(points=100, image_url="https://cdn.example.com/sharer.png"), "admin", 201),
    (
        "POST",
        "/api/v1/admin/badges",
        leveled(level("bronze", 1), level("silver", 5, points=10), metric="category_purchases", qualifier="shoes"),
        "admin",
        201,
    ),
    ("POST", "/api/v1/admin/badges", badge(metric="tier", qualifier="vip", target=1, is_hidden=True), "admin", 201),
    ("PATCH", "/api/v1/admin/badges/reviewer", {"levels": [level("bronze", 3), level("silver", 4)]}, "admin", 200),
    ("POST", "/api/v1/members/{member_id}/challenges/discover_store/join", None, "admin", 201),
    (
        "POST",
        "/api/v1/admin/challenges",
        challenge(step(kind="purchase", action=None, category="shoes"), is_ordered=True, reward_code="WHEEL-COFFEE"),
        "admin",
        201,
    ),
    ("PATCH", "/api/v1/admin/challenges/discover_store", {"ends_at": None, "reward_badge_code": "first_review"}, "admin", 200),
    ("POST", "/api/v1/admin/streaks", streak(), "admin", 201),
    ("PATCH", "/api/v1/admin/streaks/weekly_activity", {"actions": ["share"], "counts_purchases": True}, "admin", 200),
    ("PUT", "/api/v1/admin/engagement-score", score_settings(half_life_days=7.5), "admin", 200),
    ("POST", "/api/v1/admin/scenarios", scenario(), "admin", 201),
    ("PATCH", "/api/v1/admin/scenarios/near_threshold", {"description": "", "is_marketing": False}, "admin", 200),
    ("PUT", "/api/v1/admin/templates/welcome", bilingual_note(html=""), "admin", 200),
    ("PUT", "/api/v1/admin/templates/welcome_back", template(), "admin", 201),
    ("PUT", "/api/v1/admin/marketing", pressure(cap_messages=0, quiet_start="00:00", quiet_end="23:59"), "admin", 200),
    ("POST", "/api/v1/admin/blackouts", blackout(), "admin", 201),
    ("POST", "/api/v1/members/{member_id}/complaints", {"subject": "Late", "note": "Two weeks late"}, "admin", 201),
    ("GET", "/api/v1/admin/messages", {"status": "dead", "limit": 200, "before": 1}, "admin", 200),
    ("POST", "/api/v1/admin/messages/{dead_message_id}/redrive", None, "admin", 200),
    ("POST", "/api/v1/me/inbox/{inbox_message_id}/read", None, "member", 200),
    ("POST", "/api/v1/me/push-subscriptions", web_push(), "member", 201),
    ("POST", "/api/v1/me/push-subscriptions", {"kind": "device", "token": "t-1"}, "member", 201),
]


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


#: Built through the API by the first test, restored from its snapshot for the others.
_world: Reused[World] = Reused()
WORLD_FIXTURES = ("app", "client", "admin", "till", "make_member", "make_purchase", "login", "sessions", "clock")


@pytest.fixture
def world(request: pytest.FixtureRequest, app: Flask) -> World:
    def build() -> World:
        built = build_world(*(request.getfixturevalue(name) for name in WORLD_FIXTURES))
        request.getfixturevalue("caught_up")()  # the derived rows (the member's game play) in the snapshot
        return built

    return _world.get(app, build)


def build_world(app, client, admin, till, make_member, make_purchase, login, sessions, clock) -> World:  # fmt: skip
    member, other = make_member(), make_member()
    receipt = make_purchase(member_id=member["id"], lines=[{"sku": "SHOE-42", "quantity": 1, "unit_price": "45.90"}])
    with session_scope(sessions) as session:
        service = create_client(session, name="crm", role="service", store_code=None, now=clock.now())
    vouchers = member_vouchers(client, admin, member["id"])
    use = {"store_code": "S1", "receipt_no": "R-0"}
    used = client.post(f"/api/v1/vouchers/{vouchers[1]}/redeem", json=use, headers=till)
    assert used.status_code == 201, used.json
    # The other member reaches the VIP tier, which queues a card; it is printed already.
    make_purchase(member_id=other["id"], total="150.00", lines=[])
    card_id = client.get("/api/v1/admin/card-issuances", headers=admin).json[0]["id"]
    printed = client.patch(f"/api/v1/admin/card-issuances/{card_id}", json={"status": "printed"}, headers=admin)
    assert printed.status_code == 200, printed.json
    # A challenge of October, over.
    over = challenge(code="OVER", starts_at="2026-10-01T00:00:00+02:00", ends_at="2026-11-01T00:00:00+01:00")
    assert client.post("/api/v1/admin/challenges", json=over, headers=admin).status_code == 201
    return World(
        callers={"anonymous": {}, "admin": admin, "till": till, "member": login(member)},
        values={
            "member_id": member["id"],
            "member_email": member["email"],
            "member_credentials": {"email": member["email"], "password": "correct-horse"},
            "card_number": member["card_number"],
            "member_receipt": receipt["receipt_no"],
            "purchase_id": receipt["id"],
            "other_member_id": other["id"],
            "other_member_email": other["email"],
            "member_with_other_card": {"member_id": member["id"], "card_number": other["card_number"]},
            "rule_id": client.get("/api/v1/admin/earning-rules", headers=admin).json[0]["id"],
            "anonymous_receipt": make_purchase()["receipt_no"],
            "client_credentials": {"client_id": service.client_id, "client_secret": service.client_secret},
            "voucher": vouchers[0],
            "used_voucher": vouchers[1],
            "unknown_voucher": "AAAA-BBBB-CCCC-DDDD",
            "card_id": card_id,
            **message_world(sessions, app.extensions["loyalty.runtime"], member["id"], now=clock.now()),
        },
    )


def member_vouchers(client: FlaskClient, admin: Headers, member_id: int) -> list[str]:
    """Two vouchers of the member, for the free reward ``COFFEE``, which is then out of stock."""
    coffee = {"code": "COFFEE", "name": "A coffee", "kind": "gift", "cost_points": 0, "stock": 2, "validity_days": 30}
    created = client.post("/api/v1/admin/rewards", json=coffee, headers=admin)
    assert created.status_code == 201, created.json
    codes = []
    for _ in range(2):
        redeemed = client.post(
            f"/api/v1/members/{member_id}/redemptions", json={"reward_code": "COFFEE"}, headers=admin
        )
        assert redeemed.status_code == 201, redeemed.json
        codes.append(redeemed.json["code"])
    return codes


def send(client: FlaskClient, world: World, method: str, path: str, body: Body, headers: Headers) -> TestResponse:
    """Make the call; the body of a GET is its query string."""
    if callable(body):
        body = body(world)
    url = path.format(**world.values)
    if method == "GET":
        return client.get(url, query_string=body, headers=headers)
    if isinstance(body, Raw):
        return client.open(url, method=method, data=body.text, content_type="application/json", headers=headers)
    return client.open(url, method=method, json=body, headers=headers)


def database_rows(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary key order: what "nothing changed" compares."""
    with session_scope(sessions) as session:
        return {
            table.name: [tuple(row) for row in session.execute(select(table).order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables
        }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_answered_with_a_problem_and_changes_nothing(client, world, sessions, case: Case) -> None:
    before = database_rows(sessions)
    headers = {**world.callers[case.caller], **case.headers}
    response = send(client, world, case.method, case.path, case.body, headers)

    assert response.status_code == case.status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["status"] == case.status
    assert all(isinstance(problem[key], str) and problem[key] for key in ("type", "title", "detail"))
    if case.status == 422:
        assert case.field is not None, "a 422 case must say which field it breaks"
    if case.field is not None:
        assert case.field in [param["name"] for param in problem["invalid_params"]]
    if case.status == 404 and case.field is not None:
        assert {param["in"] for param in problem["invalid_params"]} == {"path"}
    if case.status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert database_rows(sessions) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "caller", "status"), VALID, ids=[f"{method} {path}" for method, path, *_ in VALID]
)
def test_the_bodies_the_cases_start_from_are_accepted(client, world, method, path, body, caller, status) -> None:
    response = send(client, world, method, path, body, world.callers[caller])
    assert response.status_code == status, response.get_data(as_text=True)
