"""One JSON log line per request, and the request id (``X-Request-ID``) that ties lines together.

A request id sent by the caller (or a proxy) is kept when it is a plain token of at most 128
characters; otherwise one is generated. It is answered in ``X-Request-ID`` and carried by every log
line written while the request runs. ``LOYALTY_LOG_FORMAT=json`` (the default outside debug mode)
writes every log record as one JSON object per line on standard error.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request

from app.auth.access import bearer_claims

logger = logging.getLogger("loyalty.requests")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Attributes every LogRecord has: anything else was passed in ``extra`` and goes in the JSON line.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def init_app(app: Flask) -> None:
    if app.config["LOYALTY_LOG_FORMAT"] == "json":
        _log_json()
    app.before_request(_start)
    app.after_request(_finish)


def request_id() -> str | None:
    """The current request's id (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def _start() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or uuid.uuid4().hex
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    g.request_duration = duration
    logger.info(
        "%s %s %s", request.method, request.path, response.status_code,
        extra={
            "method": request.method,
            "route": route(),
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 2),
            "client_id": bearer_claims().get("sub"),
        },
    )  # fmt: skip
    return response


def route() -> str:
    """The route's rule (``/api/v1/members/<id:member_id>``), not the path: one series per route."""
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, request id and the extras.

    Written for every request: the encoder is built once, and the time's date and seconds are formatted
    once per second rather than for every line."""

    def __init__(self) -> None:
        super().__init__()
        self._encoder = json.JSONEncoder(default=str)
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": f"{self._timestamp(record)}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and g.get("request_id"):
            line["request_id"] = g.request_id
        line.update({key: value for key, value in record.__dict__.items() if key not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return self._encoder.encode(line)

    def _timestamp(self, record: logging.LogRecord) -> str:
        """The record's UTC time to the second, ``2026-12-05T02:17:00``."""
        second = int(record.created)
        if self._second[0] != second:
            self._second = (second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S"))
        return self._second[1]


JsonFormatter.converter = time.gmtime


def _log_json() -> None:
    """Every record of the process as JSON lines on standard error (once, however many apps)."""
    root = logging.getLogger()
    if any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
