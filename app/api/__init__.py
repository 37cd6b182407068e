"""The HTTP API under ``/api/v1``: thin routes that parse, call one operation, and serialise."""

from __future__ import annotations

import http
from collections.abc import Iterable, Iterator
from typing import Any

import apispec
import flask
import flask_smorest
import marshmallow
from flask import Flask, Request, current_app
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from marshmallow import Schema
from swagger_ui_bundle import swagger_ui_path
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import NotFound, UnsupportedMediaType
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter, ValidationError

from app import errors
from app.api import contract
from app.config import SWAGGER_UI_ASSETS
from app.schemas.common import MAX_ID, ProblemSchema

API_DESCRIPTION = """\
Loyalty and engagement API. Authenticate with `POST /api/v1/auth/token` (API clients: admin, till,
service) or `POST /api/v1/auth/login` (members), then send `Authorization: Bearer <access_token>`.
Errors are `application/problem+json`; validation errors list the failing fields in `invalid_params`.
Writes a client may retry are idempotent: purchases on `(store_code, receipt_no)`, returns on
`return_no`, and other POSTs on an optional `Idempotency-Key` header.
"""
#: No request of the API nests deeper; a deeper body is refused before anything walks it.
MAX_JSON_DEPTH = 32


class ContractSpec(apispec.APISpec):
    """The document, with what :func:`app.api.contract.require_answered` adds."""

    def to_dict(self) -> dict[str, Any]:
        return contract.require_answered(super().to_dict())


class LoyaltyApi(Api):
    """flask-smorest's Api, with problem+json errors instead of its own error payload, documented as
    such on every operation (:mod:`app.api.contract`)."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, **kwargs: Any) -> None:
        super()._init_spec(**kwargs, extra_plugins=[contract.ContractPlugin()])
        self.spec.__class__ = ContractSpec
        self.ma_plugin.converter.add_attribute_function(contract.decimal_as_string)
        self.ma_plugin.converter.add_attribute_function(contract.ecma_pattern)

    def _register_error_handlers(self) -> None:
        errors.init_app(self._app)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            # NOT_MODIFIED and the like: referred to by flask-smorest's ETag support, with no body.
            response = contract.problem_response(status) if status >= 400 else {"description": status.phrase}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", contract.problem_response(None), lazy=True)


class IdConverter(IntegerConverter):
    """``<id:member_id>``: a row id, 1 to :data:`MAX_ID`; any other number is a 404.

    Werkzeug would answer a number out of range with a 405 when the path has other methods.
    """

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=MAX_ID)

    def to_python(self, value: str) -> int:
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


class TextConverter(UnicodeConverter):
    """``<code>``: a path segment; one holding the NUL character names nothing, a 404.

    PostgreSQL cannot even compare text with the NUL character: the lookup would fail.
    """

    def to_python(self, value: str) -> str:
        if "\x00" in value:
            raise NotFound()
        return value


class NestingError(ValueError):
    """A JSON document nested deeper than :data:`MAX_JSON_DEPTH`."""


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, refusing a document nested deeper than :data:`MAX_JSON_DEPTH`.

    The refusal is a ``ValueError``, which the request turns into a 400 like any other body that is not
    JSON; Python's parser would otherwise overflow the stack (a ``RecursionError``) on deep nesting.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise NestingError(f"Nested more than {MAX_JSON_DEPTH} levels deep.") from None
        if _depth(value) > MAX_JSON_DEPTH:
            raise NestingError(f"Nested more than {MAX_JSON_DEPTH} levels deep.")
        return value


def _depth(value: Any) -> int:
    """How many arrays and objects deep ``value`` nests, walked without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in children)
    return deepest


#: The schema instances :class:`RequestParser` loads bodies and query strings with, by class.
_SCHEMAS: dict[type[Schema], Schema] = {}


class RequestParser(FlaskParser):
    """webargs' parser, reading JSON bodies through the application's :class:`JsonProvider`, refusing a
    body of another media type (a 415, rather than ignoring it and calling every field missing), a
    change (``PATCH``, ``PUT``) with no body at all, and the NUL character: PostgreSQL cannot store it
    in text."""

    def _get_schema(self, argmap: Any, req: Request) -> Schema:
        """One instance per schema class, built on first use: webargs would build one per request,
        and building a schema (its fields deep-copied) costs more than loading a body with it."""
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = _SCHEMAS.get(argmap)
            if schema is None:
                schema = _SCHEMAS[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: Request) -> Any:
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        if not is_json_request(req):
            raise UnsupportedMediaType("The body must be JSON, sent as application/json.")
        try:
            return current_app.json.loads(data)
        except ValueError as error:
            reason = str(error) if isinstance(error, NestingError) else "Invalid JSON body."
            abort(400, exc=error, messages={"json": [reason]})

    def load_json(self, req: Request, schema: Schema) -> Any:
        data = super().load_json(req, schema)
        if data is core.missing and req.method in ("PATCH", "PUT"):
            raise marshmallow.ValidationError({"body": ["A JSON body is required: the fields to change."]})
        _refuse_nul(_paths_with_nul(data))
        return data

    def load_querystring(self, req: Request, schema: Schema) -> Any:
        _refuse_nul(name for name, value in req.args.items(multi=True) if "\x00" in value)
        return super().load_querystring(req, schema)


class Blueprint(flask_smorest.Blueprint):
    """The blueprint of every API module."""

    ARGUMENTS_PARSER = RequestParser()


def _refuse_nul(names: Iterable[str]) -> None:
    found = sorted(set(names))
    if found:
        raise marshmallow.ValidationError({name: ["Must not contain the NUL character."] for name in found})


def _paths_with_nul(value: Any, path: str = "") -> Iterator[str]:
    """The dotted names (``lines.0.sku``) of the strings in a JSON body that contain U+0000."""
    if isinstance(value, str) and "\x00" in value:
        yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _paths_with_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths_with_nul(item, f"{path}.{index}" if path else str(index))


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
    app.json = JsonProvider(app)
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    api.init_app(app)
    from app.api import (
        admin,
        auth,
        badges,
        challenges,
        customevents,
        engagement,
        exports,
        games,
        imports,
        leaderboards,
        marketing,
        members,
        messages,
        outbox,
        postal,
        privacy,
        purchases,
        quizzes,
        rewards,
        scenarios,
        segments,
        status,
        streaks,
        tiers,
        tracking,
        webhooks,
    )

    for module in (
        auth, members, status, purchases, engagement, rewards, tiers, badges, challenges, streaks, quizzes, games,
        leaderboards, admin, outbox, scenarios, marketing, messages, customevents, segments, imports, privacy, exports,
        postal, webhooks,
    ):  # fmt: skip
        api.register_blueprint(module.blp)
    app.register_blueprint(tracking.blp)  # message links, outside the API and its OpenAPI document
    # Swagger UI's scripts and styles, from the package: /api/docs works offline, with no CDN.
    app.register_blueprint(
        flask.Blueprint("swagger_ui", __name__, static_folder=str(swagger_ui_path), static_url_path=SWAGGER_UI_ASSETS)
    )
