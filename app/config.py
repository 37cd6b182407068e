"""Configuration from the environment (``LOYALTY_*``), overridable by ``create_app(config=…)``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEVELOPMENT_JWT_SECRET = "development-only-secret-do-not-use-in-production"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def load_config(instance_path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every setting the application reads, from the environment, then ``overrides``."""
    database_file = Path(instance_path) / "loyalty.db"
    config: dict[str, Any] = {
        "LOYALTY_DATABASE_URL": os.environ.get("LOYALTY_DATABASE_URL") or f"sqlite:///{database_file}",
        "LOYALTY_DB_POOL_SIZE": _int("LOYALTY_DB_POOL_SIZE", 10),
        "LOYALTY_DB_MAX_OVERFLOW": _int("LOYALTY_DB_MAX_OVERFLOW", 20),
        "LOYALTY_JWT_SECRET_KEY": os.environ.get("LOYALTY_JWT_SECRET_KEY"),
        # Tills and services ask for a new token with their credentials when this one expires.
        "LOYALTY_CLIENT_TOKEN_MINUTES": _int("LOYALTY_CLIENT_TOKEN_MINUTES", 60),
        "LOYALTY_MEMBER_ACCESS_MINUTES": _int("LOYALTY_MEMBER_ACCESS_MINUTES", 15),
        "LOYALTY_MEMBER_REFRESH_DAYS": _int("LOYALTY_MEMBER_REFRESH_DAYS", 30),
        # argon2id cost for member passwords (argon2-cffi's RFC 9106 low-memory profile by default).
        "LOYALTY_ARGON2_TIME_COST": _int("LOYALTY_ARGON2_TIME_COST", 3),
        "LOYALTY_ARGON2_MEMORY_KIB": _int("LOYALTY_ARGON2_MEMORY_KIB", 65536),
        "LOYALTY_ARGON2_PARALLELISM": _int("LOYALTY_ARGON2_PARALLELISM", 4),
        "LOYALTY_SWAGGER_UI_URL": os.environ.get(
            "LOYALTY_SWAGGER_UI_URL", "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
        ),
        # A Clock (loyalty.clock); tests and simulations pass a FrozenClock.
        "LOYALTY_CLOCK": None,
    }
    config.update(overrides or {})
    return config
