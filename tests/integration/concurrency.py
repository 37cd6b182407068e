"""Helpers of the concurrency tests: many clients released at once against the real app."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

Request = Callable[[FlaskClient, int], Any]


class Together:
    """Runs a request from many threads released at once, and records how many database
    connections were in use at the same time."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.engine = app.extensions["loyalty.engine"]
        self.in_use = self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, count: int, request: Request) -> list[Any]:
        """``request(client, index)`` from ``count`` threads at once; their results, by index."""
        barrier = threading.Barrier(count, timeout=30)

        def run(index: int) -> Any:
            client = self.app.test_client()
            barrier.wait()
            return request(client, index)

        event.listen(self.engine, "checkout", self._checked_out)
        event.listen(self.engine, "checkin", self._checked_in)
        try:
            with ThreadPoolExecutor(max_workers=count) as pool:
                return list(pool.map(run, range(count)))
        finally:
            event.remove(self.engine, "checkout", self._checked_out)
            event.remove(self.engine, "checkin", self._checked_in)

    def _checked_out(self, *_args: Any) -> None:
        with self._lock:
            self.in_use += 1
            self.peak = max(self.peak, self.in_use)

    def _checked_in(self, *_args: Any) -> None:
        with self._lock:
            self.in_use -= 1


def statuses(responses: list[TestResponse]) -> Counter[int]:
    return Counter(response.status_code for response in responses)
