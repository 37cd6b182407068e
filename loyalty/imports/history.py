"""Importing historical purchases and point adjustments, row by row, each in a savepoint.

Both name the member by exactly one of ``external_id``, ``email`` or ``card_number``. A purchase goes
through the same use case as a till's (the earning rules, the tier, the counters), idempotent on
``(store_code, receipt_no)``; one that happened before the import's history cut-off fires no
scenario: its ``PurchaseRecorded`` is flagged ``is_history``, which the journeys consumer passes over
(the points, badges and other derived figures it moves are the member's, and apply). An adjustment is idempotent on its
``ref``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import insert_if_absent
from loyalty.errors import DomainError
from loyalty.events import PurchaseRecorded
from loyalty.imports import values
from loyalty.imports.models import ImportedRef
from loyalty.imports.outcome import Outcome, RowError
from loyalty.imports.readers import RawRow
from loyalty.ledger import operations as ledger
from loyalty.members.models import Member
from loyalty.program.models import CHANNELS
from loyalty.program.operations import get_settings
from loyalty.purchases.operations import LineInput, PurchaseInput, record_purchase

MEMBER_KEYS = ("external_id", "email", "card_number")
PURCHASE_COLUMNS = (*MEMBER_KEYS, "store_code", "receipt_no", "occurred_at", "total", "currency", "channel", "category")
ADJUSTMENT_COLUMNS = (*MEMBER_KEYS, "ref", "points", "reason")



@dataclass(frozen=True)
class PurchaseRow:
    line: int
    member: tuple[str, str]
    store_code: str
    receipt_no: str
    occurred_at: datetime
    total: Decimal
    currency: str | None
    channel: str
    category: str | None


@dataclass(frozen=True)
class AdjustmentRow:
    line: int
    member: tuple[str, str]
    ref: str
    points: int
    reason: str


def _check_columns(row: dict[str, Any], columns: tuple[str, ...], kind: str) -> None:
    unknown = sorted(set(row) - set(columns))
    if unknown:
        raise values.BadValue(unknown[0], f"not a column of a {kind} file")


def _member_key(row: dict[str, Any]) -> tuple[str, str]:
    given = [(name, values.text(row, name, max_length=254)) for name in MEMBER_KEYS if row.get(name) is not None]
    if len(given) != 1:
        raise values.BadValue("external_id", "exactly one of external_id, email or card_number names the member")
    name, value = given[0]
    assert value is not None
    return name, value.lower() if name == "email" else value


def parse_purchase(raw: RawRow) -> PurchaseRow:
    row = raw.values
    _check_columns(row, PURCHASE_COLUMNS, "purchases")
    channel = values.text(row, "channel", max_length=8) or "store"
    if channel not in CHANNELS:
        raise values.BadValue("channel", f"one of {', '.join(CHANNELS)}")
    currency = values.text(row, "currency", max_length=3)
    occurred_at = values.instant(row, "occurred_at", required=True)
    total = values.money(row, "total", required=True)
    assert occurred_at is not None and total is not None
    return PurchaseRow(
        line=raw.line,
        member=_member_key(row),
        store_code=values.text(row, "store_code", max_length=32, required=True) or "",
        receipt_no=values.text(row, "receipt_no", max_length=64, required=True) or "",
        occurred_at=occurred_at,
        total=total,
        currency=currency.upper() if currency else None,
        channel=channel,
        category=values.text(row, "category", max_length=64),
    )


def parse_adjustment(raw: RawRow) -> AdjustmentRow:
    row = raw.values
    _check_columns(row, ADJUSTMENT_COLUMNS, "adjustments")
    points = values.integer(row, "points", minimum=-1_000_000, maximum=1_000_000, required=True)
    if not points:
        raise values.BadValue("points", "a whole number other than 0")
    return AdjustmentRow(
        line=raw.line,
        member=_member_key(row),
        ref=values.text(row, "ref", max_length=128, required=True) or "",
        points=points,
        reason=values.text(row, "reason", max_length=200, required=True) or "",
    )


def _member_id(session: Session, key: tuple[str, str]) -> int:
    name, value = key
    column = {"external_id": Member.external_id, "email": Member.email, "card_number": Member.card_number}[name]
    member_id = session.scalar(select(Member.id).where(column == value))
    if member_id is None:
        raise values.BadValue(name, f"no member has this {name.replace('_', ' ')}")
    return member_id


def import_purchases(session: Session, rows: list[PurchaseRow], *, now: datetime, history_before: datetime | None) -> Outcome:
    """Record each purchase in its savepoint; those before ``history_before`` fire no scenario."""
    outcome = Outcome(rows=len(rows))
    currency = get_settings(session).currency
    for row in rows:
        first_event = session.scalar(select(func.coalesce(func.max(outbox.OutboxEvent.id), 0)))
        try:
            with session.begin_nested():
                purchase = PurchaseInput(
                    store_code=row.store_code,
                    receipt_no=row.receipt_no,
                    occurred_at=row.occurred_at,
                    currency=row.currency or currency,
                    total=row.total,
                    channel=row.channel,
                    lines=[LineInput(sku="IMPORT", quantity=1, unit_price=row.total, category=row.category)] if row.category else [],
                    member_id=_member_id(session, row.member),
                )
                result = record_purchase(session, purchase, now=now)
        except values.BadValue as error:
            outcome.fail(RowError(row.line, error.column, error.reason))
            continue
        except DomainError as error:
            outcome.fail(RowError(row.line, error.field, error.detail))
            continue
        if not result.created:
            outcome.skipped += 1
            continue
        outcome.imported += 1
        if history_before is not None and row.occurred_at < history_before:
            _mark_history(session, after_id=first_event or 0)
    return outcome


def _mark_history(session: Session, *, after_id: int) -> None:
    """Flag the purchase events recorded since ``after_id`` as history: no scenario reacts to them."""
    recorded = session.scalars(
        select(outbox.OutboxEvent).where(
            outbox.OutboxEvent.id > after_id, outbox.OutboxEvent.event_type == PurchaseRecorded.name
        )
    )
    for row in recorded:
        row.payload = {**row.payload, "is_history": True}


def import_adjustments(session: Session, rows: list[AdjustmentRow], *, now: datetime, actor: str) -> Outcome:
    """Post each adjustment once per ``ref``, in its savepoint (a debit must be covered)."""
    outcome = Outcome(rows=len(rows))
    for row in rows:
        try:
            with session.begin_nested():
                member_id = _member_id(session, row.member)
                claimed = insert_if_absent(
                    session, ImportedRef, {"kind": "adjustment", "ref": row.ref, "created_at": now}, key=("kind", "ref")
                )
                if claimed is not None:
                    ledger.post(
                        session, member_id=member_id, points=row.points, kind="adjust", reason=row.reason, now=now,
                        source=("import", row.ref), actor=actor, require_funds=row.points < 0,
                    )  # fmt: skip
        except values.BadValue as error:
            outcome.fail(RowError(row.line, error.column, error.reason))
            continue
        except DomainError as error:
            outcome.fail(RowError(row.line, "points" if error.field is None else error.field, error.detail))
            continue
        if claimed is None:
            outcome.skipped += 1
        else:
            outcome.imported += 1
    return outcome
