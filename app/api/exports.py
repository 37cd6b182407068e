"""Exports for the data warehouse: members, ledger entries, purchases, messages and KPIs, streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response
from sqlalchemy.orm import Session

from app.api import Blueprint
from app.auth.access import require
from app.schemas.exports import ExportQuerySchema
from app.streaming import streamed
from loyalty.errors import NotFound
from notifications.exports import warehouse

blp = Blueprint("exports", __name__, url_prefix="/api/v1", description="Exports for the data warehouse")

MIMETYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson"}


@blp.route("/admin/exports/<dataset>", methods=["GET"])
@require("admin")
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, description="The dataset as CSV or JSON lines, streamed")
def export_dataset(query: dict[str, Any], dataset: str) -> Response:
    """``members``, ``ledger``, ``purchases``, ``messages`` or ``kpis``, by id: ``after_id`` (the last id
    already loaded) and, for members, ``updated_since`` make it incremental."""
    if dataset not in warehouse.NAMES:
        raise NotFound(f"no dataset is called {dataset!r}: {', '.join(warehouse.NAMES)}", field="dataset")
    fmt = query["format"]

    def lines(session: Session) -> Iterator[str]:
        yield from warehouse.stream(
            session, dataset, fmt=fmt, after_id=query["after_id"], updated_since=query.get("updated_since")
        )

    return streamed(lines, mimetype=MIMETYPES[fmt], filename=f"{dataset}.{fmt}")
