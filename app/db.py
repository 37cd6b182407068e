"""The request's database session: one transaction per request (design rule 1).

The first call to :func:`session` in a request opens it; after the view, a response below 400 commits
and anything else rolls back, so an error never leaves a half-applied change.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.errors import problem
from loyalty.db import make_engine

logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    config = app.config
    engine = make_engine(
        config["LOYALTY_DATABASE_URL"],
        pool_size=config["LOYALTY_DB_POOL_SIZE"],
        max_overflow=config["LOYALTY_DB_MAX_OVERFLOW"],
    )
    app.extensions["loyalty.engine"] = engine
    app.extensions["loyalty.sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.after_request(_end_transaction)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["loyalty.engine"]


def sessions() -> sessionmaker[Session]:
    """The session factory, for CLI commands that open their own scope."""
    return current_app.extensions["loyalty.sessions"]


def session() -> Session:
    """The current request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = sessions()()
    return g.db_session


def _end_transaction(response: Response) -> Response:
    db_session: Session | None = g.get("db_session")
    if db_session is None:
        return response
    if response.status_code >= 400:
        db_session.rollback()
        return response
    try:
        db_session.commit()
    except SQLAlchemyError:
        logger.exception("commit failed")
        db_session.rollback()
        return problem(503, "Service Unavailable", "The change could not be saved; it is safe to retry.")
    return response


def _close_session(_exc: BaseException | None) -> None:
    db_session: Session | None = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
