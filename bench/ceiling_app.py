"""The machine's ceiling: a bare Flask app with one JSON endpoint, served and loaded like the real one.

``POST /echo`` parses the JSON body and answers a small JSON document, with no database and no
authentication: what gunicorn and Flask cost on this machine before the application does anything.
Like the application, it answers the request's ``X-Request-ID`` back, by which the load scripts time
each request (bench/wrk/common.lua).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

app = Flask(__name__)


@app.post("/echo")
def echo() -> tuple[dict[str, Any], int]:
    body = request.get_json()
    return {"received": body["receipt_no"], "lines": len(body["lines"])}, 201


@app.after_request
def answer_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = request.headers.get("X-Request-ID", "")
    return response


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
