"""Random sequences of credits, debits, clock moves and expiry runs, checked against a model of the lots.

Each example starts from an empty database (the core program, with points expiring after one month,
and three rewards) and two members, then runs its steps through the operations, one transaction per
step as a request or a command would: purchases and positive adjustments credit points; redemptions,
negative adjustments and returns debit them (a return may leave the balance negative); the clock moves
forward; expiry runs. A model written independently of the code keeps each member's lots, spent in
the order they were earned. After every step, for every member: the balance is the model's and the sum
of the ledger, the lots are the model's, and they hold ``max(balance, 0)`` points; an expiry run takes
exactly the points of the lots past their date that were not spent before.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from loyalty.enrolment.operations import NewMember, enroll_member
from loyalty.errors import InsufficientPoints
from loyalty.ledger.models import LedgerEntry, PointLot
from loyalty.ledger.operations import adjust_points, members_out_of_balance, members_with_lots_out_of_step
from loyalty.ledger.tasks import expire_points
from loyalty.members.models import Member
from loyalty.program.operations import update_settings
from loyalty.purchases.operations import PurchaseInput, record_purchase, record_return
from rewards.catalog.operations import redeem_reward, save_reward
from tests.conftest import reset_database
from tests.qualifying import assert_read_model_matches_the_ledger

MEMBERS = 2
EXPIRY_MONTHS = 1
REWARD_COSTS = {"PIN": 5, "MUG": 20, "BAG": 60}


# -- The model -------------------------------------------------------------------------------------


def expiry_of(earned_at: datetime) -> datetime:
    """The same day and time EXPIRY_MONTHS later; when that month has no such day, the first instant
    of the month after it (so that points earned later never expire earlier)."""
    index = earned_at.month - 1 + EXPIRY_MONTHS
    year, month = earned_at.year + index // 12, index % 12 + 1
    if earned_at.day <= calendar.monthrange(year, month)[1]:
        return earned_at.replace(year=year, month=month)
    year, month = year + month // 12, month % 12 + 1
    return earned_at.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Lot:
    points: int
    remaining: int
    expires_at: datetime


@dataclass
class Account:
    """A member as the test expects it: balance, lots in the order they were earned, points expired."""

    id: int
    balance: int = 0
    lots: list[Lot] = field(default_factory=list)
    expired: int = 0

    def credit(self, points: int, now: datetime) -> None:
        """A debt is repaid first; what raises the balance above zero opens a lot."""
        opened = max(self.balance + points, 0) - max(self.balance, 0)
        self.balance += points
        if opened:
            self.lots.append(Lot(opened, opened, expiry_of(now)))

    def debit(self, points: int) -> None:
        """Spend the lots oldest first, for the part of the debit the balance covered."""
        owed = max(self.balance, 0) - max(self.balance - points, 0)
        self.balance -= points
        for lot in self.lots:
            taken = min(lot.remaining, owed)
            lot.remaining -= taken
            owed -= taken
        assert owed == 0

    def expire(self, now: datetime) -> None:
        due = sum(lot.remaining for lot in self.lots if lot.expires_at <= now)
        self.debit(due)
        self.expired += due


@dataclass
class Bought:
    id: int
    account: Account
    total: int  # cents
    awarded: int
    returned: int = 0  # cents
    reversed: int = 0


# -- Steps -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Buy:
    member: int
    cents: int


@dataclass(frozen=True)
class Adjust:
    member: int
    points: int


@dataclass(frozen=True)
class Redeem:
    member: int
    reward: str


@dataclass(frozen=True)
class Return:
    """A share of what is left of purchase ``ref`` (modulo the purchases so far)."""

    ref: int
    percent: int


@dataclass(frozen=True)
class Advance:
    hours: int


@dataclass(frozen=True)
class Expire:
    pass


Step = Buy | Adjust | Redeem | Return | Advance | Expire

member_st = st.integers(0, MEMBERS - 1)
step_st: st.SearchStrategy[Step] = st.one_of(
    st.builds(Buy, member=member_st, cents=st.integers(0, 8000)),
    st.builds(Adjust, member=member_st, points=st.integers(-80, 80).filter(bool)),
    st.builds(Redeem, member=member_st, reward=st.sampled_from(sorted(REWARD_COSTS))),
    st.builds(Return, ref=st.integers(0, 20), percent=st.integers(1, 100)),
    st.builds(Advance, hours=st.integers(1, 48)),
    st.just(Expire()),
)
#: A few steps, then the clock moves on (up to 40 days) and expiry runs: lots reach their date often.
round_st = st.tuples(st.lists(step_st, max_size=6), st.integers(0, 24 * 40))


class Runner:
    """Runs steps through the operations, one transaction each, and checks them against the model."""

    def __init__(self, sessions: sessionmaker[Session], clock: FrozenClock, accounts: list[Account]) -> None:
        self.sessions, self.clock, self.accounts = sessions, clock, accounts
        self.purchases: list[Bought] = []

    def run(self, step: Step) -> None:
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            if isinstance(step, Buy):
                self.buy(session, step, now)
            elif isinstance(step, Adjust):
                account = self.accounts[step.member]
                adjust_points(
                    session, member_id=account.id, points=step.points, reason="property", actor="test", now=now
                )
                account.credit(step.points, now) if step.points > 0 else account.debit(-step.points)
            elif isinstance(step, Redeem):
                self.redeem(session, step, now)
            elif isinstance(step, Return):
                self.give_back(session, step, now)
            elif isinstance(step, Advance):
                self.clock.advance(timedelta(hours=step.hours))
        if isinstance(step, Expire):
            self.expire(now)

    def buy(self, session: Session, step: Buy, now: datetime) -> None:
        account = self.accounts[step.member]
        data = PurchaseInput(
            store_code="S1",
            receipt_no=f"R{len(self.purchases)}",
            occurred_at=now,
            currency="EUR",
            total=Decimal(step.cents).scaleb(-2),
            channel="store",
            member_id=account.id,
        )
        receipt = record_purchase(session, data, now=now).receipt
        points = step.cents // 100
        assert receipt.points_awarded == points
        account.credit(points, now)
        self.purchases.append(Bought(receipt.id, account, step.cents, points))

    def redeem(self, session: Session, step: Redeem, now: datetime) -> None:
        account, cost = self.accounts[step.member], REWARD_COSTS[step.reward]
        try:
            with session.begin_nested():
                redeem_reward(session, member_id=account.id, reward_code=step.reward, now=now)
        except InsufficientPoints:
            assert account.balance < cost
            return
        assert account.balance >= cost
        account.debit(cost)

    def give_back(self, session: Session, step: Return, now: datetime) -> None:
        if not self.purchases:
            return
        purchase = self.purchases[step.ref % len(self.purchases)]
        left = purchase.total - purchase.returned
        if left == 0:
            return
        amount = max(left * step.percent // 100, 1)
        result = record_return(
            session,
            purchase_id=purchase.id,
            return_no=f"RET-{purchase.returned}",
            now=now,
            amount=Decimal(amount).scaleb(-2),
        )
        purchase.returned += amount
        reversed_points = purchase.awarded * purchase.returned // purchase.total - purchase.reversed
        assert result.purchase_return.points_reversed == reversed_points
        purchase.reversed += reversed_points
        purchase.account.debit(reversed_points)

    def expire(self, now: datetime) -> None:
        """Run expiry as the command does: batches, each in its own transaction, until none is left."""
        while True:
            with session_scope(self.sessions) as session:
                if not expire_points(session, now=now):
                    break
        for account in self.accounts:
            account.expire(now)

    def check(self) -> None:
        with self.sessions() as session:
            assert members_out_of_balance(session) == []
            assert members_with_lots_out_of_step(session) == []
            assert_read_model_matches_the_ledger(session)
            for account in self.accounts:
                balance = session.scalar(select(Member.points_balance).where(Member.id == account.id))
                lots = session.execute(
                    select(PointLot.points, PointLot.remaining, PointLot.expires_at)
                    .where(PointLot.member_id == account.id)
                    .order_by(PointLot.id)
                ).all()
                expired = session.scalar(
                    select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                        LedgerEntry.member_id == account.id, LedgerEntry.kind == "expire"
                    )
                )
                assert balance == account.balance
                assert [tuple(lot) for lot in lots] == [(lot.points, lot.remaining, lot.expires_at) for lot in account.lots]
                assert -expired == account.expired


def start(app, clock: FrozenClock) -> list[Account]:
    """Empty the database, make points expire after EXPIRY_MONTHS, add the rewards, enrol the members."""
    reset_database(app, clock)
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        update_settings(session, {"points_expiry_months": EXPIRY_MONTHS})
        for code, cost in REWARD_COSTS.items():
            reward = {"code": code, "name": code.title(), "kind": "gift", "cost_points": cost, "validity_days": 30}
            save_reward(session, reward)
        members = [
            enroll_member(session, NewMember(f"m{n}@example.com", "M", str(n)), now=clock.now(), source="test")
            for n in range(MEMBERS)
        ]
        return [Account(member.id) for member in members]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(round_st, min_size=1, max_size=8))
def test_lots_always_hold_the_spendable_balance_and_expire_oldest_first(app, clock, rounds):
    runner = Runner(app.extensions["loyalty.sessions"], clock, start(app, clock))
    for steps, hours in rounds:
        for step in [*steps, Advance(hours), Expire()]:
            runner.run(step)
            runner.check()
