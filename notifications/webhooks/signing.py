"""The body of a webhook and its signature (docs/integrations.md tells receivers how to check it).

``Loyalty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>``;
for a day after a rotation a second ``v1=`` signs with the previous secret, so receivers can switch
keys without losing a delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

#: The prefix of every secret, so that one found in a log or a repository is recognisable.
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def body(*, event_id: int, event_type: str, occurred_at: datetime, data: dict[str, Any]) -> bytes:
    """The JSON body, the same bytes on every attempt: ``{"id", "type", "occurred_at", "data"}``."""
    document = {"id": event_id, "type": event_type, "occurred_at": occurred_at.isoformat(), "data": data}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def signature(payload: bytes, *, timestamp: int, secrets_: Sequence[str]) -> str:
    """The ``Loyalty-Signature`` header: the timestamp and one ``v1`` per secret."""
    signed = f"{timestamp}.".encode() + payload
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}" for secret in secrets_]
    return ",".join(parts)
