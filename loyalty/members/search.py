"""Finding members the way support asks: by card, email, phone, external id or name.

Each way is an equality on an indexed column (``lower()`` of the names), so a search answers at once
on millions of members.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select

from loyalty.members.models import Member
from loyalty.members.operations import normalize_email


def search_query(text: str) -> Select[Member]:
    """Members whose card number, external id, email or phone is ``text``, or whose first name, last
    name or both (in either order) are its words; by last name, first name, id."""
    text = " ".join(text.split())
    words = text.lower().split(" ")
    first, last = func.lower(Member.first_name), func.lower(Member.last_name)
    ways = [
        Member.card_number == text,
        Member.external_id == text,
        Member.email == normalize_email(text),
        Member.phone == text,
    ]
    if len(words) == 1:
        ways += [last == words[0], first == words[0]]
    else:
        for split in range(1, len(words)):
            head, tail = " ".join(words[:split]), " ".join(words[split:])
            ways += [and_(first == head, last == tail), and_(first == tail, last == head)]
    return select(Member).where(or_(*ways)).order_by(Member.last_name, Member.first_name, Member.id)
