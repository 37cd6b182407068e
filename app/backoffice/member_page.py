"""What the member page shows, gathered with the domain's own read operations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.backoffice.pagination import Page, page_number, paginate
from app.clock import now
from loyalty.ledger.models import LedgerEntry
from loyalty.members.models import Member
from loyalty.members.operations import get_member
from rewards.status import MemberStatus, member_status

LEDGER_PER_PAGE = 20


@dataclass(frozen=True)
class MemberPage:
    member: Member
    status: MemberStatus
    ledger: Page[LedgerEntry]


def member_page(session: Session, member_id: int, args: Mapping[str, str]) -> MemberPage:
    """The member (404 if none), their status document and their ledger (page ``ledger_page``)."""
    member = get_member(session, member_id)
    ledger_query = select(LedgerEntry).where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id.desc())
    return MemberPage(
        member=member,
        status=member_status(session, member, now=now()),
        ledger=paginate(session, ledger_query, page_number(args.get("ledger_page")), per_page=LEDGER_PER_PAGE),
    )
