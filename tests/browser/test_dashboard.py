"""The dashboard in Chromium, over two weeks of seeded activity: figures, charts, the period picker."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_back_office import log_in
from tests.reporting.test_dashboard import program, seeded  # noqa: F401  (the default program, seeded)


def test_the_dashboard_shows_the_periods_figures_and_charts(page, seeded, make_staff) -> None:  # noqa: F811
    log_in(page, make_staff("analyst"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("#figure-members")).to_have_text(f"{len(seeded):,}")
    for chart in ("chart-new-members", "chart-revenue", "chart-points", "chart-tiers", "chart-engagement"):
        expect(page.locator(f"#{chart} svg[role=img]")).to_be_visible()
    expect(page.locator("#chart-revenue polyline")).to_have_count(1)
    expect(page.locator("#chart-points polyline")).to_have_count(2)
    page.shots.take("dashboard")

    thirty = page.locator("#figure-new-members").inner_text()
    page.get_by_role("link", name="7 days").click()
    expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "true")
    assert int(page.locator("#figure-new-members").inner_text()) <= int(thirty)
    page.shots.take("dashboard-7-days")

    page.get_by_role("link", name="Custom").click()
    page.get_by_label("From", exact=True).fill("2026-11-20")
    page.get_by_label("To", exact=True).fill("2026-11-10")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#period-error")).to_contain_text("The end date is before the start date")
    page.get_by_label("To", exact=True).fill("2026-11-22")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("From 20 Nov 2026 to 22 Nov 2026")).to_be_visible()
    page.shots.take("dashboard-custom")
