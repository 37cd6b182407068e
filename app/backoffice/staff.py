"""Staff accounts: creating them, logging in (with rate limiting and lock-out), changing a password."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.backoffice.models import StaffAccount, StaffLoginFailure
from app.backoffice.roles import ROLES
from loyalty import audit
from loyalty.errors import InvalidOperation, NotFound
from loyalty.members.operations import normalize_email
from loyalty.members.passwords import hash_password, verify_password

MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class LoginPolicy:
    #: Failed logins in a row that lock an account, and for how long.
    lock_after: int = 5
    lock_minutes: int = 15
    #: Failed logins from one address within ``window_minutes`` after which it must wait.
    address_limit: int = 20
    window_minutes: int = 15


class AddressThrottle(Protocol):
    """Failed logins counted per address, in a store every application instance shares."""

    def is_blocked(self, remote_addr: str) -> bool: ...

    def count_failure(self, remote_addr: str) -> None: ...


class LoginRefused(Exception):
    """A login that did not succeed; ``detail`` is what the person is told."""

    def __init__(self, detail: str, *, throttled: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.throttled = throttled


def create_staff(
    session: Session, *, email: str, role: str, now: datetime, name: str = "", password: str | None = None,
    reset: bool = False,
) -> tuple[StaffAccount, str]:
    """Create a staff account (or, with ``reset``, give an existing one a new password and ``role``);
    answer it with its password, generated when none is given."""
    if role not in ROLES:
        raise InvalidOperation(f"role must be one of {', '.join(ROLES)}", field="role")
    password = password if password is not None else secrets.token_urlsafe(12)
    check_password_strength(password)
    email = normalize_email(email)
    staff = session.scalar(select(StaffAccount).where(StaffAccount.email == email))
    if staff is not None and not reset:
        raise InvalidOperation(f"a staff account for {email} exists already", field="email")
    if staff is None:
        staff = StaffAccount(email=email, name=name or email.split("@")[0], created_at=now, session_generation=0)
        session.add(staff)
    else:
        staff.session_generation += 1
    staff.role, staff.is_active, staff.failed_logins, staff.locked_until = role, True, 0, None
    staff.password_hash, staff.password_changed_at = hash_password(password), now
    session.flush()
    return staff, password


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidOperation(f"a password has at least {MIN_PASSWORD_LENGTH} characters", field="password")


def log_in(
    session: Session,
    *,
    email: str,
    password: str,
    remote_addr: str,
    now: datetime,
    policy: LoginPolicy,
    throttle: AddressThrottle,
) -> StaffAccount:
    """The account ``email`` and ``password`` open, or :class:`LoginRefused`.

    An address with too many recent failures (``throttle``) is refused before the password is even
    checked; an account is locked for a while after failures in a row, even against the right
    password, and the lock is audited (the account, when, from which address). Failures are recorded
    by the caller's session: commit it even when this raises.
    """
    if throttle.is_blocked(remote_addr):
        raise LoginRefused("Too many failed logins from your address: wait a few minutes.", throttled=True)
    email = normalize_email(email)
    staff = session.scalar(select(StaffAccount).where(StaffAccount.email == email))
    if staff is not None and staff.locked_until is not None and staff.locked_until > now:
        raise LoginRefused(
            f"This account is locked after {policy.lock_after} failed logins, "
            f"until {staff.locked_until:%H:%M} UTC."
        )
    matches = verify_password(staff.password_hash if staff else None, password)
    if staff is None or not matches or not staff.is_active:
        session.add(StaffLoginFailure(email=email[:254], remote_addr=remote_addr[:64], failed_at=now))
        throttle.count_failure(remote_addr)
        if staff is not None and not matches:
            staff.failed_logins += 1
            if staff.failed_logins >= policy.lock_after:
                # The audit log records the lock: the account (its row), when, and the address it came from.
                audit.act_as(session, f"login from {remote_addr[:64]}", now=now)
                staff.locked_until, staff.failed_logins = now + timedelta(minutes=policy.lock_minutes), 0
        session.flush()
        raise LoginRefused("The email or the password is not right.")
    staff.failed_logins, staff.locked_until, staff.last_login_at = 0, None, now
    session.flush()
    return staff


def change_password(session: Session, staff: StaffAccount, *, current: str, new: str, now: datetime) -> None:
    """Set a new password, given the current one; the account's other sessions end."""
    if not verify_password(staff.password_hash, current):
        raise InvalidOperation("this is not your current password", field="current_password")
    check_password_strength(new)
    if new == current:
        raise InvalidOperation("the new password must differ from the current one", field="new_password")
    staff.password_hash, staff.password_changed_at = hash_password(new), now
    staff.session_generation += 1
    session.flush()


def list_staff(session: Session) -> list[StaffAccount]:
    return list(session.scalars(select(StaffAccount).order_by(StaffAccount.email)))


def set_active(session: Session, staff_id: int, *, active: bool, by: StaffAccount) -> StaffAccount:
    """Disable an account (its sessions end at their next request) or enable it again; nobody
    disables their own account."""
    staff = session.get(StaffAccount, staff_id)
    if staff is None:
        raise NotFound(f"staff account {staff_id} does not exist", field="staff_id")
    if staff.id == by.id and not active:
        raise InvalidOperation("you cannot disable your own account", field="staff_id")
    staff.is_active = active
    session.flush()
    return staff
