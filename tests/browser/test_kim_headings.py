"""The KIM's pages read in heading order: axe's ``heading-order`` rule (moderate) finds
nothing, and no page repeats a heading, so a screen reader's list of headings is an outline
of the page.

The pages are those a KIM reaches from its home page in the live demo (KIM Teluk Pandan:
its half-way 2025 entry, its 2024 results, certificates and rapor)."""

from __future__ import annotations

import pytest

from tests.browser.test_phone_width import _pages
from tests.browser.test_roles import AXE, sign_in
from tests.test_access_matrix import KIM
from tests.test_home_crawl import ACCOUNTS

pytestmark = pytest.mark.browser

# The same heading text twice on a page (at any level) is a repeat: e.g. a section
# "Presentasi" holding a card "Presentasi".
REPEATED = """() => {
  const seen = new Set(), repeated = [];
  const levels = 'main h1, main h2, main h3, main h4, main h5, main h6';
  for (const h of document.querySelectorAll(levels)) {
    if (h.closest('[hidden], dialog:not([open]), template')) continue;
    const text = h.innerText.trim().replace(/\\s+/g, ' ');
    if (seen.has(text)) repeated.push(h.tagName + ' ' + text);
    seen.add(text);
  }
  return repeated;
}"""


def test_every_kim_page_is_in_heading_order_without_repeated_headings(
    app, browser, live_server, demo_password
):
    pages = _pages(app, KIM)
    context = browser.new_context(base_url=live_server, locale="id-ID")
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, ACCOUNTS[KIM], demo_password)
        for url in pages:
            page.goto(url)
            results = AXE.run(page, options={"runOnly": ["heading-order", "page-has-heading-one"]})
            for violation in results.response["violations"]:
                targets = [", ".join(map(str, n["target"])) for n in violation["nodes"]]
                problems.append(f"{url}: {violation['id']} at {targets}")
            repeated = page.evaluate(REPEATED)
            if repeated:
                problems.append(f"{url}: repeated headings {repeated}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
