"""Every ``flask`` command the README and the docs show works as written, in a fresh shell, after ``make run``.

The commands are read out of the markdown. After the set-up ``make run`` does (``loyalty init`` and the
demo admin client, in debug mode), each runs in a subprocess with nothing exported but the instance
folder, a temporary one (``LOYALTY_INSTANCE_PATH``). Two are shortened so the test stays fast: the
scheduler runs until it is stopped (SIGTERM, as docs/scenarios.md says, must stop it cleanly) and the
simulation plays a smaller population. The commands run on the embedded database, whatever the suite's:
the PostgreSQL pass leaves them to the SQLite one.
"""

from __future__ import annotations

import re
import shlex
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
#: A command: optional ``NAME=value`` assignments, then the flask of the project, up to the end of the
#: code span, the line or a shell comment.
COMMAND = re.compile(r"((?:[A-Z_]+=\S+ )*(?:[\w./]*/)?flask --app wsgi [^`\n#]*)")
pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="the documented commands run on the embedded SQLite database")
PLACEHOLDERS = {"NAME": "till-s1"}
SMALL_SIMULATION = {"--members": "5", "--days": "1"}


def documented_commands() -> Iterator[tuple[str, str]]:
    """``(document, command)`` for each distinct command, in reading order; optional ``[--flag X]``
    parts left out, placeholders filled in."""
    seen = set()
    for document in DOCUMENTS:
        for match in COMMAND.finditer(document.read_text(encoding="utf-8")):
            command = re.sub(r"\s*\[[^]]*\]", "", match.group(1)).strip()
            words = [PLACEHOLDERS.get(word, word) for word in shlex.split(command)]
            command = shlex.join(words)
            if command not in seen:
                seen.add(command)
                yield document.relative_to(ROOT).as_posix(), command


def fresh_shell(instance: Path, assignments: dict[str, str] | None = None) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(instance), "LOYALTY_INSTANCE_PATH": str(instance), **(assignments or {})}


def split(command: str) -> tuple[dict[str, str], list[str]]:
    words = shlex.split(command)
    assignments = {}
    while "=" in words[0] and not words[0].startswith("."):
        name, value = words.pop(0).split("=", 1)
        assignments[name] = value
    return assignments, words


def wait_for_a_scheduler_pass(database: Path, process: subprocess.Popen[str]) -> None:
    """Until the scheduler has recorded a run of its jobs: it is running, its signal handlers set."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        with closing(sqlite3.connect(database)) as connection:
            if connection.execute("SELECT count(*) FROM job_runs").fetchone()[0]:
                return
        time.sleep(0.2)
    raise AssertionError("the scheduler ran nothing in two minutes")


@pytest.fixture(scope="module")
def after_make_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder as ``make run`` leaves it: migrated, the program loaded, a demo admin."""
    instance = tmp_path_factory.mktemp("instance")
    for step in (["loyalty", "init"], ["loyalty", "create-client", "demo-admin", "--role", "admin", "--replace"]):
        subprocess.run(
            [".venv/bin/flask", "--app", "wsgi", *step], cwd=ROOT, env=fresh_shell(instance, {"FLASK_DEBUG": "1"}),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    return instance


def test_the_docs_name_the_projects_own_flask() -> None:
    commands = list(documented_commands())
    assert len(commands) >= 10
    assert [(document, command) for document, command in commands if not split(command)[1][0] == ".venv/bin/flask"] == []


def test_make_run_leaves_a_development_key_only_its_owner_reads(after_make_run: Path) -> None:
    key = after_make_run / "signing-key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_text().strip()) >= 32


@pytest.mark.parametrize(("document", "command"), list(documented_commands()))
def test_a_documented_command_works_in_a_fresh_shell(after_make_run: Path, document: str, command: str) -> None:
    assignments, words = split(command)
    env = fresh_shell(after_make_run, assignments)
    if words[-1] == "scheduler":
        process = subprocess.Popen(words, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_a_scheduler_pass(after_make_run / "loyalty.db", process)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        return
    if "simulate" in words or "demo-data" in words:
        words = [SMALL_SIMULATION.get(previous, word) for previous, word in zip(["", *words], words, strict=False)]
    # What the documented `echo "$PASSWORD" |` gives a command that reads a password.
    password = "a-long-enough-password-42\n" if "--password-stdin" in words else None
    result = subprocess.run(words, cwd=ROOT, env=env, input=password, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{document}: {command}\n{result.stderr}"
