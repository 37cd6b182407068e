"""``GET /health``: the process answers (liveness). ``GET /ready``: it can serve, its database
answering and migrated to the head revision (readiness, for load balancers and deployments)."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from flask import Flask
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import db
from app.errors import problem
from app.migrate import alembic_config


def init_app(app: Flask) -> None:
    head = ScriptDirectory.from_config(alembic_config(app.config["LOYALTY_DATABASE_URL"])).get_current_head()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> ResponseReturnValue:
        try:
            with db.engine().connect() as connection:
                connection.execute(text("SELECT 1"))
                revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError as error:
            return problem(503, "Service Unavailable", f"The database does not answer: {type(error).__name__}.")
        if revision != head:
            return problem(
                503, "Service Unavailable", f"The database is at revision {revision}, not {head}: run the migrations."
            )
        return {"status": "ready", "revision": revision}
