"""Scenarios: the list with their headline KPIs, a scenario drawn as a flow, its definition's editor,
versions and their diff, activate and pause, the template preview, and the KPI page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import db
from app.backoffice import bp
from app.backoffice.charts import bar_chart, line_chart
from app.backoffice.flowchart import flow_chart
from app.backoffice.schema_forms import Submission, apply, inputs_of, submit, values_of
from app.backoffice.security import requires
from app.clock import now
from app.schemas.scenarios import ScenarioSchema, ScenarioUpdateSchema
from loyalty.members.models import Member
from loyalty.members.search import search_query
from notifications.messages import kpis
from notifications.scenarios import operations as scenarios
from notifications.scenarios.editing import definition_text, diff_definitions, line_of
from notifications.scenarios.flow import scenario_flow
from notifications.scenarios.preview import journey_context, preview_template

PERIODS = (7, 30, 90)
FUNNEL = ("entered", "sent", "delivered", "opened", "clicked", "converted")


@bp.route("/scenarios")
@requires("scenarios.read")
def scenario_list() -> str:
    """Every scenario, its state and its headline figures."""
    return render_template("backoffice/scenarios/list.html", lines=kpis.kpi_summary(db.session()))


@bp.route("/scenarios/<key>")
@requires("scenarios.read")
def scenario(key: str) -> str:
    """What the scenario does, drawn as a flow, with its state and its figures."""
    session = db.session()
    found = scenarios.get_scenario(session, key)
    definition = scenarios.parse(found.definition)
    return render_template(
        "backoffice/scenarios/show.html", scenario=found, chart=flow_chart(scenario_flow(definition)),
        definition=definition, figures=kpis.scenario_kpis(session, key),
    )  # fmt: skip


@bp.route("/scenarios/new")
@requires("scenarios.write")
def new_scenario() -> str:
    """The form creating a scenario (a draft unless activated)."""
    return _editor(None, Submission({}, {"definition": "trigger:\n  event: MemberEnrolled\nsteps:\n  - id: hello\n    send: welcome\n"}, {}))


@bp.route("/scenarios/new", methods=["POST"])
@requires("scenarios.write")
def create_scenario() -> Response | tuple[str, int]:
    """Create a scenario: its definition is version 1."""
    submission = submit(ScenarioSchema(), request.form)
    if apply(submission, ScenarioSchema(), lambda data: scenarios.create_scenario(db.session(), data, now=now())):
        flash(f"Scenario {submission.data['key']} was created.")
        return redirect(url_for("backoffice.scenario", key=submission.data["key"]))
    return _editor(None, submission), 422


@bp.route("/scenarios/<key>/edit")
@requires("scenarios.write")
def edit_scenario(key: str) -> str:
    """The scenario's name, description and definition, in YAML."""
    found = scenarios.get_scenario(db.session(), key)
    values = values_of(ScenarioUpdateSchema(), ScenarioSchema().dump(found))
    return _editor(key, Submission({}, {**values, "definition": definition_text(found.definition)}, {}))


@bp.route("/scenarios/<key>/edit", methods=["POST"])
@requires("scenarios.write")
def update_scenario(key: str) -> Response | tuple[str, int]:
    """Save the scenario; a changed definition becomes a new version, journeys in progress keep theirs.
    A faulty definition is shown with its error at its path (``definition.steps[2].then``)."""
    scenarios.get_scenario(db.session(), key)
    schema = ScenarioUpdateSchema()
    submission = submit(schema, request.form, partial=True)
    if apply(submission, schema, lambda data: scenarios.update_scenario(db.session(), key, data, now=now())):
        flash("The scenario was saved.")
        return redirect(url_for("backoffice.scenario", key=key))
    return _editor(key, submission), 422


@bp.route("/scenarios/<key>/activate", methods=["POST"])
@requires("scenarios.write")
def activate_scenario(key: str) -> Response:
    """Let members enter the scenario."""
    scenarios.set_status(db.session(), key, "active", now=now())
    flash("The scenario is active: its trigger enters members from now on.")
    return redirect(url_for("backoffice.scenario", key=key))


@bp.route("/scenarios/<key>/pause", methods=["POST"])
@requires("scenarios.write")
def pause_scenario(key: str) -> Response:
    """Let nobody enter the scenario any more; journeys in progress go on."""
    scenarios.set_status(db.session(), key, "paused", now=now())
    flash("The scenario is paused: nobody enters it; journeys in progress go on.")
    return redirect(url_for("backoffice.scenario", key=key))


@bp.route("/scenarios/<key>/versions")
@requires("scenarios.read")
def scenario_versions(key: str) -> str:
    """Every version, and the diff between two of them (by default the latest against the one before)."""
    session = db.session()
    found = scenarios.get_scenario(session, key)
    versions = scenarios.scenario_versions(session, key)
    by_number = {version.version: version for version in versions}
    newer = by_number.get(_int(request.args.get("to")) or found.version, versions[0])
    older = by_number.get(_int(request.args.get("from")) or newer.version - 1)
    diff = diff_definitions(older.definition, newer.definition) if older else []
    return render_template(
        "backoffice/scenarios/versions.html", scenario=found, versions=versions, older=older, newer=newer, diff=diff
    )


@bp.route("/scenarios/<key>/preview")
@requires("scenarios.read")
def preview(key: str) -> str:
    """A template of the scenario rendered for a member (found by card, email, id…) on every channel."""
    session = db.session()
    found = scenarios.get_scenario(session, key)
    templates = sorted(scenarios.parse(found.definition).templates)
    template = request.args.get("template") or (templates[0] if templates else "")
    text = request.args.get("member", "").strip()
    member, previews, context, error = None, [], {}, None
    if text:
        member = _member(session, text)
        if member is None:
            error = "No member matches: give a card number, an email, a member id or a full name."
        elif template not in templates:
            error = "Choose one of the scenario's templates."
        else:
            context = journey_context(session, found, member.id)
            previews = preview_template(
                session, _runtime(), template, member, context=context, is_marketing=found.is_marketing
            )
    return render_template(
        "backoffice/scenarios/preview.html", scenario=found, templates=templates, template=template, text=text,
        member=member, previews=previews, context=context, error=error,
    )  # fmt: skip


@bp.route("/scenarios/<key>/preview/email")
@requires("scenarios.read")
def preview_email(key: str) -> Response:
    """The previewed email's HTML document alone, for the preview page's sandboxed frame: its own
    styles may apply, nothing else (no script, no request out, framed by this site only)."""
    session = db.session()
    found = scenarios.get_scenario(session, key)
    member = session.get(Member, _int(request.args.get("member")) or 0)
    template = request.args.get("template", "")
    if member is None or template not in scenarios.parse(found.definition).templates:
        abort(404)
    context = journey_context(session, found, member.id)
    email = preview_template(session, _runtime(), template, member, context=context, is_marketing=found.is_marketing)[0]
    if email.rendered is None or email.rendered.html is None:
        abort(404)
    response = Response(email.rendered.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/scenarios/<key>/kpis")
@requires("scenarios.read")
def scenario_kpis(key: str) -> str:
    """The funnel, revenue and conversion over the last days, per variant, and each group's lift over
    the holdout with its confidence interval."""
    session = db.session()
    found = scenarios.get_scenario(session, key)
    days = _int(request.args.get("days"))
    days = days if days in PERIODS else 30
    until = now().date()
    since = until - timedelta(days=days - 1)
    figures = kpis.scenario_kpis(session, key)
    timeline = kpis.scenario_timeline(session, key, since=since, until=until)
    labels = [f"{day:%d %b}" for day in timeline.days]
    treated = [timeline.treatment[day] for day in timeline.days]
    charts = {
        "funnel": bar_chart(
            "Since the start: journeys entered, messages sent, delivered, opened, clicked, journeys converted",
            [(stage, figures[stage]) for stage in FUNNEL],
        ),
        "over_time": line_chart(
            f"Funnel by day of entry, last {days} days", labels,
            [(stage, [getattr(group, stage) for group in treated]) for stage in FUNNEL],
        ),
        "revenue": line_chart(
            f"Revenue converted by day of entry, last {days} days", labels,
            [("Revenue", [float(group.revenue) for group in treated])],
        ),
        "conversion": line_chart(
            f"Conversion rate, %, of the journeys entered since {since:%d %b}: each variant and the holdout", labels,
            [(str(variant or "treatment"), _running_rate(list(by_day.values())))
             for variant, by_day in sorted(timeline.variants.items(), key=lambda item: item[0] or "")]
            + [("holdout", _running_rate(list(timeline.holdout.values())))],
        ),
    }  # fmt: skip
    return render_template(
        "backoffice/scenarios/kpis.html", scenario=found, figures=figures, comparisons=kpis.comparisons(figures),
        charts=charts, days=days, periods=PERIODS, since=since, until=until,
    )  # fmt: skip


def _editor(key: str | None, submission: Submission) -> str:
    schema = ScenarioSchema() if key is None else ScenarioUpdateSchema()
    error = submission.errors.get("definition", "")
    path = error.split(":", 1)[0] if error.startswith("definition") else ""
    line = line_of(str(submission.values.get("definition", "")), path) if path else None
    return render_template(
        "backoffice/scenarios/edit.html", key=key, inputs=[i for i in inputs_of(schema) if i.name != "definition"],
        form=submission, error_line=line,
        action=url_for("backoffice.create_scenario") if key is None else url_for("backoffice.update_scenario", key=key),
    )  # fmt: skip


def _member(session: Any, text: str) -> Member | None:
    if text.isdigit() and len(text) < 12:
        member = session.get(Member, int(text))
        if member is not None:
            return member
    found = list(session.scalars(search_query(text).limit(2)))
    return found[0] if len(found) == 1 else None


def _runtime() -> Any:
    return current_app.extensions["loyalty.runtime"]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _running_rate(days: list[kpis.Group]) -> list[float]:
    """Day by day, the conversion rate (%) of the journeys entered up to that day: a day without
    entries keeps the rate it had, instead of falling to zero."""
    rates, entered, converted = [], 0, 0
    for group in days:
        entered, converted = entered + group.entered, converted + group.converted
        rates.append(round(100 * converted / entered, 1) if entered else 0.0)
    return rates



@bp.app_template_filter("percent")
def _percent_filter(value: float | None) -> str:
    """A rate (0.123) as ``12.3 %``."""
    return "—" if value is None else f"{value * 100:.1f} %"


@bp.app_template_filter("points")
def _points_filter(value: float | None) -> str:
    """A difference of rates (0.031) in percentage points: ``+3.1 points``."""
    return "—" if value is None else f"{value * 100:+.1f} points"
