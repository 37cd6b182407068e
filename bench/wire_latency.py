"""Request latency as the loopback carried it: tcpdump on the server's port during a load phase.

wrk times a request from just before it writes it to the moment it has read and parsed the answer;
``/metrics`` from the kernel's receive time of the request's first bytes to after gunicorn wrote the
answer (app/serving.py). On a machine whose cores are saturated, wrk's threads wait for a core too,
and that wait is in wrk's figure only. The packets' capture times split the two: per connection,
the first data segment of a request to the last data segment of its answer (wrk sends the next
request on a connection only once it has the answer, so they alternate), as the kernel stamped them
passing through ``lo``, whoever runs when. Needs tcpdump and the right to capture (root or
CAP_NET_RAW); see docs/benchmarks.md, "/metrics beside wrk".
"""

from __future__ import annotations

import math
import re
import shutil
import signal
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: Captured bytes per packet: the link, IPv4 and TCP headers, and the request line's start.
SNAPSHOT_BYTES = 192
#: Kernel buffer for the capture (KiB): a saturated machine may leave tcpdump waiting for a core.
BUFFER_KIB = 32768
_ETHERNET, _IPV4 = 1, 0x0800
_PCAP_NANOSECONDS = 0xA1B23C4D


@dataclass(frozen=True)
class Exchange:
    """One request and its answer on one connection, in the capture's clock (seconds)."""

    request_line: bytes
    sent_at: float
    answered_at: float

    @property
    def latency_s(self) -> float:
        return self.answered_at - self.sent_at


@dataclass
class Capture:
    """A capture's file; after the block, the packets the kernel dropped (tcpdump's count)."""

    path: Path
    port: int
    dropped: int | None = None
    exchanges: list[Exchange] = field(default_factory=list)

    def latencies_s(self, method: str, rule: str) -> list[float]:
        """The sorted latencies of the exchanges whose request line names ``method`` and a path
        matching the Flask ``rule`` (``/api/v1/members/<id:member_id>``)."""
        pattern = re.compile(
            rb"^" + method.encode() + rb" " + re.sub(r"<[^>]+>", "[^/?]+", rule).encode() + rb"(\?| )"
        )
        return sorted(exchange.latency_s for exchange in self.exchanges if pattern.match(exchange.request_line))


def available() -> bool:
    return shutil.which("tcpdump") is not None


@contextmanager
def capture(port: int, path: Path) -> Iterator[Capture]:
    """Capture the TCP packets of ``port`` on ``lo`` into ``path`` while the block runs; the
    exchanges are read from it when the block ends."""
    command = [
        "tcpdump", "-i", "lo", "-n", "-U", "-s", str(SNAPSHOT_BYTES), "-B", str(BUFFER_KIB),
        "--time-stamp-precision", "nano", "-w", str(path), f"tcp port {port}",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    captured = Capture(path, port)
    try:
        _wait_until_listening(process)
        yield captured
    finally:
        process.send_signal(signal.SIGINT)
        _out, errors = process.communicate(timeout=30)
    dropped = re.search(r"(\d+) packets? dropped by kernel", errors or "")
    captured.dropped = int(dropped.group(1)) if dropped else None
    captured.exchanges = exchanges(path, port)


def _wait_until_listening(process: subprocess.Popen[str]) -> None:
    """Until tcpdump says it listens (its first line on stderr)."""
    assert process.stderr is not None
    line = process.stderr.readline()
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"tcpdump did not start: {line.strip()} {process.stderr.read().strip()}")


def exchanges(path: Path, port: int) -> list[Exchange]:
    """Request and answer pairs, per connection in order, from a pcap file of ``lo`` (Ethernet
    framing, IPv4): a request starts with the first data segment to ``port`` after an answer and
    ends with the last data segment from ``port`` before the next request."""
    sent: dict[int, tuple[bytes, float]] = {}
    answered: dict[int, float] = {}
    found: list[Exchange] = []
    for at, source, destination, payload_length, payload in _segments(path):
        if not payload_length:
            continue
        if destination == port:
            if source in answered:
                found.append(Exchange(*sent.pop(source), answered.pop(source)))
            sent.setdefault(source, (payload, at))
        elif source == port and destination in sent:
            answered[destination] = at
    found.extend(Exchange(*sent[client], at) for client, at in answered.items())
    return found


def _segments(path: Path) -> Iterator[tuple[float, int, int, int, bytes]]:
    """(capture time, source port, destination port, TCP payload length, captured payload) per packet."""
    data = path.read_bytes()
    magic, _major, _minor, _zone, _figs, _snap, link = struct.unpack_from("<IHHiIII", data)
    if magic != _PCAP_NANOSECONDS or link != _ETHERNET:
        raise ValueError(f"{path}: not a nanosecond pcap of an Ethernet-framed interface")
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, _length = struct.unpack_from("<IIII", data, offset)
        packet = data[offset + 16 : offset + 16 + captured]
        offset += 16 + captured
        if len(packet) < 34 or struct.unpack_from("!H", packet, 12)[0] != _IPV4 or packet[23] != 6:
            continue
        ip_header = (packet[14] & 0x0F) * 4
        total = struct.unpack_from("!H", packet, 16)[0]
        tcp = 14 + ip_header
        source, destination = struct.unpack_from("!HH", packet, tcp)
        tcp_header = (packet[tcp + 12] >> 4) * 4
        yield (
            seconds + fraction / 1e9, source, destination, total - ip_header - tcp_header,
            packet[tcp + tcp_header :],
        )  # fmt: skip


def as_wrk_reports(latencies_s: list[float], *, runtime_s: float, connections: int) -> list[float]:
    """``latencies_s`` sorted, with the samples wrk 4 adds to its histogram at the end of a run (its
    correction for coordinated omission): a connection's mean interval between requests being
    ``runtime_s`` over the answers per connection, each latency of at least twice that interval adds
    one sample per interval below it, down to more than one interval. Beside wrk's own p99, this says
    whether what wrk adds to the packets' latencies is that correction rather than time spent."""
    per_connection = len(latencies_s) // connections
    samples = list(latencies_s)
    if per_connection:
        interval = runtime_s / per_connection
        for latency in latencies_s:
            if latency >= 2 * interval:
                made_up = latency - interval
                while made_up > interval:
                    samples.append(made_up)
                    made_up -= interval
    return sorted(samples)


def quantile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile by nearest rank (as wrk reads its own), NaN for no values."""
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]
