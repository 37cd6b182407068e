"""The query of a warehouse export."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import MAX_ID, plausible_instant


class ExportQuerySchema(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "jsonl")))
    after_id = fields.Integer(
        load_default=0, validate=validate.Range(0, MAX_ID), metadata={"description": "The last id already loaded"}
    )
    updated_since = fields.AwareDateTime(
        validate=plausible_instant, metadata={"description": "Members only: changed at or after this instant"}
    )
