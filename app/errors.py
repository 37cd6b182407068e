"""Every error as ``application/problem+json`` (RFC 9457), mapped in one place.

A problem has ``type``, ``title``, ``status`` and ``detail``; validation problems add
``invalid_params``: one ``{"name", "in", "reason"}`` per failing field (``lines.0.quantity``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from loyalty.errors import Conflict, DomainError, Forbidden, InvalidOperation, NotFound

logger = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"
_DOMAIN_STATUS: list[tuple[type[DomainError], int, str]] = [
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (InvalidOperation, 422, "invalid-operation"),
]


def problem(status: int, title: str, detail: str, *, kind: str | None = None, **extra: Any) -> Response:
    """A problem+json response."""
    body = {
        "type": PROBLEM_BASE + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)


def field_problem(status: int, title: str, detail: str, *, field: str, kind: str, location: str = "json") -> Response:
    """A problem naming the one field that caused it."""
    return problem(
        status, title, detail, kind=kind, invalid_params=[{"name": field, "in": location, "reason": detail}]
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _domain_error(error: DomainError) -> Response:
    for error_type, status, kind in _DOMAIN_STATUS:
        if isinstance(error, error_type):
            title = {403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Content"}[status]
            if error.field is None:
                return problem(status, title, error.detail, kind=kind)
            # A field of the path (the voucher in /vouchers/<code>/redeem) is named as such, whatever
            # the error; a missing thing is named in the path; every other field is of the body.
            in_path = error.field in (request.view_args or {})
            location = "path" if in_path or status == 404 else "json"
            return field_problem(status, title, error.detail, field=error.field, kind=kind, location=location)
    return _unexpected_error(error)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    title = "Unprocessable Content" if status == 422 else error.name
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages:
        params = [
            {"name": name, "in": location, "reason": reason}
            for location, fields in messages.items()
            for name, reason in _flatten(fields)
        ]
        names = ", ".join(sorted({param["name"] for param in params}))
        return problem(status, title, f"Invalid input: {names}.", kind="validation", invalid_params=params)
    detail = error.description or title
    if status == 400 and "JSON" in str(detail).upper():
        detail = "The request body is not valid JSON."
    response = problem(status, title, str(detail))
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _unexpected_error(error: Exception) -> Response:
    logger.exception("unhandled error", exc_info=error)
    return problem(500, "Internal Server Error", "An unexpected error occurred; it has been logged.")


def _flatten(messages: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Marshmallow's nested messages as ``(dotted.field.name, reason)`` pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "body"
            yield from _flatten(value, name)
    elif isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        yield prefix or "body", " ".join(messages)
    elif isinstance(messages, list):
        for item in messages:
            yield from _flatten(item, prefix)
    else:
        yield prefix or "body", str(messages)
