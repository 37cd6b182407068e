"""Segments: named audiences defined as data; their count, their members a page at a time, a CSV."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response
from sqlalchemy.orm import Session

from app import db
from app.api import Blueprint
from app.auth.access import current_principal, require
from app.clock import now
from app.streaming import streamed
from app.schemas.segments import (
    AwardCampaignSchema,
    SegmentCountSchema,
    SegmentPageQuerySchema,
    SegmentPageSchema,
    SegmentSchema,
    SegmentUpdateSchema,
)
from loyalty.segments import operations as segments
from loyalty.serialize import csv_line
from loyalty.segments.campaigns import award_segment
from loyalty.segments.models import Segment

blp = Blueprint("segments", __name__, url_prefix="/api/v1", description="Segments: audiences defined as data")


@blp.route("/admin/segments", methods=["GET"])
@require("admin")
@blp.response(200, SegmentSchema(many=True))
def list_segments() -> list[Segment]:
    """Every segment with its definition."""
    return segments.list_segments(db.session())


@blp.route("/admin/segments", methods=["POST"])
@require("admin")
@blp.arguments(SegmentSchema)
@blp.response(201, SegmentSchema)
def create_segment(body: dict[str, Any]) -> Segment:
    """Define a segment; a faulty definition is a 422 naming the failing part."""
    return segments.save_segment(db.session(), body, now=now())


@blp.route("/admin/segments/<key>", methods=["GET"])
@require("admin")
@blp.response(200, SegmentSchema)
def get_segment(key: str) -> Segment:
    return segments.get_segment(db.session(), key)


@blp.route("/admin/segments/<key>", methods=["PATCH"])
@require("admin")
@blp.arguments(SegmentUpdateSchema)
@blp.response(200, SegmentSchema)
def update_segment(changes: dict[str, Any], key: str) -> Segment:
    """Rename a segment or change its definition."""
    return segments.save_segment(db.session(), changes, now=now(), key=key)


@blp.route("/admin/segments/<key>/count", methods=["GET"])
@require("admin")
@blp.response(200, SegmentCountSchema)
def count_segment_members(key: str) -> dict[str, int]:
    """How many members the segment holds now (one SQL query)."""
    session = db.session()
    return {"count": segments.count_members(session, segments.get_segment(session, key).definition, now=now())}


@blp.route("/admin/segments/<key>/members", methods=["GET"])
@require("admin")
@blp.arguments(SegmentPageQuerySchema, location="query")
@blp.response(200, SegmentPageSchema)
def segment_members(query: dict[str, int], key: str) -> dict[str, Any]:
    """The segment's members by id, a page at a time (``after_id`` of the page before)."""
    session = db.session()
    page = segments.member_page(
        session, segments.get_segment(session, key).definition, now=now(), after_id=query["after_id"], limit=query["limit"]
    )
    return {"members": page, "next_after_id": page[-1].id if len(page) == query["limit"] else None}


@blp.route("/admin/segments/<key>/awards", methods=["POST"])
@require("admin")
@blp.arguments(AwardCampaignSchema)
@blp.response(201, AwardCampaignSchema)
@blp.alt_response(200, schema=AwardCampaignSchema, description="The same campaign ref again: the original answer")
def award_segment_campaign(body: dict[str, Any], key: str) -> Any:
    """Credit the same points to every member of the segment, once per campaign ``ref``."""
    campaign, created = award_segment(
        db.session(), segment_key=key, now=now(), actor=current_principal().subject, **body
    )
    return campaign, 201 if created else 200


@blp.route("/admin/segments/<key>/members.csv", methods=["GET"])
@require("admin")
@blp.response(200, description="text/csv, one member a line, streamed")
def export_segment_members(key: str) -> Response:
    """Every member of the segment as CSV, streamed a thousand rows at a time (constant memory)."""
    definition = segments.get_segment(db.session(), key).definition
    at = now()
    columns = [column.key for column in segments.MEMBER_COLUMNS]

    def lines(session: Session) -> Iterator[str]:
        yield csv_line(columns)
        for row in segments.iter_members(session, definition, now=at):
            yield csv_line(list(row))

    return streamed(lines, mimetype="text/csv", filename=f"{key}.csv")
