"""Under gunicorn with two workers in multiprocess mode (PROMETHEUS_MULTIPROC_DIR), /metrics adds up
what every worker counted, whichever worker answers the scrape."""

from __future__ import annotations

from pathlib import Path

import requests
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import start_server

REQUESTS = 40


def served(text: str, route: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "loyalty_http_requests_total" and sample.labels["route"] == route
    )


def test_two_workers_report_every_request_between_them(app: Flask, database_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    server = start_server(database_url, tmp_path / "server.log", workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(directory)})
    try:
        for _ in range(REQUESTS):
            with requests.Session() as session:  # a new connection each: either worker may take it
                assert session.get(f"{server.url}/ready", timeout=10).status_code == 200
        scrapes = [requests.get(f"{server.url}/metrics", timeout=10).text for _ in range(4)]
    finally:
        server.stop()
    assert {served(text, "/ready") for text in scrapes} == {REQUESTS}
    assert len(list(directory.glob("counter_*.db"))) == 2  # both workers counted
