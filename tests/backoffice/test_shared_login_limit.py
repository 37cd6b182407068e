"""Two application instances count an address's failed staff logins together through Redis
(LOYALTY_RATELIMIT_STORAGE_URL): the 21st attempt within the window is refused even though each
instance saw only ten failures. The same turns against instances counting in their own memory let it
through: the test can fail."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable

import requests

from tests.backoffice.conftest import PASSWORD
from tests.e2e.conftest import LiveServer
from tests.e2e.server_pairs import Pair as Instances
from tests.e2e.server_pairs import redis_url, start_pair  # noqa: F401  (the fixtures)


def log_in(server: LiveServer, email: str, password: str, address: str) -> int:
    """A login through the form (its CSRF token, its session cookie) from ``address``; the status."""
    form = requests.get(f"{server.url}/admin/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    cookie = form.headers["Set-Cookie"].split(";")[0]  # Secure: sent by hand over plain HTTP
    response = requests.post(
        f"{server.url}/admin/login", data={"csrf_token": token.group(1), "email": email, "password": password},
        headers={"Cookie": cookie, "X-Forwarded-For": address}, allow_redirects=False, timeout=10,
    )  # fmt: skip
    return response.status_code


def twenty_failures_then_the_right_password(instances: Instances, email: str) -> list[int]:
    address = f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"  # the counters outlive a test
    statuses = [
        log_in(instances[n % 2], f"{uuid.uuid4().hex[:12]}@brand.example", "wrong-staff-password", address) for n in range(20)
    ]
    return statuses + [log_in(instances[0], email, PASSWORD, address)]


def test_instances_sharing_redis_refuse_an_address_after_twenty_failures_over_both(
    start_pair: Callable[[str | None], Instances], make_staff: Callable[..., str], redis_url: str  # noqa: F811
) -> None:
    email = make_staff("admin")
    assert twenty_failures_then_the_right_password(start_pair(redis_url), email) == [401] * 20 + [429]


def test_instances_counting_in_memory_each_see_only_their_own_failures(
    start_pair: Callable[[str | None], Instances], make_staff: Callable[..., str]
) -> None:
    email = make_staff("admin")
    assert twenty_failures_then_the_right_password(start_pair(None), email) == [401] * 20 + [302]
