"""Voucher use cases: validate at the till, use once, cancel while unused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import rowcount
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.ledger import operations as ledger
from rewards.catalog.models import Reward
from rewards.events import VoucherCancelled, VoucherUsed
from rewards.vouchers.models import Voucher

#: The reason of the entry that gives a cancelled voucher's points back.


@dataclass(frozen=True)
class UseResult:
    voucher: Voucher
    #: False when the same till retried the same receipt and this is the original answer again.
    created: bool


def get_voucher(session: Session, code: str) -> Voucher:
    voucher = session.scalar(select(Voucher).where(Voucher.code == code.upper()))
    if voucher is None:
        raise NotFound("no voucher has this code", field="code")
    return voucher


def member_vouchers(session: Session, member_id: int) -> list[Voucher]:
    return list(session.scalars(select(Voucher).where(Voucher.member_id == member_id).order_by(Voucher.id.desc())))


def use_voucher(session: Session, code: str, *, store_code: str, receipt_no: str, now: datetime) -> UseResult:
    """Use a voucher once, for the receipt ``(store_code, receipt_no)``.

    One guarded statement (``WHERE status = 'issued' AND expires_at > now``) decides: of two tills
    trying at the same instant, one wins and the other gets a :class:`Conflict`; the same till retrying
    the same receipt gets the original answer. Expired: :class:`InvalidOperation`.
    """
    voucher = get_voucher(session, code)
    used = session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.status == "issued", Voucher.expires_at > now)
        .values(status="redeemed", redeemed_at=now, redeemed_store_code=store_code, redeemed_receipt_no=receipt_no),
        execution_options={"synchronize_session": False},
    )
    session.refresh(voucher)
    if rowcount(used) == 1:
        outbox.record(
            session,
            VoucherUsed(occurred_at=now, member_id=voucher.member_id, voucher_id=voucher.id, store_code=store_code),
        )
        return UseResult(voucher=voucher, created=True)
    if voucher.status == "redeemed":
        if (voucher.redeemed_store_code, voucher.redeemed_receipt_no) == (store_code, receipt_no):
            return UseResult(voucher=voucher, created=False)
        raise Conflict("this voucher has already been used", field="code")
    if voucher.status == "cancelled":
        raise Conflict("this voucher was cancelled", field="code")
    raise InvalidOperation("this voucher has expired", field="code")


def cancel_voucher(session: Session, code: str, *, now: datetime) -> Voucher:
    """Cancel an unused, unexpired voucher: its points go back to the member and its unit to the stock.

    The member's row is locked (by the refund) before the reward's (by the stock), the order of a
    purchase whose threshold issues this reward: the two never deadlock.
    """
    voucher = get_voucher(session, code)
    cancelled = session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.status == "issued", Voucher.expires_at > now)
        .values(status="cancelled", cancelled_at=now),
        execution_options={"synchronize_session": False},
    )
    session.refresh(voucher)
    if rowcount(cancelled) != 1:
        if voucher.status == "issued":
            raise InvalidOperation("this voucher has expired", field="code")
        raise Conflict(f"only an unused voucher can be cancelled; this one is {voucher.status}", field="code")
    if voucher.points_cost:
        ledger.post(
            session,
            member_id=voucher.member_id,
            points=voucher.points_cost,
            kind="reverse",
            reason="voucher cancelled",
            now=now,
            source=("voucher", str(voucher.id)),
        )
    session.execute(
        update(Reward)
        .where(Reward.id == voucher.reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + 1),
        execution_options={"synchronize_session": False},
    )
    outbox.record(session, VoucherCancelled(occurred_at=now, member_id=voucher.member_id, voucher_id=voucher.id))
    session.flush()
    return voucher
