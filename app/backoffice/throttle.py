"""Failed staff logins per address, counted where the API counts its own (:mod:`app.ratelimits`): in
the process, or in the store ``LOYALTY_RATELIMIT_STORAGE_URL`` names (Redis), which every worker and
host then shares, so an address cannot spread its guesses over them."""

from __future__ import annotations

from limits import RateLimitItemPerMinute

from app.backoffice.staff import LoginPolicy
from app.ratelimits import limiter

NAMESPACE = "staff-login-address"


class SharedAddressThrottle:
    """At most ``policy.address_limit`` failures per address over ``policy.window_minutes``."""

    def __init__(self, policy: LoginPolicy) -> None:
        self.item = RateLimitItemPerMinute(policy.address_limit, policy.window_minutes)

    def is_blocked(self, remote_addr: str) -> bool:
        return not limiter.limiter.test(self.item, NAMESPACE, remote_addr)

    def count_failure(self, remote_addr: str) -> None:
        limiter.limiter.hit(self.item, NAMESPACE, remote_addr)
