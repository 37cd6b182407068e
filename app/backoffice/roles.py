"""The back office's roles and what each may do.

Views declare the permission they need (:func:`app.backoffice.security.requires`); this table is the
one place that says which roles hold it. docs/authorization.md has the routes, role by role.
"""

from __future__ import annotations

ROLES = ("admin", "marketer", "support", "analyst")

#: Every permission, and the roles that hold it (``admin`` holds all).
PERMISSIONS: dict[str, frozenset[str]] = {
    # The dashboard's figures.
    "dashboard.read": frozenset(ROLES),
    # Members: find them and read their page; change them (adjust points, complaints, consents, cards).
    "members.read": frozenset({"admin", "marketer", "support"}),
    "members.write": frozenset({"admin", "support"}),
    # The program's configuration (earning rules, rewards, tiers, gamification), read and changed.
    "program.read": frozenset({"admin", "marketer"}),
    "program.write": frozenset({"admin", "marketer"}),
    # Scenarios: read their definitions and KPIs; edit, activate and pause them.
    "scenarios.read": frozenset({"admin", "marketer", "analyst"}),
    "scenarios.write": frozenset({"admin", "marketer"}),
    # Messages: the delivery log and dead letters; redrive.
    "messages.read": frozenset({"admin", "marketer", "support"}),
    "messages.write": frozenset({"admin", "support"}),
    # Marketing pressure: cap, quiet hours, blackouts.
    "pressure.write": frozenset({"admin", "marketer"}),
    # The card issuance queue and its export.
    "cards.read": frozenset({"admin", "support"}),
    "cards.write": frozenset({"admin", "support"}),
    # The audit log, and staff accounts.
    "audit.read": frozenset({"admin"}),
    "staff.manage": frozenset({"admin"}),
}


def may(role: str | None, permission: str) -> bool:
    """Whether ``role`` holds ``permission`` (an unknown permission is a programming error)."""
    holders = PERMISSIONS[permission]
    return role is not None and (role == "admin" or role in holders)
