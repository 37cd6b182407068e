"""Creating and authenticating API clients."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import CLIENT_ROLES, ApiClient
from loyalty.errors import InvalidOperation, NotFound


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def create_client(
    session: Session, *, name: str, role: str, store_code: str | None, now: datetime, replace: bool = False
) -> ClientCredentials:
    """Create a client and return its credentials; the secret is stored hashed and shown only here.

    With ``replace``, an existing client of that name gets a new secret: its old secret and every token
    it was given stop working.
    """
    if role not in CLIENT_ROLES:
        raise InvalidOperation(f"role must be one of {', '.join(CLIENT_ROLES)}", field="role")
    if (role == "till") != bool(store_code):
        raise InvalidOperation("a till needs a store code, and only a till has one", field="store_code")
    secret = secrets.token_urlsafe(32)
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is not None and not replace:
        raise InvalidOperation(f"a client named {name!r} exists already", field="name")
    if client is None:
        client = ApiClient(name=name, client_id="cl_" + secrets.token_hex(12), token_generation=0, created_at=now)
        session.add(client)
    else:
        client.token_generation += 1
        _checked.pop(client.client_id, None)
    client.role, client.store_code, client.is_active = role, store_code, True
    client.secret_hash = _hash(secret)
    session.flush()
    return ClientCredentials(client_id=client.client_id, client_secret=secret)


def disable_client(session: Session, name: str) -> None:
    """Lock a client out at once: its secret and its tokens stop working (``create-client --replace``
    lets it in again, with a new secret)."""
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise NotFound(f"no client is named {name!r}", field="name")
    client.is_active = False
    client.token_generation += 1
    _checked.pop(client.client_id, None)


#: ``client_id`` → (whether active, token generation, ``time.monotonic()`` of the read): the process's
#: copy of each client's state, so that the till path does not look its client up on every request.
_checked: dict[str, tuple[bool, int, float]] = {}


def token_is_current(session: Session, client_id: str, generation: int, *, max_age: float = 0.0) -> bool:
    """Whether a token of this client and generation may still be used: one indexed lookup, or the
    process's copy of it when read less than ``max_age`` seconds ago. A client disabled or given a new
    secret by another process is thus refused within ``max_age`` seconds; in this one, at once."""
    held = _checked.get(client_id)
    now = time.monotonic()
    if held is None or now - held[2] >= max_age:
        row = session.execute(
            select(ApiClient.is_active, ApiClient.token_generation).where(ApiClient.client_id == client_id)
        ).one_or_none()
        held = (row is not None and row.is_active, -1 if row is None else row.token_generation, now)
        _checked[client_id] = held
    return held[0] and held[1] == generation


def authenticate_client(session: Session, client_id: str, client_secret: str) -> ApiClient | None:
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None or not client.is_active:
        return None
    return client if hmac.compare_digest(client.secret_hash, _hash(client_secret)) else None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
