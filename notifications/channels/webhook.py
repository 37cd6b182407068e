"""A generic JSON webhook provider: SMS, and push to app devices, through an HTTP gateway.

The gateway receives ``POST <url>`` with ``Authorization: Bearer <token>``, ``Idempotency-Key: <send
key>`` and a JSON body: ``{"to", "text", "send_key"}`` for an SMS, ``{"tokens", "title", "text",
"data", "send_key"}`` for a push. It answers 2xx with an optional ``{"id": …}`` (our provider
reference) and, for a push, an optional ``{"expired_tokens": […]}``: device tokens it knows are gone.

HTTP goes through requests, the client pywebpush is built on, so the project has one HTTP stack.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from notifications.channels.base import Delivery, DeliveryFailed, Envelope

#: Statuses that say "later": the request timed out, too many requests, the provider is down.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


def is_permanent_status(status: int) -> bool:
    """A 4xx other than time-out or throttling: the provider will refuse this message again."""
    return 400 <= status < 500 and status not in RETRYABLE_STATUSES


class ThreadSessions:
    """One requests session per thread: connections are reused, and requests does not promise that a
    session is safe to share between threads."""

    def __init__(self, factory: Callable[[], requests.Session] = requests.Session) -> None:
        self._local = threading.local()
        self._factory = factory

    def get(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._factory()
        return session


@dataclass(frozen=True)
class WebhookAnswer:
    """What a gateway said about a message it took."""

    provider_ref: str | None
    expired_tokens: frozenset[str] = field(default_factory=frozenset)


class WebhookProvider:
    """A JSON gateway at ``url``, authenticated with a bearer ``token``."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self._sessions = ThreadSessions()

    def post(self, body: Mapping[str, Any], send_key: str) -> WebhookAnswer:
        """Send ``body``; raises :class:`DeliveryFailed` unless the gateway answers 2xx."""
        headers = {"Idempotency-Key": send_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._sessions.get().post(
                self.url, json=dict(body), headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as error:
            raise DeliveryFailed(f"provider unreachable: {error}") from error
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(
                f"provider answered {response.status_code}: {response.text[:200]}",
                permanent=is_permanent_status(response.status_code),
            )
        return _answer(response)


def _answer(response: requests.Response) -> WebhookAnswer:
    try:
        answer = response.json()
    except ValueError:
        return WebhookAnswer(provider_ref=None)
    if not isinstance(answer, dict):
        return WebhookAnswer(provider_ref=None)
    reference = answer.get("id")
    expired = answer.get("expired_tokens")
    return WebhookAnswer(
        provider_ref=str(reference) if reference is not None else None,
        expired_tokens=frozenset(str(token) for token in expired) if isinstance(expired, list) else frozenset(),
    )


class SmsChannel:
    """The SMS channel: the envelope's text to its phone number, through a webhook provider."""

    name = "sms"

    def __init__(self, provider: WebhookProvider) -> None:
        self.provider = provider

    def send(self, envelope: Envelope) -> Delivery:
        """Send ``envelope.text`` to ``envelope.recipient``."""
        body = {"to": envelope.recipient, "text": envelope.text, "send_key": envelope.send_key}
        return Delivery(provider_ref=self.provider.post(body, envelope.send_key).provider_ref)
