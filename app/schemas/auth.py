"""Token requests and answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import Identifier
from loyalty import identifiers


class ClientTokenRequestSchema(Schema):
    client_id = fields.String(required=True, validate=Identifier(identifiers.CLIENT_ID))
    client_secret = fields.String(required=True, validate=validate.Length(1, 200), load_only=True)


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "Lifetime of the access token, in seconds"})


class LoginRequestSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(1, 128), load_only=True)


class MemberTokensSchema(TokenSchema):
    refresh_token = fields.String()
