"""``flask --app wsgi loyalty …``: set-up and operator commands. Each runs in one transaction."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import db
from app.auth.clients import create_client
from app.clock import now
from app.migrate import upgrade
from loyalty.db import session_scope
from loyalty.errors import DomainError
from loyalty.ledger.operations import members_out_of_balance
from loyalty.program.operations import load_program, read_program_file

loyalty_cli = AppGroup("loyalty", help="Loyalty program commands.")


def init_app(app: Flask) -> None:
    app.cli.add_command(loyalty_cli)


@loyalty_cli.command("init")
@click.option("--program", "program_file", type=click.Path(exists=True, dir_okay=False), help="A program YAML file.")
def init_command(program_file: str | None) -> None:
    """Migrate the database to the latest schema and load the default program if none exists."""
    upgrade(current_app.config["LOYALTY_DATABASE_URL"])
    with session_scope(db.sessions()) as session:
        loaded = load_program(session, read_program_file(program_file))
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


@loyalty_cli.command("check-ledger")
def check_ledger_command() -> None:
    """Verify that every member's balance equals the sum of their ledger entries."""
    with session_scope(db.sessions()) as session:
        drifted = members_out_of_balance(session)
    for member_id, balance, total in drifted:
        click.echo(f"member {member_id}: balance {balance}, ledger sum {total}")
    if drifted:
        sys.exit(1)
    click.echo("ledger consistent: every balance equals the sum of its entries")
