"""Earning rules: the category multipliers and time-boxed promotions the admin API edits, and the
earning policy in force that a purchase's points are computed with (:mod:`loyalty.purchases.earning`).

The rules are rows of the program's tables (:class:`loyalty.program.models.EarningRule`); they live
here, above ``loyalty.segments``, because a promotion may be for a segment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.program.cache import cached, touch
from loyalty.program.models import EarningRule
from loyalty.program.operations import get_settings
from loyalty.purchases.earning import EarningPolicy, Promotion
from loyalty.segments.models import Segment


def load_policy(session: Session, at: datetime) -> EarningPolicy:
    """The earning policy in force at ``at``: base rate, category multipliers and live promotions."""
    settings = get_settings(session)
    categories, promotions = cached(session, "earning_rules", _read_rules)
    return EarningPolicy(
        points_per_unit=settings.points_per_unit,
        minimum_amount=settings.minimum_amount,
        category_multipliers=dict(categories),
        promotions=[promotion for promotion in promotions if promotion.ends_at is None or promotion.ends_at > at],
    )


def _read_rules(session: Session) -> tuple[tuple[tuple[str, Decimal], ...], tuple[Promotion, ...]]:
    rules = list(session.scalars(select(EarningRule).where(EarningRule.is_active.is_(True)).order_by(EarningRule.id)))
    categories = tuple((rule.category, rule.multiplier) for rule in rules if rule.kind == "category" and rule.category)
    promotions = tuple(
        Promotion(
            multiplier=rule.multiplier,
            starts_at=rule.starts_at,
            ends_at=rule.ends_at,
            channel=rule.channel,
            category=rule.category,
            segment=rule.segment_key,
        )
        for rule in rules
        if rule.kind == "promotion"
    )
    return categories, promotions


def list_rules(session: Session) -> list[EarningRule]:
    return list(session.scalars(select(EarningRule).order_by(EarningRule.id)))


def create_rule(session: Session, fields: dict[str, Any]) -> EarningRule:
    """Add an earning rule: a category multiplier or a time-boxed promotion."""
    rule = EarningRule(**{"is_active": True, **fields})
    _check_rule(session, rule)
    session.add(rule)
    touch(session)
    session.refresh(rule)
    return rule


def update_rule(session: Session, rule_id: int, changes: dict[str, Any]) -> EarningRule:
    rule = get_rule(session, rule_id)
    for name, value in changes.items():
        setattr(rule, name, value)
    _check_rule(session, rule)
    touch(session)
    session.refresh(rule)
    return rule


def delete_rule(session: Session, rule_id: int) -> None:
    session.delete(get_rule(session, rule_id))
    touch(session)


def get_rule(session: Session, rule_id: int) -> EarningRule:
    rule = session.get(EarningRule, rule_id)
    if rule is None:
        raise NotFound(f"earning rule {rule_id} does not exist", field="rule_id")
    return rule


def _check_rule(session: Session, rule: EarningRule) -> None:
    if rule.kind == "category" and not rule.category:
        raise InvalidOperation("a category rule needs a category", field="category")
    if rule.kind == "category" and (rule.starts_at or rule.ends_at or rule.channel):
        raise InvalidOperation("a category rule has no window or channel; use a promotion", field="kind")
    if rule.segment_key is not None and rule.kind != "promotion":
        raise InvalidOperation("only a promotion is for a segment", field="segment_key")
    if rule.segment_key is not None and not _segment_exists(session, rule.segment_key):
        raise InvalidOperation(f"no segment is called {rule.segment_key!r}", field="segment_key")
    if rule.starts_at and rule.ends_at and rule.starts_at >= rule.ends_at:
        raise InvalidOperation("a promotion must end after it starts", field="ends_at")
    if rule.kind == "category" and rule.is_active and _category_rule_exists(session, rule):
        raise Conflict(f"an active rule already sets the multiplier of {rule.category!r}: change it", field="category")


def _segment_exists(session: Session, key: str) -> bool:
    """Whether a segment is called ``key``; the rule being checked is not flushed first, so a change
    that breaks a constraint is still refused by the checks that follow, not by the database."""
    with session.no_autoflush:
        return session.scalar(select(Segment.id).where(Segment.key == key)) is not None


def _category_rule_exists(session: Session, rule: EarningRule) -> bool:
    """Another active category rule for the same category (one multiplier per category)."""
    with session.no_autoflush:
        found = select(EarningRule.id).where(
            EarningRule.kind == "category",
            EarningRule.category == rule.category,
            EarningRule.is_active.is_(True),
            EarningRule.id != rule.id,  # IS NOT NULL for a rule not added yet
        )
        return session.scalar(found.limit(1)) is not None
