"""``flask --app wsgi loyalty …``: set-up and operator commands. Each runs in one transaction."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from app import db, scheduling
from app.auth.clients import create_client, disable_client
from app.backoffice.roles import ROLES
from app.backoffice.staff import create_staff
from app.clock import now
from app.migrate import upgrade
from app.signing_key import MissingSigningKey
from loyalty import audit
from loyalty.clock import FrozenClock
from loyalty.db import make_engine, session_scope
from loyalty.errors import DomainError
from loyalty.ledger.operations import (
    members_out_of_balance,
    members_with_lots_out_of_step,
    qualifying_months_out_of_step,
)
from loyalty.ledger.tasks import expire_points, notify_expiring_points
from loyalty.program.operations import read_program_file
from loyalty.purchases.operations import release_pending_points
from loyalty.tiers.operations import review_due_tiers
from notifications import simulation
from notifications.program import load_program
from notifications.scheduler.process import SchedulerProcess
from reporting import daily as dashboard_days

loyalty_cli = AppGroup("loyalty", help="Loyalty program commands.")


def init_app(app: Flask) -> None:
    app.cli.add_command(loyalty_cli)


@loyalty_cli.command("init")
@click.option("--program", "program_file", type=click.Path(exists=True, dir_okay=False), help="A program YAML file.")
def init_command(program_file: str | None) -> None:
    """Migrate the database to the latest schema and load the default program if none exists."""
    upgrade(current_app.config["LOYALTY_DATABASE_URL"])
    with session_scope(db.sessions()) as session:
        loaded = load_program(session, read_program_file(program_file), now=now())
    click.echo("program loaded" if loaded else "program already present; left as it is", err=True)


@loyalty_cli.command("create-client")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "till", "service"]), required=True)
@click.option("--store", "store_code", help="The store a till acts for (tills only).")
@click.option("--replace", is_flag=True, help="Give an existing client of that name a new secret.")
def create_client_command(name: str, role: str, store_code: str | None, replace: bool) -> None:
    """Create an API client and print its credentials as JSON; the secret is shown only once."""
    try:
        with session_scope(db.sessions()) as session:
            credentials = create_client(
                session, name=name, role=role, store_code=store_code, now=now(), replace=replace
            )
    except DomainError as error:
        raise click.UsageError(error.detail) from error
    click.echo(json.dumps({"client_id": credentials.client_id, "client_secret": credentials.client_secret}))


@loyalty_cli.command("create-staff")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="The name shown in the back office (the email's local part by default).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of generating one.")
@click.option("--reset", is_flag=True, help="Give an existing account a new password (and this role).")
def create_staff_command(email: str, role: str, name: str, password_stdin: bool, reset: bool) -> None:
    """Create a back-office staff account; a generated password is printed once (never stored in clear)."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        with session_scope(db.sessions()) as session:
            audit.act_as(session, "cli", now=now())
            account, password = create_staff(
                session, email=email, role=role, name=name, password=password, now=now(), reset=reset
            )
            email = account.email
    except DomainError as error:
        raise click.UsageError(error.detail) from error
    if password_stdin:
        click.echo(f"staff account {email} ({role}) saved", err=True)
    else:
        click.echo(f"email: {email}  password: {password}  role: {role}")


@loyalty_cli.command("disable-client")
@click.argument("name")
def disable_client_command(name: str) -> None:
    """Lock an API client out at once (a lost till, a leaked secret): its secret and every token it holds
    stop working. ``create-client NAME --role … --replace`` lets it in again with a new secret."""
    try:
        with session_scope(db.sessions()) as session:
            disable_client(session, name)
    except DomainError as error:
        raise click.UsageError(error.detail) from error
    click.echo(f"client {name!r} disabled", err=True)


@loyalty_cli.command("check-ledger")
def check_ledger_command() -> None:
    """Verify that every member's balance equals the sum of their ledger entries, that their point
    lots hold it (max(balance, 0)), and that their qualifying months hold their qualifying entries."""
    with session_scope(db.sessions()) as session:
        drifted = members_out_of_balance(session)
        lots_off = members_with_lots_out_of_step(session)
        months_off = qualifying_months_out_of_step(session)
    for member_id, balance, total in drifted:
        click.echo(f"member {member_id}: balance {balance}, ledger sum {total}")
    for member_id, balance, held in lots_off:
        click.echo(f"member {member_id}: balance {balance}, points in lots {held}")
    for member_id, month, kept, summed in months_off:
        click.echo(f"member {member_id}: qualifying points of {month:%Y-%m} kept {kept}, ledger sum {summed}")
    if drifted or lots_off or months_off:
        sys.exit(1)
    click.echo(
        "ledger consistent: every balance equals the sum of its entries and is held in point lots;"
        " every qualifying month holds its entries"
    )


@loyalty_cli.command("expire-points")
def expire_points_command() -> None:
    """Warn members whose points expire soon (PointsExpiring), then expire the points that are due."""
    with session_scope(db.sessions()) as session:
        warned = notify_expiring_points(session, now=now())
    expired = _in_batches(lambda session: expire_points(session, now=now()))
    click.echo(f"{warned} members warned of expiring points; points expired for {expired} members")


@loyalty_cli.command("release-pending")
def release_pending_command() -> None:
    """Make spendable the purchase points whose return window has ended."""
    released = _in_batches(lambda session: release_pending_points(session, now=now()))
    click.echo(f"pending points released for {released} purchases")


@loyalty_cli.command("review-tiers")
def review_tiers_command() -> None:
    """Review the members whose tier review date has come: keep their tier or move them down one."""
    reviewed = _in_batches(lambda session: review_due_tiers(session, now=now()))
    click.echo(f"{reviewed} members reviewed")


@loyalty_cli.command("dashboard-recount")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="The first day to count again.")
def dashboard_recount_command(first: datetime) -> None:
    """Count the dashboard's roll-up again from a day to the day before yesterday (after a change to
    days already counted: returns, opens and clicks, late receipts), a month of days per transaction."""
    day, last, counted = first.date(), now().date() - timedelta(days=2), 0
    while day <= last:
        until = min(last, day + timedelta(days=dashboard_days.BATCH_DAYS - 1))
        with session_scope(db.sessions()) as session:
            counted += dashboard_days.recount(session, day, until, now=now())
        click.echo(f"counted {day} to {until}")
        day = until + timedelta(days=1)
    click.echo(f"{counted} days counted again into the dashboard's roll-up")


def _in_batches(step: Callable[[Session], int]) -> int:
    """Run ``step`` in one transaction per batch until it has nothing left to do; the total done."""
    total = 0
    while True:
        with session_scope(db.sessions()) as session:
            done = step(session)
        total += done
        if done == 0:
            return total


@loyalty_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler in the foreground: the outbox, journeys, scans, messages and maintenance."""
    scheduler_process().run_forever()


@loyalty_cli.command("run-due")
@click.option("--now", "at", help="Run as if it were this instant (ISO-8601); needs LOYALTY_CLOCK_OVERRIDE=1.")
def run_due_command(at: str | None) -> None:
    """Run one pass of everything that is due, then exit."""
    process = scheduler_process()
    if at is not None:
        if not current_app.config["LOYALTY_CLOCK_OVERRIDE"]:
            raise click.UsageError("--now needs LOYALTY_CLOCK_OVERRIDE=1 in the configuration")
        try:
            instant = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter("an ISO-8601 instant with its offset, like 2026-11-22T10:00:00+00:00") from None
        if instant.tzinfo is None:
            raise click.BadParameter("the instant needs its offset (Z or +01:00)")
        process.clock = FrozenClock(instant.astimezone(UTC)).now
    try:
        click.echo(str(process.run_once()))
    finally:
        process.leadership.release()


def scheduler_process() -> SchedulerProcess:
    app = current_app
    if not app.config["LOYALTY_JWT_SECRET_KEY"]:
        raise click.ClickException(f"{MissingSigningKey('the scheduler')} (it signs the links of messages)")
    return SchedulerProcess(
        db.sessions(),
        app.extensions["loyalty.engine"],
        app.extensions["loyalty.runtime"],
        clock=app.extensions["loyalty.clock"].now,
        schedule=scheduling.schedule(app),
        poll_seconds=app.config["LOYALTY_SCHEDULER_POLL_SECONDS"],
        consumer_poll_seconds=app.config["LOYALTY_CONSUMER_POLL_SECONDS"],
    )


@loyalty_cli.command("simulate")
@click.option(
    "--members", default=1000, show_default=True, type=click.IntRange(1, 1_000_000), help="Members simulated."
)
@click.option("--days", default=60, show_default=True, type=click.IntRange(1, 366), help="Days simulated.")
@click.option("--seed", default=1, show_default=True, type=int, help="The same seed plays the same story.")
@click.option(
    "--start", default="2026-03-02", show_default=True, type=click.DateTime(["%Y-%m-%d"]), help="The first day (UTC)."
)
@click.option("--database", "database_url", help="An empty database to simulate in; default: a temporary SQLite file.")
@click.option("--program", "program_file", type=click.Path(exists=True, dir_okay=False), help="A program YAML file.")
def simulate_command(
    members: int, days: int, seed: int, start: datetime, database_url: str | None, program_file: str | None
) -> None:
    """Play synthetic members through the scenarios on a simulated clock and print each scenario's KPIs.

    Messages go nowhere: the simulation's channels keep them in memory.
    """
    settings = simulation.SimulationSettings(members=members, days=days, seed=seed, start=start.replace(tzinfo=UTC))
    started = time.monotonic()
    with _simulation_database(database_url) as sessions:
        report = simulation.simulate(
            sessions, read_program_file(program_file), settings, scheduling.schedule(current_app)
        )
    click.echo(simulation.format_report(report))
    click.echo(f"simulated in {time.monotonic() - started:.1f} s", err=True)


@loyalty_cli.command("demo-data")
@click.option("--members", default=200, show_default=True, type=click.IntRange(1, 100_000), help="Members enrolled.")
@click.option("--days", default=60, show_default=True, type=click.IntRange(1, 366), help="Days played up to now.")
@click.option("--seed", default=1, show_default=True, type=int, help="The same seed plays the same story.")
def demo_data_command(members: int, days: int, seed: int) -> None:
    """Fill the database, its program loaded (``loyalty init``), with demo members, purchases, returns,
    rewards, journeys and messages played over the last days through the real operations (as ``loyalty
    simulate`` does); nothing when it already has members. Messages are kept in memory, never sent.
    Prints a member to look up in the back office."""
    today = now().replace(minute=0, second=0, microsecond=0)
    settings = simulation.SimulationSettings(members=members, days=days, seed=seed, start=today - timedelta(days=days))
    started = time.monotonic()

    def progress(at: datetime) -> None:
        click.echo(f"demo data: played up to {at:%Y-%m-%d %H:%M}", err=True)

    report = simulation.fill_demo_data(
        db.sessions(),
        settings,
        scheduling.schedule(current_app),
        links=scheduling.runtime().links,
        app_url=scheduling.runtime().app_url,
        progress=progress,
    )
    if report is None:
        click.echo("demo data: the database already has members; nothing added", err=True)
    else:
        sent = sum(count for status, count in report.messages.items() if status in ("sent", "delivered"))
        click.echo(
            f"demo data: {report.members_enrolled} members, {report.purchases} purchases and {sent} messages"
            f" over {days} days, in {time.monotonic() - started:.1f} s",
            err=True,
        )
    with db.sessions()() as session:
        member = simulation.example_member(session)
        if member is not None:
            click.echo(f"Example member: {member.first_name} {member.last_name}, card {member.card_number}")


@contextmanager
def _simulation_database(url: str | None) -> Iterator[sessionmaker[Session]]:
    """The migrated database of a simulation: ``url`` if it is empty (anything else is refused), else a
    temporary SQLite file deleted afterwards."""
    with TemporaryDirectory(prefix="loyalty-simulation-") as directory:
        url = url or f"sqlite:///{Path(directory) / 'simulation.db'}"
        engine = make_engine(url)
        try:
            if inspect(engine).get_table_names():
                raise click.UsageError("--database must name an empty database: the simulation fills it")
            upgrade(url)
            yield sessionmaker(engine, expire_on_commit=False)
        finally:
            engine.dispose()
