"""Who may call what: every route, called by every kind of caller, with real tokens.

:data:`TABLE` is the table of ``docs/authorization.md``, row for row (a test keeps them equal), and
every route of the API must have a row. Each cell is the status the call answers: the success status
when the caller is allowed (the bodies are valid, so an allowed call succeeds), else 401, 403 or 404.
The data belongs to the ``member`` caller and to store ``S1``, the ``till`` caller's store. The module
runs on the shipped default program, whose rewards, tiers and engagement actions the rows act on.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from app.auth.clients import create_client, disable_client
from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from loyalty.errors import NotFound
from loyalty.members.models import Member
from notifications.webhooks.models import WebhookDelivery
from tests.api.scenario_engine import bilingual_note, message_world
from tests.builders import member_body, purchase_body
from tests.conftest import DEFAULT_PROGRAM
from tests.snapshots import Reused

Headers = dict[str, str]

DOC = Path(__file__).parents[2] / "docs" / "authorization.md"
#: The callers, in the order of the table's columns.
CALLERS = ("anonymous", "admin", "service", "till", "till_other_store", "member", "other_member")


@dataclass(frozen=True)
class World:
    """The callers' bearer headers and the data the table's calls act on."""

    callers: dict[str, Headers]
    #: The ``member`` caller, as the API returns it.
    member: dict[str, Any]
    #: Path and query values: member_id, purchase_id (the member's, at S1), rule_id, card_number, code
    #: (a voucher of the member's), reward_code, key (an engagement action), card_id (a card issuance),
    #: quiz_code (a quiz to answer), answered_quiz_code (one the member answered), game_code, board_key,
    #: badge_code (a badge nobody earned), challenge_code (an opt-in one), streak_code (nobody ran it).
    values: dict[str, Any]
    client_credentials: dict[str, str]
    #: A receipt of store S1 recorded without a member, open to claims.
    anonymous_receipt: str


Body = Callable[[World], Any]


@dataclass(frozen=True)
class Row:
    method: str
    #: The OpenAPI path, with ``{placeholders}`` filled from :attr:`World.values`.
    path: str
    expected: dict[str, int]
    body: Body | None = None
    #: Placeholders filled from a world value of another name: ``{"code": "reward_code"}``.
    aliases: dict[str, str] = field(default_factory=dict)

    def url(self, world: World) -> str:
        aliased = {placeholder: world.values[name] for placeholder, name in self.aliases.items()}
        return self.path.format(**{**world.values, **aliased})


def expect(
    *,
    anonymous: int = 401,
    admin: int,
    service: int,
    till: int,
    member: int,
    till_other_store: int | None = None,
    other_member: int | None = None,
) -> dict[str, int]:
    """One row's statuses; a till of another store and another member answer as the first by default."""
    return {
        "anonymous": anonymous,
        "admin": admin,
        "service": service,
        "till": till,
        "till_other_store": till if till_other_store is None else till_other_store,
        "member": member,
        "other_member": member if other_member is None else other_member,
    }


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


def admin_only(status: int) -> dict[str, int]:
    return expect(admin=status, service=403, till=403, member=403)


def members_data(status: int) -> dict[str, int]:
    """A member's own data: clients other than tills, and the member themselves."""
    return expect(admin=status, service=status, till=403, member=status, other_member=403)


def engagement(world: World, action: str) -> dict[str, Any]:
    """The ``member`` caller did ``action`` half an hour ago."""
    return {
        "member_id": world.member["id"],
        "action": action,
        "ref": f"{action}-1",
        "occurred_at": "2026-11-22T09:30:00+00:00",
    }


def poll(code: str) -> dict[str, Any]:
    """A one-question quiz."""
    choices = [{"id": "yes", "text": "Yes"}, {"id": "no", "text": "No"}]
    question = {"text": "Do you like the new shop?", "choices": choices, "correct": ["yes"]}
    return {"code": code, "title": "A poll", "points_per_correct": 5, "questions": [question]}


def quest(code: str) -> dict[str, Any]:
    """An opt-in challenge of a week: two shares."""
    steps = [{"kind": "engagement", "action": "share", "count": 2}]
    window = {"starts_at": "2026-11-20T00:00:00+00:00", "ends_at": "2026-11-27T00:00:00+00:00"}
    return {"code": code, "name": "A quest", **window, "requires_join": True, "steps": steps, "reward_points": 10}


def ladder(w: World) -> dict[str, Any]:
    """The default program's ladder, with a gold tier on top."""
    return {
        "tiers": [
            {"code": "member", "name": "Member", "rank": 0, "threshold": 0},
            {"code": "vip", "name": "VIP", "rank": 1, "threshold": 100, "multiplier": "1.5", "has_card": True},
            {"code": "gold", "name": "Gold", "rank": 2, "threshold": 1000, "multiplier": "2"},
        ]
    }


TABLE: list[Row] = [
    Row("GET", "/api/v1/openapi.json", everyone(200)),
    Row("POST", "/api/v1/auth/token", everyone(200), body=lambda w: w.client_credentials),
    Row(
        "POST",
        "/api/v1/auth/login",
        everyone(200),
        body=lambda w: {"email": w.member["email"], "password": "correct-horse"},
    ),
    # Only a member's refresh token is accepted; every access token is refused.
    Row("POST", "/api/v1/auth/refresh", expect(admin=401, service=401, till=401, member=401)),
    # Client tokens cannot be logged out: they expire.
    Row("POST", "/api/v1/auth/logout", expect(admin=400, service=400, till=400, member=204)),
    Row("GET", "/api/v1/me", expect(admin=403, service=403, till=403, member=200)),
    Row("POST", "/api/v1/members", expect(admin=201, service=201, till=201, member=403), body=lambda w: member_body()),
    Row("GET", "/api/v1/members/{member_id}", expect(admin=200, service=200, till=200, member=200, other_member=403)),
    Row(
        "PATCH",
        "/api/v1/members/{member_id}",
        expect(admin=200, service=200, till=403, member=200, other_member=403),
        body=lambda w: {"first_name": "Paula"},
    ),
    Row(
        "GET",
        "/api/v1/members/lookup?card_number={card_number}",
        expect(admin=200, service=200, till=200, member=403),
    ),
    Row(
        "GET",
        "/api/v1/members/{member_id}/ledger",
        expect(admin=200, service=200, till=403, member=200, other_member=403),
    ),
    Row(
        "POST",
        "/api/v1/members/{member_id}/adjustments",
        admin_only(201),
        body=lambda w: {"points": 10, "reason": "goodwill gesture"},
    ),
    Row(
        "POST",
        "/api/v1/members/{member_id}/claims",
        expect(admin=201, service=201, till=201, till_other_store=403, member=201, other_member=403),
        body=lambda w: {"store_code": "S1", "receipt_no": w.anonymous_receipt},
    ),
    Row(
        "POST",
        "/api/v1/purchases",
        expect(admin=201, service=201, till=201, till_other_store=403, member=403),
        body=lambda w: purchase_body(member_id=w.member["id"]),
    ),
    # A member is told a purchase of someone else does not exist.
    Row(
        "GET",
        "/api/v1/purchases/{purchase_id}",
        expect(admin=200, service=200, till=200, till_other_store=403, member=200, other_member=404),
    ),
    Row(
        "POST",
        "/api/v1/purchases/{purchase_id}/returns",
        expect(admin=201, service=201, till=201, till_other_store=403, member=403),
        body=lambda w: {"return_no": "RET-1", "amount": "10.00"},
    ),
    # A till reads a member's status as it reads the member: it scans cards at the counter.
    Row(
        "GET",
        "/api/v1/members/{member_id}/status",
        expect(admin=200, service=200, till=200, member=200, other_member=403),
    ),
    Row("GET", "/api/v1/me/status", expect(admin=403, service=403, till=403, member=200)),
    # A member reports only self-reportable actions (``share`` is one), and only for themselves.
    Row(
        "POST",
        "/api/v1/engagements",
        expect(admin=201, service=201, till=403, member=201, other_member=403),
        body=lambda w: engagement(w, "share"),
    ),
    Row("GET", "/api/v1/members/{member_id}/engagements", members_data(200)),
    Row("GET", "/api/v1/members/{member_id}/referrals", members_data(200)),
    Row("GET", "/api/v1/members/{member_id}/tier-history", members_data(200)),
    Row("GET", "/api/v1/rewards", expect(admin=200, service=200, till=200, member=200)),
    Row(
        "POST",
        "/api/v1/members/{member_id}/redemptions",
        members_data(201),
        body=lambda w: {"reward_code": "FREESHIP"},
    ),
    Row("GET", "/api/v1/members/{member_id}/vouchers", members_data(200)),
    # A member is told a voucher of someone else does not exist; any till may check a voucher.
    Row("GET", "/api/v1/vouchers/{code}", expect(admin=200, service=200, till=200, member=200, other_member=404)),
    Row(
        "POST",
        "/api/v1/vouchers/{code}/redeem",
        expect(admin=201, service=201, till=201, till_other_store=403, member=403),
        body=lambda w: {"store_code": "S1", "receipt_no": "R-VOUCHER-1"},
    ),
    Row(
        "POST",
        "/api/v1/vouchers/{code}/cancel",
        expect(admin=200, service=200, till=403, member=200, other_member=404),
    ),
    Row("GET", "/api/v1/admin/program", admin_only(200)),
    Row("PATCH", "/api/v1/admin/program", admin_only(200), body=lambda w: {"name": "Renamed program"}),
    Row("GET", "/api/v1/admin/translations/missing", admin_only(200)),
    Row("GET", "/api/v1/admin/earning-rules", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/earning-rules",
        admin_only(201),
        body=lambda w: {"kind": "category", "name": "Shoes x1.5", "category": "shoes", "multiplier": "1.5"},
    ),
    Row("PATCH", "/api/v1/admin/earning-rules/{rule_id}", admin_only(200), body=lambda w: {"is_active": False}),
    Row("DELETE", "/api/v1/admin/earning-rules/{rule_id}", admin_only(204)),
    Row("GET", "/api/v1/admin/rewards", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/rewards",
        admin_only(201),
        body=lambda w: {
            "code": "VOUCHER50",
            "name": "50 € voucher",
            "kind": "fixed_voucher",
            "amount": "50.00",
            "cost_points": 500,
            "validity_days": 90,
        },
    ),
    Row(
        "PATCH",
        "/api/v1/admin/rewards/{code}",
        admin_only(200),
        body=lambda w: {"stock": 10},
        aliases={"code": "reward_code"},
    ),
    Row("GET", "/api/v1/admin/thresholds", admin_only(200)),
    Row(
        "PUT",
        "/api/v1/admin/thresholds",
        admin_only(200),
        body=lambda w: {"thresholds": [{"points": 200, "reward_code": "VOUCHER20"}]},
    ),
    Row("GET", "/api/v1/admin/tiers", admin_only(200)),
    Row("PUT", "/api/v1/admin/tiers", admin_only(200), body=ladder),
    Row("GET", "/api/v1/admin/engagement-actions", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/engagement-actions",
        admin_only(201),
        body=lambda w: {"key": "photo_posted", "name": "Photo posted", "points": 5},
    ),
    Row("PATCH", "/api/v1/admin/engagement-actions/{key}", admin_only(200), body=lambda w: {"points": 7}),
    # The brand's systems post custom events; members and tills do not.
    Row(
        "POST",
        "/api/v1/events",
        expect(admin=201, service=201, till=403, member=403),
        body=lambda w: {
            "member_id": w.member["id"],
            "type": w.values["event_type"],
            "ref": "signup-1",
            "occurred_at": "2026-11-22T09:30:00+00:00",
            "properties": {"list": "weekly"},
        },
    ),
    Row("GET", "/api/v1/admin/event-types", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/event-types",
        admin_only(201),
        body=lambda w: {"key": "store_event_attended", "name": "Store event attended", "schema": {"type": "object"}},
    ),
    Row(
        "PATCH",
        "/api/v1/admin/event-types/{key}",
        admin_only(200),
        body=lambda w: {"name": "Newsletter"},
        aliases={"key": "event_type"},
    ),
    Row("GET", "/api/v1/members/{member_id}/export", expect(admin=200, service=403, till=403, member=200, other_member=403)),
    Row("POST", "/api/v1/members/{member_id}/erase", admin_only(201)),
    Row("GET", "/api/v1/admin/exports/{dataset}", admin_only(200), aliases={"dataset": "dataset"}),
    Row("POST", "/api/v1/admin/postal-batches", admin_only(200)),
    Row("GET", "/api/v1/admin/segments", admin_only(200)),
    Row("POST", "/api/v1/admin/imports?kind=members", admin_only(202), body=lambda w: "email\nnew@example.com\n"),
    Row("GET", "/api/v1/admin/imports/{import_id}", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/segments",
        admin_only(201),
        body=lambda w: {"key": "lapsed", "name": "Lapsed", "definition": {"last_purchase": {"not_within_days": 90}}},
    ),
    Row("GET", "/api/v1/admin/segments/{key}", admin_only(200), aliases={"key": "segment"}),
    Row("PATCH", "/api/v1/admin/segments/{key}", admin_only(200), body=lambda w: {"name": "VIPs"}, aliases={"key": "segment"}),
    Row("GET", "/api/v1/admin/segments/{key}/count", admin_only(200), aliases={"key": "segment"}),
    Row("GET", "/api/v1/admin/segments/{key}/members", admin_only(200), aliases={"key": "segment"}),
    Row("GET", "/api/v1/admin/segments/{key}/members.csv", admin_only(200), aliases={"key": "segment"}),
    Row(
        "POST",
        "/api/v1/admin/segments/{key}/awards",
        admin_only(201),
        body=lambda w: {"ref": "xmas", "points": 20, "reason": "Christmas gift"},
        aliases={"key": "segment"},
    ),
    Row("GET", "/api/v1/admin/card-issuances", admin_only(200)),
    Row("GET", "/api/v1/admin/card-issuances.csv", admin_only(200)),
    Row("PATCH", "/api/v1/admin/card-issuances/{card_id}", admin_only(200), body=lambda w: {"status": "printed"}),
    Row("GET", "/api/v1/admin/outbox/consumers", admin_only(200)),
    Row("GET", "/api/v1/admin/outbox/dead-letters", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/webhooks",
        admin_only(201),
        body=lambda w: {"url": "https://127.0.0.1:8443/hooks", "event_types": ["PointsEarned"]},
    ),
    Row("GET", "/api/v1/admin/webhooks", admin_only(200)),
    Row("GET", "/api/v1/admin/webhooks/{subscription_id}", admin_only(200)),
    Row("PATCH", "/api/v1/admin/webhooks/{subscription_id}", admin_only(200), body=lambda w: {"is_active": False}),
    Row("DELETE", "/api/v1/admin/webhooks/{subscription_id}", admin_only(204)),
    Row("POST", "/api/v1/admin/webhooks/{subscription_id}/rotate-secret", admin_only(200)),
    Row("GET", "/api/v1/admin/webhooks/{subscription_id}/deliveries", admin_only(200)),
    Row("POST", "/api/v1/admin/webhooks/{subscription_id}/deliveries/{delivery_id}/redrive", admin_only(200)),
    Row("POST", "/api/v1/admin/webhooks/{subscription_id}/redrive", admin_only(200)),
    # Quizzes: members read them without the right choices; a member answers and reads their own answers.
    Row("GET", "/api/v1/quizzes", expect(admin=200, service=200, till=403, member=200)),
    Row("GET", "/api/v1/quizzes/{code}", expect(admin=200, service=200, till=403, member=200), aliases={"code": "quiz_code"}),
    Row(
        "POST",
        "/api/v1/members/{member_id}/quizzes/{code}/answers",
        members_data(201),
        body=lambda w: {"answers": [{"question": 1, "choices": ["yes"]}]},
        aliases={"code": "quiz_code"},
    ),
    Row(
        "GET",
        "/api/v1/members/{member_id}/quizzes/{code}/answers",
        members_data(200),
        aliases={"code": "answered_quiz_code"},
    ),
    Row("GET", "/api/v1/admin/quizzes", admin_only(200)),
    Row("POST", "/api/v1/admin/quizzes", admin_only(201), body=lambda w: poll("SURVEY")),
    Row(
        "PATCH",
        "/api/v1/admin/quizzes/{code}",
        admin_only(200),
        body=lambda w: {"title": "Our brand"},
        aliases={"code": "quiz_code"},
    ),
    # Games: the member's plays (their purchase earned one spin of the wheel), the back office's audit.
    Row("GET", "/api/v1/members/{member_id}/games", members_data(200)),
    Row("POST", "/api/v1/members/{member_id}/games/{code}/plays", members_data(201), aliases={"code": "game_code"}),
    Row("GET", "/api/v1/admin/games", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/games",
        admin_only(201),
        body=lambda w: {
            "code": "SCRATCH",
            "kind": "scratch",
            "name": "Scratch card",
            "earn_on": "purchase",
            "no_prize_weight": 9,
            "prizes": [{"code": "P5", "name": "5 points", "kind": "points", "points": 5, "weight": 1}],
        },
    ),
    Row(
        "PATCH",
        "/api/v1/admin/games/{code}",
        admin_only(200),
        body=lambda w: {"no_prize_weight": 40},
        aliases={"code": "game_code"},
    ),
    Row("GET", "/api/v1/admin/games/{code}/plays", admin_only(200), aliases={"code": "game_code"}),
    # Leaderboards: any caller reads them (a store's screen too); a member sets their own profile.
    Row("GET", "/api/v1/leaderboards", expect(admin=200, service=200, till=200, member=200)),
    Row(
        "GET",
        "/api/v1/leaderboards/{key}",
        expect(admin=200, service=200, till=200, member=200),
        aliases={"key": "board_key"},
    ),
    Row("GET", "/api/v1/members/{member_id}/leaderboard-profile", members_data(200)),
    Row(
        "PUT",
        "/api/v1/members/{member_id}/leaderboard-profile",
        members_data(200),
        body=lambda w: {"display_name": "Jean D", "opted_in": True},
    ),
    Row("GET", "/api/v1/admin/leaderboards", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/leaderboards",
        admin_only(201),
        body=lambda w: {"key": "weekly", "name": "This week", "periods": ["week"], "scope": "all"},
    ),
    Row(
        "PATCH",
        "/api/v1/admin/leaderboards/{key}",
        admin_only(200),
        body=lambda w: {"name": "Best of the month"},
        aliases={"key": "board_key"},
    ),
    Row("DELETE", "/api/v1/admin/leaderboards/{key}", admin_only(204), aliases={"key": "board_key"}),
    # Badges, challenges, streaks: any caller reads the badge catalog and the challenges (a hidden badge
    # only by the member who earned it); a member reads, and joins, for themselves.
    Row("GET", "/api/v1/badges", expect(admin=200, service=200, till=200, member=200)),
    Row("GET", "/api/v1/members/{member_id}/badges", members_data(200)),
    Row("GET", "/api/v1/admin/badges", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/badges",
        admin_only(201),
        body=lambda w: {"code": "sharer", "name": "Sharer", "metric": "shares", "target": 10},
    ),
    Row(
        "PATCH",
        "/api/v1/admin/badges/{code}",
        admin_only(200),
        body=lambda w: {"is_hidden": True},
        aliases={"code": "badge_code"},
    ),
    Row("DELETE", "/api/v1/admin/badges/{code}", admin_only(204), aliases={"code": "badge_code"}),
    Row("GET", "/api/v1/challenges", expect(admin=200, service=200, till=200, member=200)),
    Row("GET", "/api/v1/members/{member_id}/challenges", members_data(200)),
    Row(
        "POST",
        "/api/v1/members/{member_id}/challenges/{code}/join",
        members_data(201),
        aliases={"code": "challenge_code"},
    ),
    Row("GET", "/api/v1/admin/challenges", admin_only(200)),
    Row("POST", "/api/v1/admin/challenges", admin_only(201), body=lambda w: quest("WINTER")),
    Row(
        "PATCH",
        "/api/v1/admin/challenges/{code}",
        admin_only(200),
        body=lambda w: {"reward_points": 20},
        aliases={"code": "challenge_code"},
    ),
    Row("DELETE", "/api/v1/admin/challenges/{code}", admin_only(204), aliases={"code": "challenge_code"}),
    Row("GET", "/api/v1/members/{member_id}/streaks", members_data(200)),
    Row("GET", "/api/v1/admin/streaks", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/streaks",
        admin_only(201),
        body=lambda w: {"code": "weekly_shopping", "name": "Shopping every week", "period": "week"},
    ),
    Row(
        "PATCH",
        "/api/v1/admin/streaks/{code}",
        admin_only(200),
        body=lambda w: {"name": "Every single day"},
        aliases={"code": "streak_code"},
    ),
    Row("DELETE", "/api/v1/admin/streaks/{code}", admin_only(204), aliases={"code": "streak_code"}),
    Row("GET", "/api/v1/admin/engagement-score", admin_only(200)),
    Row(
        "PUT",
        "/api/v1/admin/engagement-score",
        admin_only(200),
        body=lambda w: {"half_life_days": 60, "weights": {"purchase": 10}, "engaged_from": 20, "at_risk_from": 5},
    ),
    # Scenarios, templates, marketing pressure, messages (the member's inbox and push subscriptions).
    Row("GET", "/api/v1/admin/scenarios", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/scenarios",
        admin_only(201),
        body=lambda w: {
            "key": "upgrade_sms",
            "name": "Tier upgrade by SMS",
            "definition": {
                "trigger": {"event": "TierUpgraded"},
                "steps": [{"id": "sms", "send": "tier_upgrade", "channels": ["sms"]}],
            },
        },
    ),
    Row("GET", "/api/v1/admin/scenarios/kpis", admin_only(200)),
    Row("GET", "/api/v1/admin/scenarios/{key}", admin_only(200), aliases={"key": "scenario_key"}),
    Row(
        "PATCH",
        "/api/v1/admin/scenarios/{key}",
        admin_only(200),
        body=lambda w: {"name": "Close to a threshold"},
        aliases={"key": "scenario_key"},
    ),
    Row("POST", "/api/v1/admin/scenarios/{key}/activate", admin_only(200), aliases={"key": "scenario_key"}),
    Row("POST", "/api/v1/admin/scenarios/{key}/pause", admin_only(200), aliases={"key": "scenario_key"}),
    Row("GET", "/api/v1/admin/scenarios/{key}/versions", admin_only(200), aliases={"key": "scenario_key"}),
    Row("GET", "/api/v1/admin/scenarios/{key}/kpis", admin_only(200), aliases={"key": "scenario_key"}),
    Row("GET", "/api/v1/admin/templates", admin_only(200)),
    Row("GET", "/api/v1/admin/templates/{key}", admin_only(200), aliases={"key": "template_key"}),
    Row("PUT", "/api/v1/admin/templates/{key}", admin_only(200), body=lambda w: bilingual_note(), aliases={"key": "template_key"}),
    Row("GET", "/api/v1/admin/marketing", admin_only(200)),
    Row(
        "PUT",
        "/api/v1/admin/marketing",
        admin_only(200),
        body=lambda w: {
            "cap_messages": 2,
            "cap_days": 7,
            "quiet_start": "22:00",
            "quiet_end": "08:00",
            "max_attempts": 5,
        },
    ),
    Row("GET", "/api/v1/admin/blackouts", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/blackouts",
        admin_only(201),
        body=lambda w: {
            "name": "Sales",
            "starts_at": "2027-01-08T00:00:00+01:00",
            "ends_at": "2027-02-05T00:00:00+01:00",
        },
    ),
    Row("DELETE", "/api/v1/admin/blackouts/{blackout_id}", admin_only(204)),
    Row(
        "POST",
        "/api/v1/members/{member_id}/complaints",
        expect(admin=201, service=201, till=403, member=403),
        body=lambda w: {"subject": "Damaged parcel"},
    ),
    Row("GET", "/api/v1/members/{member_id}/complaints", expect(admin=200, service=200, till=403, member=403)),
    Row("POST", "/api/v1/admin/complaints/{complaint_id}/close", admin_only(200)),
    Row("GET", "/api/v1/admin/messages", admin_only(200)),
    Row(
        "POST",
        "/api/v1/admin/messages/{message_id}/redrive",
        admin_only(200),
        aliases={"message_id": "dead_message_id"},
    ),
    Row("GET", "/api/v1/members/{member_id}/messages", expect(admin=200, service=200, till=403, member=403)),
    # A member's inbox is their own: another member is told a message of someone else does not exist.
    Row("GET", "/api/v1/me/inbox", expect(admin=403, service=403, till=403, member=200)),
    Row(
        "POST",
        "/api/v1/me/inbox/{message_id}/read",
        expect(admin=403, service=403, till=403, member=200, other_member=404),
        aliases={"message_id": "inbox_message_id"},
    ),
    Row(
        "POST",
        "/api/v1/me/messages/{message_id}/opened",
        expect(admin=403, service=403, till=403, member=200, other_member=404),
        aliases={"message_id": "sent_message_id"},
    ),
    Row(
        "POST",
        "/api/v1/me/push-subscriptions",
        expect(admin=403, service=403, till=403, member=201),
        body=lambda w: {"kind": "device", "token": "device-token-2"},
    ),
    Row(
        "DELETE",
        "/api/v1/me/push-subscriptions/{subscription_id}",
        expect(admin=403, service=403, till=403, member=204, other_member=404),
    ),
    # Providers authenticate with the webhook secret, not a token: without it, everyone is refused.
    Row(
        "POST",
        "/api/v1/webhooks/{channel}",
        everyone(403),
        body=lambda w: {"provider_ref": "ref-1", "status": "delivered"},
    ),
]



@pytest.fixture
def client(caught_up_client: FlaskClient) -> FlaskClient:
    """Requests read the derived figures once the outbox consumers have caught up."""
    return caught_up_client

@pytest.fixture
def register_client(sessions: sessionmaker[Session], clock: FrozenClock) -> Callable[..., dict[str, str]]:
    """``register_client("crm", "service")``: create (or, with ``replace``, re-key) an API client; its
    id and secret."""

    def register(name: str, role: str, *, replace: bool = False) -> dict[str, str]:
        with session_scope(sessions) as session:
            created = create_client(session, name=name, role=role, store_code=None, now=clock.now(), replace=replace)
        return {"client_id": created.client_id, "client_secret": created.client_secret}

    return register


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


#: Built through the API by the first test, restored from its snapshot for the others.
#: Its member tokens last LOYALTY_MEMBER_ACCESS_MINUTES (15): built again after 10 minutes.
_world: Reused[World] = Reused(max_age_s=600)


@pytest.fixture
def world(request: pytest.FixtureRequest, app: Flask) -> World:
    return _world.get(app, lambda: build_world(*(request.getfixturevalue(name) for name in WORLD_FIXTURES)))


WORLD_FIXTURES = (
    "app", "sessions", "clock", "client", "client_headers", "admin", "service", "till", "make_member",
    "make_purchase", "login", "register_client",
)  # fmt: skip


def build_world(
    app, sessions, clock, client, client_headers, admin, service, till, make_member, make_purchase, login,
    register_client,
) -> World:  # fmt: skip
    member, other = make_member(), make_member()
    purchase = make_purchase(member_id=member["id"])
    rules = client.get("/api/v1/admin/earning-rules", headers=admin).json
    # Points for the member's voucher and for the redemption a row makes.
    grant = client.post(
        f"/api/v1/members/{member['id']}/adjustments", json={"points": 500, "reason": "welcome gift"}, headers=admin
    )
    assert grant.status_code == 201, grant.json
    redemption = {"reward_code": "VOUCHER20"}
    voucher = client.post(f"/api/v1/members/{member['id']}/redemptions", json=redemption, headers=admin)
    assert voucher.status_code == 201, voucher.json
    # The other member reaches the VIP tier, which queues a card to print.
    make_purchase(member_id=other["id"], total="150.00", lines=[])
    cards = client.get("/api/v1/admin/card-issuances", headers=admin).json
    # The member answered the default program's quiz; the poll waits for their answer.
    assert client.post("/api/v1/admin/quizzes", json=poll("POLL"), headers=admin).status_code == 201
    answers = [{"question": 1, "choices": ["b"]}, {"question": 2, "choices": ["a"]}, {"question": 3, "choices": ["b"]}]
    answered = client.post(
        f"/api/v1/members/{member['id']}/quizzes/BRAND-QUIZ/answers", json={"answers": answers}, headers=admin
    )
    assert answered.status_code == 201, answered.json
    # An opt-in challenge and a daily streak nobody has a part in yet (the member's purchase started
    # the default program's weekly streak and its discovery challenge).
    assert client.post("/api/v1/admin/challenges", json=quest("QUEST"), headers=admin).status_code == 201
    daily = {"code": "daily", "name": "Every day", "period": "day", "counts_purchases": False, "actions": ["share"]}
    assert client.post("/api/v1/admin/streaks", json=daily, headers=admin).status_code == 201
    newsletter = {"key": "newsletter_subscribed", "name": "Newsletter subscribed", "schema": {"type": "object"}}
    assert client.post("/api/v1/admin/event-types", json=newsletter, headers=admin).status_code == 201
    queued = client.post("/api/v1/admin/imports?kind=adjustments", data="ref,points\n", headers=admin)
    assert queued.status_code == 202, queued.json
    vips = {"key": "vips", "name": "VIP members", "definition": {"tier": ["vip"]}}
    assert client.post("/api/v1/admin/segments", json=vips, headers=admin).status_code == 201
    return World(
        callers={
            "anonymous": {},
            "admin": admin,
            "service": service,
            "till": till,
            "till_other_store": client_headers("till", store="S2"),
            "member": login(member),
            "other_member": login(other),
        },
        member=member,
        values={
            "member_id": member["id"],
            "purchase_id": purchase["id"],
            "rule_id": rules[0]["id"],
            "card_number": member["card_number"],
            "code": voucher.json["code"],
            "reward_code": "VOUCHER10",
            "key": "review_posted",
            "card_id": cards[0]["id"],
            "quiz_code": "POLL",
            "answered_quiz_code": "BRAND-QUIZ",
            "game_code": "WHEEL",
            "board_key": "monthly-points",
            "badge_code": "four_weeks",
            "challenge_code": "QUEST",
            "streak_code": "daily",
            "event_type": "newsletter_subscribed",
            "segment": "vips",
            "dataset": "members",
            "import_id": queued.json["id"],
            "scenario_key": "near_threshold",
            "template_key": "welcome",
            "channel": "email",
            **webhook_world(client, admin, sessions, now=clock.now()),
            **message_world(sessions, app.extensions["loyalty.runtime"], member["id"], now=clock.now()),
        },
        client_credentials=register_client("crm", "service"),
        anonymous_receipt=make_purchase()["receipt_no"],
    )


def webhook_world(client: FlaskClient, admin: Headers, sessions: sessionmaker[Session], *, now: datetime) -> dict[str, int]:
    """A webhook subscription with a delivery given up (a dead letter to redrive)."""
    created = client.post(
        "/api/v1/admin/webhooks", json={"url": "http://127.0.0.1:9/hooks", "event_types": ["*"]}, headers=admin
    )
    assert created.status_code == 201, created.json
    with session_scope(sessions) as session:
        dead = WebhookDelivery(
            subscription_id=created.json["id"], event_id=1, event_type="MemberEnrolled", member_id=None,
            occurred_at=now, data={}, status="dead", attempts=10, created_at=now,
        )  # fmt: skip
        session.add(dead)
        session.flush()
        return {"subscription_id": created.json["id"], "delivery_id": dead.id}


def call(client: FlaskClient, world: World, row: Row, headers: Headers) -> TestResponse:
    body = row.body(world) if row.body else None
    return client.open(row.url(world), method=row.method, json=body, headers=headers)


def assert_problem(response: TestResponse, status: int) -> None:
    """An ``application/problem+json`` answer; a 401 also challenges for a bearer token."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["status"] == status
    assert all(isinstance(problem[key], str) and problem[key] for key in ("type", "title", "detail"))
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def openapi_path(rule: str) -> str:
    """``/members/<id:member_id>`` as OpenAPI writes it: ``/members/{member_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@pytest.mark.parametrize(
    ("row", "caller"),
    [(row, caller) for row in TABLE for caller in CALLERS],
    ids=[f"{row.method} {row.path.split('?')[0]} as {caller}" for row in TABLE for caller in CALLERS],
)
def test_each_caller_gets_the_answer_the_table_gives(client, world, row: Row, caller: str) -> None:
    response = call(client, world, row, world.callers[caller])
    expected = row.expected[caller]
    if expected >= 400:
        assert_problem(response, expected)
    else:
        assert response.status_code == expected, response.get_data(as_text=True)


def test_every_api_route_has_a_row_in_the_table(app: Flask) -> None:
    routes = {
        (method, openapi_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {(row.method, row.path.split("?")[0]) for row in TABLE}


def test_the_documented_table_is_the_tested_table() -> None:
    documented = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if cells[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
            documented.append((cells[0], cells[1], [int(cell) for cell in cells[2 : 2 + len(CALLERS)]]))
    assert documented == [(row.method, row.path, [row.expected[caller] for caller in CALLERS]) for row in TABLE]


# Tokens that must not let anyone in. Each is sent to GET /members/{member_id}, which every role may call.


def no_header(app: Flask, world: World) -> Headers:
    return {}


def basic_scheme(app: Flask, world: World) -> Headers:
    return {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}


def not_a_jwt(app: Flask, world: World) -> Headers:
    return {"Authorization": "Bearer not-a-token"}


def empty_bearer(app: Flask, world: World) -> Headers:
    return {"Authorization": "Bearer "}


def signed_with_another_key(app: Flask, world: World) -> Headers:
    claims = {"sub": "client:forged", "role": "admin", "type": "access", "fresh": False, "jti": "forged"}
    return bearer(jwt.encode(claims, "another-key-of-at-least-thirty-two-bytes", algorithm="HS256"))


def unsigned(app: Flask, world: World) -> Headers:
    claims = {"sub": "client:forged", "role": "admin", "type": "access", "fresh": False, "jti": "forged"}
    return bearer(jwt.encode(claims, None, algorithm="none"))


def till_promoted_to_admin(app: Flask, world: World) -> Headers:
    """A real till token whose role claim was edited without re-signing it."""
    header, payload, signature = world.callers["till"]["Authorization"].removeprefix("Bearer ").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return bearer(f"{header}.{edited}.{signature}")


def expired(app: Flask, world: World) -> Headers:
    with app.app_context():
        token = create_access_token(
            "client:old", additional_claims={"role": "admin"}, expires_delta=timedelta(seconds=-1)
        )
    return bearer(token)


def refresh_token_as_access_token(app: Flask, world: World) -> Headers:
    return bearer(log_in(app.test_client(), world.member)["refresh_token"])


def member_token_after_logout(app: Flask, world: World) -> Headers:
    headers = world.callers["member"]
    assert app.test_client().post("/api/v1/auth/logout", headers=headers).status_code == 204
    return headers


@pytest.mark.parametrize(
    "make_headers",
    [
        no_header,
        basic_scheme,
        not_a_jwt,
        empty_bearer,
        signed_with_another_key,
        unsigned,
        till_promoted_to_admin,
        expired,
        refresh_token_as_access_token,
        member_token_after_logout,
    ],
)
def test_a_request_without_a_usable_token_is_refused_with_a_bearer_challenge(
    app, client, world, make_headers: Callable[[Flask, World], Headers]
) -> None:
    response = client.get(f"/api/v1/members/{world.member['id']}", headers=make_headers(app, world))
    assert_problem(response, 401)


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def log_in(client: FlaskClient, member: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"email": member["email"], "password": "correct-horse"})
    assert response.status_code == 200, response.json
    return response.json


def test_a_refresh_token_gives_a_new_access_token_until_logout(client, make_member) -> None:
    member = make_member()
    tokens = log_in(client, member)
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(refreshed.json["access_token"])).json["id"] == member["id"]

    assert client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204

    assert_problem(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401)
    assert_problem(client.get("/api/v1/me", headers=bearer(refreshed.json["access_token"])), 401)


def test_logout_ends_only_that_login_session(client, make_member) -> None:
    member = make_member()
    phone, laptop = log_in(client, member), log_in(client, member)
    assert client.post("/api/v1/auth/logout", headers=bearer(phone["refresh_token"])).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=bearer(phone["access_token"])), 401)
    assert client.get("/api/v1/me", headers=bearer(laptop["access_token"])).status_code == 200


def test_a_new_secret_ends_the_clients_tokens_and_the_new_one_works(client, register_client) -> None:
    old_secret = register_client("back-office", "admin")
    old_token = client.post("/api/v1/auth/token", json=old_secret).json["access_token"]
    other = client.post("/api/v1/auth/token", json=register_client("crm", "service")).json["access_token"]
    new_secret = register_client("back-office", "admin", replace=True)
    assert_problem(client.post("/api/v1/auth/token", json=old_secret), 401)
    assert_problem(client.get("/api/v1/admin/program", headers=bearer(old_token)), 401)
    new_token = client.post("/api/v1/auth/token", json=new_secret).json["access_token"]
    assert client.get("/api/v1/admin/program", headers=bearer(new_token)).status_code == 200
    assert client.get("/api/v1/rewards", headers=bearer(other)).status_code == 200


def test_a_disabled_client_is_locked_out_at_once(client, register_client, sessions) -> None:
    secret = register_client("lost-till-tablet", "service")
    token = client.post("/api/v1/auth/token", json=secret).json["access_token"]
    with session_scope(sessions) as session:
        disable_client(session, "lost-till-tablet")
    assert_problem(client.get("/api/v1/rewards", headers=bearer(token)), 401)
    assert_problem(client.post("/api/v1/auth/token", json=secret), 401)
    with session_scope(sessions) as session, pytest.raises(NotFound):
        disable_client(session, "no-such-client")


def member_row(sessions: sessionmaker[Session], member_id: int) -> tuple[Any, ...]:
    with session_scope(sessions) as session:
        return tuple(session.execute(select(Member.__table__).where(Member.id == member_id)).one())


@pytest.mark.parametrize(
    "changes",
    [
        {"card_number": "CARD-0001"},
        {"external_id": "crm-42"},
        {"first_name": "Paula", "card_number": "CARD-0001"},
    ],
    ids=["card_number", "external_id", "an allowed field along with card_number"],
)
def test_a_member_cannot_change_back_office_fields_of_their_own_record(client, world, sessions, changes) -> None:
    before = member_row(sessions, world.member["id"])
    response = client.patch(f"/api/v1/members/{world.member['id']}", json=changes, headers=world.callers["member"])
    assert_problem(response, 403)
    assert member_row(sessions, world.member["id"]) == before


def test_a_member_cannot_report_an_action_that_is_not_self_reportable(client, world, sessions) -> None:
    before = member_row(sessions, world.member["id"])
    body = engagement(world, "review_posted")
    response = client.post("/api/v1/engagements", json=body, headers=world.callers["member"])
    assert_problem(response, 403)
    assert [param["name"] for param in response.json["invalid_params"]] == ["action"]
    assert member_row(sessions, world.member["id"]) == before


@pytest.mark.parametrize("caller", ["admin", "service"])
def test_a_client_reports_for_a_member_an_action_members_cannot_report(client, world, caller: str) -> None:
    body = engagement(world, "review_posted")
    response = client.post("/api/v1/engagements", json=body, headers=world.callers[caller])
    assert response.status_code == 201, response.json
    assert response.json["points_awarded"] == 10
