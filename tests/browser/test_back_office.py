"""The back office as staff use it, in headless Chromium: log in, find a member, adjust their points,
read the ledger and the audit log; what other roles may not do."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.backoffice.conftest import PASSWORD


def log_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/admin/")
    page.shots.take("login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_wrong_password_is_shown_beside_the_field_then_the_right_one_opens_the_dashboard(page, make_staff) -> None:
    email = make_staff("admin")
    log_in(page, email, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("The email or the password is not right")
    expect(page.locator("#field-password-error")).to_be_visible()
    expect(page.get_by_label("Email address")).to_have_value(email)
    page.shots.take("login-error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.shots.take("dashboard")


def test_support_finds_a_member_by_card_adjusts_points_and_sees_the_ledger_and_the_audit_log(page, make_staff, make_member) -> None:
    member = make_member(first_name="Alice", last_name="Martin", card_number="2900000000017")
    make_member(first_name="Alice", last_name="Martinez")
    log_in(page, make_staff("support"))
    page.get_by_role("searchbox", name="Find a member").fill("2900000000017")
    page.get_by_role("searchbox", name="Find a member").press("Enter")
    expect(page.get_by_role("heading", name="Alice Martin", exact=True)).to_be_visible()
    balance = int(page.locator("#balance").inner_text().replace(",", ""))
    page.shots.take("member")

    page.get_by_label("Points", exact=True).fill("")
    page.get_by_role("button", name="Adjust points").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.locator("#field-reason-error")).to_be_visible()
    page.shots.take("adjust-error")

    page.get_by_label("Points", exact=True).fill("150")
    page.get_by_label("Reason", exact=True).fill("Receipt 1234 was not scanned")
    page.get_by_role("button", name="Adjust points").click()
    expect(page.get_by_role("status")).to_contain_text("+150 points adjusted")
    expect(page.locator("#balance")).to_have_text(f"{balance + 150:,}")
    first_row = page.locator("#ledger tbody tr").first
    expect(first_row).to_contain_text("Receipt 1234 was not scanned")
    expect(first_row).to_contain_text("staff:support@brand.example")
    page.shots.take("member-adjusted")

    # The audit log is the admin's; support is refused.
    assert page.goto("/admin/audit").status == 403
    page.shots.take("audit-refused")
    page.get_by_role("button", name="Log out").click()
    log_in(page, make_staff("admin"))
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("What").select_option("ledger_entries")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("staff:support@brand.example")
    expect(row).to_contain_text("Receipt 1234 was not scanned")
    page.shots.take("audit-log")
    assert member["id"]


def test_a_search_with_several_matches_lists_them(page, make_staff, make_member) -> None:
    for first_name in ("Chloé", "Hugo", "Léa"):
        make_member(first_name=first_name, last_name="Bernard")
    log_in(page, make_staff("marketer"))
    page.get_by_role("searchbox", name="Find a member").fill("bernard")
    page.get_by_role("button", name="Search").first.click()
    expect(page.locator("tbody tr")).to_have_count(3)
    page.shots.take("member-search")
    page.get_by_role("link", name="Hugo Bernard").click()
    expect(page.get_by_role("heading", name="Hugo Bernard")).to_be_visible()
    # A marketer reads members but does not change them.
    expect(page.get_by_role("button", name="Adjust points")).to_have_count(0)


def test_an_analyst_reads_the_dashboard_and_can_change_nothing(page, make_staff, make_member) -> None:
    member = make_member()
    log_in(page, make_staff("analyst"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("searchbox")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(["Dashboard", "Scenarios"])
    assert page.goto(f"/admin/members/{member['id']}").status == 403
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    page.shots.take("analyst-refused")


def test_the_pages_fit_a_tablet(page, make_staff, make_member) -> None:
    member = make_member()
    page.set_viewport_size({"width": 820, "height": 1180})
    log_in(page, make_staff("support"))
    page.goto(f"/admin/members/{member['id']}")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 820)"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 820, wide
    page.shots.take("member-tablet")


def test_support_records_a_complaint_and_a_new_card_from_the_member_page(page, make_staff, make_member, make_purchase) -> None:
    member = make_member(first_name="Nina", last_name="Roux")
    make_purchase(member_id=member["id"], total="120.00")
    log_in(page, make_staff("support"))
    page.goto(f"/admin/members/{member['id']}")
    page.get_by_label("Subject").fill("Received the same SMS twice")
    page.get_by_role("button", name="Open complaint").click()
    expect(page.get_by_role("status")).to_contain_text("Complaint opened")
    expect(page.locator("#complaints tbody tr").first).to_contain_text("Received the same SMS twice")
    page.get_by_label("SMS").uncheck()
    page.get_by_role("button", name="Save consents").click()
    expect(page.get_by_role("status")).to_contain_text("Consents saved")
    expect(page.get_by_label("SMS")).not_to_be_checked()
    page.get_by_role("button", name="Queue a new card").click()
    expect(page.locator("#tiers tbody tr").filter(has_text="pending")).to_have_count(1)
    page.shots.take("member-actions")
    page.get_by_role("button", name="Close complaint").click()
    expect(page.get_by_role("status")).to_contain_text("Complaint closed")
