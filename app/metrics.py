"""``GET /metrics`` in the Prometheus text format (prometheus-client).

- Requests by route, method and status, and two latency histograms, commit included:
  ``loyalty_http_request_duration_seconds``, what the client waits, from the moment the request
  reached the server to the moment the server has written the answer out: the time a proxy in front stamped in ``X-Request-Start`` (read
  only behind ``LOYALTY_TRUSTED_PROXIES``), else the time gunicorn's worker took it in
  (app/serving.py), else the application's own start; and
  ``loyalty_http_request_app_duration_seconds``, from the moment a thread of the application took the
  request up. The gap between the two is the wait for a free thread. The first has fine buckets
  (each bound 2^(1/10), about 7 %, above the previous, 1 ms to 16 s) so that a quantile read from it
  (``histogram_quantile``) stays close to what a load generator measures.
- What the program did, counted when the transaction that did it commits (a rolled-back purchase is
  not counted): domain events by type, purchases by channel, points by ledger entry kind (earn,
  bonus, redeem, reverse, expire, adjust), message outcomes by channel. The scheduler process counts its part (messages,
  expiry) in the same counters.
- Read from the database at each scrape, through indexes: the outbox events not yet sequenced and
  the age of the oldest, each outbox consumer's backlog, lag and dead letters
  (:func:`loyalty.consumers.lags`), messages waiting to be sent, dead letters, and the last run of
  each scheduler job.

Under gunicorn, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, the same for the scheduler on
that host): every process writes its counters there and any worker answers the sum
(``gunicorn.conf.py`` clears the directory at start and forgets the workers that exit).
``/metrics`` answers a request bearing ``LOYALTY_METRICS_TOKEN``, or, without one set, only callers
on the loopback address.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import abort

from app import db
from app.requestlog import route
from app.serving import ARRIVED_AT
from loyalty.ledger.models import LedgerEntry
from loyalty import consumers, outbox
from loyalty.consumers import OutboxDeadLetter
from loyalty.outbox import OutboxEvent
from loyalty.events import PurchaseRecorded
from notifications.bootstrap import CONSUMERS
from notifications.messages.models import Message
from notifications.scheduler.models import JobRun
from notifications.webhooks.models import WebhookDelivery

REQUESTS = Counter("loyalty_http_requests", "HTTP requests answered", ["method", "route", "status"])
#: 1 ms to 16 s, each bound 2^(1/10) above the previous: a quantile falls in a bucket 7 % wide, so that
#: the interpolation within it keeps a p99 within the 10 % an operator compares with a client's figures.
LATENCY_BUCKETS = tuple(round(0.001 * 2 ** (step / 10), 6) for step in range(141))
LATENCY = Histogram(
    "loyalty_http_request_duration_seconds",
    "Time from the request reaching the server (proxy or gunicorn) to the answer, commit included",
    ["method", "route"], buckets=LATENCY_BUCKETS,
)  # fmt: skip
APP_LATENCY = Histogram(
    "loyalty_http_request_app_duration_seconds",
    "Time from a thread of the application taking the request up to the answer, commit included", ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
#: Set by a proxy in front: when it received the request (``t=`` seconds, milli- or microseconds).
REQUEST_START_HEADER = "X-Request-Start"
#: A stamp older than this is not a request start but a mistake (or a clock far off): ignored.
_OLDEST_START_S = 3600.0
PURCHASES = Counter("loyalty_purchases", "Purchases recorded", ["channel"])
EVENTS = Counter("loyalty_events", "Domain events recorded, by type", ["type"])
POINTS = Counter("loyalty_points", "Points moved by ledger entries, by kind (absolute values)", ["kind"])
MESSAGES = Counter("loyalty_messages", "Messages changing status, by channel and the status reached", ["channel", "outcome"])
WEBHOOKS = Counter(
    "loyalty_webhook_deliveries", "Webhook delivery attempts and redrives, by outcome: delivered, failed (to be retried), dead, redriven",
    ["outcome"],
)
#: Counting these in a request or a job would cost more than the statement that moves them.
_UNCOUNTED_STATUSES = {"sending"}


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", _metrics)


def count_commits(sessions: sessionmaker[Session]) -> None:
    """Count what the sessions of ``sessions`` write, once their transaction commits."""
    if not event.contains(sessions, "after_flush", _collect):
        event.listen(sessions, "after_flush", _collect)
        event.listen(sessions, "after_commit", _publish)
        event.listen(sessions, "after_rollback", _discard)


def _start() -> None:
    g.metrics_started = time.perf_counter()
    g.metrics_arrived = arrived_at(time.time())


def arrived_at(now: float) -> float:
    """When the request reached the server (seconds since the epoch): a trusted proxy's
    ``X-Request-Start``, else gunicorn's worker's note, else ``now``; never later than ``now``."""
    stamped = None
    if current_app.config["LOYALTY_TRUSTED_PROXIES"]:
        stamped = request_start(request.headers.get(REQUEST_START_HEADER, ""), now)
    if stamped is None:
        stamped = request.environ.get(ARRIVED_AT)
    return min(stamped, now) if isinstance(stamped, float) else now


def request_start(header: str, now: float) -> float | None:
    """``X-Request-Start`` as proxies write it (``t=1733312345.123`` from nginx's ``$msec``,
    ``t=1733312345123456`` in microseconds, or milliseconds) in seconds; None when it is not one
    within the last hour."""
    try:
        value = float(header.strip().removeprefix("t="))
    except ValueError:
        return None
    for scale in (1.0, 1e3, 1e6, 1e9):
        seconds = value / scale
        if now - _OLDEST_START_S <= seconds <= now + _OLDEST_START_S:
            return seconds
    return None


def _observe(response: Response) -> Response:
    if request.endpoint == "metrics":
        return response
    started = g.get("metrics_started")
    answered, app_latency, latency = _series(request.method, route(), response.status_code)
    answered.inc()
    if started is not None:
        app_latency.observe(time.perf_counter() - started)
        response.call_on_close(partial(_observe_sent, latency, g.metrics_arrived))
    return response


#: The series a route's answers are counted in, by method, route and status: looked up once, where
#: ``labels()`` would check and join the labels on every request.
_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram, Histogram]] = {}


def _series(method: str, rule: str, status: int) -> tuple[Counter, Histogram, Histogram]:
    key = (method, rule, status)
    series = _SERIES.get(key)
    if series is None:
        series = _SERIES[key] = (
            REQUESTS.labels(method, rule, str(status)), APP_LATENCY.labels(method, rule), LATENCY.labels(method, rule),
        )  # fmt: skip
    return series


def _observe_sent(latency: Histogram, arrived: float) -> None:
    """Once the server has written the answer out (and closes it): the time since it arrived."""
    latency.observe(max(0.0, time.time() - arrived))


def _collect(session: Session, _flush_context: Any) -> None:
    pending: list[tuple[Counter, tuple[str, ...], int]] = session.info.setdefault("metrics", [])
    for row in session.new:
        if isinstance(row, LedgerEntry):
            pending.append((POINTS, (row.kind,), abs(row.points)))
        elif isinstance(row, Message) and row.status not in _UNCOUNTED_STATUSES:
            pending.append((MESSAGES, (row.channel, row.status), 1))
    for row in session.dirty:
        if isinstance(row, Message):
            reached = inspect(row).attrs.status.history.added
            if reached and reached[0] not in _UNCOUNTED_STATUSES:
                pending.append((MESSAGES, (row.channel, reached[0]), 1))
        elif isinstance(row, WebhookDelivery):
            outcome = _webhook_outcome(inspect(row).attrs.status.history)
            if outcome is not None:
                pending.append((WEBHOOKS, (outcome,), 1))


def _webhook_outcome(history: Any) -> str | None:
    """What a delivery's change of status says: received, retried later, given up, sent again."""
    if not history.added:
        return None
    before, after = (history.deleted or [None])[0], history.added[0]
    if after in ("delivered", "dead"):
        return str(after)
    if after == "pending":
        return "redriven" if before == "dead" else "failed" if before == "sending" else None
    return None


def _publish(session: Session) -> None:
    for counter, labels, amount in session.info.pop("metrics", []):
        counter.labels(*labels).inc(amount)
    for row in outbox.written(session):  # written outside the ORM's flush (see loyalty.outbox)
        EVENTS.labels(row.event_type).inc()
        if row.event_type == PurchaseRecorded.name:
            PURCHASES.labels(str(row.payload.get("channel"))).inc()


def _discard(session: Session) -> None:
    session.info.pop("metrics", None)


class DatabaseCollector(Collector):
    """Backlogs and the scheduler's last runs, read at each scrape."""

    def __init__(self, sessions: sessionmaker[Session], now: datetime) -> None:
        self.sessions = sessions
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.sessions() as session:
            unpublished, oldest = session.execute(
                select(func.count(), func.min(OutboxEvent.occurred_at)).where(OutboxEvent.published_at.is_(None))
            ).one()
            waiting = session.scalar(select(func.count()).where(Message.status.in_(("queued", "sending"))))
            dead_messages = session.scalar(select(func.count()).where(Message.status == "dead"))
            runs = session.execute(select(JobRun.job, JobRun.last_run_at)).all()
            webhooks = dict(
                session.execute(
                    select(WebhookDelivery.status, func.count())
                    .where(WebhookDelivery.status.in_(("pending", "sending", "dead")))
                    .group_by(WebhookDelivery.status)
                ).all()
            )
            lags = consumers.lags(session, CONSUMERS, now=self.now)
            dead_events = dict(
                session.execute(select(OutboxDeadLetter.consumer, func.count()).group_by(OutboxDeadLetter.consumer)).all()
            )
        yield GaugeMetricFamily("loyalty_outbox_unpublished_events", "Outbox events not yet published", value=unpublished)
        yield GaugeMetricFamily(
            "loyalty_outbox_oldest_unpublished_age_seconds", "Age of the oldest outbox event not yet published (0: none)",
            value=max(0.0, (self.now - oldest).total_seconds()) if oldest else 0.0,
        )  # fmt: skip
        yield GaugeMetricFamily("loyalty_messages_waiting", "Messages queued or being sent", value=waiting or 0)
        yield GaugeMetricFamily("loyalty_dead_letters", "Messages given up after their last attempt", value=dead_messages or 0)
        yield GaugeMetricFamily(
            "loyalty_webhook_deliveries_waiting", "Webhook deliveries pending or being sent",
            value=webhooks.get("pending", 0) + webhooks.get("sending", 0),
        )  # fmt: skip
        yield GaugeMetricFamily("loyalty_webhook_dead_letters", "Webhook deliveries given up", value=webhooks.get("dead", 0))
        backlog = GaugeMetricFamily("loyalty_outbox_consumer_backlog", "Events waiting for each outbox consumer", labels=["consumer"])
        lag = GaugeMetricFamily(
            "loyalty_outbox_consumer_lag_seconds", "Age of the oldest event waiting for each consumer", labels=["consumer"]
        )
        dead = GaugeMetricFamily(
            "loyalty_outbox_dead_letters", "Events a consumer could not apply and went past", labels=["consumer"]
        )
        for consumer in lags:
            backlog.add_metric([consumer.consumer], consumer.backlog)
            lag.add_metric([consumer.consumer], consumer.age_seconds)
            dead.add_metric([consumer.consumer], dead_events.get(consumer.consumer, 0))
        yield from (backlog, lag, dead)
        last_runs = GaugeMetricFamily(
            "loyalty_scheduler_job_last_run_timestamp_seconds", "When each periodic job last completed", labels=["job"]
        )
        for job, last_run_at in runs:
            last_runs.add_metric([job], last_run_at.timestamp())
        yield last_runs


def _metrics() -> Response:
    _allow_scraper()
    database = CollectorRegistry()
    database.register(DatabaseCollector(db.sessions(), current_app.extensions["loyalty.clock"].now()))
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    return Response(generate_latest(processes) + generate_latest(database), mimetype=CONTENT_TYPE_LATEST)


def _allow_scraper() -> None:
    token = current_app.config["LOYALTY_METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(401, description="/metrics needs the bearer token LOYALTY_METRICS_TOKEN.")
    elif not ipaddress.ip_address(request.remote_addr or "0.0.0.0").is_loopback:
        abort(403, description="/metrics answers only the loopback address unless LOYALTY_METRICS_TOKEN is set.")
