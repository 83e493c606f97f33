"""In a real browser, on the demo (whose 2024 results are published): the admin results
page with its fairness panel and charts, an entry's sheets, and the public results page
render without script or CSP errors and without serious or critical axe violations.

Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser

SLUG = "monev-kim-kaltim-2024"


def test_admin_results_page_shows_rankings_fairness_and_charts(page, demo_password, screenshots):
    sign_in(page, ADMIN_EMAIL, demo_password)

    response = page.goto(f"/admin/events/{SLUG}/results/")

    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Hasil")  # msgid "Results"
    expect(page.locator("#category-desa table tbody tr")).not_to_have_count(0)
    expect(page.locator("svg.chart")).not_to_have_count(0)
    page.locator("main details summary").first.click()  # the per-aspect breakdown opens
    assert_accessible(page)
    screenshot(page, screenshots, "admin-results", phone=True)

    page.locator("#category-desa table tbody tr a").first.click()
    expect(page.locator("table tfoot")).not_to_have_count(0)
    assert_accessible(page)
    screenshot(page, screenshots, "admin-results-entry", phone=True)


def test_public_results_page_shows_the_podium_and_filters_by_district(page, screenshots):
    response = page.goto(f"/events/{SLUG}/results")

    assert response.status == 200
    expect(page.locator(".podium").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "public-results", phone=True)

    page.locator("#district").select_option("64.04")
    with page.expect_navigation():
        page.locator("form.filters button").click()
    assert "district=64.04" in page.url
    expect(page.locator("table.results-table tbody tr").first).to_contain_text("Kutai Timur")
    assert_accessible(page)
    page.emulate_media(media="print")
    screenshot(page, screenshots, "public-results-print")


def test_a_large_category_is_read_a_page_at_a_time_by_keyboard(
    page, demo_password, screenshots, monkeypatch
):
    """Large events (thousands of entries) show each category's ranking 100 rows a page; here
    two, so the demo's 2024 categories have several pages."""
    from monev.results import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{SLUG}/results/")
    rows = page.locator("#category-desa table tbody tr")
    first_page = rows.first.inner_text()
    expect(page.locator("main")).to_contain_text("Halaman 1 dari")
    assert_accessible(page)
    screenshot(page, screenshots, "admin-results-paged", phone=True)

    next_link = page.locator("#category-desa a[rel=next]").first
    next_link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "page-desa=2" in page.url
    expect(page.locator("main")).to_contain_text("Halaman 2 dari")
    assert page.locator("#category-desa table tbody tr").first.inner_text() != first_page
    assert_accessible(page)
    screenshot(page, screenshots, "admin-results-paged-2", phone=True)
