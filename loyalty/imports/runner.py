"""Running an import: rows read a batch at a time, each batch in its own transaction.

A file of a million rows is never held in memory, and a crash loses at most the batch in flight: every
row is idempotent, so importing the file again finishes the job. The CLI runs a file directly (with a
progress bar); the admin API queues an :class:`ImportJob` that a worker runs
(:func:`loyalty.imports.tasks.run_next_job`), committing the job's progress with each batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from loyalty.db import session_scope
from loyalty.imports import history, members, values
from loyalty.imports.models import ImportJob
from loyalty.imports.outcome import Outcome, RowError
from loyalty.imports.readers import RawRow, read_rows

#: Rows per transaction: a bigger batch pays its round trips and its commit over more rows (1,000 rows
#: imported about a third slower on PostgreSQL); the memory it holds stays a few megabytes.
BATCH = 5000
#: Called in each batch's transaction with the totals so far, the batch's own outcome and its last line.
OnBatch = Callable[[Session, Outcome, Outcome, int], None]


def parse_row(kind: str, raw: RawRow) -> Any:
    """The typed row, or raises :class:`values.BadValue`."""
    if raw.unreadable is not None:
        raise values.BadValue("", raw.unreadable)
    parser = {"members": members.parse, "purchases": history.parse_purchase, "adjustments": history.parse_adjustment}
    return parser[kind](raw)


def apply_batch(session: Session, kind: str, rows: list[Any], *, now: datetime, history_before: datetime | None, actor: str) -> Outcome:
    if kind == "members":
        return members.import_batch(session, rows, now=now)
    if kind == "purchases":
        return history.import_purchases(session, rows, now=now, history_before=history_before)
    return history.import_adjustments(session, rows, now=now, actor=actor)


def run_import(
    sessions: sessionmaker[Session],
    *,
    kind: str,
    fmt: str,
    lines: Iterable[str],
    now: datetime,
    history_before: datetime | None = None,
    actor: str = "import",
    on_batch: OnBatch | None = None,
) -> Outcome:
    """Import every row of ``lines``; ``on_batch`` runs in each batch's transaction (a job's progress
    commits with its rows)."""
    total = Outcome()
    rows = read_rows(lines, fmt)
    for batch in _batches(rows):
        outcome = Outcome(rows=0)
        parsed = []
        for raw in batch:
            try:
                parsed.append(parse_row(kind, raw))
            except values.BadValue as error:
                outcome.fail(RowError(raw.line, error.column or None, error.reason))
        with session_scope(sessions) as session:
            if parsed:
                outcome.add(apply_batch(session, kind, parsed, now=now, history_before=history_before, actor=actor))
            outcome.rows = len(batch)
            outcome.errors.sort(key=lambda error: error.line)
            total.add(outcome)
            if on_batch is not None:
                on_batch(session, total, outcome, batch[-1].line)
    return total


def _batches(rows: Iterator[RawRow]) -> Iterator[list[RawRow]]:
    while batch := list(islice(rows, BATCH)):
        yield batch


# -- Jobs ------------------------------------------------------------------------------------------


def queue_job(session: Session, *, kind: str, fmt: str, content: bytes, history_before: datetime | None, now: datetime) -> ImportJob:
    """Queue a file for a worker."""
    job = ImportJob(
        kind=kind, format=fmt, status="queued", content=content, history_before=history_before,
        rows=0, imported=0, skipped=0, failed=0, errors=[], created_at=now,
    )  # fmt: skip
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> ImportJob | None:
    return session.get(ImportJob, job_id)
