"""Importing members with their opening balances, a batch at a time, set-based.

A row is keyed by its ``external_id`` when it has one, else by its email: a member already holding
that key is skipped (the file imported again changes nothing). New members are inserted in one
statement per batch (``COPY`` on PostgreSQL, :mod:`loyalty.imports.bulk`), with their entry tier's
history line; an opening balance is one ledger entry of kind ``migration`` and one lot expiring at
``points_expire_at`` (or after the program's expiry period), each table written once per batch.
Imported members are not "enrolled" now: no ``MemberEnrolled`` event, no welcome scenario, no
account-creation points.

Card numbers (when the file gives none) and referral codes are drawn at random and checked free before
the batch is written (one query per kind and batch), so that a million of them, among which a couple
collide by the birthday bound, never fail a batch of good rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from loyalty.dates import add_months_monotonic
from loyalty.db import one_of, table_of
from loyalty.imports import values
from loyalty.imports.bulk import insert_rows
from loyalty.imports.outcome import Outcome, RowError
from loyalty.imports.readers import RawRow
from loyalty.ledger.models import LedgerEntry, PointLot
from loyalty.members import codes
from loyalty.members.models import Member, month_day
from loyalty.program.operations import get_settings
from loyalty.tiers.models import TierChange
from loyalty.tiers.operations import load_ladder

COLUMNS = (
    "external_id", "email", "first_name", "last_name", "phone", "birth_date", "card_number", "timezone",
    "consent_email", "consent_sms", "points", "points_expire_at",
)  # fmt: skip
MAX_OPENING_BALANCE = 100_000_000


@dataclass(frozen=True)
class MemberRow:
    line: int
    email: str | None
    external_id: str | None
    first_name: str
    last_name: str
    phone: str | None
    birth_date: date | None
    card_number: str | None
    timezone: str | None
    consent_email: bool
    consent_sms: bool
    points: int
    points_expire_at: datetime | None


def parse(raw: RawRow) -> MemberRow:
    row = raw.values
    unknown = sorted(set(row) - set(COLUMNS))
    if unknown:
        raise values.BadValue(unknown[0], "not a column of a members file")
    email = values.email(row)
    external_id = values.text(row, "external_id", max_length=64)
    if email is None and external_id is None:
        raise values.BadValue("email", "email or external_id is required")
    card_number = values.text(row, "card_number", max_length=32)
    if card_number is not None and not codes.is_valid_card_number(card_number):
        raise values.BadValue("card_number", "not a valid card number (digits with a Luhn check digit)")
    return MemberRow(
        line=raw.line,
        email=email,
        external_id=external_id,
        first_name=values.text(row, "first_name", max_length=100) or "",
        last_name=values.text(row, "last_name", max_length=100) or "",
        phone=values.text(row, "phone", max_length=32),
        birth_date=values.day(row, "birth_date"),
        card_number=card_number,
        timezone=values.timezone(row),
        consent_email=bool(values.boolean(row, "consent_email")),
        consent_sms=bool(values.boolean(row, "consent_sms")),
        points=values.integer(row, "points", minimum=0, maximum=MAX_OPENING_BALANCE) or 0,
        points_expire_at=values.instant(row, "points_expire_at"),
    )


def import_batch(session: Session, rows: list[MemberRow], *, now: datetime) -> Outcome:
    """Insert the members of ``rows`` not imported before, with their opening balances."""
    outcome = Outcome(rows=len(rows))
    fresh = _not_imported(session, rows, outcome)
    fresh = _free_cards(session, fresh, outcome)
    if not fresh:
        return outcome
    settings = get_settings(session)
    entry = load_ladder(session).entry
    given_cards = {row.card_number for row in fresh if row.card_number}
    missing_cards = sum(not row.card_number for row in fresh)
    new_cards = iter(_free_draws(session, Member.card_number, codes.new_card_number, missing_cards, reserved=given_cards))
    referral_codes = _free_draws(session, Member.referral_code, codes.new_referral_code, len(fresh), reserved=())
    member_rows = [
        {
            "email": row.email,
            "first_name": row.first_name,
            "last_name": row.last_name,
            "phone": row.phone,
            "birth_date": row.birth_date,
            "birthday_md": month_day(row.birth_date) if row.birth_date else None,
            "card_number": row.card_number or next(new_cards),
            "external_id": row.external_id,
            "locale": settings.default_locale,
            "timezone": row.timezone or settings.default_timezone,
            "consent_email": row.consent_email,
            "consent_sms": row.consent_sms,
            "consent_push": False,
            "consent_postal": False,
            "preferred_channel": "email",
            "referral_code": referral_code,
            "points_balance": row.points,
            "pending_points": 0,
            "lifetime_points": 0,
            "tier_code": entry.code,
            "tier_since": now,
            "purchase_count": 0,
            "enrolled_at": now,
            "enrolled_md": month_day(now),
            "updated_at": now,
        }
        for row, referral_code in zip(fresh, referral_codes)
    ]
    member_ids = insert_rows(session, table_of(Member), member_rows, ids=True)
    insert_rows(
        session,
        table_of(TierChange),
        [
            {"member_id": member_id, "from_code": None, "to_code": entry.code, "reason": "enrolment",
             "qualifying_points": 0, "changed_at": now}
            for member_id in member_ids
        ],
    )  # fmt: skip
    _open_balances(session, [(member_id, row) for member_id, row in zip(member_ids, fresh) if row.points], now=now,
                   expiry_months=settings.points_expiry_months)  # fmt: skip
    outcome.imported = len(fresh)
    return outcome


def _not_imported(session: Session, rows: list[MemberRow], outcome: Outcome) -> list[MemberRow]:
    """The rows whose key no member holds yet; a key repeated within the batch is a bad row."""
    emails = {row.email for row in rows if row.email}
    external_ids = {row.external_id for row in rows if row.external_id}
    taken = (
        session.execute(
            select(Member.email, Member.external_id).where(
                or_(one_of(session, Member.email, emails), one_of(session, Member.external_id, external_ids))
            )
        ).all()
        if emails or external_ids
        else []
    )
    taken_emails = {email for email, _ in taken if email in emails}
    taken_ids = {external_id for _, external_id in taken if external_id in external_ids}
    fresh: list[MemberRow] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        keys = [("email", row.email) if row.email else None, ("external_id", row.external_id) if row.external_id else None]
        given = [key for key in keys if key is not None]
        repeated = next((key for key in given if key in seen), None)
        if repeated is not None:
            outcome.fail(RowError(row.line, repeated[0], f"the same as line {seen[repeated]}"))
            continue
        seen.update({key: row.line for key in given})
        if (row.external_id and row.external_id in taken_ids) or (row.external_id is None and row.email in taken_emails):
            outcome.skipped += 1
        elif row.email is None:
            outcome.fail(RowError(row.line, "email", "required to enrol a member not imported before"))
        elif row.email in taken_emails:
            outcome.fail(RowError(row.line, "email", "another member already has this email"))
        else:
            fresh.append(row)
    return fresh


def _free_cards(session: Session, rows: list[MemberRow], outcome: Outcome) -> list[MemberRow]:
    """The rows whose card number (if given) is free; a taken one is a bad row."""
    cards = [row.card_number for row in rows if row.card_number]
    taken = set(session.scalars(select(Member.card_number).where(one_of(session, Member.card_number, cards)))) if cards else set()
    seen: dict[str, int] = {}
    free: list[MemberRow] = []
    for row in rows:
        if row.card_number in taken:
            outcome.fail(RowError(row.line, "card_number", "another member already has this card number"))
        elif row.card_number in seen:
            outcome.fail(RowError(row.line, "card_number", f"the same as line {seen[row.card_number]}"))
        else:
            if row.card_number:
                seen[row.card_number] = row.line
            free.append(row)
    return free


def _free_draws(
    session: Session, column: InstrumentedAttribute[str], draw: Callable[[], str], count: int, *, reserved: Collection[str]
) -> list[str]:
    """``count`` values of ``draw()`` that no member holds in ``column``, none twice and none ``reserved``.

    One query for the whole batch, then one for the few values drawn again (a collision is rare).
    """
    free: list[str] = []
    kept: set[str] = set(reserved)
    while len(free) < count:
        drawn = [draw() for _ in range(count - len(free))]
        taken = set(session.scalars(select(column).where(one_of(session, column, set(drawn)))))
        for value in drawn:
            if value not in taken and value not in kept:
                kept.add(value)
                free.append(value)
    return free


def _open_balances(
    session: Session, members: list[tuple[int, MemberRow]], *, now: datetime, expiry_months: int | None
) -> None:
    """One ``migration`` entry and one lot per opening balance (the balance column was set with the row)."""
    if not members:
        return
    entries: list[dict[str, Any]] = [
        {"member_id": member_id, "kind": "migration", "points": row.points, "balance_after": row.points,
         "reason": "opening balance", "source_type": "import", "source_id": None, "is_qualifying": False,
         "actor": None, "created_at": now}
        for member_id, row in members
    ]  # fmt: skip
    entry_ids = insert_rows(session, table_of(LedgerEntry), entries, ids=True)
    default_expiry = add_months_monotonic(now, expiry_months) if expiry_months else None
    insert_rows(
        session,
        table_of(PointLot),
        [
            {"member_id": member_id, "entry_id": entry_id, "earned_at": now,
             "expires_at": row.points_expire_at or default_expiry, "points": row.points, "remaining": row.points,
             "expiry_notified_at": None}
            for entry_id, (member_id, row) in zip(entry_ids, members)
        ],
    )  # fmt: skip
