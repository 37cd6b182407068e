"""Metrics, request ids, JSON request logs, liveness and readiness (app/metrics.py, app/requestlog.py,
app/health.py)."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from app.requestlog import JsonFormatter
from app.serving import ARRIVED_AT, received_at, stamp_receipts
from notifications.bootstrap import CONSUMERS
from tests.conftest import Headers

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def scrape(client, **kwargs) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", environ_base=LOOPBACK, **kwargs)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_and_status_with_their_latency(client, admin: Headers):
    before = scrape(client)
    for _ in range(3):
        # The server closes the answer once written out: the latency is observed then.
        with client.get("/api/v1/rewards", headers=admin) as answered:
            assert answered.status_code == 200
    assert client.get("/api/v1/members/999999", headers=admin).status_code == 404
    after = scrape(client)
    ok = {"method": "GET", "route": "/api/v1/rewards", "status": "200"}
    assert value(after, "loyalty_http_requests_total", **ok) - value(before, "loyalty_http_requests_total", **ok) == 3
    missing = {"method": "GET", "route": "/api/v1/members/<id:member_id>", "status": "404"}
    assert value(after, "loyalty_http_requests_total", **missing) - value(before, "loyalty_http_requests_total", **missing) == 1
    timed = {"method": "GET", "route": "/api/v1/rewards"}
    count = "loyalty_http_request_duration_seconds_count"
    assert value(after, count, **timed) - value(before, count, **timed) == 3
    assert value(after, "loyalty_http_request_duration_seconds_bucket", le="+Inf", **timed) >= 3
    own = "loyalty_http_request_app_duration_seconds_count"
    assert value(after, own, **timed) - value(before, own, **timed) == 3


def waited(client, admin: Headers, *, ago: float = 0.0, stamp: str | None = None, **kwargs) -> tuple[float, float]:
    """The seconds ``loyalty_http_request_duration_seconds`` adds for one request, and the seconds the
    request took seen from here plus ``ago``: the most the server may count. The request arrived
    ``ago`` seconds before it was sent (``stamp``: as a proxy's ``X-Request-Start`` in that format; else
    as gunicorn's arrival time in the environ, or not at all when ``ago`` is 0)."""
    timed = {"method": "GET", "route": "/api/v1/rewards"}
    before = value(scrape(client), "loyalty_http_request_duration_seconds_sum", **timed)
    started = time.time()
    headers = dict(admin)
    if stamp is not None:
        headers["X-Request-Start"] = stamp.format(started - ago)
    elif ago:
        kwargs["environ_base"] = {ARRIVED_AT: started - ago}
    with client.get("/api/v1/rewards", headers=headers, **kwargs) as answered:
        assert answered.status_code == 200
    most = time.time() - started + ago
    return value(scrape(client), "loyalty_http_request_duration_seconds_sum", **timed) - before, most


def test_latency_counts_from_when_gunicorn_took_the_request_in(client, admin: Headers):
    counted, most = waited(client, admin)
    assert 0 < counted <= most
    counted, most = waited(client, admin, ago=5)
    assert 5 <= counted <= most


@pytest.mark.parametrize("stamp", ["t={:.3f}", "t={:.0f}000000", "{:.0f}000"])
def test_latency_counts_from_a_trusted_proxys_request_start(app: Flask, client, admin: Headers, stamp: str):
    counted, most = waited(client, admin, ago=5, stamp=stamp)
    assert counted <= most - 5  # no proxy is trusted: a client's say
    app.config["LOYALTY_TRUSTED_PROXIES"] = 1
    try:
        counted, most = waited(client, admin, ago=5, stamp=stamp)
        assert 4.5 <= counted <= most + 0.5  # the coarsest format is in whole seconds
        counted, most = waited(client, admin, ago=0, stamp="t=yesterday")
        assert counted <= most
    finally:
        app.config["LOYALTY_TRUSTED_PROXIES"] = 0


def test_purchases_and_points_are_counted_once_committed(client, till, admin, make_member, make_purchase):
    member = make_member()
    before = scrape(client)
    purchase = make_purchase(member_id=member["id"])
    refused = client.post("/api/v1/purchases", json={"store_code": "S1"}, headers=till)
    assert refused.status_code == 422
    client.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": -5, "reason": "test"}, headers=admin)
    after = scrape(client)
    assert value(after, "loyalty_purchases_total", channel="store") - value(before, "loyalty_purchases_total", channel="store") == 1
    earned = value(after, "loyalty_points_total", kind="earn") - value(before, "loyalty_points_total", kind="earn")
    assert earned == purchase["points_awarded"]
    assert value(after, "loyalty_points_total", kind="adjust") - value(before, "loyalty_points_total", kind="adjust") == 5
    for event_type in ("PurchaseRecorded", "PointsEarned", "PointsDebited"):
        assert value(after, "loyalty_events_total", type=event_type) - value(before, "loyalty_events_total", type=event_type) == 1


def test_backlogs_are_read_from_the_database(client, make_member):
    make_member()  # its MemberEnrolled event waits in the outbox
    samples = scrape(client)
    assert value(samples, "loyalty_outbox_unpublished_events") >= 1
    assert value(samples, "loyalty_outbox_oldest_unpublished_age_seconds") >= 0
    assert ("loyalty_dead_letters", ()) in samples and ("loyalty_messages_waiting", ()) in samples
    for consumer in CONSUMERS:
        for gauge in ("loyalty_outbox_consumer_backlog", "loyalty_outbox_consumer_lag_seconds", "loyalty_outbox_dead_letters"):
            assert (gauge, (("consumer", consumer.name),)) in samples
    assert sum(value(samples, "loyalty_outbox_consumer_backlog", consumer=c.name) for c in CONSUMERS) >= 1


def test_metrics_answer_only_the_loopback_address_without_a_token(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403


@pytest.fixture
def metrics_token(app: Flask) -> Iterator[str]:
    app.config["LOYALTY_METRICS_TOKEN"] = "scrape-me"
    yield "scrape-me"
    app.config["LOYALTY_METRICS_TOKEN"] = None


def test_with_a_token_metrics_answer_whoever_bears_it(client, metrics_token):
    assert client.get("/metrics", environ_base=LOOPBACK).status_code == 401
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer scrape-me"}).status_code == 200


def test_a_request_id_is_generated_or_kept(client):
    generated = client.get("/health").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    assert client.get("/health", headers={"X-Request-ID": "not <a> token"}).headers["X-Request-ID"] != "not <a> token"


def test_each_request_is_one_json_log_line(client, admin: Headers, caplog):
    caplog.set_level(logging.INFO, logger="loyalty.requests")
    client.get("/api/v1/rewards", headers={**admin, "X-Request-ID": "req-42"})
    records = [record for record in caplog.records if record.name == "loyalty.requests"]
    assert len(records) == 1
    with client.application.test_request_context(headers={"X-Request-ID": "req-42"}):
        from flask import g

        g.request_id = "req-42"
        line = json.loads(JsonFormatter().format(records[0]))
    assert line["method"] == "GET" and line["route"] == "/api/v1/rewards" and line["status"] == 200
    assert line["request_id"] == "req-42" and line["client_id"].startswith("client:cl_")
    assert line["duration_ms"] >= 0 and line["level"] == "info" and line["logger"] == "loyalty.requests"


def test_health_is_liveness_and_ready_checks_the_database_and_its_migrations(client):
    assert client.get("/health").json == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json["status"] == "ready"


def _until_the_kernel_stamps(server: socket.socket) -> None:
    """Linux turns receive timestamps on through deferred work the first time a socket on the
    machine asks for them; packets arriving before it has run carry none. Probe until one does."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.create_connection(server.getsockname()) as probe:
            probe.sendall(b"probe")
            accepted, _address = server.accept()
            with accepted:
                time.sleep(0.05)
                if received_at(accepted) is not None:
                    return
    pytest.fail("the kernel never stamped a received packet within 10 s")


def test_the_worker_reads_when_the_kernel_received_a_request_without_consuming_it():
    """The listener is stamped, as the worker does: a connection's first request, sent before the
    connection is accepted, has its time of arrival, and so has the next one."""

    def send(client: socket.socket, request: bytes) -> tuple[float, float]:
        before = time.time()
        client.sendall(request)
        return before, time.time()

    with socket.create_server(("127.0.0.1", 0)) as server:
        stamp_receipts(server)
        _until_the_kernel_stamps(server)
        with socket.create_connection(server.getsockname()) as client:
            before, after = send(client, b"GET /health HTTP/1.1\r\n\r\n")
            time.sleep(0.3)
            accepting = time.time()
            accepted, _address = server.accept()
            with accepted:
                accepted.setblocking(False)
                arrived = received_at(accepted)
                assert arrived is not None and before - 0.01 <= arrived <= after + 0.01 < accepting
                assert accepted.recv(100).startswith(b"GET /health")
                assert received_at(accepted) is None  # nothing waits
                before, after = send(client, b"GET /ready HTTP/1.1\r\n\r\n")
                time.sleep(0.3)
                arrived = received_at(accepted)
                assert arrived is not None and before - 0.01 <= arrived <= after + 0.01
                assert accepted.recv(100).startswith(b"GET /ready")
