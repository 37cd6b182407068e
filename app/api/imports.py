"""Imports through the admin API: a file posted as the request body, imported by a worker."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from app import db
from app.api import Blueprint
from app.auth.access import require
from app.clock import now
from app.schemas.imports import ImportJobSchema, ImportQuerySchema
from loyalty.errors import InvalidOperation, NotFound
from loyalty.imports.models import ImportJob
from loyalty.imports.runner import get_job, queue_job

blp = Blueprint("imports", __name__, url_prefix="/api/v1", description="Bulk imports of members, purchases, adjustments")


@blp.route("/admin/imports", methods=["POST"])
@require("admin")
@blp.arguments(ImportQuerySchema, location="query")
@blp.response(202, ImportJobSchema)
def post_import(query: dict[str, Any]) -> ImportJob:
    """Queue the request body (a CSV with its header row, or JSON lines) for import by the next worker
    pass; follow it with ``GET /admin/imports/{id}``."""
    request.max_content_length = current_app.config["LOYALTY_IMPORT_MAX_BYTES"]
    content = request.get_data(cache=False)
    if not content.strip():
        raise InvalidOperation("the body is the file to import, and it is empty", field="body")
    return queue_job(
        db.session(), kind=query["kind"], fmt=query["format"], content=content,
        history_before=query.get("history_before") or now(), now=now(),
    )  # fmt: skip


@blp.route("/admin/imports/<id:import_id>", methods=["GET"])
@require("admin")
@blp.response(200, ImportJobSchema)
def import_status(import_id: int) -> ImportJob:
    """An import's progress and, once done, its figures and its bad rows (line, column, reason)."""
    job = get_job(db.session(), import_id)
    if job is None:
        raise NotFound(f"import {import_id} does not exist", field="import_id")
    return job
