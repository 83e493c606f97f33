"""On a phone (390 px), no page of a KIM or a judge scrolls sideways.

Each role's pages are found as tests/test_home_crawl.py finds them (links followed from the
home page of the demo's account), then opened in Chromium 390 px wide, where
``document.documentElement.scrollWidth`` must not exceed ``innerWidth``. The demo is live:
KIM Teluk Pandan has its half-way 2025 workspace and its 2024 results, certificates and
rapor; for the judge, 2024's Presentasi is put back in judging so an editable score sheet
(with long evidence links) is among the pages. Public results and schedules are read as
cards there. Screenshots: test-artifacts/screenshots/phone-*.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE
from tests.browser.test_home import _set_phases
from tests.browser.test_roles import sign_in, slug
from tests.conftest import sign_in as sign_in_directly
from tests.test_access_matrix import JUDGE, KIM
from tests.test_home_crawl import ACCOUNTS, crawl

pytestmark = pytest.mark.browser

LONG_LINK = (
    "https://drive.google.com/drive/folders/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    "-LaporanKegiatanKIMTelukPandanTahun2024JanuariSampaiDesemberLengkapDenganFotoDanDaftarHadir"
)


def _long_links(app, email: str) -> list[str]:
    """Each entry of the judge's open sheets has its presentation as one long link without a
    break (as people paste a shared-drive folder); returns those sheets' pages."""
    from sqlalchemy import select

    from monev.auth.models import User
    from monev.entries.models import Evidence
    from monev.extensions import db
    from monev.judging.models import Assignment, ScoreSheet

    with app.app_context():
        judge = db.session.scalar(select(User).where(User.email == email))
        open_sheets = db.session.execute(
            select(Assignment.id, Assignment.entry_id)
            .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
            .where(Assignment.judge_id == judge.id)
            .where((ScoreSheet.status.is_(None)) | (ScoreSheet.status != "final"))
        ).all()
        assert open_sheets
        for _assignment_id, entry_id in open_sheets:
            db.session.add(
                Evidence(entry_id=entry_id, criterion_id=None, kind="link", url=LONG_LINK)
            )
        db.session.commit()
    return [f"/judge/sheets/{assignment_id}" for assignment_id, _entry in open_sheets]


def _pages(app, role: str) -> list[str]:
    """The HTML pages the role reaches by links from its home page, one URL per endpoint."""
    client = app.test_client()
    sign_in_directly(client, ACCOUNTS[role])
    reached, problems = crawl(app, client)
    assert not problems, problems
    pages = []
    for _endpoint, url in sorted(reached.items()):
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages.append(url)
    return pages


@pytest.mark.parametrize(
    ("role", "judging"),
    [(KIM, False), (JUDGE, False), (JUDGE, True)],
    ids=["kim", "judge", "judging"],
)
def test_no_page_of_a_kim_or_a_judge_scrolls_sideways_on_a_phone(
    app, browser, live_server, demo_password, screenshots, role, judging
):
    sheets = []
    if judging:
        _set_phases(app, "judge")
        sheets = _long_links(app, ACCOUNTS[JUDGE])
    pages = _pages(app, role) + sheets
    assert len(pages) > 8, pages  # the crawl found the role's pages
    context = browser.new_context(base_url=live_server, viewport=PHONE, locale="id-ID")
    page = context.new_page()
    wide: list[str] = []
    try:
        sign_in(page, ACCOUNTS[role], demo_password)
        for url in pages:
            page.goto(url)
            # Folded parts must fit too, once opened.
            page.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
            width = page.evaluate("document.documentElement.scrollWidth")
            inner = page.evaluate("window.innerWidth")
            # A table in a scrolling box is cut off on a phone: it must read as cards.
            cut = page.evaluate(
                """() => [...document.querySelectorAll('main .table-wrap')]
                    .filter(w => w.scrollWidth > w.clientWidth + 1)
                    .map(w => (w.querySelector('table') || w).className || 'table')"""
            )
            if cut:
                wide.append(f"{url}: tables cut off (scroll sideways): {cut}")
            if width > inner:
                culprits = page.evaluate(
                    """() => [...document.querySelectorAll('main *')]
                        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                        .slice(0, 4)
                        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                             + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""
                )
                wide.append(f"{url}: {width}px in {inner}px; {culprits}")
                page.screenshot(path=screenshots / f"phone-wide-{slug(url)}.png", full_page=True)
    finally:
        context.close()
    assert not wide, "pages wider than the phone:\n" + "\n".join(wide)
