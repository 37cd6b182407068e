"""The ``Idempotency-Key`` header, for writes that have no natural key (design rule 3).

A client that may retry a request sends a key of its choosing. The first request with that key claims
it with a unique constraint, in the same transaction as its change, and stores its answer; a retry
gets that answer again (with ``Idempotent-Replayed: true``); the same key with another body is a 409.
A request that fails rolls back its claim, so it can simply be retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, make_response, request
from sqlalchemy import Integer, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app import db
from app.auth.access import current_principal
from app.clock import now
from app.errors import field_problem
from loyalty.db import Base, BigIntPK, UTCDateTime, insert_if_absent, rowcount
from loyalty.identifiers import IDEMPOTENCY_KEY

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"


class IdempotencyRecord(Base):
    """A claimed idempotency key and the answer given to its first request."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: The caller the key belongs to: two clients may use the same key independently.
    principal: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("principal", "key"),)


def idempotent(view: F) -> F:
    """Make a POST view honour ``Idempotency-Key``; place it under :func:`app.auth.access.require`."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not IDEMPOTENCY_KEY.matches(key):
            return field_problem(
                400, "Bad Request", IDEMPOTENCY_KEY.message, field=HEADER, kind="validation", location="header"
            )
        session = db.session()
        principal = current_principal().subject
        request_hash = _request_hash()
        record_id = insert_if_absent(
            session,
            IdempotencyRecord,
            {"principal": principal, "key": key, "request_hash": request_hash, "created_at": now()},
            key=("principal", "key"),
        )
        if record_id is None:
            return _replay(principal, key, request_hash)
        response = make_response(view(*args, **kwargs))
        if response.status_code < 400:
            session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.id == record_id)
                .values(status_code=response.status_code, response_body=response.get_data(as_text=True)),
                execution_options={"synchronize_session": False},
            )
        return response

    return cast(F, wrapper)


def _replay(principal: str, key: str, request_hash: str) -> Response:
    record = db.session().scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)
    ).one()
    if record.request_hash != request_hash:
        return field_problem(
            409, "Conflict", "this key was used for a different request", field=HEADER, kind="conflict", location="header"
        )
    response = Response(record.response_body, status=record.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _request_hash() -> str:
    body = request.get_json(silent=True)
    canonical = json.dumps(body, sort_keys=True) if body is not None else request.get_data(as_text=True)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def purge_keys(session: Session, *, before: datetime, limit: int = 5000) -> int:
    """Delete up to ``limit`` idempotency keys claimed before ``before``; returns how many (oldest first,
    along the primary key)."""
    ids = select(IdempotencyRecord.id).where(IdempotencyRecord.created_at < before).order_by(IdempotencyRecord.id).limit(limit)
    return rowcount(session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids.scalar_subquery())),
        execution_options={"synchronize_session": False},
    ))
