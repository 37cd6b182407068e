"""Who is calling, and what they may do.

Tokens carry the caller's role: ``admin``, ``till`` (bound to one store), ``service`` or ``member``.
Routes declare the roles they accept with :func:`require`; the rules that depend on the data (a
member sees only their own, a till only its store's operations) are the ``ensure_*`` helpers.
The full table is in ``docs/authorization.md``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt,
    get_unverified_jwt_headers,
    verify_jwt_in_request,
)
from flask_jwt_extended.config import config
from flask_jwt_extended.internal_utils import custom_verification_for_token, has_user_lookup, verify_token_not_blocklisted
from werkzeug.exceptions import abort

from app import db
from app.auth import clients
from app.auth.models import ApiClient, MemberSession
from app.clock import now
from app.errors import problem
from loyalty import audit

F = TypeVar("F", bound=Callable[..., Any])

ALL_ROLES = ("admin", "service", "till", "member")
#: The header of providers' delivery reports, holding the webhook secret.
WEBHOOK_SECRET_HEADER = "X-Webhook-Secret"

#: Verified tokens a worker keeps (their claims), before it forgets them all and starts again.
VERIFIED_TOKENS_KEPT = 10_000


class CachingJWTManager(JWTManager):
    """flask-jwt-extended's manager, verifying each token once per process rather than on every request.

    Verifying a token parses it three times (PyJWT checks every character of each segment) and checks
    its HMAC: about a millisecond and a half of a balance read's four. A token already verified by this
    application is taken from the process's copy of its header and claims, as long as it has not expired
    (an expired one goes through the full check again, which refuses it as before). Revocation is
    unaffected: the blocklist check (:func:`_is_revoked`) still runs on every request.
    """

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False) -> dict[str, Any]:
        if csrf_value is not None or allow_expired:
            return cast(dict[str, Any], super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired))
        known = self.verified(encoded_token)
        if known is None:
            claims = cast(dict[str, Any], super()._decode_jwt_from_config(encoded_token))
            verified = _verified_tokens()
            if len(verified) >= VERIFIED_TOKENS_KEPT:
                verified.clear()
            verified[encoded_token] = (get_unverified_jwt_headers(encoded_token), claims)
            return dict(claims)
        return dict(known[1])

    def verified(self, encoded_token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The header and claims of a token this application has verified and which has not expired."""
        verified = _verified_tokens()
        known = verified.get(encoded_token)
        if known is None:
            return None
        claims = known[1]
        if "exp" in claims and claims["exp"] + current_app.config["JWT_DECODE_LEEWAY"] <= time.time():
            del verified[encoded_token]
            return None
        return known


def _verified_tokens() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    return cast(dict[str, tuple[dict[str, Any], dict[str, Any]]], current_app.extensions.setdefault("loyalty.verified_tokens", {}))


jwt = CachingJWTManager()


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    role: str
    #: ``client:<client_id>`` or ``member:<id>``: recorded as the actor of audited changes.
    subject: str
    store_code: str | None = None
    member_id: int | None = None


def init_app(app: Flask) -> None:
    app.config["JWT_SECRET_KEY"] = app.config["LOYALTY_JWT_SECRET_KEY"]
    app.config["JWT_TOKEN_LOCATION"] = ["headers"]
    jwt.init_app(app)
    jwt.unauthorized_loader(lambda reason: _unauthorized("Missing bearer token: " + reason.rstrip(".") + "."))
    jwt.invalid_token_loader(lambda reason: _unauthorized("Invalid token: " + reason.rstrip(".") + "."))
    jwt.expired_token_loader(lambda _header, _payload: _unauthorized("The token has expired."))
    jwt.revoked_token_loader(lambda _header, _payload: _unauthorized("The token has been revoked."))
    jwt.token_in_blocklist_loader(_is_revoked)


def require(*roles: str) -> Callable[[F], F]:
    """Accept only callers with one of ``roles`` (401 without a valid token, 403 with another role)."""
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _verify_bearer()
            role = get_jwt().get("role")
            if role not in roles:
                abort(403, description=f"This operation is not open to the {role} role.")
            if role == "admin":
                # What an admin client changes goes to the audit log, in the request's transaction.
                audit.act_as(db.session(), str(get_jwt()["sub"]), now=now())
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _verify_bearer() -> None:
    """flask-jwt-extended's ``verify_jwt_in_request()``; for an access token this worker has verified
    already, its header and claims come from the worker's copy, where the library would parse the token
    once more for its header. Its revocation is checked either way, and the library's ``get_jwt()``
    answers its claims."""
    authorization = request.headers.get("Authorization", "")
    known = jwt.verified(authorization[len("Bearer ") :]) if authorization.startswith("Bearer ") else None
    if known is None or known[1].get("type") != "access" or request.method in config.exempt_methods or has_user_lookup():
        verify_jwt_in_request()
        return
    header, claims = known[0], dict(known[1])
    verify_token_not_blocklisted(header, claims)
    custom_verification_for_token(header, claims)
    # What verify_jwt_in_request() keeps for get_jwt() and the like (no user lookup is registered).
    g._jwt_extended_jwt_user = None
    g._jwt_extended_jwt_header = header
    g._jwt_extended_jwt = claims
    g._jwt_extended_jwt_location = "headers"


def require_webhook_secret(view: F) -> F:
    """Accept only callers sending the shared secret ``LOYALTY_WEBHOOK_SECRET`` in the
    ``X-Webhook-Secret`` header (providers' delivery reports): 403 otherwise, and while none is set."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        secret = current_app.config.get("LOYALTY_WEBHOOK_SECRET")
        if not secret:
            abort(403, description="Delivery reports are off: LOYALTY_WEBHOOK_SECRET is not set.")
        given = request.headers.get(WEBHOOK_SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            abort(403, description=f"The {WEBHOOK_SECRET_HEADER} header does not hold the webhook secret.")
        return view(*args, **kwargs)

    return cast(F, wrapper)


def bearer_claims() -> dict[str, Any]:
    """The claims of the request's bearer token, checked (signature, expiry) but not looked up, for
    rate limits and logs; ``{}`` without a valid token. Routes use :func:`require` instead."""
    if "bearer_claims" not in g:
        try:
            g.bearer_claims = get_jwt()  # the route checked it already
            return cast(dict[str, Any], g.bearer_claims)
        except RuntimeError:
            pass
        header = request.headers.get("Authorization", "")
        try:
            g.bearer_claims = decode_token(header.removeprefix("Bearer ").strip()) if header.startswith("Bearer ") else {}
        except Exception:  # a bad token is the route's to refuse (401)
            g.bearer_claims = {}
    return cast(dict[str, Any], g.bearer_claims)


def current_principal() -> Principal:
    claims = get_jwt()
    subject = claims["sub"]
    member_id = int(subject.split(":", 1)[1]) if claims["role"] == "member" else None
    return Principal(role=claims["role"], subject=subject, store_code=claims.get("store"), member_id=member_id)


def ensure_member_access(member_id: int) -> Principal:
    """A member may act only on their own record; clients may act on any member."""
    principal = current_principal()
    if principal.role == "member" and principal.member_id != member_id:
        abort(403, description="A member can only access their own data.")
    return principal


def ensure_store(store_code: str) -> Principal:
    """A till may act only for the store it is bound to."""
    principal = current_principal()
    if principal.role == "till" and principal.store_code != store_code:
        abort(403, description=f"This till may only act for store {principal.store_code}.")
    return principal


def client_token(client: ApiClient) -> tuple[str, int]:
    """An access token for an API client, and its lifetime in seconds."""
    lifetime = timedelta(minutes=current_app.config["LOYALTY_CLIENT_TOKEN_MINUTES"])
    claims: dict[str, Any] = {"role": client.role, "gen": client.token_generation}
    if client.store_code:
        claims["store"] = client.store_code
    token = create_access_token(f"client:{client.client_id}", additional_claims=claims, expires_delta=lifetime)
    return token, int(lifetime.total_seconds())


def member_tokens(member_session: MemberSession, *, refresh: bool = True) -> dict[str, Any]:
    """The access (and refresh) token of a member's login session."""
    lifetime = timedelta(minutes=current_app.config["LOYALTY_MEMBER_ACCESS_MINUTES"])
    subject = f"member:{member_session.member_id}"
    claims = {"role": "member", "sid": member_session.id}
    tokens: dict[str, Any] = {
        "access_token": create_access_token(subject, additional_claims=claims, expires_delta=lifetime),
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
    }
    if refresh:
        refresh_lifetime = member_session.expires_at - member_session.created_at
        tokens["refresh_token"] = create_refresh_token(subject, additional_claims=claims, expires_delta=refresh_lifetime)
    return tokens


def _is_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Member tokens die with their login session; client tokens with their client's generation (a
    new secret, or the client disabled)."""
    session_id = payload.get("sid")
    if session_id is None:
        client_id = str(payload["sub"]).removeprefix("client:")
        max_age = current_app.config["LOYALTY_CONFIG_CHECK_SECONDS"]
        return not clients.token_is_current(db.session(), client_id, int(payload.get("gen", -1)), max_age=max_age)
    member_session = db.session().get(MemberSession, session_id)
    return member_session is None or member_session.revoked_at is not None


def _unauthorized(detail: str) -> Response:
    response = problem(401, "Unauthorized", detail)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response
