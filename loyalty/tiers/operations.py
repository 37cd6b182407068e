"""Tier use cases: upgrade on qualifying points, review and downgrade, card issuances, configuration.

Qualifying points are the points earned on purchases and engagement (less the points of returned
goods) over the program's rolling window, 12 months by default; redemptions and expiry do not lower
them. A member moves up as soon as they cross a tier's threshold, possibly several tiers at once, and
down only at their review date, one tier at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loyalty import audit, outbox
from loyalty.dates import add_months, next_month_day
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.i18n import Translations
from loyalty.events import CardIssuanceQueued, TierDowngraded, TierUpgraded
from loyalty.ledger.models import LedgerEntry, QualifyingMonth
from loyalty.members import codes
from loyalty.members.models import MEMBERS, Member
from loyalty.program.models import ProgramSettings
from loyalty.program.cache import cached, refreshed, touch
from loyalty.program.operations import get_settings
from loyalty.tiers.models import CARD_STATUSES, CardIssuance, Tier, TierChange

#: A card moves forward only: pending → printed → shipped.
CARD_TRANSITIONS = {"pending": {"printed"}, "printed": {"shipped"}, "shipped": set()}


@dataclass(frozen=True)
class TierView:
    """A tier as read from the ladder (a plain value, safe to share between requests)."""

    code: str
    name: str
    rank: int
    threshold: int
    multiplier: Decimal
    benefits: tuple[str, ...]
    has_card: bool
    #: The name and benefits in other languages (:mod:`loyalty.i18n`).
    translations: Translations = field(default_factory=dict)


@dataclass(frozen=True)
class Ladder:
    """The program's tiers, lowest first."""

    tiers: Sequence[TierView]

    @property
    def entry(self) -> TierView:
        return self.tiers[0]

    def get(self, code: str) -> TierView:
        for tier in self.tiers:
            if tier.code == code:
                return tier
        raise NotFound(f"no tier has the code {code!r}", field="tier_code")

    def reached(self, qualifying: int) -> TierView:
        """The highest tier whose threshold ``qualifying`` points reach."""
        return [tier for tier in self.tiers if tier.threshold <= qualifying][-1]

    def above(self, tier: TierView) -> TierView | None:
        higher = [candidate for candidate in self.tiers if candidate.rank > tier.rank]
        return higher[0] if higher else None

    def below(self, tier: TierView) -> TierView | None:
        lower = [candidate for candidate in self.tiers if candidate.rank < tier.rank]
        return lower[-1] if lower else None


def load_ladder(session: Session, *, holding: str | None = None) -> Ladder:
    """The ladder, from the process-wide copy of the configuration: it is read on every purchase.

    ``holding``: a tier code read from the database (a member's tier). A copy without it is older than
    a tier added through another worker (within ``LOYALTY_CONFIG_CHECK_SECONDS``): read the ladder again.
    """
    ladder = cached(session, "ladder", _read_ladder)
    if holding is None or any(tier.code == holding for tier in ladder.tiers):
        return ladder
    return refreshed(session, "ladder", _read_ladder)


def _read_ladder(session: Session) -> Ladder:
    tiers = [
        TierView(
            code=tier.code,
            name=tier.name,
            rank=tier.rank,
            threshold=tier.threshold,
            multiplier=tier.multiplier,
            benefits=tuple(tier.benefits),
            has_card=tier.has_card,
            translations=tier.translations,
        )
        for tier in session.scalars(select(Tier).order_by(Tier.rank))
    ]
    if not tiers:
        raise NotFound("the program has no tiers; load a program with `loyalty init`")
    return Ladder(tuple(tiers))


def window_start(settings: ProgramSettings, now: datetime) -> datetime:
    return add_months(now, -settings.tier_window_months)


def qualifying_points(session: Session, member_id: int, now: datetime) -> int:
    """The member's qualifying points over the program's window ending at ``now``."""
    since = window_start(get_settings(session), now)
    total: int | None = session.execute(MEMBER_QUALIFYING_POINTS, {"member": member_id, **qualifying_window(since)}).scalar()
    return int(total or 0)


def _qualifying_points() -> ColumnElement[int]:
    months = select(func.coalesce(func.sum(QualifyingMonth.points), 0)).where(
        QualifyingMonth.member_id == Member.id, QualifyingMonth.month >= bindparam("qualifying_month")
    )
    first_month = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.member_id == Member.id,
        LedgerEntry.is_qualifying.is_(True),
        LedgerEntry.created_at > bindparam("qualifying_since"),
        LedgerEntry.created_at < bindparam("qualifying_until"),
    )
    return months.scalar_subquery() + first_month.scalar_subquery()


#: SQL for a member's qualifying points earned after a moment, correlated with ``members``: the months
#: after the moment's month from their :class:`QualifyingMonth` rows, and that month's entries after
#: the moment from the ledger. Bounded by a window's months and one month of entries, whatever the
#: history. Built once; its values are those of :func:`qualifying_window`, given to ``execute``.
QUALIFYING_POINTS = _qualifying_points()


#: One member's qualifying points (:data:`QUALIFYING_POINTS` of the member ``member``), built once.
MEMBER_QUALIFYING_POINTS = select(QUALIFYING_POINTS).where(MEMBERS.c.id == bindparam("member"))


def qualifying_window(since: datetime) -> dict[str, Any]:
    """The values of :data:`QUALIFYING_POINTS` for the points earned after ``since``."""
    start = since.astimezone(UTC)
    following = add_months(datetime(start.year, start.month, 1, tzinfo=UTC), 1)
    return {"qualifying_since": since, "qualifying_until": following, "qualifying_month": following.date()}


def next_review_at(settings: ProgramSettings, since: datetime) -> datetime:
    """When a tier reached at ``since`` is reviewed: its anniversary, or the program's calendar date."""
    if settings.tier_review_month_day:
        return next_month_day(since, settings.tier_review_month_day)
    return add_months(since, 12)


def check_upgrade(
    session: Session, member_id: int, *, lifetime_points: int, tier_code: str, now: datetime
) -> TierView | None:
    """Move the member up to the highest tier their qualifying points reach; the new tier, or None.

    ``lifetime_points`` and ``tier_code`` come from the statement that just credited the member: since
    qualifying points never exceed lifetime points, a member whose lifetime total is below the next
    threshold is passed over without another query (the common case on the till path).
    """
    ladder = load_ladder(session, holding=tier_code)
    current = ladder.get(tier_code)
    following = ladder.above(current)
    if following is None or lifetime_points < following.threshold:
        return None
    qualifying = qualifying_points(session, member_id, now)
    target = ladder.reached(qualifying)
    if target.rank <= current.rank:
        return None
    settings = get_settings(session)
    _change_tier(session, member_id, current, target, "upgrade", qualifying, now, next_review_at(settings, now))
    outbox.record(
        session,
        TierUpgraded(
            occurred_at=now, member_id=member_id, from_tier=current.code, to_tier=target.code, qualifying_points=qualifying
        ),
    )
    if target.has_card:
        queue_card(session, member_id, target.code, now=now)
    return target


def review_due_tiers(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Review up to ``limit`` members whose review date has come: keep or move down one tier.

    One query finds the due members with their qualifying points (an indexed scan on
    ``tier_review_at`` joined to the window's ledger sums); each is then kept until the next review or
    moved down one tier, never more. Returns how many were reviewed; run again until it returns 0.
    """
    settings = get_settings(session)
    since = window_start(settings, now)
    due = (
        select(Member.id, Member.tier_code, QUALIFYING_POINTS)
        .where(Member.tier_review_at <= now)
        .order_by(Member.tier_review_at, Member.id)
        .limit(limit)
    )
    rows = session.execute(due, qualifying_window(since)).all()
    for member_id, tier_code, qualifying in rows:
        ladder = load_ladder(session, holding=tier_code)
        current = ladder.get(tier_code)
        lower = ladder.below(current)
        if qualifying >= current.threshold or lower is None:
            session.execute(
                update(Member)
                .where(Member.id == member_id)
                .values(tier_review_at=next_review_at(settings, now)),
                execution_options={"synchronize_session": False},
            )
            continue
        review_at = next_review_at(settings, now) if lower.rank > ladder.entry.rank else None
        _change_tier(session, member_id, current, lower, "downgrade", int(qualifying), now, review_at)
        outbox.record(
            session,
            TierDowngraded(
                occurred_at=now, member_id=member_id, from_tier=current.code, to_tier=lower.code, qualifying_points=int(qualifying)
            ),
        )
    session.flush()
    return len(rows)


def tier_history(session: Session, member_id: int) -> list[TierChange]:
    return list(
        session.scalars(select(TierChange).where(TierChange.member_id == member_id).order_by(TierChange.id.desc()))
    )


def record_enrolment_tier(session: Session, member: Member, *, now: datetime) -> None:
    """Place a new member in the entry tier, with the first line of their tier history."""
    entry = load_ladder(session).entry
    member.tier_code, member.tier_since, member.tier_review_at = entry.code, now, None
    session.add(
        TierChange(member=member, from_code=None, to_code=entry.code, reason="enrolment", qualifying_points=0, changed_at=now)
    )


def queue_card(session: Session, member_id: int, tier_code: str, *, now: datetime) -> CardIssuance:
    """Queue a new physical card for the member (status ``pending``), with a fresh card number."""
    card = CardIssuance(
        member_id=member_id,
        tier_code=tier_code,
        card_number=codes.new_card_number(),
        status="pending",
        created_at=now,
        updated_at=now,
    )
    session.add(card)
    session.flush()
    outbox.record(
        session,
        CardIssuanceQueued(occurred_at=now, member_id=member_id, card_issuance_id=card.id, tier=tier_code),
    )
    return card


def list_cards(session: Session, *, status: str | None = None, limit: int = 1000) -> list[CardIssuance]:
    stmt = select(CardIssuance).order_by(CardIssuance.id).limit(limit)
    if status is not None:
        stmt = stmt.where(CardIssuance.status == status)
    return list(session.scalars(stmt))


def advance_card(session: Session, card_id: int, status: str, *, now: datetime) -> CardIssuance:
    """Move a card to its next status; once ``shipped``, its number becomes the member's card number."""
    card = session.get(CardIssuance, card_id)
    if card is None:
        raise NotFound(f"card issuance {card_id} does not exist", field="card_id")
    if status not in CARD_STATUSES:
        raise InvalidOperation(f"status must be one of {', '.join(CARD_STATUSES)}", field="status")
    if status == card.status:
        return card
    if status not in CARD_TRANSITIONS[card.status]:
        raise Conflict(f"a {card.status} card cannot become {status}", field="status")
    card.status, card.updated_at = status, now
    if status == "shipped":
        previous = session.scalar(select(Member.card_number).where(Member.id == card.member_id))
        session.execute(
            update(Member).where(Member.id == card.member_id).values(card_number=card.card_number, updated_at=now),
            execution_options={"synchronize_session": "fetch"},
        )
        audit.record(
            session, action="update", entity="members", entity_key=card.member_id,
            before={"card_number": previous}, after={"card_number": card.card_number},
        )  # fmt: skip
    session.flush()
    return card


def save_ladder(session: Session, tiers: Sequence[dict[str, Any]]) -> list[Tier]:
    """Replace the ladder with ``tiers`` (validated here: ranks and thresholds rise together, the entry
    tier needs 0 points, codes of tiers members hold cannot disappear)."""
    ordered = sorted(tiers, key=lambda tier: tier["rank"])
    _check_ladder(ordered)
    held = set(session.scalars(select(Member.tier_code).distinct()))
    missing = held - {tier["code"] for tier in ordered}
    if missing:
        raise Conflict(f"members hold tiers that would disappear: {', '.join(sorted(missing))}", field="tiers")
    existing = {tier.code: tier for tier in session.scalars(select(Tier))}
    wanted = {spec["code"] for spec in ordered}
    removed = [tier for tier in existing.values() if tier.code not in wanted]
    try:
        with session.begin_nested():
            for tier in removed:
                session.delete(tier)
    except IntegrityError:  # a reward still requires one of them (rewards.min_tier_code)
        codes = ", ".join(sorted(tier.code for tier in removed))
        raise Conflict(f"tiers still required by a reward cannot be removed: {codes}", field="tiers") from None
    result = []
    for spec in ordered:
        tier = existing.get(spec["code"]) or Tier(code=spec["code"])
        for name in ("name", "rank", "threshold", "multiplier", "benefits", "has_card"):
            setattr(tier, name, spec[name])
        tier.translations = spec.get("translations", {})
        session.add(tier)
        result.append(tier)
    touch(session)
    return result


def _check_ladder(ordered: Sequence[dict[str, Any]]) -> None:
    if not ordered:
        raise InvalidOperation("the ladder needs at least one tier", field="tiers")
    if ordered[0]["threshold"] != 0:
        raise InvalidOperation("the lowest tier must need 0 points", field="tiers.0.threshold")
    codes_seen, ranks_seen = set(), set()
    for index, (lower, tier) in enumerate(zip([None, *ordered], ordered)):
        if tier["code"] in codes_seen or tier["rank"] in ranks_seen:
            raise InvalidOperation("tier codes and ranks must be unique", field=f"tiers.{index}")
        codes_seen.add(tier["code"])
        ranks_seen.add(tier["rank"])
        if lower is not None and tier["threshold"] <= lower["threshold"]:
            raise InvalidOperation(
                "each tier must need more points than the one below it", field=f"tiers.{index}.threshold"
            )


#: The statement of :func:`_change_tier`, built once: the member ``member`` moves to the tier of its
#: values (``tier_code``, ``tier_since``, ``tier_review_at``, ``updated_at``).
CHANGE_TIER = update(MEMBERS).where(MEMBERS.c.id == bindparam("member"))


def _change_tier(
    session: Session,
    member_id: int,
    current: TierView,
    target: TierView,
    reason: str,
    qualifying: int,
    now: datetime,
    review_at: datetime | None,
) -> None:
    session.execute(
        CHANGE_TIER, {"member": member_id, "tier_code": target.code, "tier_since": now, "tier_review_at": review_at, "updated_at": now}
    )
    held = session.identity_map.get(session.identity_key(Member, member_id))
    if held is not None:  # a member read earlier in the transaction shows the new tier
        session.expire(held, ["tier_code", "tier_since", "tier_review_at", "updated_at"])
    session.add(
        TierChange(
            member_id=member_id,
            from_code=current.code,
            to_code=target.code,
            reason=reason,
            qualifying_points=qualifying,
            changed_at=now,
        )
    )
