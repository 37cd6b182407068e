"""What the member page shows, gathered with the domain's own read operations: each section is one
query or one operation, never a loop of queries over rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.backoffice.pagination import Page, page_number, paginate
from loyalty.ledger.models import LedgerEntry, PointLot
from loyalty.members.models import Member
from loyalty.members.operations import get_member
from loyalty.receipts.models import Purchase, PurchaseReturn
from loyalty.tiers.models import CardIssuance, TierChange
from loyalty.tiers.operations import tier_history
from notifications.journeys.models import Journey
from notifications.messages.models import Message
from notifications.pressure.models import Complaint
from notifications.pressure.operations import member_complaints
from notifications.scenarios.models import Scenario
from rewards.badges.operations import MemberBadges, member_badges
from rewards.challenges.operations import ChallengeStanding, member_challenges
from rewards.status import MemberStatus, member_status
from rewards.streaks.operations import StreakStanding, member_streaks
from rewards.vouchers.models import Voucher
from rewards.vouchers.operations import member_vouchers

PER_PAGE = 15


@dataclass(frozen=True)
class JourneyLine:
    journey: Journey
    scenario_name: str


@dataclass(frozen=True)
class ReturnLine:
    returned: PurchaseReturn
    #: The store and receipt number of the purchase returned.
    receipt: str


@dataclass(frozen=True)
class MemberPage:
    member: Member
    status: MemberStatus
    ledger: Page[LedgerEntry]
    purchases: Page[Purchase]
    returns: list[ReturnLine]
    #: Point lots still holding points, the first to expire first.
    lots: list[PointLot]
    tiers: list[TierChange]
    cards: list[CardIssuance]
    vouchers: list[Voucher]
    badges: MemberBadges
    challenges: list[ChallengeStanding]
    streaks: list[StreakStanding]
    journeys: list[JourneyLine]
    messages: Page[Message]
    complaints: list[Complaint]


def member_page(session: Session, member_id: int, args: Mapping[str, str], *, now: datetime) -> MemberPage:
    """Everything about the member (404 if there is none); the ledger, purchases and messages a page
    at a time (``ledger_page``, ``purchases_page``, ``messages_page``)."""
    member = get_member(session, member_id)
    purchases = paginate(
        session,
        select(Purchase).where(Purchase.member_id == member_id).order_by(Purchase.occurred_at.desc(), Purchase.id.desc()),
        page_number(args.get("purchases_page")),
        per_page=PER_PAGE,
    )
    return MemberPage(
        member=member,
        status=member_status(session, member, now=now),
        ledger=paginate(
            session,
            select(LedgerEntry).where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id.desc()),
            page_number(args.get("ledger_page")),
            per_page=PER_PAGE,
        ),
        purchases=purchases,
        returns=[
            ReturnLine(returned, receipt)
            for returned, receipt in session.execute(
                select(PurchaseReturn, Purchase.store_code + " " + Purchase.receipt_no)
                .join(Purchase, Purchase.id == PurchaseReturn.purchase_id)
                .where(Purchase.member_id == member_id)
                .order_by(PurchaseReturn.created_at.desc(), PurchaseReturn.id.desc())
            )
        ],
        lots=list(
            session.scalars(
                select(PointLot)
                .where(PointLot.member_id == member_id, PointLot.remaining > 0)
                .order_by(PointLot.expires_at.is_(None), PointLot.expires_at, PointLot.id)
            )
        ),
        tiers=tier_history(session, member_id),
        cards=list(session.scalars(select(CardIssuance).where(CardIssuance.member_id == member_id).order_by(CardIssuance.id.desc()))),
        vouchers=member_vouchers(session, member_id),
        badges=member_badges(session, member_id),
        challenges=member_challenges(session, member_id, now=now),
        streaks=member_streaks(session, member, now=now),
        journeys=[
            JourneyLine(journey, name)
            for journey, name in session.execute(
                select(Journey, Scenario.name)
                .join(Scenario, Scenario.id == Journey.scenario_id)
                .where(Journey.member_id == member_id)
                .order_by(Journey.entered_at.desc(), Journey.id.desc())
                .limit(50)
            )
        ],
        messages=paginate(
            session,
            select(Message).where(Message.member_id == member_id).order_by(Message.created_at.desc(), Message.id.desc()),
            page_number(args.get("messages_page")),
            per_page=PER_PAGE,
        ),
        complaints=list(reversed(member_complaints(session, member_id))),
    )
