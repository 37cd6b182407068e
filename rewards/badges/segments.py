"""The segment condition on badges held: ``{"badge": "critic"}``, members who earned it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from loyalty.errors import InvalidOperation
from loyalty.members.models import Member
from loyalty.segments.compiler import Context
from rewards.badges.models import Badge, MemberBadge


def badge_held(value: Any, path: str, context: Context) -> ColumnElement[bool]:
    if not isinstance(value, str) or not value:
        raise InvalidOperation("a badge code", field=path)
    holders = select(MemberBadge.member_id).join(Badge, Badge.id == MemberBadge.badge_id).where(Badge.code == value)
    return Member.id.in_(holders)
