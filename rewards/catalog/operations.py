"""Catalog use cases: list what a member can get, redeem points for a reward, manage the catalog."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import rowcount
from loyalty.errors import Conflict, InsufficientPoints, InvalidOperation, NotFound
from loyalty.i18n import Translations
from loyalty.ledger import operations as ledger
from loyalty.members.models import MEMBERS, Member
from loyalty.program.cache import cached, touch
from loyalty.tiers.operations import load_ladder
from rewards.catalog.models import Reward, within_window
from rewards.events import RewardRedeemed
from rewards.vouchers.models import Voucher

VOUCHER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: 16 characters of a 32-letter alphabet: 80 random bits, printed as four dash-separated groups of four.
VOUCHER_GROUPS = 4


@dataclass(frozen=True)
class RewardView:
    """A reward as this process's copy of the catalog holds it (a plain value, safe to share between
    requests), its stock aside: :func:`in_stock_now` reads it."""

    id: int
    code: str
    name: str
    kind: str
    amount: Decimal | None
    percent: int | None
    cost_points: int
    min_tier_code: str | None
    limited_stock: bool
    validity_days: int
    active_from: datetime | None
    active_until: datetime | None
    is_active: bool
    is_offer: bool
    translations: Translations

    def is_available(self, at: datetime) -> bool:
        """Active and inside its window (stock aside)."""
        return within_window(self.is_active, self.active_from, self.active_until, at)


#: A reward read now, or from the process's copy of the catalog.
AnyReward = TypeVar("AnyReward", Reward, RewardView)
T = TypeVar("T")


@dataclass(frozen=True)
class CatalogItem:
    reward: Reward
    #: Whether the member's balance covers the cost now.
    affordable: bool


def get_reward(session: Session, code: str) -> Reward:
    reward = session.scalar(select(Reward).where(Reward.code == code))
    if reward is None:
        raise NotFound(f"no reward has the code {code!r}", field="reward_code")
    return reward


def list_rewards(session: Session) -> list[Reward]:
    return list(session.scalars(select(Reward).order_by(Reward.cost_points, Reward.code)))


def catalog_views(session: Session) -> tuple[RewardView, ...]:
    """The catalog, cheapest first, from this process's copy: kept until the configuration changes
    (:func:`save_reward` says so)."""
    return cached(session, "catalog", _read_catalog)


def _read_catalog(session: Session) -> tuple[RewardView, ...]:
    return tuple(
        RewardView(
            id=reward.id,
            code=reward.code,
            name=reward.name,
            kind=reward.kind,
            amount=reward.amount,
            percent=reward.percent,
            cost_points=reward.cost_points,
            min_tier_code=reward.min_tier_code,
            limited_stock=reward.stock is not None,
            validity_days=reward.validity_days,
            active_from=reward.active_from,
            active_until=reward.active_until,
            is_active=reward.is_active,
            is_offer=reward.is_offer,
            translations=reward.translations,
        )
        for reward in list_rewards(session)
    )


def reward_view(session: Session, code: str) -> RewardView | None:
    """The reward with ``code`` from this process's copy of the catalog (None: no such reward)."""
    return next((reward for reward in catalog_views(session) if reward.code == code), None)


def in_stock_now(session: Session, rewards: Sequence[RewardView]) -> list[RewardView]:
    """``rewards`` less those out of stock now: one statement, when some have a limited stock."""
    if not any(reward.limited_stock for reward in rewards):
        return list(rewards)
    gone = set(session.scalars(select(Reward.code).where(Reward.stock == 0)))
    return [reward for reward in rewards if reward.code not in gone]


def catalog_for(
    session: Session, member: Member, *, now: datetime, rewards: list[Reward] | None = None
) -> list[CatalogItem]:
    """The rewards a member may redeem now (active, in stock, tier high enough), cheapest first; from
    ``rewards`` when the caller has already read the catalog."""
    return [
        CatalogItem(reward=reward, affordable=member.points_balance >= reward.cost_points)
        for reward in redeemable(session, member.tier_code, now=now, rewards=list_rewards(session) if rewards is None else rewards)
        if reward.stock != 0
    ]


def redeemable(session: Session, tier_code: str, *, now: datetime, rewards: Sequence[AnyReward]) -> list[AnyReward]:
    """The rewards of ``rewards`` a member of tier ``tier_code`` may redeem now, stock aside: active,
    inside their window, not an offer, and the member's tier high enough."""
    ladder = load_ladder(session, holding=tier_code)
    rank = ladder.get(tier_code).rank
    return [
        reward
        for reward in rewards
        if not reward.is_offer
        and reward.is_available(now)
        and (reward.min_tier_code is None or ladder.get(reward.min_tier_code).rank <= rank)
    ]


def redeem_reward(session: Session, *, member_id: int, reward_code: str, now: datetime, source: str = "redemption") -> Voucher:
    """Spend a member's points on a reward: debit the cost, issue a voucher, take one unit of stock.

    The reward is read from this process's copy of the catalog, its stock aside. The debit is one
    guarded statement (``WHERE points_balance >= cost``) and so is the stock (``WHERE stock > 0``): two
    redemptions racing for the last unit cannot both win, and the loser's debit rolls back with its
    error. Nothing is written before the debit; taking the stock is the only step that can fail after
    it. The member's row is locked (by the debit) before the reward's (by the stock), the order of a
    purchase whose threshold issues this reward: the two never deadlock. Not enough points:
    :class:`~loyalty.errors.InsufficientPoints`; out of stock: :class:`Conflict`. Records
    ``PointsDebited`` and ``RewardRedeemed``.
    """
    reward = reward_view(session, reward_code)
    if reward is None:
        raise InvalidOperation(f"no reward has the code {reward_code!r}", field="reward_code")
    if reward.is_offer and source == "redemption":
        raise InvalidOperation("this reward is an offer: it is given, not redeemed with points", field="reward_code")
    if not reward.is_available(now):
        raise InvalidOperation("this reward is not available now", field="reward_code")
    if reward.min_tier_code is not None:
        tier_code = _member_column(session, member_id, MEMBERS.c.tier_code)
        ladder = load_ladder(session, holding=tier_code)
        if ladder.get(tier_code).rank < ladder.get(reward.min_tier_code).rank:
            raise InvalidOperation(f"this reward is for {reward.min_tier_code} members and above", field="reward_code")
    debited = ledger.move_balance(
        session, MEMBERS.c.id == member_id, -reward.cost_points, at_least=reward.cost_points or None
    )
    if debited is None:
        balance = _member_column(session, member_id, MEMBERS.c.points_balance)
        raise InsufficientPoints(
            f"this reward costs {reward.cost_points} points; the member has {balance}", field="reward_code"
        )
    voucher = _new_voucher(session, reward, member_id=member_id, now=now, source=source, points_cost=reward.cost_points)
    if reward.cost_points:
        ledger.append_entry(
            session, debited, member_id=member_id, points=-reward.cost_points, kind="redeem",
            reason=f"reward {reward.code}", now=now, source=("voucher", str(voucher.id)),
        )  # fmt: skip
    _take_stock(session, reward)
    _record_issue(session, voucher, reward, now=now, source=source)
    return voucher


def _member_column(session: Session, member_id: int, column: ColumnElement[T]) -> T:
    """One column of the member's row; :class:`NotFound` when there is no such member."""
    found = session.execute(select(column).where(MEMBERS.c.id == member_id)).first()
    if found is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    return found[0]


def grant_offer(
    session: Session,
    *,
    member_id: int,
    reward_code: str,
    now: datetime,
    validity_days: int | None = None,
    source: str = "scenario",
) -> Voucher:
    """Give a member a voucher of an offer reward, at no cost in points (a scenario's welcome or
    birthday offer, an instant-win game's prize: ``source`` says which); ``validity_days`` overrides
    the reward's. Stock is taken as for a redemption."""
    reward = reward_view(session, reward_code)
    if reward is None or not reward.is_offer:
        raise InvalidOperation(f"no offer reward has the code {reward_code!r}", field="reward_code")
    voucher = _new_voucher(
        session, reward, member_id=member_id, now=now, source=source, points_cost=0, validity_days=validity_days
    )
    _take_stock(session, reward)
    _record_issue(session, voucher, reward, now=now, source=source)
    return voucher


def _new_voucher(
    session: Session,
    reward: RewardView,
    *,
    member_id: int,
    now: datetime,
    source: str,
    points_cost: int,
    validity_days: int | None = None,
) -> Voucher:
    voucher = Voucher(
        code=new_voucher_code(),
        member_id=member_id,
        reward_id=reward.id,
        status="issued",
        kind=reward.kind,
        amount=reward.amount,
        percent=reward.percent,
        points_cost=points_cost,
        source=source,
        issued_at=now,
        expires_at=now + timedelta(days=validity_days or reward.validity_days),
    )
    session.add(voucher)
    session.flush()
    return voucher


def _take_stock(session: Session, reward: RewardView) -> None:
    if reward.limited_stock:
        taken = session.execute(
            update(Reward).where(Reward.id == reward.id, Reward.stock > 0).values(stock=Reward.stock - 1),
            execution_options={"synchronize_session": False},
        )
        if rowcount(taken) != 1:
            raise Conflict("this reward is out of stock", field="reward_code")


def _record_issue(session: Session, voucher: Voucher, reward: RewardView, *, now: datetime, source: str) -> None:
    outbox.record(
        session,
        RewardRedeemed(
            occurred_at=now,
            member_id=voucher.member_id,
            reward_code=reward.code,
            voucher_id=voucher.id,
            points=voucher.points_cost,
            source=source,
        ),
    )


def save_reward(session: Session, fields: dict[str, Any], *, code: str | None = None) -> Reward:
    """Create a reward, or change the one with ``code``; checks the kind's value, the window and the
    minimum tier. Every process reads the catalog again at its next use."""
    reward = get_reward(session, code) if code is not None else Reward(is_active=True, is_offer=False, description="")
    with session.no_autoflush:  # nothing reaches the database before it is checked
        for name, value in fields.items():
            setattr(reward, name, value)
        if reward.kind == "fixed_voucher" and not reward.amount:
            raise InvalidOperation("a fixed-amount voucher needs an amount", field="amount")
        if reward.kind == "percent_voucher" and not reward.percent:
            raise InvalidOperation("a percentage voucher needs a percent", field="percent")
        if reward.active_from and reward.active_until and reward.active_until <= reward.active_from:
            raise InvalidOperation("the window must end after it starts", field="active_until")
        tiers = {tier.code for tier in load_ladder(session).tiers}
        if reward.min_tier_code is not None and reward.min_tier_code not in tiers:
            raise InvalidOperation(f"no tier has the code {reward.min_tier_code!r}", field="min_tier_code")
        if code is None and session.scalar(select(Reward.id).where(Reward.code == reward.code)) is not None:
            raise Conflict(f"a reward with the code {reward.code!r} exists already", field="code")
    session.add(reward)
    session.flush()
    touch(session)  # the copies of the catalog (catalog_views) are out of date
    return reward


def new_voucher_code() -> str:
    raw = "".join(secrets.choice(VOUCHER_ALPHABET) for _ in range(VOUCHER_GROUPS * 4))
    return "-".join(raw[index : index + 4] for index in range(0, len(raw), 4))
