"""Postal mail: the batch of letters for the brand's mailing house."""

from __future__ import annotations

from flask import Response

from app import db
from app.api import Blueprint
from app.auth.access import require
from app.clock import now
from notifications.postal.export import export_letters

blp = Blueprint("postal", __name__, url_prefix="/api/v1", description="Postal mail, exported for the mailing house")


@blp.route("/admin/postal-batches", methods=["POST"])
@require("admin")
@blp.response(200, description="application/zip: letters.csv (addresses and merge fields) and one PDF per letter")
def create_postal_batch() -> Response:
    """The letters waiting to be posted, as a ZIP; they are marked sent (a second batch never repeats one)."""
    at = now()
    batch = export_letters(db.session(), now=at)
    return Response(
        batch.zip(), mimetype="application/zip",
        headers={"Content-Disposition": f"attachment; filename=postal-{at:%Y%m%dT%H%M%S}.zip"},
    )  # fmt: skip
