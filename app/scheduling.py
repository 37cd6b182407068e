"""The scheduler wired inside the application: the scheduled tasks of each package (their ``tasks.py``),
how often they run, the process that ``make run`` starts beside the development server, and the
runtime the scheduler and the API share (channels, signed links, webhooks)."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app

from app.idempotency import purge_keys
from loyalty.consumers import purge_consumed
from loyalty.engagement.tasks import fire_engagement_drops
from loyalty.ledger.tasks import expire_points, notify_expiring_points
from loyalty.purchases.tasks import release_pending
from loyalty.segments.tasks import roll_windows
from loyalty.tiers.tasks import review_tiers
from notifications.bootstrap import CONSUMERS
from notifications.channels.registry import ChannelSettings, build_channels
from notifications.messages.links import Links
from notifications.runtime import Runtime
from notifications.scheduler.jobs import Schedule, Task
from notifications.scheduler.process import SchedulerProcess
from notifications.webhooks.delivery import WebhookSender, WebhookSettings
from reporting.tasks import refresh_dashboard_days

logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.extensions["loyalty.runtime"] = build_runtime(app)
    # Under the debug reloader the app is built twice: in the watching process and in the serving
    # child (WERKZEUG_RUN_MAIN); only the child runs the scheduler.
    if app.config["LOYALTY_RUN_SCHEDULER"] and (not app.debug or os.environ.get("WERKZEUG_RUN_MAIN") == "true"):
        process = SchedulerProcess(
            app.extensions["loyalty.sessions"],
            app.extensions["loyalty.engine"],
            app.extensions["loyalty.runtime"],
            clock=app.extensions["loyalty.clock"].now,
            schedule=schedule(app),
            poll_seconds=app.config["LOYALTY_SCHEDULER_POLL_SECONDS"],
            consumer_poll_seconds=app.config["LOYALTY_CONSUMER_POLL_SECONDS"],
        )
        process.start_in_background()
        app.extensions["loyalty.scheduler"] = process


def build_runtime(app: Flask) -> Runtime:
    files = Path(app.instance_path) / "messages"
    return Runtime(
        channels=build_channels(ChannelSettings.from_config(app.config, files)),
        links=Links(base_url=app.config["LOYALTY_PUBLIC_URL"].rstrip("/"), secret=app.config["LOYALTY_JWT_SECRET_KEY"]),
        app_url=app.config["LOYALTY_APP_URL"].rstrip("/"),
        lease=timedelta(seconds=app.config["LOYALTY_SEND_LEASE_SECONDS"]),
        webhooks=WebhookSender(webhook_settings(app)),
    )


def webhook_settings(app: Flask) -> WebhookSettings:
    return WebhookSettings(
        allow_private=app.config["LOYALTY_WEBHOOK_ALLOW_PRIVATE"],
        timeout=app.config["LOYALTY_WEBHOOK_TIMEOUT_SECONDS"],
        max_attempts=app.config["LOYALTY_WEBHOOK_MAX_ATTEMPTS"],
        retry_base=timedelta(seconds=app.config["LOYALTY_WEBHOOK_RETRY_SECONDS"]),
        pause_after_dead=app.config["LOYALTY_WEBHOOK_PAUSE_AFTER"],
    )


def runtime() -> Runtime:
    return current_app.extensions["loyalty.runtime"]


def schedule(app: Flask) -> Schedule:
    """When the leader scans, and the maintenance every scheduler leader runs."""
    return Schedule(
        scan_interval=timedelta(minutes=app.config["LOYALTY_SCAN_INTERVAL_MINUTES"]),
        daily_hour=app.config["LOYALTY_DAILY_SCAN_HOUR"],
        maintenance=(*MAINTENANCE, *purges(app)),
    )


def purges(app: Flask) -> tuple[tuple[str, Task], ...]:
    """Forgetting what is no longer needed: outbox events every consumer has read, old idempotency keys."""
    outbox_days = timedelta(days=app.config["LOYALTY_OUTBOX_RETENTION_DAYS"])
    key_days = timedelta(days=app.config["LOYALTY_IDEMPOTENCY_RETENTION_DAYS"])
    return (
        ("purge-outbox", lambda session, now: purge_consumed(session, CONSUMERS, before=now - outbox_days)),
        ("purge-idempotency-keys", lambda session, now: purge_keys(session, before=now - key_days)),
    )


MAINTENANCE: tuple[tuple[str, Task], ...] = (
    ("expiry-notices", notify_expiring_points),
    ("expire-points", expire_points),
    ("release-pending", release_pending),
    ("review-tiers", review_tiers),
    ("engagement-drops", fire_engagement_drops),
    # The back office's dashboard: each day counted once into the roll-up when it is over (reporting/).
    ("dashboard-days", refresh_dashboard_days),
    # The members' rolling purchase figures for segments, moved to each new day (loyalty/segments/tasks.py).
    ("purchase-windows", roll_windows),
)
