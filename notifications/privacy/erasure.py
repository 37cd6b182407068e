"""Erasing a member: personal data removed or replaced by values that say nothing about them, while
the ledger, purchases, messages' statuses and therefore every balance and KPI keep their figures.

Replaced: email (by ``erased-<id>@erased.invalid``: the address is free to enrol again), card number
(``ERASED<id>``, never a valid card: the number is free and nobody is found by it), names, phone, birth
date, postal address, external id, password, consents (all withdrawn). Removed: push subscriptions, message bodies,
subjects and recipients, journey contexts, complaint texts, custom event properties, the leaderboard
display name, the cards printed for them, and the values the audit log recorded of their rows (it keeps
who changed them and when; the erasure itself is logged). Ended: the member's active journeys; cancelled: their
messages not sent yet. Kept, because the program's figures and obligations depend on them and they
identify nobody once the member row is pseudonymised: ledger entries, purchases and returns (amounts,
stores, receipts), vouchers, badges, tier history, message statuses and their timestamps (KPIs).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, delete, literal, select, update
from sqlalchemy.orm import Session

from loyalty import audit, outbox
from loyalty.audit import AuditEntry
from loyalty.customevents.models import CustomEvent
from loyalty.db import insert_if_absent
from loyalty.events import MemberErased
from loyalty.members.models import Member
from loyalty.members.operations import get_member
from loyalty.tiers.models import CardIssuance
from notifications.journeys.models import Journey
from notifications.messages.models import Message, PushSubscription
from notifications.pressure.models import Complaint
from notifications.privacy.models import Erasure
from rewards.leaderboards.models import LeaderboardProfile

#: The statuses of messages not sent yet: cancelled by an erasure.
UNSENT = ("held", "queued", "sending")


def erase_member(session: Session, member_id: int, *, actor: str, now: datetime) -> tuple[Erasure, bool]:
    """Pseudonymise the member's personal data (module docstring); the erasure and whether it was
    done now (False: it had been done before, and nothing changes). Records ``MemberErased``."""
    get_member(session, member_id)
    erasure_id = insert_if_absent(
        session, Erasure, {"member_id": member_id, "actor": actor, "erased_at": now}, key=("member_id",)
    )
    if erasure_id is None:
        return session.scalars(select(Erasure).where(Erasure.member_id == member_id)).one(), False
    session.execute(
        update(Member)
        .where(Member.id == member_id)
        .values(
            email=f"erased-{member_id}@erased.invalid", card_number=f"ERASED{member_id}", first_name="", last_name="",
            phone=None, birth_date=None, birthday_md=None, external_id=None, password_hash=None,
            consent_email=False, consent_sms=False, consent_push=False, consent_postal=False, address_line1=None,
            address_line2=None, address_postcode=None, address_city=None, address_country=None, updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )  # fmt: skip
    _end_communication(session, member_id, now=now)
    _scrub_records(session, member_id)
    _scrub_audit(session, member_id)
    audit.record(session, action="erase", entity="members", entity_key=member_id, before=None, after=None)
    outbox.record(session, MemberErased(occurred_at=now, member_id=member_id))
    session.flush()
    session.expire_all()
    return session.get_one(Erasure, erasure_id), True


def _end_communication(session: Session, member_id: int, *, now: datetime) -> None:
    """No journey goes on, no message leaves, no device is reached."""
    options = {"synchronize_session": False}
    session.execute(
        update(Journey)
        .where(Journey.member_id == member_id, Journey.status == "active")
        .values(status="ended", end_reason="erased", ended_at=now, due_at=None, waiting_for=None),
        execution_options=options,
    )
    session.execute(
        update(Message)
        .where(Message.member_id == member_id, Message.status.in_(UNSENT))
        .values(status="suppressed", reason="member erased", due_at=None, lease_until=None),
        execution_options=options,
    )
    session.execute(delete(PushSubscription).where(PushSubscription.member_id == member_id), execution_options=options)


def _scrub_audit(session: Session, member_id: int) -> None:
    """The audit log keeps who changed the member's rows and when, not the values it recorded."""
    rows = [
        ("members", select(literal(member_id))),
        ("complaints", select(Complaint.id).where(Complaint.member_id == member_id)),
        ("card_issuances", select(CardIssuance.id).where(CardIssuance.member_id == member_id)),
    ]
    for entity, ids in rows:
        keys = [str(key) for key in session.scalars(ids)]
        if keys:
            session.execute(
                update(AuditEntry)
                .where(AuditEntry.entity == entity, AuditEntry.entity_key.in_(keys))
                .values(before=None, after=None),
                execution_options={"synchronize_session": False},
            )


def _scrub_records(session: Session, member_id: int) -> None:
    """What the member's records said about them, gone; the records and their figures kept."""
    options = {"synchronize_session": False}
    session.execute(
        update(Message)
        .where(Message.member_id == member_id)
        .values(recipient="", subject="", body_text="", body_html=None, body_short="", data={}),
        execution_options=options,
    )
    session.execute(update(Journey).where(Journey.member_id == member_id).values(context={}), execution_options=options)
    session.execute(
        update(Complaint).where(Complaint.member_id == member_id).values(subject="(erased)", note=""), execution_options=options
    )
    session.execute(
        update(CustomEvent).where(CustomEvent.member_id == member_id).values(properties={}), execution_options=options
    )
    session.execute(
        update(CardIssuance)
        .where(CardIssuance.member_id == member_id)
        .values(card_number=literal("ERASED") + cast(CardIssuance.id, String) + literal("C")),
        execution_options=options,
    )
    session.execute(delete(LeaderboardProfile).where(LeaderboardProfile.member_id == member_id), execution_options=options)
