"""Purchase use cases: record a receipt, claim an anonymous one, record a return.

Every write here is idempotent on a natural key enforced by a unique constraint: a till that posts the
same receipt (or return) again gets the original answer; the same key with another body is a
:class:`Conflict`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any

from sqlalchemy import Integer, Row, Update, bindparam, case, literal, select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import insert_if_absent, rowcount, table_of
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.events import PendingPointsReleased, PurchaseClaimed, PurchaseRecorded, PurchaseReturned
from loyalty.engagement.referrals import reward_referral
from loyalty.ledger import operations as ledger
from loyalty.members.models import MEMBERS, Member
from loyalty.program.models import ProgramSettings
from loyalty.program.operations import get_settings
from loyalty.purchases.earning import BoughtLine, Earned, EarningLine, earn, earn_by_tier, points_to_reverse
from loyalty.purchases.receipts import insert_receipt
from loyalty.purchases.rules import load_policy
from loyalty.receipts.models import Purchase, PurchaseLine, PurchaseReturn
from loyalty.segments.operations import member_segments
from loyalty.tiers.models import Tier
from loyalty.tiers.operations import load_ladder

CENT = Decimal("0.01")
#: A purchase dated further ahead than this (clock skew between tills) is refused.
MAX_CLOCK_SKEW = timedelta(minutes=10)
#: A purchase older than this is refused: tills replay offline backlogs, not last year's receipts.
MAX_PURCHASE_AGE = timedelta(days=365)


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    category: str | None = None


@dataclass(frozen=True)
class PurchaseInput:
    store_code: str
    receipt_no: str
    occurred_at: datetime
    currency: str
    total: Decimal
    channel: str
    lines: Sequence[LineInput] = ()
    member_id: int | None = None
    card_number: str | None = None

    def fingerprint(self) -> str:
        """SHA-256 of the canonical request, to tell a retry from a different receipt."""
        return _fingerprint(
            {
                "store_code": self.store_code,
                "receipt_no": self.receipt_no,
                "occurred_at": self.occurred_at.isoformat(),
                "currency": self.currency,
                "total": str(self.total.quantize(CENT)),
                "channel": self.channel,
                "member_id": self.member_id,
                "card_number": self.card_number,
                "lines": [
                    [line.sku, line.category, line.quantity, str(line.unit_price.quantize(CENT))]
                    for line in self.lines
                ],
            }
        )


@dataclass(frozen=True)
class PurchaseReceipt:
    """What a till is answered for a purchase, the first time and on every replay."""

    id: int
    store_code: str
    receipt_no: str
    member_id: int | None
    channel: str
    currency: str
    total: Decimal
    occurred_at: datetime
    points_awarded: int
    #: The member's balance right after the purchase; None for an anonymous purchase.
    points_balance: int | None

    @classmethod
    def of(cls, purchase: Purchase) -> PurchaseReceipt:
        return cls(
            id=purchase.id,
            store_code=purchase.store_code,
            receipt_no=purchase.receipt_no,
            member_id=purchase.member_id,
            channel=purchase.channel,
            currency=purchase.currency,
            total=purchase.total,
            occurred_at=purchase.occurred_at,
            points_awarded=purchase.points_awarded,
            points_balance=purchase.balance_after,
        )


@dataclass(frozen=True)
class PurchaseResult:
    receipt: PurchaseReceipt
    #: False when the same receipt had been recorded before and this is the original answer again.
    created: bool


@dataclass(frozen=True)
class ReturnResult:
    purchase_return: PurchaseReturn
    member_id: int | None
    created: bool


class RecordedMeanwhile(Conflict):
    """The receipt was recorded by a concurrent request while this one credited the member: roll the
    transaction back and post again, to be answered the original receipt."""


@dataclass(frozen=True)
class _Credit:
    """What the statement that credited the buyer returned: who they are, what they earned by their
    tier, and their row after it."""

    member_id: int
    earned: Earned
    row: Row[Any]


def record_purchase(session: Session, data: PurchaseInput, *, now: datetime) -> PurchaseResult:
    """Record a receipt and award its points, exactly once per ``(store_code, receipt_no)``.

    The member is named by ``member_id`` or ``card_number`` (or neither: the purchase is kept for a
    later claim). Records ``PurchaseRecorded`` and, when points are earned, ``PointsEarned``. The member
    is credited first (one statement that also says who they are and their tier, and is skipped when
    the receipt is already recorded); the purchase is then inserted with the balance it leaves. A
    receipt recorded concurrently meanwhile raises :class:`RecordedMeanwhile`.
    """
    settings = _settings_accepting(session, data, now)
    held_until = _release_at(settings, data.occurred_at, now)
    request_hash = data.fingerprint()
    credit = None
    if data.member_id is not None or data.card_number is not None:
        credit = _credit_buyer(session, data, pending=held_until is not None, now=now)
        if credit is None:
            return _replayed_purchase(session, data, request_hash)
    earned = credit.earned if credit else Earned.nothing(len(data.lines))
    release_at = held_until if earned.points else None
    purchase_id = _insert_purchase(session, data, credit, earned, release_at, request_hash, now)
    if purchase_id is None:
        if credit is not None:
            raise RecordedMeanwhile("this receipt was recorded at the same time by another request; post it again", field="receipt_no")
        return _replayed_purchase(session, data, request_hash)
    balance_after = None
    if credit is not None:
        balance_after = _post_credit(session, credit, purchase_id, data, pending=release_at is not None, now=now)
        if balance_after != credit.row.points_balance:  # a reaction or the referral reward moved it again
            session.execute(_SET_BALANCE_AFTER, {"purchase": purchase_id, "balance_after": balance_after})
    return _recorded(session, data, purchase_id, credit, earned.points, balance_after, now)


def _recorded(
    session: Session,
    data: PurchaseInput,
    purchase_id: int,
    credit: _Credit | None,
    points: int,
    balance_after: int | None,
    now: datetime,
) -> PurchaseResult:
    """Record ``PurchaseRecorded``, send what is left to send, and answer the receipt."""
    member_id = credit.member_id if credit else None
    outbox.record(
        session,
        PurchaseRecorded(
            occurred_at=now,
            member_id=member_id,
            purchase_id=purchase_id,
            store_code=data.store_code,
            channel=data.channel,
            total=data.total,
            currency=data.currency,
            is_first_purchase=credit is not None and credit.row.purchase_count == 1,
        ),
    )
    session.flush()
    receipt = PurchaseReceipt(
        id=purchase_id,
        store_code=data.store_code,
        receipt_no=data.receipt_no,
        member_id=member_id,
        channel=data.channel,
        currency=data.currency,
        total=data.total.quantize(CENT),
        occurred_at=data.occurred_at.astimezone(UTC),
        points_awarded=points,
        points_balance=balance_after,
    )
    return PurchaseResult(receipt=receipt, created=True)


def _settings_accepting(session: Session, data: PurchaseInput, now: datetime) -> ProgramSettings:
    """The program's settings, once the receipt's date, currency and total are within them."""
    _check_purchase_date(data.occurred_at, now)
    settings = get_settings(session)
    if data.currency != settings.currency:
        raise InvalidOperation(f"the program's currency is {settings.currency}", field="currency")
    max_total = settings.max_total(data.channel, data.store_code)
    if max_total is not None and data.total > max_total:
        raise InvalidOperation(
            f"above the largest total the program accepts for this channel and store ({max_total})", field="total"
        )
    return settings


def _credit_buyer(session: Session, data: PurchaseInput, *, pending: bool, now: datetime) -> _Credit | None:
    """Credit the named member with what the purchase earns them (or hold it as pending) and count the
    purchase, in one statement, unless the receipt is already recorded (then None).

    Without promotions for segments, the points of every tier are computed beforehand and the statement
    picks its member's (``CASE tier_code``): no read of the member first. Promotions for segments need
    the member's segments, so the member is read first.
    """
    policy = load_policy(session, data.occurred_at)
    lines = [EarningLine(amount=line.unit_price * line.quantity, category=line.category) for line in data.lines]

    def read_member_first() -> tuple[dict[str, Earned], dict[str, Any]]:
        member_id, tier_code, multiplier = _resolve_member(session, data.member_id, data.card_number)
        segments = member_segments(session, member_id, policy.segments, now=now)
        by_tier = earn_by_tier(policy, {tier_code: multiplier}, **_earning_of(data, lines), segments=segments)
        return by_tier, {"buyer_id": member_id}

    if policy.segments:
        by_tier, which = read_member_first()
    else:
        multipliers = {tier.code: tier.multiplier for tier in load_ladder(session).tiers}
        by_tier = earn_by_tier(policy, multipliers, **_earning_of(data, lines))
        which = {"buyer_id": data.member_id} if data.member_id is not None else {"buyer_card": data.card_number}
    row = _credit_tiers(session, data, which, by_tier, pending=pending)
    if row is None:
        recorded = select(Purchase.id).where(Purchase.store_code == data.store_code, Purchase.receipt_no == data.receipt_no)
        if session.execute(recorded).first() is not None:
            return None
        # The member is unknown (said by the read), or in a tier this process's copy of the ladder
        # does not hold yet (added within LOYALTY_CONFIG_CHECK_SECONDS): credit them from their row.
        by_tier, which = read_member_first()
        row = _credit_tiers(session, data, which, by_tier, pending=pending)
        if row is None:
            raise AssertionError("the member exists but was not credited")
    if data.card_number is not None and row.card_number != data.card_number:
        raise InvalidOperation("this card number belongs to another member", field="card_number")
    return _Credit(member_id=row.id, earned=by_tier[row.tier_code], row=row)


def _earning_of(data: PurchaseInput, lines: Sequence[EarningLine]) -> dict[str, Any]:
    """What :func:`earn_by_tier` needs of a receipt, besides the policy and the tiers."""
    return {"total": data.total, "lines": lines, "channel": data.channel, "occurred_at": data.occurred_at}


def _credit_tiers(
    session: Session, data: PurchaseInput, which: dict[str, Any], by_tier: dict[str, Earned], *, pending: bool
) -> Row[Any] | None:
    """The one statement of a credit: the member (``which``: ``buyer_id`` or ``buyer_card``, their id
    or card number) gets their points picked by tier (``CASE tier_code``), the purchase counted; no
    row when the receipt is recorded, the member unknown or in another tier."""
    codes = tuple(by_tier)
    stmt = _credit_statement(codes, pending=pending, by=next(iter(which)))
    params = {
        **which,
        **{f"points_{index}": by_tier[code].points for index, code in enumerate(codes)},
        "occurred_at": data.occurred_at,
        "store_code": data.store_code,
        "receipt_no": data.receipt_no,
    }
    return session.connection().execute(stmt, params).one_or_none()


#: The balance a purchase left, once its reactions moved it again (a threshold's voucher): a Core
#: statement built once, executed with the ``purchase`` id and its ``balance_after``.
_SET_BALANCE_AFTER = update(table_of(Purchase)).where(table_of(Purchase).c.id == bindparam("purchase"))


#: The parameter naming the buyer in a credit statement: the member's column it is compared with.
_BUYER_COLUMNS = {"buyer_id": "id", "buyer_card": "card_number"}
@cache
def _credit_statement(codes: tuple[str, ...], *, pending: bool, by: str) -> Update:
    """The statement of :func:`_credit_tiers` for members of the tiers ``codes``, built once (its
    values are bound parameters: ``points_0``… in the order of ``codes``, ``occurred_at``, the
    receipt's ``store_code`` and ``receipt_no``, and ``by``, the member's id or card number)."""
    members, purchases = MEMBERS, table_of(Purchase)
    points = case(
        *((members.c.tier_code == code, bindparam(f"points_{index}", type_=Integer)) for index, code in enumerate(codes)),
        else_=0,
    )
    occurred_at = bindparam("occurred_at", type_=members.c.last_purchase_at.type)
    counters: dict[str, Any] = {
        "purchase_count": members.c.purchase_count + 1,
        "last_purchase_at": case(
            (members.c.last_purchase_at.is_(None), occurred_at),
            (members.c.last_purchase_at < occurred_at, occurred_at),
            else_=members.c.last_purchase_at,
        ),
    }
    if pending:
        counters["pending_points"] = members.c.pending_points + points
    recorded = select(purchases.c.id).where(
        purchases.c.store_code == bindparam("store_code"), purchases.c.receipt_no == bindparam("receipt_no")
    )
    in_tiers = members.c.tier_code.in_([literal(code) for code in codes])
    which = (members.c[_BUYER_COLUMNS[by]] == bindparam(by)) & in_tiers & ~recorded.exists()
    return ledger.balance_update(
        which, 0 if pending else points, qualifying=True, also=counters,
        returning=("id", "card_number", "purchase_count", "sponsor_id", "referral_rewarded_at"),
    )  # fmt: skip


def _insert_purchase(
    session: Session,
    data: PurchaseInput,
    credit: _Credit | None,
    earned: Earned,
    release_at: datetime | None,
    request_hash: str,
    now: datetime,
) -> int | None:
    """Insert the purchase with the balance its credit left, and its lines with the points each
    earned; the purchase's id, or None (nothing written) when the receipt exists."""
    purchase = {
        "store_code": data.store_code,
        "receipt_no": data.receipt_no,
        "member_id": credit.member_id if credit else None,
        "channel": data.channel,
        "currency": data.currency,
        "total": data.total,
        "occurred_at": data.occurred_at,
        "recorded_at": now,
        "request_hash": request_hash,
        "points_awarded": earned.points,
        "points_pending": earned.points if release_at else 0,
        "release_at": release_at,
        "returned_amount": Decimal("0"),
        "points_reversed": 0,
        "claimed_at": None,
        "balance_after": credit.row.points_balance if credit else None,
    }
    lines = [
        {
            "line_no": number,
            "sku": line.sku,
            "category": line.category,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "returned_quantity": 0,
            "points": line_points,
        }
        for number, (line, line_points) in enumerate(zip(data.lines, earned.by_line, strict=True), start=1)
    ]
    return insert_receipt(session, purchase, lines)


def _post_credit(
    session: Session, credit: _Credit, purchase_id: int, data: PurchaseInput, *, pending: bool, now: datetime
) -> int:
    """The ledger entry of the credit (none while the points are pending), whose reactions run now, and
    the referral reward a referee's purchase may be due; the member's balance once they are done."""
    posting = ledger.Posting(balance=credit.row.points_balance, entry=None, row=credit.row)
    if credit.earned.points and not pending:
        posting = ledger.append_entry(
            session, credit.row, member_id=credit.member_id, points=credit.earned.points, kind="earn",
            reason="purchase", now=now, source=("purchase", str(purchase_id)), qualifying=True,
            store_code=data.store_code,
        )  # fmt: skip
    return _reward_referral_if_due(session, posting, credit.member_id, data.total, now)


def _replayed_purchase(session: Session, data: PurchaseInput, request_hash: str) -> PurchaseResult:
    """The original answer to a receipt recorded before, if this is the same receipt."""
    existing = session.scalars(
        select(Purchase).where(Purchase.store_code == data.store_code, Purchase.receipt_no == data.receipt_no)
    ).one()
    if existing.request_hash != request_hash:
        raise Conflict("this receipt number was already recorded with different content", field="receipt_no")
    return PurchaseResult(receipt=PurchaseReceipt.of(existing), created=False)


def claim_purchase(
    session: Session, *, member_id: int, store_code: str, receipt_no: str, now: datetime
) -> PurchaseResult:
    """Attach an anonymous purchase to a member within the claim window and award its points.

    Claiming one's own purchase again answers the original result; a purchase that belongs to someone
    else is a :class:`Conflict`.
    """
    purchase = session.scalars(
        select(Purchase).where(Purchase.store_code == store_code, Purchase.receipt_no == receipt_no)
    ).one_or_none()
    if purchase is None:
        raise InvalidOperation("no purchase has this store code and receipt number", field="receipt_no")
    if purchase.member_id == member_id:
        return PurchaseResult(receipt=PurchaseReceipt.of(purchase), created=False)
    if purchase.member_id is not None:
        raise Conflict("this purchase was already claimed by another member", field="receipt_no")
    window = timedelta(days=get_settings(session).claim_window_days)
    if purchase.occurred_at + window < now:
        raise InvalidOperation(
            f"purchases can be claimed up to {window.days} days after they were made", field="receipt_no"
        )
    _, _, tier_multiplier = _resolve_member(session, member_id, None)
    policy = load_policy(session, purchase.occurred_at)
    earned = earn(
        policy,
        total=purchase.total,
        lines=[EarningLine(amount=line.amount, category=line.category) for line in purchase.lines],
        channel=purchase.channel,
        occurred_at=purchase.occurred_at,
        tier_multiplier=tier_multiplier,
        segments=member_segments(session, member_id, policy.segments, now=now),
    )
    points = earned.points
    release_at = _release_at(get_settings(session), purchase.occurred_at, now) if points else None
    claimed = session.execute(
        update(Purchase)
        .where(Purchase.id == purchase.id, Purchase.member_id.is_(None))
        .values(
            member_id=member_id,
            claimed_at=now,
            points_awarded=points,
            points_pending=points if release_at else 0,
            release_at=release_at,
        ),
        execution_options={"synchronize_session": False},
    )
    if rowcount(claimed) != 1:
        raise Conflict("this purchase was claimed by another member at the same time", field="receipt_no")
    if purchase.lines:
        session.execute(
            update(PurchaseLine),
            [{"id": line.id, "points": line_points} for line, line_points in zip(purchase.lines, earned.by_line, strict=True)],
        )
    kept = purchase.total - purchase.returned_amount
    outbox.record(session, PurchaseClaimed(occurred_at=now, member_id=member_id, purchase_id=purchase.id, total=kept))
    posting = _credit_purchase(
        session, member_id, purchase.id, points, purchase.occurred_at, now,
        pending=bool(release_at), store_code=store_code,
    )  # fmt: skip
    balance = _reward_referral_if_due(session, posting, member_id, purchase.total, now)
    if purchase.returned_amount > 0:
        balance = _debit_reversed_points(session, _reverse_returned_points(session, purchase.id), purchase.id, now)
    session.execute(
        update(Purchase).where(Purchase.id == purchase.id).values(balance_after=balance),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    session.refresh(purchase)
    return PurchaseResult(receipt=PurchaseReceipt.of(purchase), created=True)


def record_return(
    session: Session,
    *,
    purchase_id: int,
    return_no: str,
    now: datetime,
    amount: Decimal | None = None,
    lines: Sequence[tuple[str, int]] = (),
) -> ReturnResult:
    """Record goods brought back, by ``amount`` or by ``lines`` of ``(sku, quantity)``, and take back
    the points in proportion to the amount returned.

    Idempotent on ``(purchase, return_no)``. Returning more than was bought is an
    :class:`InvalidOperation`. The member's balance may go negative when the points were spent: the
    ledger shows it as it is. Records ``PurchaseReturned`` and ``PointsDebited``.
    """
    purchase = get_purchase(session, purchase_id)
    line_list = _returned_lines(amount, lines)
    request_hash = _return_fingerprint(return_no, amount, line_list)
    try:
        amount = _amount_returned(purchase, amount, lines)
    except InvalidOperation:  # no longer acceptable, unless it is a replay of a return recorded before
        existing = _find_return(session, purchase_id, return_no)
        if existing is None:
            raise
        return _replayed_return(existing, request_hash, purchase.member_id)
    return_id = _insert_return(session, purchase_id, return_no, amount, line_list, request_hash, now=now)
    if return_id is None:  # recorded before (or concurrently): the original answer
        existing = _find_return(session, purchase_id, return_no)
        assert existing is not None
        return _replayed_return(existing, request_hash, purchase.member_id)
    amount, taken = _take_back(session, purchase, amount, lines)
    outbox.record(
        session,
        PurchaseReturned(occurred_at=now, member_id=taken.member_id, purchase_id=purchase_id, return_id=return_id, amount=amount),
    )
    balance = _debit_reversed_points(session, taken, purchase_id, now) if taken.member_id is not None else None
    recorded = _complete_return(session, return_id, amount, taken, balance)
    return ReturnResult(purchase_return=recorded, member_id=taken.member_id, created=True)


def _returned_lines(amount: Decimal | None, lines: Sequence[tuple[str, int]]) -> list[dict[str, Any]] | None:
    """The lines of a return as stored (None for a return by amount); exactly one of the two is given."""
    if (amount is None) == (not lines):
        raise InvalidOperation("give either an amount or lines", field="amount")
    return [{"sku": sku, "quantity": quantity} for sku, quantity in lines] or None


def _return_fingerprint(return_no: str, amount: Decimal | None, line_list: list[dict[str, Any]] | None) -> str:
    """The return's request, to tell its replay (same request) from a conflict (another one)."""
    return _fingerprint(
        {"return_no": return_no, "amount": str(amount.quantize(CENT)) if amount else None, "lines": line_list}
    )


def _insert_return(
    session: Session,
    purchase_id: int,
    return_no: str,
    amount: Decimal,
    line_list: list[dict[str, Any]] | None,
    request_hash: str,
    *,
    now: datetime,
) -> int | None:
    """The new return's id, or None when ``(purchase, return_no)`` is recorded already."""
    return insert_if_absent(
        session,
        PurchaseReturn,
        {
            "purchase_id": purchase_id,
            "return_no": return_no,
            "amount": amount,
            "lines": line_list,
            "points_reversed": 0,
            "request_hash": request_hash,
            "created_at": now,
        },
        key=("purchase_id", "return_no"),
    )


def _take_back(
    session: Session, purchase: Purchase, amount: Decimal, lines: Sequence[tuple[str, int]]
) -> tuple[Decimal, _Reversal]:
    """Count the return on its purchase (its lines, then its amount: the rest of the total when every
    line is back); the amount returned and what it takes back."""
    if lines and _take_back_lines(session, purchase, lines):
        amount = _rest_of_total(session, purchase)
    return amount, _take_back_amount(session, purchase, amount, by_lines=bool(lines))


def _complete_return(
    session: Session, return_id: int, amount: Decimal, taken: _Reversal, balance: int | None
) -> PurchaseReturn:
    """Store on the return what it took back and the member's balance after it."""
    return session.scalars(
        update(PurchaseReturn)
        .where(PurchaseReturn.id == return_id)
        .values(amount=amount, points_reversed=taken.points, balance_after=balance)
        .returning(PurchaseReturn),
        execution_options={"synchronize_session": False},
    ).one()


@dataclass(frozen=True)
class _Reversal:
    """A return counted on its purchase: its member, the points it takes back, how many of them were
    still pending."""

    member_id: int | None
    points: int
    from_pending: int


def _amount_returned(purchase: Purchase, amount: Decimal | None, lines: Sequence[tuple[str, int]]) -> Decimal:
    """The amount a return gives back: as given, or the value of its lines."""
    if amount is None:
        amount = _lines_value(purchase, lines)
    if amount <= 0:
        raise InvalidOperation("a return must have a positive amount", field="amount")
    return amount


def _rest_of_total(session: Session, purchase: Purchase) -> Decimal:
    """What is left of the total once every line came back: the amount of a return that completes it."""
    amount = purchase.total - session.execute(
        select(Purchase.returned_amount).where(Purchase.id == purchase.id)
    ).scalar_one()
    if amount <= 0:  # everything paid was already returned (by amount): nothing is left to give back
        raise InvalidOperation("this return would exceed what was bought", field="lines")
    return amount


def _take_back_amount(session: Session, purchase: Purchase, amount: Decimal, *, by_lines: bool) -> _Reversal:
    """Count ``amount`` as returned on the purchase, with the points it takes back (pending ones first).

    A return by amount of a purchase unchanged since it was read does it in one statement, guarded by
    the figures it was computed from; otherwise (lines returned, or another return or release
    meanwhile) the purchase row is locked by the update of its returned amount and read again.
    """
    if not by_lines:
        points = points_to_reverse(
            awarded=purchase.points_awarded,
            already_reversed=purchase.points_reversed,
            total=purchase.total,
            returned_amount=purchase.returned_amount + amount,
            lines=[_bought(line) for line in purchase.lines],
        )
        from_pending = min(points, purchase.points_pending)
        member_id = session.execute(
            update(Purchase)
            .where(
                Purchase.id == purchase.id,
                Purchase.returned_amount == purchase.returned_amount,
                Purchase.points_reversed == purchase.points_reversed,
                Purchase.points_pending == purchase.points_pending,
                Purchase.returned_amount + amount <= Purchase.total,
            )
            .values(
                returned_amount=Purchase.returned_amount + amount,
                points_reversed=Purchase.points_reversed + points,
                points_pending=Purchase.points_pending - from_pending,
            )
            .returning(Purchase.member_id),
            execution_options={"synchronize_session": False},
        ).one_or_none()
        if member_id is not None:
            return _Reversal(member_id=member_id[0], points=points, from_pending=from_pending)
    taken = session.execute(
        update(Purchase)
        .where(Purchase.id == purchase.id, Purchase.returned_amount + amount <= Purchase.total)
        .values(returned_amount=Purchase.returned_amount + amount)
        .returning(Purchase.member_id),
        execution_options={"synchronize_session": False},
    ).one_or_none()
    if taken is None:
        raise InvalidOperation("this return would exceed what was bought", field="amount")
    if taken.member_id is None:
        return _Reversal(member_id=None, points=0, from_pending=0)
    return _reverse_returned_points(session, purchase.id)


def get_purchase(session: Session, purchase_id: int) -> Purchase:
    purchase = session.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound(f"purchase {purchase_id} does not exist", field="purchase_id")
    return purchase


def _credit_purchase(
    session: Session,
    member_id: int,
    purchase_id: int,
    points: int,
    occurred_at: datetime,
    now: datetime,
    *,
    pending: bool,
    store_code: str,
) -> ledger.Posting:
    """Credit a purchase's points (or hold them as pending) and count the purchase on the member, in
    one statement."""
    counters: dict[str, Any] = {
        "purchase_count": Member.purchase_count + 1,
        "last_purchase_at": case(
            (Member.last_purchase_at.is_(None), occurred_at),
            (Member.last_purchase_at < occurred_at, occurred_at),
            else_=Member.last_purchase_at,
        ),
    }
    if pending:
        counters["pending_points"] = Member.pending_points + points
    return ledger.post(
        session,
        member_id=member_id,
        points=0 if pending else points,
        kind="earn",
        reason="purchase",
        now=now,
        source=("purchase", str(purchase_id)),
        qualifying=True,
        also=counters,
        returning=("purchase_count", "sponsor_id", "referral_rewarded_at"),
        store_code=store_code,
    )


def _reward_referral_if_due(
    session: Session, posting: ledger.Posting, member_id: int, total: Decimal, now: datetime
) -> int:
    """A referee's qualifying purchase rewards them and their sponsor, once; the statement that counted
    the purchase says whether the member is a referee still waiting for it (no query otherwise).
    Returns the member's balance after the purchase and its referral reward."""
    if posting.row.sponsor_id is not None and posting.row.referral_rewarded_at is None:
        if reward_referral(session, referee_id=member_id, purchase_total=total, now=now):
            return session.execute(select(Member.points_balance).where(Member.id == member_id)).scalar_one()
    return posting.balance


def release_pending_points(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Credit the pending points of up to ``limit`` purchases whose return window has ended; returns
    how many were released (run again until 0).

    Each release is a guarded update (``WHERE points_pending = :held``): a return recorded meanwhile
    changes the amount held, and that purchase is simply picked up again by the next run.
    """
    due = session.execute(
        select(Purchase.id, Purchase.member_id, Purchase.points_pending, Purchase.store_code)
        .where(Purchase.points_pending > 0, Purchase.release_at <= now)
        .order_by(Purchase.release_at, Purchase.id)
        .limit(limit)
    ).all()
    released = 0
    for purchase_id, member_id, held, store_code in due:
        taken = session.execute(
            update(Purchase)
            .where(Purchase.id == purchase_id, Purchase.points_pending == held)
            .values(points_pending=0, release_at=None),
            execution_options={"synchronize_session": False},
        )
        if rowcount(taken) != 1:
            continue
        assert member_id is not None  # points are held only on a member's purchase (an anonymous one earns none)
        ledger.post(
            session,
            member_id=member_id,
            points=held,
            kind="earn",
            reason="purchase (return window over)",
            now=now,
            source=("purchase", str(purchase_id)),
            qualifying=True,
            also={"pending_points": Member.pending_points - held},
            store_code=store_code,
        )
        outbox.record(
            session, PendingPointsReleased(occurred_at=now, member_id=member_id, purchase_id=purchase_id, points=held)
        )
        released += 1
    session.flush()
    return released


def _release_at(settings: ProgramSettings, occurred_at: datetime, now: datetime) -> datetime | None:
    """When a purchase's points become spendable, or None if they are spendable at once."""
    if not settings.pending_days:
        return None
    release_at = occurred_at + timedelta(days=settings.pending_days)
    return release_at if release_at > now else None


def _reverse_returned_points(session: Session, purchase_id: int) -> _Reversal:
    """Bring the points reversed for a purchase up to its returned share (pending points first).

    The purchase row is updated first, which locks it: two returns of one purchase reverse in turn
    and never take back more than was awarded.
    """
    row = session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id)
        .values(points_reversed=Purchase.points_reversed)
        .returning(
            Purchase.member_id,
            Purchase.points_awarded,
            Purchase.points_reversed,
            Purchase.points_pending,
            Purchase.total,
            Purchase.returned_amount,
        ),
        execution_options={"synchronize_session": False},
    ).one()
    lines = session.execute(  # columns, not the session's copies of the lines: they may have moved since
        select(PurchaseLine.unit_price, PurchaseLine.quantity, PurchaseLine.returned_quantity, PurchaseLine.points)
        .where(PurchaseLine.purchase_id == purchase_id)
    ).all()
    points = points_to_reverse(
        awarded=row.points_awarded,
        already_reversed=row.points_reversed,
        total=row.total,
        returned_amount=row.returned_amount,
        lines=[_bought(line) for line in lines],
    )
    from_pending = min(points, row.points_pending)
    if points:
        session.execute(
            update(Purchase)
            .where(Purchase.id == purchase_id)
            .values(
                points_reversed=Purchase.points_reversed + points,
                points_pending=Purchase.points_pending - from_pending,
            ),
            execution_options={"synchronize_session": False},
        )
    return _Reversal(member_id=row.member_id, points=points, from_pending=from_pending)


def _bought(line: Any) -> BoughtLine:
    """A line as the reversal counts it (a line of the purchase, or its columns read again)."""
    return BoughtLine(line.unit_price * line.quantity, line.points, line.quantity, line.returned_quantity)


def _debit_reversed_points(session: Session, taken: _Reversal, purchase_id: int, now: datetime) -> int:
    """Take back the reversed points (those still pending from the pending count); the balance after."""
    assert taken.member_id is not None
    posting = ledger.post(
        session,
        member_id=taken.member_id,
        points=-(taken.points - taken.from_pending),
        kind="reverse",
        reason="return",
        now=now,
        source=("purchase", str(purchase_id)),
        qualifying=True,
        also={"pending_points": Member.pending_points - taken.from_pending} if taken.from_pending else None,
    )
    return posting.balance


def _lines_value(purchase: Purchase, lines: Sequence[tuple[str, int]]) -> Decimal:
    """The value of returned ``(sku, quantity)`` lines, pro rata of the total actually paid."""
    line_sum = sum((line.amount for line in purchase.lines), Decimal("0"))
    if line_sum <= 0:
        raise InvalidOperation("this purchase has no priced lines; return by amount", field="lines")
    value = Decimal("0")
    taken: dict[int, int] = {}  # per line, by the earlier lines of this request (a sku may repeat)
    for index, (sku, quantity) in enumerate(lines):
        if not any(line.sku == sku for line in purchase.lines):
            raise InvalidOperation(f"{sku} is not on the receipt", field=f"lines.{index}.sku")
        remaining = quantity
        for line in purchase.lines:
            if line.sku == sku and remaining:
                take = min(remaining, line.quantity - line.returned_quantity - taken.get(line.id, 0))
                taken[line.id] = taken.get(line.id, 0) + take
                remaining -= take
                value += line.unit_price * take
        if remaining:
            raise InvalidOperation(
                f"more of {sku} is returned than was bought and not yet returned", field=f"lines.{index}.quantity"
            )
    return (value * purchase.total / line_sum).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _take_back_lines(session: Session, purchase: Purchase, lines: Sequence[tuple[str, int]]) -> bool:
    """Count returned quantities on the purchase's lines; True when every line is now fully returned.

    Each counter moves in a guarded atomic update, so concurrent returns never return more of a line
    than was bought: the loser of a race is refused and may post again.
    """
    taken: dict[int, int] = {}
    for index, (sku, quantity) in enumerate(lines):
        remaining = quantity
        for line in purchase.lines:
            available = line.quantity - line.returned_quantity - taken.get(line.id, 0)
            take = min(remaining, available) if line.sku == sku else 0
            if take <= 0:
                continue
            taken[line.id] = taken.get(line.id, 0) + take
            moved = session.execute(
                update(PurchaseLine)
                .where(PurchaseLine.id == line.id, PurchaseLine.returned_quantity + take <= PurchaseLine.quantity)
                .values(returned_quantity=PurchaseLine.returned_quantity + take),
                execution_options={"synchronize_session": False},
            )
            if rowcount(moved) != 1:
                raise Conflict("another return of this line was recorded at the same time; retry", field=f"lines.{index}")
            remaining -= take
    return session.scalar(
        select(PurchaseLine.id)
        .where(PurchaseLine.purchase_id == purchase.id, PurchaseLine.returned_quantity < PurchaseLine.quantity)
        .limit(1)
    ) is None


def _find_return(session: Session, purchase_id: int, return_no: str) -> PurchaseReturn | None:
    return session.scalars(
        select(PurchaseReturn).where(PurchaseReturn.purchase_id == purchase_id, PurchaseReturn.return_no == return_no)
    ).one_or_none()


def _replayed_return(existing: PurchaseReturn, request_hash: str, member_id: int | None) -> ReturnResult:
    if existing.request_hash != request_hash:
        raise Conflict("this return number was already recorded with different content", field="return_no")
    return ReturnResult(purchase_return=existing, member_id=member_id, created=False)


def _resolve_member(session: Session, member_id: int | None, card_number: str | None) -> tuple[int, str, Decimal]:
    """The member a receipt names, by id or card number (both must agree), with their tier and its
    points multiplier. One indexed query."""
    stmt = select(Member.id, Member.card_number, Member.tier_code, Tier.multiplier).join(Tier, Tier.code == Member.tier_code)
    stmt = stmt.where(Member.id == member_id) if member_id is not None else stmt.where(Member.card_number == card_number)
    found = session.execute(stmt).one_or_none()
    if found is None:
        field = "member_id" if member_id is not None else "card_number"
        raise InvalidOperation("no member has this " + field.replace("_", " "), field=field)
    if member_id is not None and card_number is not None and found.card_number != card_number:
        raise InvalidOperation("this card number belongs to another member", field="card_number")
    return found.id, found.tier_code, found.multiplier


def _check_purchase_date(occurred_at: datetime, now: datetime) -> None:
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise InvalidOperation("a purchase cannot be in the future", field="occurred_at")
    if occurred_at < now - MAX_PURCHASE_AGE:
        raise InvalidOperation("a purchase cannot be more than a year old", field="occurred_at")


def _fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
