"""Loading a program description (YAML) into an empty database: settings, earning rules, tiers,
engagement actions and the engagement score. ``rewards.program`` adds the catalog and the thresholds.

It sits above the features it loads (``loyalty.program``, ``loyalty.tiers``, ``loyalty.engagement``),
which then never import it, as ``rewards/program.py`` and ``notifications/program.py`` do for theirs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.engagement.models import EngagementAction
from loyalty.engagement.operations import save_action
from loyalty.engagement.score import get_score_settings, save_score_settings
from loyalty.i18n import language, normalize
from loyalty.program.cache import new_token
from loyalty.program.models import BOUND_SETTINGS, EarningRule, ProgramSettings, amounts_as_strings
from loyalty.tiers.models import Tier
from loyalty.tiers.operations import save_ladder

SETTINGS_DEFAULTS: dict[str, Any] = {
    "minimum_amount": "0",
    "point_value": "0.01",
    "claim_window_days": 30,
    "default_timezone": "UTC",
    "default_locale": "en",
    "points_expiry_months": None,
    "expiry_notice_days": 30,
    "pending_days": 0,
    "tier_window_months": 12,
    "tier_review_month_day": None,
    "referral_min_amount": "0",
    "referral_referee_points": 0,
    "profile_fields": [],
    "max_total_by_channel": {},
    "max_total_by_store": {},
}


def load_core_program(session: Session, data: dict[str, Any]) -> bool:
    """Load each part of ``data`` whose table is still empty; returns whether anything was loaded.

    Idempotent: what exists is never overwritten (change it through the admin API), and a part added
    to the program file later (say, tiers after an upgrade) is loaded into an existing database.
    """
    loaded = False
    if session.get(ProgramSettings, 1) is None:
        program = {**SETTINGS_DEFAULTS, **data["program"]}
        session.add(
            ProgramSettings(
                id=1,
                name=program["name"],
                currency=program["currency"],
                points_per_unit=Decimal(str(program["points_per_unit"])),
                minimum_amount=Decimal(str(program["minimum_amount"])),
                point_value=Decimal(str(program["point_value"])),
                referral_min_amount=Decimal(str(program["referral_min_amount"])),
                config_token=new_token(),
                # Without a list of languages, the texts are in the default locale's language only.
                locales=[normalize(tag) for tag in program.get("locales") or [language(program["default_locale"])]],
                **{key: amounts_as_strings(program[key]) for key in BOUND_SETTINGS},
                **{
                    key: program[key]
                    for key in SETTINGS_DEFAULTS
                    if key not in ("minimum_amount", "referral_min_amount", "point_value", *BOUND_SETTINGS)
                },
            )
        )
        for rule in data.get("earning_rules", []):
            session.add(
                EarningRule(
                    kind=rule["kind"],
                    name=rule["name"],
                    category=rule.get("category"),
                    channel=rule.get("channel"),
                    multiplier=Decimal(str(rule["multiplier"])),
                    starts_at=_utc(rule.get("starts_at")),
                    ends_at=_utc(rule.get("ends_at")),
                    is_active=rule.get("is_active", True),
                )
            )
        session.flush()
        loaded = True
    if data.get("tiers") and _empty(session, Tier):
        save_ladder(
            session,
            [
                {
                    "benefits": [],
                    "has_card": False,
                    **tier,
                    "multiplier": Decimal(str(tier.get("multiplier", 1))),
                }
                for tier in data["tiers"]
            ],
        )
        loaded = True
    if data.get("engagement_actions") and _empty(session, EngagementAction):
        for action in data["engagement_actions"]:
            save_action(session, dict(action))
        loaded = True
    if data.get("engagement_score") and get_score_settings(session) is None:
        save_score_settings(session, dict(data["engagement_score"]))
        loaded = True
    return loaded


def _empty(session: Session, model: type[Tier] | type[EngagementAction]) -> bool:
    return session.scalar(select(model.id).limit(1)) is None


def _utc(value: datetime | None) -> datetime | None:
    """YAML datetimes without a zone are taken as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
