"""The key that signs access tokens and message links.

``LOYALTY_JWT_SECRET_KEY`` when it is set (production: the same value in every web and scheduler
process). Otherwise the development key kept in ``instance/signing-key`` (mode 0600): generated once,
on the embedded SQLite database or in debug mode (``make run``), then read by the server and every
command alike, so a token or a link signed by one is valid for the others. A deployment on another
database, not in debug mode, gets no key it did not configure: serving and the scheduler refuse to
start without one; commands that sign nothing (``init``, ``create-client``, …) do not need it.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import click
from flask import Flask

logger = logging.getLogger(__name__)

KEY_FILE = "signing-key"


class MissingSigningKey(RuntimeError):
    """Something that signs or verifies was started without a key."""

    def __init__(self, what: str) -> None:
        super().__init__(f"LOYALTY_JWT_SECRET_KEY is not set; refusing to start {what} without a signing key")


def resolve_signing_key(app: Flask, *, on_embedded_database: bool) -> str | None:
    """The configured key, else the development key of the instance folder (created when this is a
    development set-up), else None."""
    configured: str | None = app.config["LOYALTY_JWT_SECRET_KEY"]
    if configured:
        return configured
    path = Path(app.instance_path) / KEY_FILE
    if not path.exists() and (app.debug or on_embedded_database):
        _create_key_file(path)
    if not path.exists():
        return None
    logger.warning("LOYALTY_JWT_SECRET_KEY is not set: signing with the development key in %s", path)
    return path.read_text(encoding="ascii").strip()


def _create_key_file(path: Path) -> None:
    """Write a new random key, readable by its owner only; two processes starting at once keep the
    first one written (the file appears whole, by a hard link)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def serves_requests() -> bool:
    """Whether this process serves the API: loaded by a WSGI server (no command line around it) or by
    ``flask run``; the other commands of ``flask --app wsgi`` serve nothing."""
    context = click.get_current_context(silent=True)
    return context is None or context.info_name == "run"
