"""Program configuration, scenarios, messages and cards in headless Chromium: an invalid reward, a
broken scenario definition, a scenario's KPIs drawn, and what analysts and support may not do."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import func, select

from loyalty.db import session_scope
from loyalty.tiers.operations import queue_card
from notifications.runtime import Runtime
from notifications.messages.models import Message
from notifications.scenarios.models import Scenario
from rewards.catalog.models import Reward
from tests.api.scenario_engine import account_link, add_scenario, make_runtime, message_world, pixel, run_due
from tests.browser.test_back_office import log_in

#: Two variants and a holdout, a branch on the open: something to draw and to measure.
STEPS = [
    {"id": "hello", "send": "note"},
    {"id": "opened", "branch": "opened", "of": "hello", "within": "2d", "then": "thanks", "else": "reminder"},
    {"id": "reminder", "send": "note", "channels": ["sms", "email"]},
    {"id": "thanks", "grant": {"bonus_points": 50, "within_days": 7}},
]
DEFINITION = {
    "holdout_percent": 20,
    "goal": {"event": "purchase", "within_days": 7},
    "variants": [{"key": "early", "params": {}}, {"key": "late", "params": {}}],
}


@pytest.fixture
def runtime(app: Flask, tmp_path: Path) -> Runtime:
    return make_runtime(app, tmp_path)


@pytest.fixture
def promo(app, client, admin, make_member, make_purchase, runtime, clock, sessions) -> str:  # type: ignore[no-untyped-def]
    """A scenario members entered over ten days: some opened its email, clicked, bought."""
    add_scenario(client, admin, "promo", STEPS, **DEFINITION)
    for day in range(10):
        members = [make_member()["id"] for _ in range(3 + day % 4)]
        run_due(app, runtime, clock)
        with session_scope(sessions) as session:
            sent = list(session.scalars(select(Message).where(Message.member_id.in_(members), Message.channel == "email")))
            session.expunge_all()
        for index, message in enumerate(sent):
            if index % 2 == 0:
                client.get(pixel(message))
            if index % 3 == 0:
                client.get(account_link(message))
        clock.advance(timedelta(hours=2))
        for index, member_id in enumerate(members):
            if (index + day) % 3 == 0:
                make_purchase(member_id=member_id, occurred_at=clock.now().isoformat(), total=str(20 + 5 * index), lines=[])
        run_due(app, runtime, clock)
        clock.advance(timedelta(hours=22))
    return "promo"


def count_rewards(sessions) -> int:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        return session.scalar(select(func.count()).select_from(Reward)) or 0


def test_an_invalid_reward_shows_the_error_beside_the_field_and_creates_nothing(page, make_staff, sessions) -> None:
    before = count_rewards(sessions)
    log_in(page, make_staff("marketer"))
    page.get_by_role("link", name="Program").click()
    expect(page.get_by_role("heading", name="Program")).to_be_visible()
    page.shots.take("program")
    page.get_by_role("link", name="Rewards").click()
    page.shots.take("rewards")
    page.get_by_role("link", name="Add reward").click()
    page.get_by_label("Code", exact=True).fill("WINTER10")
    page.get_by_label("Name", exact=True).fill("10 € winter voucher")
    page.get_by_label("Kind", exact=True).select_option("fixed_voucher")
    page.get_by_label("Amount").fill("10.00")
    page.get_by_label("Cost points").fill("a hundred")
    page.get_by_label("Validity days").fill("0")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.locator("#field-cost_points-error")).to_contain_text("Not a valid integer.")
    expect(page.locator("#field-validity_days-error")).to_contain_text("greater than or equal to 1")
    expect(page.locator("#field-code-error")).to_have_count(0)
    expect(page.get_by_label("Cost points")).to_have_value("a hundred")
    expect(page.get_by_label("Code", exact=True)).to_have_value("WINTER10")
    page.shots.take("reward-errors")
    assert count_rewards(sessions) == before

    page.get_by_role("link", name="Cost points: Not a valid integer.").click()  # the summary leads to the field
    expect(page.get_by_label("Cost points")).to_be_focused()
    page.get_by_label("Cost points").fill("150")
    page.get_by_label("Validity days").fill("60")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("A reward was created.")
    expect(page.get_by_role("link", name="WINTER10")).to_be_visible()
    page.shots.take("reward-created")
    assert count_rewards(sessions) == before + 1


def test_a_broken_definition_shows_its_error_at_its_path(page, make_staff, promo, sessions) -> None:
    log_in(page, make_staff("marketer"))
    page.get_by_role("link", name="Scenarios").click()
    page.shots.take("scenarios")
    page.get_by_role("link", name="Promo").click()
    expect(page.locator("#flow svg")).to_be_visible()
    expect(page.locator("#flow [data-kind=branch]")).to_have_count(1)
    page.shots.take("scenario-flow")
    page.get_by_role("link", name="Edit").click()
    editor = page.get_by_label("Definition")
    editor.fill(editor.input_value().replace("then: thanks", "then: thank_you"))
    page.get_by_role("button", name="Save").click()

    error = page.locator("#field-definition-error")
    expect(error).to_contain_text("definition.steps[1].then")
    expect(error).to_contain_text("No step has the id 'thank_you'")
    expect(error).to_contain_text("(line ")
    expect(page.get_by_label("Definition")).to_contain_text("then: thank_you")
    page.shots.take("scenario-definition-error")
    with session_scope(sessions) as session:
        assert session.scalar(select(Scenario.version).where(Scenario.key == promo)) == 1

    editor = page.get_by_label("Definition")
    editor.fill(editor.input_value().replace("then: thank_you", "then: thanks").replace("within: 2d", "within: 3d"))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("The scenario was saved.")
    page.get_by_role("link", name="Versions").click()
    expect(page.locator(".diff-added")).to_contain_text("within: 3d")
    page.shots.take("scenario-versions")


def test_the_kpi_page_draws_the_funnel_and_answers_whether_a_variant_does_better(page, make_staff, promo) -> None:
    log_in(page, make_staff("analyst"))
    page.get_by_role("link", name="Scenarios").click()
    page.get_by_role("link", name="Promo").click()
    page.get_by_role("link", name="KPIs").click()

    expect(page.get_by_role("heading", name="Is it working?")).to_be_visible()
    expect(page.locator("#chart-funnel svg rect.bar")).to_have_count(6)
    expect(page.locator("#chart-over-time svg polyline")).to_have_count(6)
    expect(page.locator("#chart-conversion svg polyline")).to_have_count(3)
    expect(page.locator(".verdict")).to_have_count(4)
    expect(page.locator(".verdict").last).to_contain_text("Variant late against variant early")
    box = page.locator("#chart-funnel svg").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    page.shots.take("scenario-kpis")
    page.get_by_role("link", name="7 days").click()
    expect(page.locator("#chart-over-time figcaption")).to_contain_text("last 7 days")


def test_the_template_preview_shows_each_channel(page, make_staff, promo, make_member) -> None:
    member = make_member(first_name="Aline")
    log_in(page, make_staff("marketer"))
    page.goto(f"/admin/scenarios/{promo}/preview")
    page.get_by_label("Member", exact=True).fill(member["email"])
    page.get_by_role("button", name="Preview").click()

    for channel in ("Email", "SMS", "Push", "In-app"):
        expect(page.get_by_role("heading", name=channel, exact=True)).to_be_visible()
    frame = page.frame_locator("iframe.email-frame")
    expect(frame.locator("body")).to_contain_text("Hello Aline")
    page.shots.take("scenario-preview")


def test_an_analyst_can_change_nothing_on_the_configuration_and_scenario_pages(page, make_staff, promo) -> None:
    log_in(page, make_staff("analyst"))
    page.goto(f"/admin/scenarios/{promo}")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    page.shots.take("analyst-scenario")
    for path in (f"/admin/scenarios/{promo}/edit", "/admin/scenarios/new", "/admin/program", "/admin/program/rewards/new",
                 "/admin/blackouts", "/admin/cards"):  # fmt: skip
        assert page.goto(path).status == 403, path
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    # A change sent anyway, with the session's own CSRF token (from the logout form), is refused too.
    status = page.evaluate(
        """async (key) => {
            const body = new URLSearchParams({csrf_token: document.querySelector('input[name=csrf_token]').value});
            return (await fetch(`/admin/scenarios/${key}/pause`, {method: 'POST', body})).status;
        }""",
        promo,
    )
    assert status == 403


def test_support_cannot_reach_the_configuration(page, make_staff) -> None:
    log_in(page, make_staff("support"))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Program")).to_have_count(0)

    response = page.goto("/admin/program/rewards")

    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    page.shots.take("support-refused")


def test_operations_redrive_a_dead_letter_plan_a_blackout_and_print_cards(
    page, make_staff, make_member, app, sessions, clock, tmp_path
) -> None:
    member = make_member(first_name="Bruno")
    world = message_world(sessions, make_runtime(app, tmp_path), member["id"], now=clock.now())
    with session_scope(sessions) as session:
        queue_card(session, member["id"], "base", now=clock.now())
    log_in(page, make_staff("admin"))
    page.get_by_role("link", name="Messages").click()
    page.shots.take("delivery-log")
    page.get_by_role("link", name="Dead letters").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.shots.take("dead-letters")
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("status")).to_contain_text(f"Message {world['dead_message_id']} is queued again")
    expect(page.locator("tbody tr")).to_contain_text("No message matches")

    page.get_by_role("link", name="Blackout calendar").click()
    page.get_by_label("Name").fill("Boxing day")
    page.get_by_label("Starts at (UTC)").fill("2026-12-26T00:00")
    page.get_by_label("Ends at (UTC)").fill("2026-12-25T00:00")
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#field-ends_at-error")).to_contain_text("The end must come after the start")
    page.get_by_label("Ends at (UTC)").fill("2026-12-28T00:00")
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("td.blackout[title='Boxing day']")).to_have_count(2)
    expect(page.locator("td.blackout[title='Winter sale']")).to_have_count(11)  # 21 to 31 January
    page.shots.take("blackouts")

    page.get_by_role("link", name="Cards").click()
    expect(page.locator("tbody tr")).to_contain_text("Bruno")
    page.shots.take("cards")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export pending cards as CSV").click()
    assert "Bruno" in Path(download.value.path()).read_text()
    page.get_by_role("button", name="Mark printed").click()
    expect(page.get_by_role("status")).to_contain_text("is printed")



def test_the_scenario_and_configuration_pages_fit_a_tablet(page, make_staff, promo) -> None:
    page.set_viewport_size({"width": 820, "height": 1180})
    log_in(page, make_staff("admin"))
    for name, path in [("kpis", f"/admin/scenarios/{promo}/kpis"), ("flow", f"/admin/scenarios/{promo}"),
                       ("editor", f"/admin/scenarios/{promo}/edit"), ("templates", "/admin/program/templates/note"),
                       ("delivery-log", "/admin/messages"), ("blackouts", "/admin/blackouts")]:  # fmt: skip
        page.goto(path)
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 820"
            " && !e.closest('.table-wrap')).map(e => e.tagName + '.' + e.className)"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 820, (path, wide)
        page.shots.take(f"{name}-tablet")


def test_the_missing_translations_are_listed_per_language_with_a_link_to_their_form(page, make_staff, client, admin) -> None:
    added = client.patch("/api/v1/admin/program", json={"locales": ["fr", "en", "de"]}, headers=admin)
    assert added.status_code == 200, added.json
    log_in(page, make_staff("marketer"))
    page.get_by_role("link", name="Translations").click()
    expect(page.get_by_role("heading", name="Missing translations")).to_be_visible()
    page.shots.take("translations")
    expect(page.get_by_role("heading", name="en")).to_be_visible()
    german = page.get_by_role("table", name="Texts missing in de")
    expect(german.get_by_role("row").filter(has_text="subject, text, html, short")).not_to_have_count(0)
    expect(page.get_by_role("table", name="Texts missing in en")).to_contain_text("name")
    german.get_by_role("link", name="Translate the template welcome", exact=True).click()
    expect(page.get_by_role("heading", name="welcome")).to_be_visible()
    page.go_back()
    german.get_by_role("link", name="Translate the tier member").click()
    expect(page.get_by_role("heading", name="Tiers")).to_be_visible()
