"""In multiprocess mode (PROMETHEUS_MULTIPROC_DIR), /metrics adds up what every process on the host
counted: gunicorn's two workers, and another process of the application (as a scheduler would be),
whichever worker answers the scrape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import JWT_SECRET, READY_TIMEOUT_S, ROOT, start_server

BATCH = 20
OTHER_PROCESS = f"""
from app import create_app
client = create_app().test_client()
assert all(client.get("/ready").status_code == 200 for _ in range({BATCH}))
"""


def served(text: str, route: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "loyalty_http_requests_total" and sample.labels["route"] == route
    )


def test_metrics_add_up_every_process_of_the_host(app: Flask, database_url: str, tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    server = start_server(database_url, tmp_path / "server.log", workers=2, env=env)
    try:
        for _ in range(BATCH):
            with requests.Session() as session:  # a new connection each: either worker may take it
                assert session.get(f"{server.url}/ready", timeout=10).status_code == 200
        subprocess.run(
            [sys.executable, "-c", OTHER_PROCESS], cwd=ROOT, check=True, timeout=READY_TIMEOUT_S,
            env={**os.environ, **env, "LOYALTY_DATABASE_URL": database_url, "LOYALTY_JWT_SECRET_KEY": JWT_SECRET},
        )  # fmt: skip
        scrapes = [requests.get(f"{server.url}/metrics", timeout=10).text for _ in range(4)]
    finally:
        server.stop()
    assert {served(text, "/ready") for text in scrapes} == {2 * BATCH}
