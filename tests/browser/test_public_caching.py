"""In a real browser, with its HTTP cache: the public results page is cacheable, yet a
visitor who picks a language or signs in sees the change at once (the browser revalidates a
public page; the language and the user are part of what it gets back). Static files come
from busted URLs, cached for a year, and load under the Content Security Policy.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Response, expect

from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser

SLUG = "monev-kim-kaltim-2024"
RESULTS = f"/events/{SLUG}/results"


def test_a_visitor_on_cached_pages_switches_language_and_signs_in(page, demo_password, screenshots):
    statics: list[Response] = []
    page.on("response", lambda r: statics.append(r) if "/static/" in r.url else None)

    first = page.goto(RESULTS)
    assert first.status == 200
    assert first.headers["cache-control"] == "public, max-age=0, s-maxage=60"
    assert "set-cookie" not in first.headers
    assert page.context.cookies() == []  # a visitor on a page without a form: no session
    expect(page.locator("html")).to_have_attribute("lang", "id")
    assert page.evaluate("typeof window.htmx") == "object"  # the busted htmx URL loaded
    busted = [r for r in statics if re.search(r"\?v=[0-9a-f]{12}$", r.url)]
    assert {r.url.rsplit("/", 1)[1].split("?")[0] for r in busted} >= {
        "pico.min.css",
        "app.css",
        "htmx.min.js",
        "app.js",
    }
    for response in busted:
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # not the cached page
    expect(page).to_have_url(re.compile(re.escape(RESULTS) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Results")
    assert_accessible(page)
    screenshot(page, screenshots, "public-results-english", phone=True)

    page.get_by_role("link", name="Bahasa Indonesia").click()
    expect(page.locator("html")).to_have_attribute("lang", "id")

    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(RESULTS)  # the visitor's copy is in the browser's cache
    expect(page.locator(".account-menu summary")).to_be_visible()
    expect(page.get_by_role("link", name="Masuk")).to_have_count(0)  # msgid "Sign in"
