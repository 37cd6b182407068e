"""Push: Web Push (VAPID) to browsers and a webhook gateway to app devices, as one ``push`` channel.

A push reaches every subscription of the member. The push counts as delivered when at least one
subscription took it; subscriptions a push service reports gone (HTTP 404 or 410, or a gateway's
``expired_tokens``) come back in ``expired_targets`` for the worker to delete, delivered or not.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid, VapidException
from pywebpush import WebPushException, webpush

from notifications.channels.base import Delivery, DeliveryFailed, Envelope, PushTarget
from notifications.channels.webhook import ThreadSessions, WebhookProvider, is_permanent_status

#: Statuses by which a push service says a subscription no longer exists.
GONE_STATUSES = frozenset({404, 410})


@dataclass(frozen=True, kw_only=True)
class TargetOutcome:
    """What became of a push to one subscription."""

    target_id: int
    delivered: bool = False
    expired: bool = False
    permanent: bool = False
    reason: str = ""
    provider_ref: str | None = None


def load_vapid_key(private_key: str) -> Vapid:
    """The VAPID key from PEM, or base64url DER or raw 32 bytes (what most key generators print)."""
    try:
        if "-----BEGIN" in private_key:
            return Vapid.from_pem(private_key.encode())
        return Vapid.from_string(private_key)
    except (ValueError, TypeError, VapidException) as error:
        raise ValueError("LOYALTY_VAPID_PRIVATE_KEY is not a P-256 private key") from error


def application_server_key(private_key: str) -> str:
    """The public half of the VAPID key, as browsers want it for ``pushManager.subscribe``."""
    point = load_vapid_key(private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def push_payload(envelope: Envelope) -> str:
    """The JSON a service worker or an app receives: title, body, data and the send key."""
    body = {"title": envelope.subject, "body": envelope.text, "data": dict(envelope.data)}
    return json.dumps({**body, "send_key": envelope.send_key}, separators=(",", ":"))


class WebPushSender:
    """Web Push to browser subscriptions, signed with the VAPID key."""

    def __init__(self, private_key: str, subject: str, *, timeout: float = 10.0, ttl_seconds: int = 86400) -> None:
        if not subject.startswith(("mailto:", "https://")):
            raise ValueError("LOYALTY_VAPID_SUBJECT must be a mailto: or https: URL")
        self.vapid = load_vapid_key(private_key)
        self.subject = subject
        self.timeout = timeout
        #: How long a push service keeps a push for a browser that is offline.
        self.ttl_seconds = ttl_seconds
        self._sessions = ThreadSessions()

    def push(self, target: PushTarget, envelope: Envelope) -> TargetOutcome:
        """Encrypt the payload for ``target`` and post it to its push service."""
        subscription = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
        # Retries of one message share a topic: a push service replaces the copy it still holds.
        topic = base64.urlsafe_b64encode(hashlib.sha256(envelope.send_key.encode()).digest()).decode()[:32]
        try:
            response = webpush(
                subscription,
                data=push_payload(envelope),
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},
                ttl=self.ttl_seconds,
                timeout=self.timeout,
                headers={"Topic": topic, "Urgency": "normal"},
                requests_session=self._sessions.get(),
            )
        except WebPushException as error:
            return _refusal(target.id, error)
        except requests.RequestException as error:
            return TargetOutcome(target_id=target.id, reason=f"push service unreachable: {error}")
        except ValueError as error:  # keys that do not decode: the subscription can never work
            return TargetOutcome(target_id=target.id, permanent=True, reason=f"bad subscription: {error}")
        location = cast(requests.Response, response).headers.get("Location")  # a str only when asked for curl
        return TargetOutcome(target_id=target.id, delivered=True, provider_ref=location)


def _refusal(target_id: int, error: WebPushException) -> TargetOutcome:
    status = error.status_code
    if status is None:
        return TargetOutcome(target_id=target_id, permanent=True, reason=error.message)
    reason = f"push service answered {status}"
    if status in GONE_STATUSES:
        return TargetOutcome(target_id=target_id, expired=True, permanent=True, reason=reason)
    return TargetOutcome(target_id=target_id, permanent=is_permanent_status(status), reason=reason)


def push_to_devices(
    provider: WebhookProvider, targets: Sequence[PushTarget], envelope: Envelope
) -> list[TargetOutcome]:
    """One gateway request for all of the member's device tokens."""
    body: dict[str, Any] = {
        "tokens": [target.token for target in targets],
        "title": envelope.subject,
        "text": envelope.text,
        "data": dict(envelope.data),
        "send_key": envelope.send_key,
    }
    try:
        answer = provider.post(body, envelope.send_key)
    except DeliveryFailed as failure:
        return [TargetOutcome(target_id=t.id, permanent=failure.permanent, reason=failure.reason) for t in targets]
    return [
        TargetOutcome(target_id=t.id, expired=True, permanent=True, reason="device token expired")
        if t.token in answer.expired_tokens
        else TargetOutcome(target_id=t.id, delivered=True, provider_ref=answer.provider_ref)
        for t in targets
    ]


def conclude(outcomes: Iterable[TargetOutcome]) -> Delivery:
    """Delivered when one subscription took the push; else a failure, permanent when no retry can help."""
    outcomes = list(outcomes)
    if not outcomes:
        raise DeliveryFailed("the member has no push subscription this channel can reach", permanent=True)
    expired = tuple(outcome.target_id for outcome in outcomes if outcome.expired)
    delivered = [outcome for outcome in outcomes if outcome.delivered]
    if delivered:
        return Delivery(provider_ref=delivered[0].provider_ref, expired_targets=expired)
    raise DeliveryFailed(
        "; ".join(f"subscription {outcome.target_id}: {outcome.reason}" for outcome in outcomes),
        permanent=all(outcome.permanent for outcome in outcomes),
        expired_targets=expired,
    )


class PushChannel:
    """The push channel: browsers through Web Push, app devices through the gateway; either may be absent."""

    name = "push"

    def __init__(self, *, web_push: WebPushSender | None = None, devices: WebhookProvider | None = None) -> None:
        if web_push is None and devices is None:
            raise ValueError("a push channel needs Web Push or a device gateway")
        self.web_push = web_push
        self.devices = devices

    def send(self, envelope: Envelope) -> Delivery:
        """Push ``envelope`` (subject as the title, text as the body) to each of its targets."""
        outcomes: list[TargetOutcome] = []
        if self.web_push is not None:
            browsers = [target for target in envelope.push_targets if target.kind == "webpush"]
            outcomes += [self.web_push.push(target, envelope) for target in browsers]
        devices = [target for target in envelope.push_targets if target.kind == "device"]
        if self.devices is not None and devices:
            outcomes += push_to_devices(self.devices, devices, envelope)
        return conclude(outcomes)
