"""Random sequences of purchases, returns, replays, claims and adjustments, checked against a model
(and the qualifying months kept from the ledger, against the ledger).

Each example starts from an empty database, a program drawn at random (base rate, promotions) and
three members, then runs a sequence of steps through the operations, one transaction per step as a
request would. A small model written independently of the code predicts every answer (points,
refusals, replays) and every balance; after each step every balance must equal the model's and the
sum of the member's ledger entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any, TypeVar

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from loyalty.enrolment.operations import NewMember, enroll_member
from loyalty.errors import Conflict, DomainError, InvalidOperation
from loyalty.ledger.operations import adjust_points, members_out_of_balance
from loyalty.members.models import Member
from loyalty.program.operations import update_settings
from loyalty.purchases.rules import create_rule
from loyalty.purchases.operations import (
    LineInput,
    PurchaseInput,
    PurchaseReceipt,
    claim_purchase,
    record_purchase,
    record_return,
)
from loyalty.receipts.models import Purchase
from tests.conftest import reset_database
from tests.qualifying import assert_read_model_matches_the_ledger

T = TypeVar("T")
MEMBERS = 3
CLAIM_WINDOW = timedelta(days=30)
CATEGORY_MULTIPLIERS = {"beauty": Fraction(2)}


# -- The model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Promo:
    multiplier: Fraction
    channel: str | None = None
    category: str | None = None


@dataclass
class Program:
    """The earning rules of one example, and the points they give, computed exactly."""

    rate: Fraction
    promotions: tuple[Promo, ...]

    def points(self, total: int, lines: list[ModelLine], channel: str) -> int:
        """floor(Σ over lines: share of ``total`` × rate × category multiplier × best promotion).

        Amounts are in cents; without priced lines, the total earns as one line of no category.
        """
        return floor(sum(self.shares(total, lines, channel), Fraction(0)))

    def shares(self, total: int, lines: list[ModelLine], channel: str) -> list[Fraction]:
        """Each part's exact points: the lines', or the total's alone when no line is priced."""
        if total <= 0:
            return []
        line_sum = sum(line.value for line in lines)
        parts = [(line.value, line.category) for line in lines] if line_sum > 0 else [(total, None)]
        base = line_sum if line_sum > 0 else total
        shares = []
        for value, category in parts:
            best = max(
                (p.multiplier for p in self.promotions if p.channel in (None, channel) and p.category in (None, category)),
                default=Fraction(1),
            )
            multiplier = CATEGORY_MULTIPLIERS.get(category or "", Fraction(1)) * best
            shares.append(Fraction(value * total, base * 100) * self.rate * multiplier)
        return shares

    def share_out(self, total: int, lines: list[ModelLine], channel: str) -> None:
        """Give each priced line the whole points it earned: its share rounded down, plus one for the
        lines with the largest remainders until the purchase's points are reached."""
        shares = self.shares(total, lines, channel)
        if not any(line.value for line in lines) or not shares:
            return
        for line, share in zip(lines, shares, strict=True):
            line.points = floor(share)
        left = self.points(total, lines, channel) - sum(line.points for line in lines)
        by_remainder = sorted(range(len(shares)), key=lambda index: -(shares[index] - floor(shares[index])))
        for index in by_remainder[:left]:
            lines[index].points += 1


@dataclass
class ModelLine:
    sku: str
    category: str | None
    quantity: int
    unit: int  # cents
    returned: int = 0
    points: int = 0

    @property
    def value(self) -> int:
        return self.quantity * self.unit


@dataclass
class ModelPurchase:
    """A recorded purchase as the test expects it to be; ``member`` is an index into the members."""

    data: PurchaseInput
    id: int
    member: int | None
    total: int  # cents
    lines: list[ModelLine]
    first_receipt: PurchaseReceipt
    awarded: int = 0
    returned: int = 0  # cents
    reversed: int = 0
    #: return_no -> the request recorded under it
    returns: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def reversal_due(self) -> int:
        """Points reversed in all after the returns so far: what the returned lines earned, plus the
        amount returned beyond them in proportion; everything once the whole total came back."""
        if self.total <= 0:
            return 0
        if self.returned >= self.total:
            return self.awarded
        line_sum = sum(line.value for line in self.lines)
        by_lines, lines_value = 0, Fraction(0)
        for line in self.lines:
            if line.returned and line_sum:
                by_lines += line.points * line.returned // line.quantity
                lines_value += Fraction(line.unit * line.returned * self.total, line_sum)
        by_amount = max(Fraction(self.returned) - lines_value, Fraction(0))
        return min(self.awarded, by_lines + floor(self.awarded * by_amount / self.total))


@dataclass
class Model:
    """What the database should hold: balances and purchase counts by member index, and purchases."""

    program: Program
    member_ids: list[int]
    cards: list[str]
    balances: list[int]
    purchase_counts: list[int]
    purchases: list[ModelPurchase] = field(default_factory=list)

    def credit(self, member: int, points: int) -> None:
        self.balances[member] += points


# -- Steps: ``ref`` names the purchase ``ref`` modulo the number recorded so far ------------------


@dataclass(frozen=True)
class Buy:
    member: int | None
    by_card: bool
    lines: tuple[tuple[str, str | None, int, int], ...]
    total: tuple[str, int]
    channel: str
    store: str
    minutes_ago: int


@dataclass(frozen=True)
class Replay:
    ref: int
    altered: bool


@dataclass(frozen=True)
class Return:
    """By amount, by ``(line ref, quantity)`` lines, or (neither) every line not yet returned."""

    ref: int
    return_no: str
    amount: tuple[str, int] | None
    lines: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Claim:
    ref: int
    member: int


@dataclass(frozen=True)
class Adjust:
    member: int
    points: int


@dataclass(frozen=True)
class Advance:
    hours: int


Step = Buy | Replay | Return | Claim | Adjust | Advance

#: Prices and totals repeat in real receipts (the same article, round totals): draw them often.
price_st = st.sampled_from([0, 100, 1000, 1295, 2000]) | st.integers(0, 5000)
line_st = st.tuples(st.sampled_from("ABC"), st.sampled_from([None, "beauty", "shoes"]), st.integers(1, 3), price_st)
total_st = st.one_of(
    st.tuples(st.just("percent"), st.sampled_from([100, 90, 66, 50, 33, 1])),
    st.tuples(st.just("cents"), st.sampled_from([0, 100, 1000, 2000, 4590]) | st.integers(0, 20000)),
)
return_no_st = st.sampled_from(["RET-1", "RET-2", "RET-3"])  # few, so that numbers get reused
amount_st = st.one_of(
    st.tuples(st.just("percent"), st.integers(1, 100)),
    st.tuples(st.sampled_from(["rest", "over"]), st.just(0)),
    st.tuples(st.just("cents"), st.integers(1, 5000)),
)
buy_st = st.builds(
    Buy,
    member=st.none() | st.integers(0, MEMBERS - 1),
    by_card=st.booleans(),
    lines=st.lists(line_st, max_size=4).map(tuple),
    total=total_st,
    channel=st.sampled_from(["store", "web", "app"]),
    store=st.sampled_from(["S1", "S2"]),
    minutes_ago=st.integers(0, 600),
)
step_st: st.SearchStrategy[Step] = st.one_of(
    buy_st,
    st.builds(Replay, ref=st.integers(0, 50), altered=st.booleans()),
    st.builds(Return, ref=st.integers(0, 50), return_no=return_no_st, amount=amount_st),
    st.builds(
        Return,
        ref=st.integers(0, 50),
        return_no=return_no_st,
        amount=st.none(),
        lines=st.lists(st.tuples(st.integers(0, 9), st.integers(1, 3)), min_size=1, max_size=3).map(tuple),
    ),
    st.builds(Return, ref=st.integers(0, 50), return_no=return_no_st, amount=st.none()),
    st.builds(Claim, ref=st.integers(0, 50), member=st.integers(0, MEMBERS - 1)),
    st.builds(Adjust, member=st.integers(0, MEMBERS - 1), points=st.integers(-200, 200).filter(bool)),
    st.builds(Advance, hours=st.integers(1, 96)),
)
program_st = st.builds(
    Program,
    rate=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(5, 2)]),
    promotions=st.lists(
        st.sampled_from([Promo(Fraction(3), channel="web"), Promo(Fraction(3, 2), category="shoes"), Promo(Fraction(2))]),
        unique=True,
        max_size=2,
    ).map(tuple),
)


def cents(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2)


class Runner:
    """Runs steps through the operations, one transaction each, and checks them against the model."""

    def __init__(self, sessions: sessionmaker[Session], clock: FrozenClock, model: Model) -> None:
        self.sessions, self.clock, self.model = sessions, clock, model
        self.receipts = 0

    def attempt(self, operation: Callable[[Session], T], expected: type[DomainError] | None) -> T | None:
        """Run ``operation`` in its own transaction; it must fail with ``expected`` (or succeed if None)."""
        try:
            with session_scope(self.sessions) as session:
                result = operation(session)
        except DomainError as error:
            assert expected is not None and isinstance(error, expected), f"unexpected {error!r}"
            return None
        assert expected is None, f"{expected.__name__} expected, the operation succeeded"
        return result

    def purchase(self, ref: int) -> ModelPurchase | None:
        purchases = self.model.purchases
        return purchases[ref % len(purchases)] if purchases else None

    def run(self, step: Step) -> None:
        handlers: dict[type, Callable[[Any], None]] = {
            Buy: self.buy,
            Replay: self.replay,
            Return: self.give_back,
            Claim: self.claim,
            Adjust: self.adjust,
            Advance: self.advance,
        }
        handlers[type(step)](step)

    def buy(self, step: Buy) -> None:
        lines = [ModelLine(sku, category, quantity, unit) for sku, category, quantity, unit in step.lines]
        line_sum = sum(line.value for line in lines)
        kind, number = step.total
        total = (line_sum or 3700) * number // 100 if kind == "percent" else number
        member = step.member
        self.receipts += 1
        data = PurchaseInput(
            store_code=step.store,
            receipt_no=f"R{self.receipts}",
            occurred_at=self.clock.now() - timedelta(minutes=step.minutes_ago),
            currency="EUR",
            total=cents(total),
            channel=step.channel,
            lines=[LineInput(line.sku, line.quantity, cents(line.unit), line.category) for line in lines],
            member_id=self.model.member_ids[member] if member is not None and not step.by_card else None,
            card_number=self.model.cards[member] if member is not None and step.by_card else None,
        )
        result = self.attempt(lambda session: record_purchase(session, data, now=self.clock.now()), None)
        assert result is not None and result.created
        points = self.model.program.points(total, lines, step.channel) if member is not None else 0
        assert result.receipt.points_awarded == points
        if member is not None:
            self.model.program.share_out(total, lines, step.channel)
            self.model.credit(member, points)
            self.model.purchase_counts[member] += 1
            assert result.receipt.points_balance == self.model.balances[member]
        self.model.purchases.append(
            ModelPurchase(data, result.receipt.id, member, total, lines, result.receipt, awarded=points)
        )

    def replay(self, step: Replay) -> None:
        purchase = self.purchase(step.ref)
        if purchase is None:
            return
        data = purchase.data
        if step.altered:
            data = replace(data, total=data.total + Decimal("0.01"))
        expected = Conflict if step.altered else None
        result = self.attempt(lambda session: record_purchase(session, data, now=self.clock.now()), expected)
        if result is not None:
            assert not result.created and result.receipt.id == purchase.id
            if purchase.data.member_id is not None or purchase.data.card_number is not None:
                assert result.receipt == purchase.first_receipt

    def give_back(self, step: Return) -> None:
        purchase = self.purchase(step.ref)
        if purchase is None:
            return
        remaining = purchase.total - purchase.returned
        amount: int | None = None
        if step.amount is not None:
            kind, number = step.amount
            chosen = {"percent": remaining * number // 100, "rest": remaining, "over": remaining + 1, "cents": number}
            amount = max(chosen[kind], 1)
        if step.amount is None and not step.lines:
            skus = [(line.sku, line.quantity - line.returned) for line in purchase.lines if line.returned < line.quantity]
            if not skus:
                return
        else:
            lines = purchase.lines or [ModelLine("A", None, 1, 0)]
            skus = [(lines[ref % len(lines)].sku, quantity) for ref, quantity in step.lines]
        request = (cents(amount) if amount is not None else None, tuple(skus))
        expected, outcome = self.expect_return(purchase, step.return_no, amount, skus, request)
        result = self.attempt(
            lambda session: record_return(
                session,
                purchase_id=purchase.id,
                return_no=step.return_no,
                now=self.clock.now(),
                amount=request[0],
                lines=skus,
            ),
            expected,
        )
        if result is None:
            return
        if outcome is None:
            assert not result.created
            return
        taken, value = outcome
        assert result.created and result.purchase_return.amount == cents(value)
        for index, quantity in taken.items():
            purchase.lines[index].returned += quantity
        purchase.returned += value
        purchase.returns[step.return_no] = request
        reversed_points = 0
        if purchase.member is not None:
            reversed_points = max(purchase.reversal_due() - purchase.reversed, 0)
            purchase.reversed += reversed_points
            self.model.credit(purchase.member, -reversed_points)
        assert result.purchase_return.points_reversed == reversed_points

    def expect_return(
        self,
        purchase: ModelPurchase,
        return_no: str,
        amount: int | None,
        skus: list[tuple[str, int]],
        request: tuple[Any, ...],
    ) -> tuple[type[DomainError] | None, tuple[dict[int, int], int] | None]:
        """What a return should do: ``(error expected, None)``, ``(None, None)`` for a replay, or
        ``(None, (quantities taken per line, amount in cents))``."""
        if return_no in purchase.returns:
            return (None, None) if purchase.returns[return_no] == request else (Conflict, None)
        taken: dict[int, int] = {}
        if amount is None:
            line_sum = sum(line.value for line in purchase.lines)
            if line_sum <= 0:
                return InvalidOperation, None
            value = 0
            for sku, quantity in skus:
                for index, line in enumerate(purchase.lines):
                    if line.sku == sku and quantity:
                        take = min(quantity, line.quantity - line.returned - taken.get(index, 0))
                        taken[index] = taken.get(index, 0) + take
                        quantity -= take
                        value += take * line.unit
                if quantity:
                    return InvalidOperation, None
            amount = round(Fraction(value * purchase.total, line_sum))
            if amount <= 0:
                return InvalidOperation, None
            if all(line.returned + taken.get(index, 0) == line.quantity for index, line in enumerate(purchase.lines)):
                amount = purchase.total - purchase.returned
                if amount <= 0:
                    return InvalidOperation, None
        if purchase.returned + amount > purchase.total:
            return InvalidOperation, None
        return None, (taken, amount)

    def claim(self, step: Claim) -> None:
        purchase = self.purchase(step.ref)
        if purchase is None:
            return
        member = step.member
        expected: type[DomainError] | None = None
        if purchase.member is not None and purchase.member != member:
            expected = Conflict
        elif purchase.member is None and purchase.data.occurred_at + CLAIM_WINDOW < self.clock.now():
            expected = InvalidOperation
        result = self.attempt(
            lambda session: claim_purchase(
                session,
                member_id=self.model.member_ids[member],
                store_code=purchase.data.store_code,
                receipt_no=purchase.data.receipt_no,
                now=self.clock.now(),
            ),
            expected,
        )
        if result is None:
            return
        assert result.created == (purchase.member is None)
        if result.created:
            purchase.member = member
            purchase.awarded = self.model.program.points(purchase.total, purchase.lines, purchase.data.channel)
            self.model.program.share_out(purchase.total, purchase.lines, purchase.data.channel)
            purchase.reversed = purchase.reversal_due()
            self.model.credit(member, purchase.awarded - purchase.reversed)
            self.model.purchase_counts[member] += 1
        assert result.receipt.points_awarded == purchase.awarded

    def adjust(self, step: Adjust) -> None:
        member_id = self.model.member_ids[step.member]
        self.attempt(
            lambda session: adjust_points(
                session, member_id=member_id, points=step.points, reason="property", actor="test", now=self.clock.now()
            ),
            None,
        )
        self.model.credit(step.member, step.points)

    def advance(self, step: Advance) -> None:
        self.clock.advance(timedelta(hours=step.hours))

    def check(self) -> None:
        """Every balance equals the model's and the ledger's; every purchase's returns are within bounds."""
        with self.sessions() as session:
            assert members_out_of_balance(session) == []
            assert_read_model_matches_the_ledger(session)
            rows = session.execute(
                select(Member.points_balance, Member.purchase_count)
                .where(Member.id.in_(self.model.member_ids))
                .order_by(Member.id)
            ).all()
            assert [tuple(row) for row in rows] == list(zip(self.model.balances, self.model.purchase_counts))
            for purchase in self.model.purchases:
                row = session.get_one(Purchase, purchase.id)
                assert row.returned_amount <= row.total and row.points_reversed <= row.points_awarded
                assert (row.returned_amount, row.points_awarded, row.points_reversed) == (
                    cents(purchase.returned),
                    purchase.awarded,
                    purchase.reversed,
                )
                assert [line.returned_quantity for line in row.lines] == [line.returned for line in purchase.lines]


def start(app: Flask, clock: FrozenClock, program: Program) -> Model:
    """Empty the database, set up ``program`` and enrol the members."""
    reset_database(app, clock)
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        update_settings(session, {"points_per_unit": Decimal(program.rate.numerator) / program.rate.denominator})
        for number, promo in enumerate(program.promotions):
            create_rule(
                session,
                {
                    "kind": "promotion",
                    "name": f"promotion {number}",
                    "multiplier": Decimal(promo.multiplier.numerator) / promo.multiplier.denominator,
                    "channel": promo.channel,
                    "category": promo.category,
                },
            )
        members = [
            enroll_member(session, NewMember(f"m{n}@example.com", "M", str(n)), now=clock.now(), source="test")
            for n in range(MEMBERS)
        ]
        return Model(
            program=program,
            member_ids=[member.id for member in members],
            cards=[member.card_number for member in members],
            balances=[0] * MEMBERS,
            purchase_counts=[0] * MEMBERS,
        )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    program=program_st,
    purchases=st.lists(buy_st, min_size=1, max_size=6),
    steps=st.lists(step_st, min_size=4, max_size=30),
)
def test_balances_always_follow_the_model_and_the_ledger(app, clock, program, purchases, steps):
    runner = Runner(app.extensions["loyalty.sessions"], clock, start(app, clock, program))
    for step in purchases + steps:
        runner.run(step)
        runner.check()
