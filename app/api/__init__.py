"""The HTTP API under ``/api/v1``: thin routes that parse, call one operation, and serialise."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from app import errors
from app.schemas.common import ProblemSchema

API_DESCRIPTION = """\
Loyalty and engagement API. Authenticate with `POST /api/v1/auth/token` (API clients: admin, till,
service) or `POST /api/v1/auth/login` (members), then send `Authorization: Bearer <access_token>`.
Errors are `application/problem+json`; validation errors list the failing fields in `invalid_params`.
Writes a client may retry are idempotent: purchases on `(store_code, receipt_no)`, returns on
`return_no`, and other POSTs on an optional `Idempotency-Key` header.
"""


class LoyaltyApi(Api):
    """flask-smorest's Api, with problem+json errors instead of its own error payload."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        errors.init_app(self._app)


api = LoyaltyApi()


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Loyalty API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=app.config["LOYALTY_SWAGGER_UI_URL"],
        API_SPEC_OPTIONS={
            "info": {"description": API_DESCRIPTION},
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
            "security": [{"bearerAuth": []}],
        },
    )
    api.init_app(app)
    from app.api import admin, auth, members, purchases

    for module in (auth, members, purchases, admin):
        api.register_blueprint(module.blp)
