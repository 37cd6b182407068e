"""``GET /health``: the process answers and reaches its database (for load balancers)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from app import db


def init_app(app: Flask) -> None:
    @app.get("/health")
    def health() -> dict[str, str]:
        db.session().execute(text("SELECT 1"))
        return {"status": "ok"}
