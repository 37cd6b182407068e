"""The Flask application: the only package that knows about HTTP."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

import loyalty.reactions
import notifications.reactions
import rewards.reactions
from app.config import DEVELOPMENT_JWT_SECRET, load_config
from loyalty.clock import SystemClock
from loyalty.members import passwords

logger = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides settings read from the environment."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(app.instance_path, config))
    if app.config["MAX_CONTENT_LENGTH"] is None:
        app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # a larger body is a 413, refused before parsing
    if not app.config["LOYALTY_JWT_SECRET_KEY"]:
        if not app.debug:
            raise RuntimeError("LOYALTY_JWT_SECRET_KEY is not set; refusing to start without a signing key")
        logger.warning("LOYALTY_JWT_SECRET_KEY is not set: using the development key (debug mode only)")
        app.config["LOYALTY_JWT_SECRET_KEY"] = DEVELOPMENT_JWT_SECRET
    app.extensions["loyalty.clock"] = app.config["LOYALTY_CLOCK"] or SystemClock()
    passwords.configure(
        time_cost=app.config["LOYALTY_ARGON2_TIME_COST"],
        memory_cost=app.config["LOYALTY_ARGON2_MEMORY_KIB"],
        parallelism=app.config["LOYALTY_ARGON2_PARALLELISM"],
    )

    from app import api, cli, cli_integrations, db, health, scenarios  # noqa: F401 (adds `loyalty import`, `loyalty export`)
    from app.auth import access

    loyalty.reactions.register_handlers()
    rewards.reactions.register_handlers()
    notifications.reactions.register_handlers()

    db.init_app(app)
    access.init_app(app)
    api.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    scenarios.init_app(app)
    return app
