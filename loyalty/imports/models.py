"""Import jobs (the admin API's asynchronous imports) and the refs of imported adjustments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from loyalty.db import Base, BigIntPK, UTCDateTime

KINDS = ("members", "purchases", "adjustments")
FORMATS = ("csv", "jsonl")
STATUSES = ("queued", "running", "done", "failed")


class ImportJob(Base):
    """A file posted through the admin API, imported by a worker; its progress and its report."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    #: The file as posted; read only by the worker.
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    #: Purchases that happened before this instant are history: they fire no scenario.
    history_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    imported: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Rows imported before (the same natural key or ref): nothing changed.
    skipped: Mapped[int] = mapped_column(BigInteger, default=0)
    failed: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The first bad rows: ``[{"line": 3, "column": "email", "reason": "…"}]``.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: Why the whole job failed (an unreadable file), if it did.
    failure: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("kind IN ('members', 'purchases', 'adjustments')", name="kind_known"),
        CheckConstraint("format IN ('csv', 'jsonl')", name="format_known"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        Index(
            "ix_import_jobs_queued",
            "id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
    )


class ImportedRef(Base):
    """The ref of an imported row that has no natural key of its own (a point adjustment): claimed
    before the row is applied, so a file imported twice applies it once."""

    __tablename__ = "imported_refs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("kind", "ref"),)
