"""The Flask application: the only package that knows about HTTP."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import embedded_database_url, load_config
from app.signing_key import MissingSigningKey, resolve_signing_key, serves_requests
from loyalty.clock import SystemClock
from loyalty.members import passwords
from loyalty.program import cache


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides settings read from the environment."""
    instance = os.environ.get("LOYALTY_INSTANCE_PATH")
    app = Flask(__name__, instance_path=os.path.abspath(instance) if instance else None, instance_relative_config=True)
    app.config.update(load_config(app.instance_path, config))
    if app.config["MAX_CONTENT_LENGTH"] is None:
        app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # a larger body is a 413, refused before parsing
    embedded = app.config["LOYALTY_DATABASE_URL"] == embedded_database_url(app.instance_path)
    app.config["LOYALTY_JWT_SECRET_KEY"] = resolve_signing_key(app, on_embedded_database=embedded)
    if not app.config["LOYALTY_JWT_SECRET_KEY"] and serves_requests():
        raise MissingSigningKey("the API")
    app.extensions["loyalty.clock"] = app.config["LOYALTY_CLOCK"] or SystemClock()
    cache.configure(max_age=app.config["LOYALTY_CONFIG_CHECK_SECONDS"])
    passwords.configure(
        time_cost=app.config["LOYALTY_ARGON2_TIME_COST"],
        memory_cost=app.config["LOYALTY_ARGON2_MEMORY_KIB"],
        parallelism=app.config["LOYALTY_ARGON2_PARALLELISM"],
    )

    from app import api, audit, backoffice, cli, cli_integrations, cors, db, health, languages, metrics, ratelimits, requestlog, scheduling  # noqa: F401 (cli_integrations adds `loyalty import` and `loyalty export`)
    from app.auth import access
    from notifications import bootstrap

    bootstrap.register()

    if app.config["LOYALTY_TRUSTED_PROXIES"]:
        proxies = app.config["LOYALTY_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    if app.config["LOYALTY_LOG_FORMAT"] is None:
        app.config["LOYALTY_LOG_FORMAT"] = "text" if app.debug or app.testing else "json"
    # Before the database: their after-request hooks then run after the commit, and time it.
    requestlog.init_app(app)
    metrics.init_app(app)
    db.init_app(app)
    metrics.count_commits(app.extensions["loyalty.sessions"])
    audit.init_app()
    access.init_app(app)
    languages.init_app(app)
    ratelimits.init_app(app)
    cors.init_app(app)
    api.init_app(app)
    backoffice.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    scheduling.init_app(app)
    return app
