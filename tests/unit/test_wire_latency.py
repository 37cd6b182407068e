"""The benchmark's loopback capture pairs each request with its answer, per connection, in order; wrk's
wait for a core is read from the kernel."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from bench.stack import run_queue_wait_s
from bench.wire_latency import Capture, as_wrk_reports, exchanges, quantile

SERVER = 8000


def frame(source: int, destination: int, payload: bytes = b"") -> bytes:
    """An Ethernet-framed IPv4 TCP segment on 127.0.0.1, as tcpdump records ``lo``."""
    tcp = struct.pack("!HHIIBBHHH", source, destination, 0, 0, 5 << 4, 0x18, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0, 64, 6, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    return b"\0" * 12 + struct.pack("!H", 0x0800) + ip + tcp + payload


def pcap(path: Path, packets: list[tuple[float, bytes]]) -> Path:
    records = b"".join(
        struct.pack("<IIII", int(at), round(at % 1 * 1e9), len(packet), len(packet)) + packet for at, packet in packets
    )
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1) + records)
    return path


def test_each_request_runs_from_its_first_segment_to_its_answers_last(tmp_path: Path) -> None:
    capture = pcap(tmp_path / "phase.pcap", [
        (10.001, frame(SERVER, 40001, b"the end of an answer")),  # to a request sent before the capture
        (10.002, frame(40001, SERVER, b"POST /api/v1/purchases HTTP/1.1\r\n")),
        (10.003, frame(40002, SERVER, b"GET /api/v1/members/7/status HTTP/1.1\r\n")),
        (10.004, frame(40001, SERVER, b"the request's body")),
        (10.005, frame(SERVER, 40001)),  # an acknowledgement carries no data
        (10.010, frame(SERVER, 40001, b"HTTP/1.1 201 Created\r\n")),
        (10.020, frame(SERVER, 40001, b"its body")),
        (10.021, frame(40001, SERVER)),
        (10.025, frame(40001, SERVER, b"GET /api/v1/members/7 HTTP/1.1\r\n")),
        (10.030, frame(SERVER, 40002, b"HTTP/1.1 200 OK\r\n")),
        (10.040, frame(SERVER, 40001, b"HTTP/1.1 200 OK\r\n")),
        (10.050, frame(40002, SERVER, b"GET /api/v1/members/8/status HTTP/1.1\r\n")),  # never answered
    ])  # fmt: skip

    found = sorted((exchange.request_line.split(b" HTTP")[0], round(exchange.latency_s, 6)) for exchange in exchanges(capture, SERVER))

    assert found == [
        (b"GET /api/v1/members/7", 0.015),
        (b"GET /api/v1/members/7/status", 0.027),
        (b"POST /api/v1/purchases", 0.018),
    ]


def test_latencies_are_those_of_the_route(tmp_path: Path) -> None:
    capture = Capture(pcap(tmp_path / "phase.pcap", [
        (1.0, frame(40001, SERVER, b"GET /api/v1/members/7 HTTP/1.1\r\n")),
        (1.5, frame(SERVER, 40001, b"HTTP/1.1 200 OK\r\n")),
        (2.0, frame(40001, SERVER, b"GET /api/v1/members/7/status HTTP/1.1\r\n")),
        (2.25, frame(SERVER, 40001, b"HTTP/1.1 200 OK\r\n")),
        (3.0, frame(40001, SERVER, b"GET /api/v1/members/9?fields=id HTTP/1.1\r\n")),
        (3.125, frame(SERVER, 40001, b"HTTP/1.1 200 OK\r\n")),
    ]), SERVER)  # fmt: skip
    capture.exchanges = exchanges(capture.path, SERVER)

    assert capture.latencies_s("GET", "/api/v1/members/<id:member_id>") == [0.125, 0.5]
    assert capture.latencies_s("GET", "/api/v1/members/<id:member_id>/status") == [0.25]
    assert capture.latencies_s("POST", "/api/v1/members/<id:member_id>") == []


def test_quantiles_by_nearest_rank() -> None:
    values = [float(value) for value in range(1, 101)]

    assert (quantile(values, 0.5), quantile(values, 0.99), quantile(values, 1.0)) == (50.0, 99.0, 100.0)
    assert quantile([], 0.99) != quantile([], 0.99)  # NaN


def test_a_capture_of_another_link_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "any.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 276))

    with pytest.raises(ValueError, match="Ethernet"):
        exchanges(path, SERVER)


def test_wrks_wait_for_a_core_is_read_from_the_kernel_and_none_once_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()

    waited = run_queue_wait_s(os.getpid())
    assert waited is not None and waited >= 0.0
    assert run_queue_wait_s(child.pid) is None


def test_wrk_adds_a_sample_per_interval_below_each_latency_of_two_intervals_or_more() -> None:
    # 2 connections, 4 answers in 2 s: 2 answers per connection, an interval of 1 s.
    latencies = [0.2, 1.9, 3.5, 0.1]
    assert as_wrk_reports(latencies, runtime_s=2.0, connections=2) == [0.1, 0.2, 1.5, 1.9, 2.5, 3.5]
    # Too few answers for one per connection: wrk corrects nothing.
    assert as_wrk_reports([5.0, 0.1], runtime_s=2.0, connections=4) == [0.1, 5.0]
