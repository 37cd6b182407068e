"""Data-subject requests: a member's export and the record of an erasure."""

from __future__ import annotations

from marshmallow import Schema, fields


class MemberExportSchema(Schema):
    member = fields.Dict(metadata={"description": "The member's row"})
    records = fields.Dict(metadata={"description": "By table name, every row that refers to the member"})


class ErasureSchema(Schema):
    member_id = fields.Integer()
    actor = fields.String()
    erased_at = fields.AwareDateTime()
