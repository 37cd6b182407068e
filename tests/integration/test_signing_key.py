"""Without LOYALTY_JWT_SECRET_KEY, a deployment on its own database gets no made-up key: serving and the
scheduler refuse to start, the commands that sign nothing run (the README's "Configuration")."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app import create_app
from app.signing_key import MissingSigningKey

ROOT = Path(__file__).resolve().parents[2]


def deployment(tmp_path: Path) -> dict[str, str]:
    """The environment of a process on a configured database, outside debug mode, with no key."""
    return {
        "PATH": "/usr/bin:/bin",
        "LOYALTY_INSTANCE_PATH": str(tmp_path / "instance"),
        "LOYALTY_DATABASE_URL": f"sqlite:///{tmp_path / 'deployed.db'}",
    }


def test_a_deployment_without_a_key_refuses_to_serve(tmp_path, monkeypatch):
    for name, value in deployment(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LOYALTY_JWT_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(MissingSigningKey, match="refusing to start the API"):
        create_app()
    assert not (tmp_path / "instance" / "signing-key").exists()


def test_a_deployment_without_a_key_runs_commands_that_sign_nothing_but_not_the_scheduler(tmp_path):
    env = deployment(tmp_path)
    flask = [".venv/bin/flask", "--app", "wsgi", "loyalty"]
    init = subprocess.run([*flask, "init"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    scheduler = subprocess.run([*flask, "run-due"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert scheduler.returncode == 1
    assert "refusing to start the scheduler without a signing key" in scheduler.stderr
    assert not (tmp_path / "instance" / "signing-key").exists()
