"""API clients and member login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime

CLIENT_ROLES = ("admin", "till", "service")


class ApiClient(Base):
    """A machine client: a till (bound to one store), a service (web front-end, CRM) or an admin tool."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: Public identifier sent with the secret to get a token.
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    #: The one store a till acts for; NULL for other roles.
    store_code: Mapped[str | None] = mapped_column(String(32))
    #: SHA-256 of the secret (the secret is 256 random bits, so a slow hash adds nothing).
    secret_hash: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Carried by the client's tokens (``gen``); a new secret or disabling the client moves it on, which
    #: ends every token issued before.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("role IN ('admin', 'till', 'service')", name="role_known"),
        CheckConstraint("(role = 'till') = (store_code IS NOT NULL)", name="till_has_store"),
    )


class MemberSession(Base):
    """One login of a member: its access and refresh tokens carry this id; logout revokes it."""

    __tablename__ = "member_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
