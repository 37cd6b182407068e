"""Configuration from the environment (``LOYALTY_*``), overridable by ``create_app(config=…)``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


#: Where the application serves Swagger UI's own files (the swagger-ui-bundle distribution).
SWAGGER_UI_ASSETS = "/api/docs/assets"


def embedded_database_url(instance_path: str | Path) -> str:
    """The embedded default: a SQLite file in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'loyalty.db'}"


def _quotas(value: str) -> dict[str, str]:
    """``"till=600/minute;cl_abc=100/minute"`` as ``{"till": "600/minute", "cl_abc": "100/minute"}``."""
    pairs = (item.split("=", 1) for item in value.split(";") if item.strip())
    return {name.strip(): limit.strip() for name, limit in pairs}


def load_config(instance_path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every setting the application reads, from the environment, then ``overrides``."""
    config: dict[str, Any] = {
        "LOYALTY_DATABASE_URL": os.environ.get("LOYALTY_DATABASE_URL") or embedded_database_url(instance_path),
        "LOYALTY_DB_POOL_SIZE": _int("LOYALTY_DB_POOL_SIZE", 10),
        "LOYALTY_DB_MAX_OVERFLOW": _int("LOYALTY_DB_MAX_OVERFLOW", 20),
        "LOYALTY_JWT_SECRET_KEY": os.environ.get("LOYALTY_JWT_SECRET_KEY"),
        # Tills and services ask for a new token with their credentials when this one expires.
        "LOYALTY_CLIENT_TOKEN_MINUTES": _int("LOYALTY_CLIENT_TOKEN_MINUTES", 60),
        # Each worker re-reads the program's settings and an API client's state (disabled, new secret)
        # at most this often: a change made through another worker applies within this many seconds.
        "LOYALTY_CONFIG_CHECK_SECONDS": _int("LOYALTY_CONFIG_CHECK_SECONDS", 5),
        "LOYALTY_MEMBER_ACCESS_MINUTES": _int("LOYALTY_MEMBER_ACCESS_MINUTES", 15),
        "LOYALTY_MEMBER_REFRESH_DAYS": _int("LOYALTY_MEMBER_REFRESH_DAYS", 30),
        # argon2id cost for member passwords (argon2-cffi's RFC 9106 low-memory profile by default).
        "LOYALTY_ARGON2_TIME_COST": _int("LOYALTY_ARGON2_TIME_COST", 3),
        "LOYALTY_ARGON2_MEMORY_KIB": _int("LOYALTY_ARGON2_MEMORY_KIB", 65536),
        "LOYALTY_ARGON2_PARALLELISM": _int("LOYALTY_ARGON2_PARALLELISM", 4),
        # Where /api/docs loads Swagger UI from: by default its assets shipped with the application.
        "LOYALTY_SWAGGER_UI_URL": os.environ.get("LOYALTY_SWAGGER_UI_URL", SWAGGER_UI_ASSETS + "/"),
        # A Clock (loyalty.clock); tests and simulations pass a FrozenClock.
        "LOYALTY_CLOCK": None,
        # Message providers (docs/channels.md); a channel without one writes files under instance/messages/.
        "LOYALTY_SMTP_URL": os.environ.get("LOYALTY_SMTP_URL") or None,
        "LOYALTY_MAIL_FROM": os.environ.get("LOYALTY_MAIL_FROM") or None,
        "LOYALTY_SMS_WEBHOOK_URL": os.environ.get("LOYALTY_SMS_WEBHOOK_URL") or None,
        "LOYALTY_SMS_WEBHOOK_TOKEN": os.environ.get("LOYALTY_SMS_WEBHOOK_TOKEN") or None,
        "LOYALTY_PUSH_WEBHOOK_URL": os.environ.get("LOYALTY_PUSH_WEBHOOK_URL") or None,
        "LOYALTY_PUSH_WEBHOOK_TOKEN": os.environ.get("LOYALTY_PUSH_WEBHOOK_TOKEN") or None,
        "LOYALTY_VAPID_PRIVATE_KEY": os.environ.get("LOYALTY_VAPID_PRIVATE_KEY") or None,
        "LOYALTY_VAPID_SUBJECT": os.environ.get("LOYALTY_VAPID_SUBJECT") or None,
        # Tracking links in messages point here (the API's public address); links to the app's pages there.
        "LOYALTY_PUBLIC_URL": os.environ.get("LOYALTY_PUBLIC_URL", "http://127.0.0.1:5000"),
        "LOYALTY_APP_URL": os.environ.get("LOYALTY_APP_URL", "http://127.0.0.1:5000/app"),
        # Providers' delivery reports (POST /api/v1/webhooks/<channel>) send it in X-Webhook-Secret;
        # unset, every report is refused.
        "LOYALTY_WEBHOOK_SECRET": os.environ.get("LOYALTY_WEBHOOK_SECRET") or None,
        # Outbound webhooks (docs/integrations.md): plain http and private, loopback or link-local
        # addresses only when this is 1 (development, tests); the time-out of each request, the
        # attempts before a dead letter, the first retry's delay (doubling, with jitter, up to six
        # hours), and how many dead letters in a row pause a subscription.
        "LOYALTY_WEBHOOK_ALLOW_PRIVATE": os.environ.get("LOYALTY_WEBHOOK_ALLOW_PRIVATE", "") == "1",
        "LOYALTY_WEBHOOK_TIMEOUT_SECONDS": float(os.environ.get("LOYALTY_WEBHOOK_TIMEOUT_SECONDS", "10")),
        "LOYALTY_WEBHOOK_MAX_ATTEMPTS": _int("LOYALTY_WEBHOOK_MAX_ATTEMPTS", 10),
        "LOYALTY_WEBHOOK_RETRY_SECONDS": _int("LOYALTY_WEBHOOK_RETRY_SECONDS", 60),
        "LOYALTY_WEBHOOK_PAUSE_AFTER": _int("LOYALTY_WEBHOOK_PAUSE_AFTER", 5),
        # The scheduler (docs/scenarios.md): in the web process only for `make run`.
        "LOYALTY_RUN_SCHEDULER": os.environ.get("LOYALTY_RUN_SCHEDULER", "") == "1",
        "LOYALTY_SCHEDULER_POLL_SECONDS": _int("LOYALTY_SCHEDULER_POLL_SECONDS", 10),
        # The outbox consumers (badges, challenges, leaderboards, scores, journeys…) run this often.
        "LOYALTY_CONSUMER_POLL_SECONDS": float(os.environ.get("LOYALTY_CONSUMER_POLL_SECONDS", "0.25")),
        "LOYALTY_SCAN_INTERVAL_MINUTES": _int("LOYALTY_SCAN_INTERVAL_MINUTES", 5),
        "LOYALTY_DAILY_SCAN_HOUR": _int("LOYALTY_DAILY_SCAN_HOUR", 6),
        # Published outbox events and idempotency keys are deleted after this many days.
        "LOYALTY_OUTBOX_RETENTION_DAYS": _int("LOYALTY_OUTBOX_RETENTION_DAYS", 30),
        "LOYALTY_IDEMPOTENCY_RETENTION_DAYS": _int("LOYALTY_IDEMPOTENCY_RETENTION_DAYS", 7),
        # The largest file POST /admin/imports accepts (larger files: `loyalty import` on the command line).
        "LOYALTY_IMPORT_MAX_BYTES": _int("LOYALTY_IMPORT_MAX_BYTES", 64 * 1024 * 1024),
        # A scheduler that dies while sending leaves its messages to the others after this long.
        "LOYALTY_SEND_LEASE_SECONDS": _int("LOYALTY_SEND_LEASE_SECONDS", 300),
        # Rate limits (app/ratelimits.py): counters in the process unless a shared store is named
        # (redis://host:6379/0); failed logins and token requests per account and per address, then
        # the lock-out; quotas per API client id or role, "till=600/minute;cl_…=100/minute".
        "LOYALTY_RATELIMIT_ENABLED": os.environ.get("LOYALTY_RATELIMIT_ENABLED", "1") == "1",
        "LOYALTY_RATELIMIT_STORAGE_URL": os.environ.get("LOYALTY_RATELIMIT_STORAGE_URL") or None,
        "LOYALTY_RATELIMIT_LOGIN": os.environ.get("LOYALTY_RATELIMIT_LOGIN") or "5/minute",
        "LOYALTY_RATELIMIT_LOCKOUT": os.environ.get("LOYALTY_RATELIMIT_LOCKOUT") or "3/hour;6/day",
        "LOYALTY_RATELIMIT_QUOTAS": _quotas(os.environ.get("LOYALTY_RATELIMIT_QUOTAS", "")),
        # Web front-ends allowed to call the API from a browser: "https://shop.example.com,https://app.example.com"
        # (or "*"); none by default.
        "LOYALTY_CORS_ORIGINS": [origin.strip() for origin in os.environ.get("LOYALTY_CORS_ORIGINS", "").split(",") if origin.strip()],
        # "json" writes each log record as one JSON line (the default outside debug mode), "text" as Python does.
        "LOYALTY_LOG_FORMAT": os.environ.get("LOYALTY_LOG_FORMAT") or None,
        # The bearer token /metrics asks for; unset, it answers only the loopback address.
        "LOYALTY_METRICS_TOKEN": os.environ.get("LOYALTY_METRICS_TOKEN") or None,
        # Behind this many reverse proxies, the client's address is read from X-Forwarded-For.
        "LOYALTY_TRUSTED_PROXIES": _int("LOYALTY_TRUSTED_PROXIES", 0),
        # The back office (docs/back-office.md): a staff session ends after this long without a request,
        # or this long in all; an account locks for a while after failed logins in a row.
        "LOYALTY_STAFF_IDLE_MINUTES": _int("LOYALTY_STAFF_IDLE_MINUTES", 30),
        "LOYALTY_STAFF_SESSION_HOURS": _int("LOYALTY_STAFF_SESSION_HOURS", 12),
        "LOYALTY_STAFF_LOCK_AFTER": _int("LOYALTY_STAFF_LOCK_AFTER", 5),
        "LOYALTY_STAFF_LOCK_MINUTES": _int("LOYALTY_STAFF_LOCK_MINUTES", 15),
        # `loyalty run-due --now …` may set the time only when this is on (tests, simulations).
        "LOYALTY_CLOCK_OVERRIDE": os.environ.get("LOYALTY_CLOCK_OVERRIDE", "") == "1",
    }
    config.update(overrides or {})
    return config
