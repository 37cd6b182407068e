"""Program configuration pages: forms through the API's schemas and the domain's operations, errors
beside their fields with nothing changed, every change in the audit log."""

from __future__ import annotations

import html as html_module
import re

import pytest
from sqlalchemy import select

from loyalty.audit import AuditEntry
from loyalty.db import session_scope
from loyalty.tiers.models import Tier
from notifications.scenarios.models import MessageTemplate
from rewards.catalog.models import Reward

REWARD = {
    "code": "WINTER10",
    "name": "10 € winter voucher",
    "kind": "fixed_voucher",
    "amount": "10.00",
    "cost_points": "150",
    "validity_days": "60",
    "is_active": "1",
}


def error_beside(html: str, field: str) -> str:
    """The error message shown with the input ``field``, or "" when there is none."""
    match = re.search(rf'<p class="error-message" id="field-{field}-error">(.*?)</p>', html, re.S)
    if match is None:
        return ""
    text = html_module.unescape(re.sub(r"<[^>]+>", "", match.group(1)))
    return " ".join(text.split()).removeprefix("Error:").strip()


def rewards(sessions) -> dict[str, Reward]:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        found = {reward.code: reward for reward in session.scalars(select(Reward))}
        session.expunge_all()
    return found


def audit_entries(sessions, entity: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        found = list(session.scalars(select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)))
        session.expunge_all()
    return found


def test_an_invalid_reward_shows_each_error_beside_its_field_keeps_the_input_and_creates_nothing(
    staff_client, sessions
) -> None:
    marketer = staff_client("marketer")
    before = rewards(sessions)

    response = marketer.post("/admin/program/rewards/new", data={**REWARD, "cost_points": "-5", "name": ""})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_beside(html, "cost_points") == "Must be greater than or equal to 0 and less than or equal to 10000000."
    assert error_beside(html, "name") == "Enter the name"
    assert error_beside(html, "code") == ""
    assert 'href="#field-cost_points"' in html  # the summary links to the field
    assert 'value="-5"' in html and 'value="WINTER10"' in html
    assert rewards(sessions) == before
    assert audit_entries(sessions, "rewards") == []


def test_a_reward_the_domain_refuses_shows_its_error_beside_the_field(staff_client, sessions) -> None:
    marketer = staff_client("marketer")
    assert marketer.post("/admin/program/rewards/new", data=REWARD).status_code == 302

    response = marketer.post("/admin/program/rewards/new", data={**REWARD, "name": "Another"})

    assert response.status_code == 422
    assert "already" in error_beside(response.get_data(as_text=True), "code")


def test_a_valid_reward_is_created_and_audited_with_its_values(staff_client, sessions) -> None:
    marketer = staff_client("marketer")

    response = marketer.post("/admin/program/rewards/new", data=REWARD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/program/rewards"
    created = rewards(sessions)["WINTER10"]
    assert (created.cost_points, created.amount, created.validity_days) == (150, 10, 60)
    (entry,) = audit_entries(sessions, "rewards")
    assert (entry.actor, entry.action, entry.before) == ("staff:marketer@brand.example", "create", None)
    assert entry.after is not None and entry.after["cost_points"] == 150
    assert "10 € winter voucher" in marketer.get("/admin/program/rewards").get_data(as_text=True)


def test_an_edit_changes_only_what_was_changed_and_the_audit_says_before_and_after(staff_client, sessions) -> None:
    marketer = staff_client("marketer")
    marketer.post("/admin/program/rewards/new", data=REWARD)
    form = marketer.get("/admin/program/rewards/WINTER10").get_data(as_text=True)
    assert 'value="150"' in form

    response = marketer.post("/admin/program/rewards/WINTER10", data={**REWARD, "cost_points": "200"})

    assert response.status_code == 302
    assert rewards(sessions)["WINTER10"].cost_points == 200
    update = audit_entries(sessions, "rewards")[-1]
    assert (update.action, update.before, update.after) == ("update", {"cost_points": 150}, {"cost_points": 200})


def test_the_tier_ladder_is_edited_as_yaml_and_a_rule_of_the_ladder_is_shown_where_it_breaks(
    staff_client, sessions
) -> None:
    marketer = staff_client("marketer")
    page = marketer.get("/admin/program/tiers").get_data(as_text=True)
    assert "- code:" in page

    broken = "- {code: base, name: Base, rank: 0, threshold: 10}\n"
    response = marketer.post("/admin/program/tiers", data={"tiers": broken})

    assert response.status_code == 422
    message = error_beside(response.get_data(as_text=True), "tiers")
    assert message.startswith("tiers[0].threshold:"), message
    with session_scope(sessions) as session:
        assert session.scalar(select(Tier.threshold).order_by(Tier.rank).limit(1)) == 0


@pytest.mark.parametrize(
    ("slug", "field"),
    [("program", "points_per_unit"), ("marketing", "cap_messages"), ("engagement-score", "half_life_days")],
)
def test_each_setting_has_its_form(staff_client, slug: str, field: str) -> None:
    page = staff_client("admin").get(f"/admin/program/{slug}")

    assert page.status_code == 200
    assert f'id="field-{field}"' in page.get_data(as_text=True)


@pytest.mark.parametrize("slug", ["earning-rules", "rewards", "engagement-actions", "badges", "challenges", "streaks",
                                  "quizzes", "games", "leaderboards"])  # fmt: skip
def test_each_catalog_lists_its_items_and_offers_a_form(staff_client, slug: str) -> None:
    marketer = staff_client("marketer")

    assert marketer.get(f"/admin/program/{slug}").status_code == 200
    assert 'name="csrf_token"' in marketer.get(f"/admin/program/{slug}/new").get_data(as_text=True)


def test_marketing_pressure_is_saved_through_its_form(staff_client) -> None:
    marketer = staff_client("marketer")

    response = marketer.post(
        "/admin/program/marketing",
        data={"cap_messages": "2", "cap_days": "7", "quiet_start": "22:00", "quiet_end": "07:30", "max_attempts": "5"},
    )

    assert response.status_code == 302
    page = marketer.get("/admin/program/marketing").get_data(as_text=True)
    assert 'value="22:00"' in page and 'value="07:30"' in page


def test_an_item_others_depend_on_is_not_removed_and_says_why(staff_client, sessions) -> None:
    marketer = staff_client("marketer")
    marketer.post(
        "/admin/program/leaderboards/new", data={"key": "weekly", "name": "Weekly", "periods": "week", "scope": "all"}
    )

    assert marketer.post("/admin/program/leaderboards/weekly/delete").status_code == 302
    assert marketer.get("/admin/program/leaderboards/weekly").status_code == 404
    assert [entry.action for entry in audit_entries(sessions, "leaderboards")] == ["create", "delete"]


TEMPLATE = {"key": "winter_note", "subject": "Hello {{ member.first_name }}", "text": "Winter is here.", "html": "",
            "short": "Winter is here"}  # fmt: skip


def test_a_message_template_is_created_changed_part_by_part_and_a_broken_part_is_named(staff_client, sessions) -> None:
    marketer = staff_client("marketer")

    assert marketer.post("/admin/program/templates/new", data=TEMPLATE).status_code == 302
    taken = marketer.post("/admin/program/templates/new", data=TEMPLATE)
    assert taken.status_code == 422 and "already" in error_beside(taken.get_data(as_text=True), "key")
    broken = marketer.post("/admin/program/templates/winter_note", data={**TEMPLATE, "text": "{% if %}"})
    assert broken.status_code == 422
    assert "does not compile" in error_beside(broken.get_data(as_text=True), "text")
    changed = marketer.post("/admin/program/templates/winter_note", data={**TEMPLATE, "short": "Brr"})
    assert changed.status_code == 302

    with session_scope(sessions) as session:
        template = session.get_one(MessageTemplate, session.scalar(select(MessageTemplate.id).where(MessageTemplate.key == "winter_note")))
        assert (template.subject, template.html, template.short) == ("Hello {{ member.first_name }}", "", "Brr")
    assert [entry.action for entry in audit_entries(sessions, "message_templates")] == ["create", "update"]


def test_an_emptied_description_is_cleared(staff_client, sessions) -> None:
    marketer = staff_client("marketer")
    marketer.post("/admin/program/rewards/new", data={**REWARD, "description": "Cold days"})

    marketer.post("/admin/program/rewards/WINTER10", data={**REWARD, "description": ""})

    assert rewards(sessions)["WINTER10"].description == ""
