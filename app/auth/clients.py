"""Creating and authenticating API clients."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import CLIENT_ROLES, ApiClient
from loyalty.errors import InvalidOperation


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def create_client(
    session: Session, *, name: str, role: str, store_code: str | None, now: datetime, replace: bool = False
) -> ClientCredentials:
    """Create a client and return its credentials; the secret is stored hashed and shown only here.

    With ``replace``, an existing client of that name gets a new secret (its old one stops working).
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
        client = ApiClient(name=name, client_id="cl_" + secrets.token_hex(12), created_at=now)
        session.add(client)
    client.role, client.store_code, client.is_active = role, store_code, True
    client.secret_hash = _hash(secret)
    session.flush()
    return ClientCredentials(client_id=client.client_id, client_secret=secret)


def authenticate_client(session: Session, client_id: str, client_secret: str) -> ApiClient | None:
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None or not client.is_active:
        return None
    return client if hmac.compare_digest(client.secret_hash, _hash(client_secret)) else None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
