"""Import jobs: the query that comes with a posted file, and the job's progress and report."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import plausible_instant
from loyalty.imports.models import FORMATS, KINDS


class ImportQuerySchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))
    history_before = fields.AwareDateTime(
        validate=plausible_instant,
        metadata={"description": "Purchases before this instant fire no scenario (default: when posted)"},
    )


class ImportErrorSchema(Schema):
    line = fields.Integer(metadata={"description": "As in the file: a CSV's header is line 1"})
    column = fields.String(allow_none=True)
    reason = fields.String()


class ImportJobSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    format = fields.String()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    rows = fields.Integer(metadata={"description": "Rows read so far"})
    imported = fields.Integer()
    skipped = fields.Integer(metadata={"description": "Imported before (same natural key or ref): unchanged"})
    failed = fields.Integer()
    errors = fields.List(fields.Nested(ImportErrorSchema), metadata={"description": "The first 1000 bad rows"})
    failure = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
