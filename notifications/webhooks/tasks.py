"""Scheduled webhook work: the due deliveries sent, a batch at a time, in order per member and
subscription (:mod:`notifications.webhooks.delivery`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from loyalty.db import session_scope
from notifications.webhooks.delivery import WebhookSender, claim, record_outcome

Clock = Callable[[], datetime]


def send_due(sessions: sessionmaker[Session], sender: WebhookSender, *, clock: Clock, limit: int = 24) -> int:
    """One batch: claim up to ``limit`` due deliveries, send them (``concurrency`` at a time: a batch
    holds at most one delivery per member and subscription, so order is kept), record each outcome;
    returns how many."""
    settings = sender.settings
    with session_scope(sessions) as session:
        claimed = claim(session, settings, now=clock(), limit=limit)
    if not claimed:
        return 0
    with ThreadPoolExecutor(max_workers=min(settings.concurrency, len(claimed))) as pool:
        outcomes = pool.map(lambda item: sender.send(item, timestamp=int(clock().timestamp())), claimed)
        for item, outcome in zip(claimed, outcomes):
            with session_scope(sessions) as session:
                record_outcome(session, settings, item, outcome, now=clock())
    return len(claimed)


def drain(sessions: sessionmaker[Session], sender: WebhookSender, *, clock: Clock) -> int:
    """Send due deliveries until none is due; returns how many attempts were made."""
    attempts = 0
    while sent := send_due(sessions, sender, clock=clock):
        attempts += sent
    return attempts
