"""Scheduled import work: the files posted to the admin API, run one job at a time
(:mod:`loyalty.imports.runner`)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from loyalty.db import session_scope
from loyalty.imports.models import ImportJob
from loyalty.imports.outcome import Outcome
from loyalty.imports.runner import run_import


def run_next_job(sessions: sessionmaker[Session], *, clock: Callable[[], datetime]) -> int:
    """Claim the oldest queued job (``SKIP LOCKED``: one worker per job) and run it; returns 1 if
    there was one, else 0."""
    with session_scope(sessions) as session:
        job = session.scalar(
            select(ImportJob).where(ImportJob.status == "queued").order_by(ImportJob.id).limit(1).with_for_update(skip_locked=True)
        )
        if job is None:
            return 0
        job.status, job.started_at = "running", clock()
        job_id, kind, fmt, history_before, content = job.id, job.kind, job.format, job.history_before, job.content

    def progress(session: Session, total: Outcome, batch: Outcome, line: int) -> None:
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(rows=total.rows, imported=total.imported, skipped=total.skipped, failed=total.failed,
                    errors=[error.as_dict() for error in total.errors])
        )  # fmt: skip

    try:
        run_import(
            sessions, kind=kind, fmt=fmt, lines=io.StringIO(content.decode("utf-8-sig"), newline=""),
            now=clock(), history_before=history_before, actor=f"import:{job_id}", on_batch=progress,
        )  # fmt: skip
        status, failure = "done", None
    except UnicodeDecodeError:
        status, failure = "failed", "the file is not UTF-8 text"
    with session_scope(sessions) as session:
        session.execute(
            update(ImportJob).where(ImportJob.id == job_id).values(status=status, failure=failure, finished_at=clock())
        )
    return 1
