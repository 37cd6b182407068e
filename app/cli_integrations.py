"""``flask --app wsgi loyalty import members|purchases|adjustments FILE``: a file streamed in batches,
with a progress bar, the bad rows by line, column and reason, and the figures at the end.
``flask --app wsgi loyalty export postal``: the letters waiting for the mailing house."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from app import db
from app.cli import loyalty_cli
from app.clock import now
from loyalty.db import session_scope
from loyalty.imports.models import KINDS
from loyalty.imports.outcome import Outcome
from loyalty.imports.runner import run_import
from notifications.postal.export import export_letters

export_cli = AppGroup("export", help="Files for the brand's partners.")
loyalty_cli.add_command(export_cli)


@export_cli.command("postal")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), help="Default: ./postal-<instant>.")
def export_postal_command(out: Path | None) -> None:
    """Write the letters waiting for the mailing house (letters.csv and one PDF each) and mark them sent."""
    at = now()
    directory = out or Path(f"postal-{at:%Y%m%dT%H%M%S}")
    with session_scope(db.sessions()) as session:
        batch = export_letters(session, now=at)
        batch.write(directory)
    click.echo(f"{len(batch.rows)} letters written to {directory}")


@loyalty_cli.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(("csv", "jsonl")), help="By default, from the file's extension.")
@click.option(
    "--history-before",
    help="Purchases before this ISO-8601 instant are history and fire no scenario (default: now).",
)
def import_command(kind: str, path: Path, fmt: str | None, history_before: str | None) -> None:
    """Import members (with their opening balances), purchases or point adjustments from a CSV file
    (a header row naming the columns) or JSON lines; importing a file again changes nothing."""
    fmt = fmt or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "csv")
    started = now()
    cutoff = _instant(history_before) if history_before else started
    total_lines = _count_lines(path)
    clock_start = datetime.now(UTC)
    with click.progressbar(length=total_lines, label=f"Importing {kind}", file=sys.stderr) as bar:
        done = 0

        def progress(session: Session, total: Outcome, batch: Outcome, line: int) -> None:
            nonlocal done
            for error in batch.errors:
                click.echo(f"line {error.line}: {error.column or '-'}: {error.reason}", err=True)
            bar.update(line - done)
            done = line

        with path.open(encoding="utf-8-sig", newline="") as lines:
            outcome = run_import(
                db.sessions(), kind=kind, fmt=fmt, lines=lines, now=started, history_before=cutoff,
                actor="cli:import", on_batch=progress,
            )  # fmt: skip
    seconds = (datetime.now(UTC) - clock_start).total_seconds()
    click.echo(
        f"{outcome.rows} rows in {seconds:.1f} s: {outcome.imported} imported, {outcome.skipped} imported before, "
        f"{outcome.failed} bad"
    )
    if outcome.failed:
        sys.exit(1)


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("an ISO-8601 instant with its offset", param_hint="--history-before") from None
    if parsed.tzinfo is None:
        raise click.BadParameter("the instant needs its offset (Z or +01:00)", param_hint="--history-before")
    return parsed.astimezone(UTC)


def _count_lines(path: Path) -> int:
    """The file's lines, counted in binary chunks (fast, constant memory), for the progress bar."""
    count = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
    return count
