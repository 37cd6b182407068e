"""Scheduled message work: the due messages delivered a batch at a time, each sent outside any
transaction (:mod:`notifications.messages.delivery`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from loyalty.db import session_scope
from notifications.channels.base import DeliveryFailed
from notifications.messages.delivery import claim, record_failure, record_sent
from notifications.runtime import Runtime

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def deliver_due(sessions: sessionmaker[Session], runtime: Runtime, *, clock: Clock, limit: int = 100) -> int:
    """One batch: claim up to ``limit`` due messages and deliver them; returns how many were claimed."""
    with session_scope(sessions) as session:
        claimed, handled = claim(session, runtime, now=clock(), limit=limit)
    for item in claimed:
        channel = runtime.channels[item.envelope.channel]
        try:
            delivery = channel.send(item.envelope)
        except DeliveryFailed as failure:
            with session_scope(sessions) as session:
                record_failure(session, runtime, item, failure, now=clock())
        except Exception as error:  # a bug in a channel must not stop the others
            logger.exception("channel %s failed on message %s", item.envelope.channel, item.message_id)
            with session_scope(sessions) as session:
                record_failure(session, runtime, item, DeliveryFailed(f"internal error: {error}"), now=clock())
        else:
            with session_scope(sessions) as session:
                record_sent(session, item, delivery, now=clock())
    return handled
