"""Tokens for API clients and members."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from werkzeug.exceptions import abort

from app import db
from app.api import Blueprint, examples
from app.auth import access, clients, sessions
from app.clock import now
from app.ratelimits import limit_attempts
from app.schemas.auth import (
    ClientTokenRequestSchema,
    LoginRequestSchema,
    MemberTokensSchema,
    TokenSchema,
)
from loyalty.members.operations import authenticate

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Tokens for API clients and members")
PUBLIC: dict[str, Any] = {"security": []}


@blp.route("/token", methods=["POST"])
@limit_attempts
@blp.doc(**PUBLIC)
@blp.arguments(ClientTokenRequestSchema, example=examples.CLIENT_TOKEN)
@blp.response(200, TokenSchema)
def client_token(body: dict[str, str]) -> dict[str, Any]:
    """Exchange an API client's id and secret for an access token."""
    client = clients.authenticate_client(db.session(), body["client_id"], body["client_secret"])
    if client is None:
        abort(401, description="Unknown client or wrong secret.")
    token, expires_in = access.client_token(client)
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}


@blp.route("/login", methods=["POST"])
@limit_attempts
@blp.doc(**PUBLIC)
@blp.arguments(LoginRequestSchema, example=examples.LOGIN)
@blp.response(200, MemberTokensSchema)
def login(body: dict[str, str]) -> dict[str, Any]:
    """Log a member in with email and password: an access token and a refresh token."""
    session = db.session()
    member = authenticate(session, body["email"], body["password"])
    if member is None:
        abort(401, description="Wrong email or password.")
    lifetime = timedelta(days=current_app.config["LOYALTY_MEMBER_REFRESH_DAYS"])
    member_session = sessions.open_session(session, member, now=now(), lifetime=lifetime)
    return access.member_tokens(member_session)


@blp.route("/refresh", methods=["POST"])
@blp.doc(description="Send the **refresh** token as the bearer token.")
@blp.response(200, TokenSchema)
def refresh() -> dict[str, Any]:
    """A new access token for a member's login session."""
    verify_jwt_in_request(refresh=True)
    member_session = sessions.get_open_session(db.session(), get_jwt()["sid"])
    if member_session is None:
        abort(401, description="The session has ended; log in again.")
    return access.member_tokens(member_session, refresh=False)


@blp.route("/logout", methods=["POST"])
@blp.doc(description="Send the access or the refresh token; both stop working.")
@blp.response(204)
def logout() -> None:
    """End a member's login session."""
    verify_jwt_in_request(verify_type=False)
    session_id = get_jwt().get("sid")
    if session_id is None:
        abort(400, description="Only member sessions can be logged out; client tokens simply expire.")
    sessions.revoke_session(db.session(), session_id, now=now())
