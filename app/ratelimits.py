"""Rate limits, with Flask-Limiter: guessing passwords and secrets, and per-client quotas.

- ``POST /auth/login`` and ``POST /auth/token``: failed attempts (401) are counted per account (the
  email or client id sent) and per address: past ``LOYALTY_RATELIMIT_LOGIN`` (5 a minute) the next
  attempt is a 429 with ``Retry-After``, right password or not. Each 429 counts towards the lock-out
  (``LOYALTY_RATELIMIT_LOCKOUT``, 3 an hour then 6 a day): an account or address that keeps trying
  is locked out for the rest of the hour, then of the day. Every refusal is logged, and each
  lock-out audited (:func:`_audit`): who tried (the address), for which account, until when.
- ``LOYALTY_RATELIMIT_QUOTAS``: requests per API client id or per role (``till=600/minute;
  cl_…=100/minute``), over the whole API; a caller with no quota is not counted.
- Counters live in the process (``memory://``) unless ``LOYALTY_RATELIMIT_STORAGE_URL`` names a
  shared store (``redis://127.0.0.1:6379/0``), which several gunicorn workers or hosts need.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, MetaLimit, RequestLimit
from flask_limiter.util import get_remote_address

from app.auth.access import bearer_claims
from loyalty import audit
from loyalty.db import session_scope

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def _caller() -> str:
    """The client (``client:cl_…``) or member (``member:42``) the token names; else the address."""
    return str(bearer_claims().get("sub") or "address:" + get_remote_address())


def _quota_names() -> tuple[str, str]:
    return _caller().removeprefix("client:"), str(bearer_claims().get("role", "anonymous"))


def _quota() -> str:
    """The caller's quota: its client id's, else its role's; none ("") when neither has one."""
    quotas: dict[str, str] = current_app.config["LOYALTY_RATELIMIT_QUOTAS"]
    if not quotas:
        return ""
    client_id, role = _quota_names()
    return quotas.get(client_id) or quotas.get(role) or ""


def _log_lockout(limit: RequestLimit) -> None:
    logger.warning(
        "locked out: %s past %s", limit.key, limit.limit,
        extra={"ratelimit_key": limit.key, "ratelimit": str(limit.limit), "reset_at": limit.reset_at},
    )  # fmt: skip
    _audit("lock-out", limit)


def _audit(action: str, limit: RequestLimit) -> None:
    """An audit entry for attempts refused past ``limit``: the address as the actor, the account
    tried (the email or client id sent) as the entity, the limit and until when it holds.

    Once per key and window of the limit, whichever worker refuses first (the counters' store
    decides): a flood of refused attempts must not become a flood of writes."""
    once = type(limit.limit)(1, limit.limit.multiples)
    if not limiter.limiter.hit(once, "audited", action, limit.key):
        return
    address = get_remote_address()
    account = _account_sent()
    now = current_app.extensions["loyalty.clock"].now()
    with session_scope(current_app.extensions["loyalty.sessions"]) as session:
        audit.act_as(session, f"address:{address}"[:300], now=now)
        audit.record(
            session, action=action, entity=str(request.endpoint), entity_key=(account or address)[:200], before=None,
            after={
                "account": account, "address": address, "counted_per": _counted_per(limit),
                "limit": str(limit.limit), "until": datetime.fromtimestamp(limit.reset_at, UTC).isoformat(),
            },
        )  # fmt: skip


limiter = Limiter(
    key_func=_caller,
    application_limits=[_quota],
    headers_enabled=True,
    on_meta_breach=_log_lockout,
)
#: The views whose failed attempts are counted (:func:`limit_attempts`), by qualified name.
_COUNTING: set[str] = set()


@limiter.request_filter
def _unlimited() -> bool:
    """No limit applies to the request: the caller has no quota and the view counts no attempts.

    Flask-Limiter would otherwise work out, on every request, that there is nothing to count: most of
    its cost on the API's reads."""
    if _quota():
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return view is None or _qualified_name(view) not in _COUNTING


def _qualified_name(view: Callable[..., Any]) -> str:
    return f"{view.__module__}.{view.__qualname__}"


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = app.config["LOYALTY_RATELIMIT_STORAGE_URL"] or "memory://"
    app.config["RATELIMIT_ENABLED"] = app.config["LOYALTY_RATELIMIT_ENABLED"]
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)


def _counted_per(limit: RequestLimit) -> str:
    """"account" or "address": what the limit counts (its key is ``LIMITER/account:…/…``)."""
    return limit.key.split("/")[1].split(":")[0]


def _account_sent() -> str | None:
    """The email or client id in the body, lower case; None when there is none."""
    body = request.get_json(silent=True)
    account = body.get("email") or body.get("client_id") if isinstance(body, dict) else None
    if not isinstance(account, str) or not account.strip():
        return None
    return account.strip().lower()[:320]


def _account() -> str:
    """Who the attempt is for: the email or client id in the body (the address when there is none)."""
    account = _account_sent()
    return f"account:{request.endpoint}:{account}" if account else _address()


def _address() -> str:
    return f"address:{request.endpoint}:{get_remote_address()}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _log_refusal(limit: RequestLimit) -> None:
    logger.warning(
        "attempts refused: %s past %s", limit.key, limit.limit,
        extra={"ratelimit_key": limit.key, "ratelimit": str(limit.limit), "reset_at": limit.reset_at},
    )  # fmt: skip
    _audit("refuse-attempts", limit)


def _attempts() -> str:
    return str(current_app.config["LOYALTY_RATELIMIT_LOGIN"])


def _lockout() -> str:
    return str(current_app.config["LOYALTY_RATELIMIT_LOCKOUT"])


def limit_attempts(view: F) -> F:
    """Count the view's failed attempts (401) per account and per address, with the lock-out."""
    _COUNTING.add(_qualified_name(view))
    for key in (_account, _address):
        view = cast(F, limiter.limit(
            _attempts, key_func=key, deduct_when=_failed, on_breach=_log_refusal,
            meta_limits=[MetaLimit(_lockout, key_function=key)],
        )(view))  # fmt: skip
    return view
