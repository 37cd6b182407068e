"""What ``/metrics`` says of a load phase, beside what wrk measured (docs/benchmarks.md).

The application counts and times every request itself (app/metrics.py), from the moment gunicorn's
worker took it in (app/serving.py); scraped before and after a phase, its request rate and latency
quantiles (read from the histogram's buckets as Prometheus's ``histogram_quantile`` does) should tell
an operator what the load generator saw. Beside them, the median of the application's own time
(``loyalty_http_request_app_duration_seconds``): the rest is the wait for a free thread. The
gunicorn workers run in Prometheus multiprocess mode, as in production.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import requests
from prometheus_client.parser import text_string_to_metric_families

from bench import wire_latency

REQUESTS = "loyalty_http_requests_total"
LATENCY = "loyalty_http_request_duration_seconds"
APP_LATENCY = "loyalty_http_request_app_duration_seconds"


def environment(results: Path) -> dict[str, str]:
    """The gunicorn environment for multiprocess metrics, in a directory under ``results``."""
    return {"PROMETHEUS_MULTIPROC_DIR": str(results / "prometheus")}


@dataclass(frozen=True)
class Figures:
    """One route's answers (2xx or not), the sum of their durations and the cumulative buckets."""

    answers: float = 0.0
    seconds: float = 0.0
    buckets: tuple[tuple[float, float], ...] = ()

    def minus(self, earlier: Figures) -> Figures:
        before = dict(earlier.buckets)
        return Figures(
            self.answers - earlier.answers,
            self.seconds - earlier.seconds,
            tuple((le, count - before.get(le, 0.0)) for le, count in self.buckets),
        )

    def quantile(self, q: float) -> float:
        """The ``q`` quantile in seconds, interpolated within its bucket as Prometheus's
        ``histogram_quantile`` does."""
        total = self.buckets[-1][1] if self.buckets else 0.0
        if not total:
            return math.nan
        rank, lower, below = q * total, 0.0, 0.0
        for le, count in self.buckets:
            if count >= rank:
                if math.isinf(le):
                    return lower
                return lower + (le - lower) * (rank - below) / max(count - below, 1e-12)
            lower, below = le, count
        return lower


def scrape(base_url: str, method: str, route: str) -> tuple[Figures, Figures]:
    """The route's figures by the request histogram, and by the application's own."""
    text = requests.get(f"{base_url}/metrics", timeout=30).text
    return figures(text, method, route, LATENCY), figures(text, method, route, APP_LATENCY)


def figures(text: str, method: str, route: str, histogram: str) -> Figures:
    answers, seconds, buckets = 0.0, 0.0, {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("method") != method or sample.labels.get("route") != route:
                continue
            if sample.name == REQUESTS:
                answers += sample.value
            elif sample.name == f"{histogram}_sum":
                seconds = sample.value
            elif sample.name == f"{histogram}_bucket":
                buckets[float(sample.labels["le"])] = sample.value
    return Figures(answers, seconds, tuple(sorted(buckets.items())))


#: The route each load phase (named as bench.till_load names them) calls.
ROUTES = {
    "POST /purchases": ("POST", "/api/v1/purchases"),
    "GET /members/{id}": ("GET", "/api/v1/members/<id:member_id>"),
    "GET /members/{id}/status": ("GET", "/api/v1/members/<id:member_id>/status"),
}


class LoadPhase(Protocol):
    """What wrk measured in a phase (``bench.till_load.Phase``)."""

    @property
    def name(self) -> str: ...

    @property
    def window_s(self) -> float: ...

    @property
    def answers_2xx(self) -> int: ...

    @property
    def failures(self) -> int: ...

    @property
    def p50_ms(self) -> float: ...

    @property
    def p99_ms(self) -> float: ...

    @property
    def wrk_waited_s(self) -> float | None: ...

    @property
    def corrected_p99_ms(self) -> float: ...

    @property
    def connections(self) -> int: ...

    @property
    def wrk_runtime_s(self) -> float: ...

    @property
    def softirq_waited_s(self) -> float | None: ...


@dataclass
class Watch:
    """The figures of one route between entering and leaving :func:`watch`."""

    route: tuple[str, str]
    before: tuple[Figures, Figures]
    during: Figures = field(default_factory=Figures)
    #: The application's own time (from a thread taking the request up).
    app_during: Figures = field(default_factory=Figures)

    def compare(self, phase: LoadPhase, wire: wire_latency.Capture | None = None) -> str:
        """One line: the rate and quantiles by /metrics and by wrk, and how far apart; with a
        capture of the phase, the quantiles by the packets' times too."""
        rate, wrk_rate = self.during.answers / phase.window_s, (phase.answers_2xx + phase.failures) / phase.window_s
        p50, p99 = self.during.quantile(0.5) * 1000, self.during.quantile(0.99) * 1000
        line = (
            f"{phase.name:<30} /metrics {rate:8.1f} req/s p50 {p50:6.1f} ms p99 {p99:6.1f} ms"
            f" (app p50 {self.app_during.quantile(0.5) * 1000:6.1f} ms)"
            f" | wrk {wrk_rate:8.1f} req/s p50 {phase.p50_ms:6.1f} ms p99 {phase.p99_ms:6.1f} ms"
            f" (its histogram's p99 {phase.corrected_p99_ms:.1f} ms; waited for a core {_seconds(phase.wrk_waited_s)} s,"
            f" softirqs {_seconds(phase.softirq_waited_s)} s)"
            f" | rate {rate / wrk_rate - 1:+6.1%} p50 {p50 / phase.p50_ms - 1:+6.1%} p99 {p99 / phase.p99_ms - 1:+6.1%}"
        )
        if wire is None:
            return line
        latencies = wire.latencies_s(*self.route)
        wire_p50, wire_p99 = wire_latency.quantile(latencies, 0.5) * 1000, wire_latency.quantile(latencies, 0.99) * 1000
        as_wrk = wire_latency.as_wrk_reports(latencies, runtime_s=phase.wrk_runtime_s, connections=phase.connections)
        return (
            f"{line}\n{'':<30} wire {len(latencies):8d} answers p50 {wire_p50:6.1f} ms p99 {wire_p99:6.1f} ms"
            f" ({wire.dropped} packets dropped) | /metrics p50 {p50 / wire_p50 - 1:+6.1%} p99 {p99 / wire_p99 - 1:+6.1%}"
            f" | wrk p50 {phase.p50_ms / wire_p50 - 1:+6.1%} p99 {phase.p99_ms / wire_p99 - 1:+6.1%}"
            f" | through wrk's correction p99 {wire_latency.quantile(as_wrk, 0.99) * 1000:.1f} ms"
        )


def _seconds(figure: float | None) -> str:
    return "-" if figure is None else f"{figure:.1f}"


@contextmanager
def watch(base_url: str, phase_name: str) -> Iterator[Watch | None]:
    """The route of the phase ``phase_name`` ("POST /purchases @16") watched while the block runs;
    None for a phase of another route."""
    route = ROUTES.get(phase_name.rsplit(" @", 1)[0])
    if route is None:
        yield None
        return
    watched = Watch(route, scrape(base_url, *route))
    yield watched
    during, app_during = scrape(base_url, *route)
    watched.during, watched.app_during = during.minus(watched.before[0]), app_during.minus(watched.before[1])


@contextmanager
def wire(base_url: str, path: Path, *, enabled: bool) -> Iterator[wire_latency.Capture | None]:
    """The loopback traffic of the server at ``base_url`` captured into ``path`` while the block runs
    (bench/wire_latency.py); None when not ``enabled``."""
    if not enabled:
        yield None
        return
    with wire_latency.capture(int(base_url.rsplit(":", 1)[1]), path) as captured:
        yield captured
