"""Cross-origin calls from browsers (flask-cors), for the origins in ``LOYALTY_CORS_ORIGINS``.

The API authenticates with a bearer token, never a cookie: browsers are never told to send
credentials, so ``*`` (any origin) cannot expose a member's session to another site.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

#: What a browser may send besides the simple headers, and what its scripts may read of an answer.
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"]
EXPOSED_HEADERS = ["Retry-After", "X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]


def init_app(app: Flask) -> None:
    origins = app.config["LOYALTY_CORS_ORIGINS"]
    if not origins:
        return
    CORS(
        app,
        resources={r"/api/*": {"origins": "*" if "*" in origins else origins}},
        send_wildcard="*" in origins,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        supports_credentials=False,
        max_age=600,
    )
