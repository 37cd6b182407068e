"""Member login sessions: log in, refresh, log out."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.auth.models import MemberSession
from loyalty.members.models import Member


def open_session(session: Session, member: Member, *, now: datetime, lifetime: timedelta) -> MemberSession:
    """Start a login session; its refresh token lives for ``lifetime``."""
    member_session = MemberSession(
        id=str(uuid.uuid4()), member_id=member.id, created_at=now, expires_at=now + lifetime
    )
    session.add(member_session)
    session.flush()
    return member_session


def get_open_session(session: Session, session_id: str) -> MemberSession | None:
    member_session = session.get(MemberSession, session_id)
    return member_session if member_session is not None and member_session.revoked_at is None else None


def revoke_session(session: Session, session_id: str, *, now: datetime) -> None:
    """Log out: every token of this session stops working at once."""
    member_session = session.get(MemberSession, session_id)
    if member_session is not None and member_session.revoked_at is None:
        member_session.revoked_at = now
        session.flush()


def revoke_member_sessions(session: Session, member_id: int, *, now: datetime) -> None:
    """Log the member out everywhere (their data was erased)."""
    session.execute(
        update(MemberSession)
        .where(MemberSession.member_id == member_id, MemberSession.revoked_at.is_(None))
        .values(revoked_at=now),
        execution_options={"synchronize_session": False},
    )
