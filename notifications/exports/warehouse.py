"""Datasets for the data warehouse, streamed as CSV or JSON lines at constant memory.

Each dataset is read by id, a thousand rows at a time (a keyset page: ``WHERE id > :last``), so a
warehouse loads incrementally with ``after_id`` (the last id it holds) and nothing is held in memory.
Members also take ``updated_since`` (profile changes move ``updated_at``). Ledger entries are never
changed once written, so ``after_id`` alone keeps the warehouse complete; purchases (returns move
their ``returned_amount``) and messages (their status moves) are best reloaded over a recent window.
KPIs are one line per scenario, recomputed on each export.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from loyalty.ledger.models import LedgerEntry
from loyalty.members.models import Member
from loyalty.receipts.models import Purchase
from loyalty.serialize import csv_line, plain
from notifications.messages.kpis import kpi_summary
from notifications.messages.models import Message

BATCH = 1000


@dataclass(frozen=True)
class Dataset:
    columns: tuple[Any, ...]
    id_column: Any
    #: The column ``updated_since`` compares, if the dataset takes it.
    updated_column: Any = None


DATASETS: dict[str, Dataset] = {
    "members": Dataset(
        (Member.id, Member.external_id, Member.email, Member.first_name, Member.last_name, Member.card_number,
         Member.tier_code, Member.points_balance, Member.lifetime_points, Member.purchase_count, Member.last_purchase_at,
         Member.consent_email, Member.consent_sms, Member.consent_push, Member.timezone, Member.enrolled_at,
         Member.updated_at),
        Member.id,
        Member.updated_at,
    ),  # fmt: skip
    "ledger": Dataset(
        (LedgerEntry.id, LedgerEntry.member_id, LedgerEntry.kind, LedgerEntry.points, LedgerEntry.balance_after,
         LedgerEntry.reason, LedgerEntry.source_type, LedgerEntry.source_id, LedgerEntry.is_qualifying,
         LedgerEntry.created_at),
        LedgerEntry.id,
    ),  # fmt: skip
    "purchases": Dataset(
        (Purchase.id, Purchase.member_id, Purchase.store_code, Purchase.receipt_no, Purchase.channel, Purchase.currency,
         Purchase.total, Purchase.returned_amount, Purchase.points_awarded, Purchase.points_reversed,
         Purchase.occurred_at, Purchase.recorded_at),
        Purchase.id,
    ),  # fmt: skip
    "messages": Dataset(
        (Message.id, Message.member_id, Message.scenario_key, Message.step, Message.variant, Message.template_key,
         Message.channel, Message.is_marketing, Message.status, Message.reason, Message.created_at, Message.sent_at,
         Message.delivered_at, Message.opened_at, Message.clicked_at, Message.failed_at),
        Message.id,
    ),  # fmt: skip
}
NAMES = (*DATASETS, "kpis")


def stream(
    session: Session, name: str, *, fmt: str, after_id: int = 0, updated_since: datetime | None = None
) -> Iterator[str]:
    """The dataset ``name`` as CSV (a header row first) or JSON lines, chunk by chunk."""
    rows = _kpis(session) if name == "kpis" else _rows(session, DATASETS[name], after_id, updated_since)
    header_sent = False
    for row in rows:
        if fmt == "jsonl":
            yield json.dumps({key: plain(value) for key, value in row.items()}, ensure_ascii=False) + "\n"
            continue
        if not header_sent:
            yield csv_line(list(row))
            header_sent = True
        yield csv_line(list(row.values()))


def _rows(session: Session, dataset: Dataset, after_id: int, updated_since: datetime | None) -> Iterator[dict[str, Any]]:
    names = [column.key for column in dataset.columns]
    where: list[ColumnElement[bool]] = []
    if updated_since is not None and dataset.updated_column is not None:
        where.append(dataset.updated_column >= updated_since)
    last = after_id
    while True:
        query: Select[Any] = (
            select(*dataset.columns).where(dataset.id_column > last, *where).order_by(dataset.id_column).limit(BATCH)
        )
        page = session.execute(query).all()
        for row in page:
            yield dict(zip(names, row))
        if len(page) < BATCH:
            return
        last = page[-1][0]


def _kpis(session: Session) -> Iterator[dict[str, Any]]:
    for line in kpi_summary(session):
        yield {key: value for key, value in line.items() if not isinstance(value, (dict, list))}
