"""Program configuration: a page per configurable object, through the admin API's own schemas and the
domain's own operations (:mod:`app.backoffice.configuration`). An invalid form answers 422 with each
error beside its field and the input kept; the request's transaction rolls back, so nothing changed."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import db
from app.backoffice import bp
from app.backoffice.configuration import COLLECTIONS, SETTINGS, Collection, Setting, collection, setting
from app.backoffice.schema_forms import Submission, apply, inputs_of, submit, values_of
from app.backoffice.security import requires
from loyalty.errors import DomainError, NotFound

Page = str | tuple[str, int]


@bp.route("/program")
@requires("program.read")
def program() -> str:
    """Every configurable object, with how many there are."""
    session = db.session()
    counts = {item.slug: len(item.list(session)) for item in COLLECTIONS}
    return render_template("backoffice/program/index.html", settings=SETTINGS, collections=COLLECTIONS, counts=counts)


@bp.route("/program/<slug>")
@requires("program.read")
def program_page(slug: str) -> Page:
    """A setting's form, or a collection's list."""
    found = _setting_or_collection(slug)
    session = db.session()
    if isinstance(found, Setting):
        document = found.read(session)
        values = values_of(found.schema, found.schema.dump(document)) if document is not None else {}
        return _setting_form(found, Submission({}, values, {}))
    items = found.list(session)
    rows = [(found.key_of(item), found.schema.dump(item)) for item in items]
    return render_template("backoffice/program/list.html", collection=found, rows=rows)


@bp.route("/program/<slug>", methods=["POST"])
@requires("program.write")
def save_setting(slug: str) -> Response | Page:
    """Save a setting whole, as the API's PUT (or PATCH, for the program's settings) would."""
    found = _setting_or_collection(slug)
    if not isinstance(found, Setting):
        abort(405)
    submission = submit(found.schema, request.form, partial=found.slug == "program")
    if apply(submission, found.schema, lambda data: found.save(db.session(), data)):
        flash(f"{found.title} saved.")
        return redirect(url_for("backoffice.program_page", slug=slug))
    return _setting_form(found, submission), 422


@bp.route("/program/<slug>/new")
@requires("program.write")
def new_item(slug: str) -> str:
    """The form creating an item of a collection."""
    found = _collection(slug)
    active = {"is_active": True} if "is_active" in found.schema.fields else {}
    return _item_form(found, None, Submission({}, active, {}))


@bp.route("/program/<slug>/new", methods=["POST"])
@requires("program.write")
def create_item(slug: str) -> Response | Page:
    """Create an item of a collection, as the API's POST would."""
    found = _collection(slug)
    submission = submit(found.schema, request.form)
    if apply(submission, found.schema, lambda data: found.create(db.session(), data)):
        flash(f"{found.noun.capitalize()} was created.")
        return redirect(url_for("backoffice.program_page", slug=slug))
    return _item_form(found, None, submission), 422


@bp.route("/program/<slug>/<key>")
@requires("program.read")
def show_item(slug: str, key: str) -> str:
    """An item of a collection, in the form that changes it."""
    found = _collection(slug)
    document = found.schema.dump(_item(found, key))
    return _item_form(found, key, Submission({}, values_of(found.update_schema, document), {}))


@bp.route("/program/<slug>/<key>", methods=["POST"])
@requires("program.write")
def update_item(slug: str, key: str) -> Response | Page:
    """Change an item, as the API's PATCH would; a field left empty is cleared when it may be."""
    found = _collection(slug)
    _item(found, key)
    submission = submit(found.update_schema, request.form, partial=True)
    if apply(submission, found.update_schema, lambda data: found.update(db.session(), key, data)):
        flash(f"{found.noun.capitalize()} was saved.")
        return redirect(url_for("backoffice.program_page", slug=slug))
    return _item_form(found, key, submission), 422


@bp.route("/program/<slug>/<key>/delete", methods=["POST"])
@requires("program.write")
def delete_item(slug: str, key: str) -> Response | Page:
    """Remove an item, when the collection allows it and nothing depends on it (409 otherwise)."""
    found = _collection(slug)
    if found.delete is None:
        abort(405)
    try:
        found.delete(db.session(), key)
    except NotFound:
        abort(404)
    except DomainError as error:
        document = found.schema.dump(_item(found, key))
        submission = Submission({}, values_of(found.update_schema, document), {"form": error.detail.capitalize()})
        return _item_form(found, key, submission), 409
    flash(f"{found.noun.capitalize()} {key} was removed.")
    return redirect(url_for("backoffice.program_page", slug=slug))


def _setting_or_collection(slug: str) -> Setting | Collection:
    found = setting(slug) or collection(slug)
    if found is None:
        abort(404)
    return found


def _collection(slug: str) -> Collection:
    found = collection(slug)
    if found is None:
        abort(404)
    return found


def _item(found: Collection, key: str) -> Any:
    item = next((item for item in found.list(db.session()) if found.key_of(item) == key), None)
    if item is None:
        abort(404)
    return item


def _setting_form(found: Setting, submission: Submission) -> str:
    return render_template(
        "backoffice/program/form.html", title=found.title, summary=found.summary, inputs=inputs_of(found.schema),
        form=submission, action=url_for("backoffice.save_setting", slug=found.slug), back=None, delete=None,
    )  # fmt: skip


def _item_form(found: Collection, key: str | None, submission: Submission) -> str:
    schema = found.schema if key is None else found.update_schema
    title = f"New {found.noun.removeprefix('a ').removeprefix('an ')}" if key is None else f"{found.title}: {key}"
    action = (
        url_for("backoffice.new_item", slug=found.slug)
        if key is None
        else url_for("backoffice.update_item", slug=found.slug, key=key)
    )
    delete = url_for("backoffice.delete_item", slug=found.slug, key=key) if key and found.delete else None
    return render_template(
        "backoffice/program/form.html", title=title, summary=found.summary, inputs=inputs_of(schema), form=submission,
        action=action, back=(found.title, url_for("backoffice.program_page", slug=found.slug)), delete=delete,
    )  # fmt: skip
