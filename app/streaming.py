"""Responses whose body is written while it is read (exports of any size at constant memory)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Response
from sqlalchemy.orm import Session

from app import db


def streamed(produce: Callable[[Session], Iterator[str]], *, mimetype: str, filename: str) -> Response:
    """A response streaming what ``produce`` yields, read with a session of its own: the request's
    session is closed by the time the body streams."""
    factory = db.sessions()

    def body() -> Iterator[str]:
        with factory() as session:
            yield from produce(session)

    return Response(body(), mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})
