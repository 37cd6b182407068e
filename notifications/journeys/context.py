"""The figures a journey captures when a member enters it: every message of the journey renders from
them (with the member's current balance and tier), so every channel says the same thing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.db import one_of
from loyalty.receipts.models import Purchase, PurchaseLine
from loyalty.tiers.models import Tier
from rewards.badges.models import Badge


def event_context(
    session: Session, event_type: str, payload: dict[str, Any], purchases: Mapping[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What a triggering event brings: the purchase and its products, the tiers of an upgrade, the
    points about to expire, the badge awarded; the raw payload as ``event`` in every case. The
    purchase comes from ``purchases`` (:func:`purchase_contexts`) when it is there."""
    context: dict[str, Any] = {"event": payload}
    if event_type in ("PurchaseRecorded", "PurchaseClaimed") and "purchase_id" in payload:
        known = (purchases or {}).get(payload["purchase_id"])
        context["purchase"] = known if known is not None else purchase_context(session, payload["purchase_id"])
    elif event_type in ("TierUpgraded", "TierDowngraded"):
        tiers = {t.code: t for t in session.scalars(select(Tier).where(Tier.code.in_([payload["from_tier"], payload["to_tier"]])))}
        to_tier = tiers.get(payload["to_tier"])
        from_tier = tiers.get(payload["from_tier"])
        context["tier"] = {
            "from_name": from_tier.name if from_tier else payload["from_tier"],
            "to_name": to_tier.name if to_tier else payload["to_tier"],
            "benefits": list(to_tier.benefits) if to_tier else [],
            "translations": {
                locale: {"from_name": texts.get("from_name"), "to_name": texts.get("to_name"), "benefits": texts.get("benefits")}
                for locale, texts in _tier_texts(from_tier, to_tier).items()
            },
        }
    elif event_type == "PointsExpiring":
        # The instant: the message writes it as a day of the member's own calendar.
        context["points"] = {"expiring": payload["points"], "expires_on": payload["expires_at"]}
    elif event_type == "BadgeAwarded":
        badge = session.scalar(select(Badge).where(Badge.code == payload["badge_code"]))
        context["badge"] = {
            "code": payload["badge_code"],
            "name": payload["badge_name"],
            "level": payload.get("level_name") or payload["level"],
            "description": badge.description if badge else "",
            "translations": badge.translations if badge else {},
        }
    return context


def _tier_texts(from_tier: Tier | None, to_tier: Tier | None) -> dict[str, dict[str, Any]]:
    """Locale → the upgrade's names and benefits in it, from the two tiers' translations."""
    texts: dict[str, dict[str, Any]] = {}
    for prefix, tier in (("from_", from_tier), ("to_", to_tier)):
        for locale, translated in (tier.translations if tier else {}).items():
            texts.setdefault(locale, {})[f"{prefix}name"] = translated.get("name")
            if tier is to_tier:
                texts[locale]["benefits"] = translated.get("benefits")
    return texts


def purchase_contexts(session: Session, purchase_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The context of each purchase of ``purchase_ids`` (two queries of columns: the purchases, their
    lines; no ORM objects built)."""
    if not purchase_ids:
        return {}
    found = session.execute(
        select(Purchase.id, Purchase.total, Purchase.currency, Purchase.store_code).where(one_of(session, Purchase.id, purchase_ids))
    )
    contexts: dict[int, dict[str, Any]] = {
        purchase_id: {"total": str(total), "currency": currency, "store": store, "products": []}
        for purchase_id, total, currency, store in found
    }
    lines = select(PurchaseLine.purchase_id, PurchaseLine.sku, PurchaseLine.category, PurchaseLine.quantity)
    for purchase_id, sku, category, quantity in session.execute(
        lines.where(one_of(session, PurchaseLine.purchase_id, list(contexts))).order_by(PurchaseLine.purchase_id, PurchaseLine.line_no)
    ):
        contexts[purchase_id]["products"].append({"name": sku, "category": category, "quantity": quantity})
    return contexts


def purchase_context(session: Session, purchase_id: int) -> dict[str, Any]:
    return purchase_contexts(session, [purchase_id]).get(purchase_id, {})
