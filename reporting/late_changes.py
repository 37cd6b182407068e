"""The days of the dashboard's roll-up that a later change touches, counted again after commit.

A return of a purchase made days before, an open or a click of a message sent last week, a receipt
posted days late: each changes a day the roll-up (:mod:`reporting.daily`) has already counted. This
outbox consumer finds, for a batch of events, the days they touch that were counted, and counts
each again in the consumer's transaction, so the page follows without an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.consumers import Delivered
from loyalty.dates import as_date
from loyalty.db import one_of
from loyalty.events import PurchaseRecorded, PurchaseReturned
from loyalty.receipts.models import Purchase
from loyalty.sql import utc_day
from notifications.events import MessageClicked, MessageOpened
from notifications.messages.models import Message
from reporting import daily
from reporting.models import DashboardDayRun

#: The events that may change a day counted before.
EVENTS = (PurchaseRecorded, PurchaseReturned, MessageOpened, MessageClicked)


def recount_touched_days(session: Session, batch: Sequence[Delivered], now: datetime) -> None:
    """Count again each day of the roll-up that the batch's purchases, returns, opens and clicks
    change: the purchase's day, the message's sending day (one statement per day counted again)."""
    purchases = {e.purchase_id for e in (d.event for d in batch) if isinstance(e, PurchaseRecorded | PurchaseReturned)}
    messages = {e.message_id for e in (d.event for d in batch) if isinstance(e, MessageOpened | MessageClicked)}
    touched: set[date] = set()
    if purchases:
        days = select(utc_day(Purchase.occurred_at)).where(one_of(session, Purchase.id, purchases)).distinct()
        touched.update(as_date(day) for day in session.scalars(days))
    if messages:
        days = select(utc_day(Message.sent_at)).where(one_of(session, Message.id, messages), Message.sent_at.is_not(None)).distinct()
        touched.update(as_date(day) for day in session.scalars(days))
    closed = {day for day in touched if day < now.date() - timedelta(days=1)}  # the others are counted live
    if not closed:
        return
    counted = session.scalars(select(DashboardDayRun.day).where(DashboardDayRun.day.in_(closed)))
    for day in sorted(as_date(day) for day in counted):
        daily.recount(session, day, day, now=now)
