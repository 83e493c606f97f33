"""A field visit's evidence where the organiser reads it, on a phone (390 px) and a desktop:
the visits board (photos counted per judge, a confirmed visit's badge and links whole) and
the results drill-down (every judge's scores, checklist and photos visible as cards, no
table cut off in a scrolling box). No sideways scroll; axe finds nothing serious; the focus
ring shows. Screenshots: test-artifacts/screenshots/visit-results-*."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monev.auth.models import User
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.judging import versions
from monev.judging.models import Assignment, ScoreSheet, Visit, VisitCheck
from monev.rubrics.models import Criterion
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, sign_in
from tests.browser.test_visit_photos import NEAR_KIM, _first_criterion, _jpeg, _visit_with_photos
from tests.test_access_matrix import JUDGE
from tests.test_home_crawl import ACCOUNTS

pytestmark = pytest.mark.browser

# Words of the table cut across two lines ("Dikonf/irmasi", "kunjung/an"): each word of each
# text node is measured alone; a word drawn on two lines has two boxes.
BROKEN_WORDS = """(root) => {
  const broken = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('.visually-hidden')) continue;
    const re = /[^\\s]+/g;
    let m;
    while ((m = re.exec(node.data))) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const boxes = [...range.getClientRects()].filter(r => r.width > 0);
      const lines = new Set(boxes.map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth"), f"{page.url}: {width}px wide"
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')]
            .filter(w => w.scrollWidth > w.clientWidth + 1).length"""
    )
    assert not cut, f"{page.url}: a table is cut off in its scrolling box"


def _evidence(app, urls) -> dict:
    """The visit confirmed; each judge of the entry's visit a checklist line on the first
    criterion (the demo judge's own comes through the sheet)."""
    assignment_id = int(urls["sheet"].rsplit("/", 1)[1])
    with app.app_context():
        mine = db.session.get(Assignment, assignment_id)
        visit = db.session.scalar(
            select(Visit).where(Visit.stage_id == mine.stage_id, Visit.entry_id == mine.entry_id)
        )
        visit.confirmed_at = utcnow()
        visit.confirmed_by_id = mine.judge_id
        first = db.session.scalars(
            select(Criterion)
            .where(Criterion.stage_id == mine.stage_id)
            .order_by(Criterion.aspect_id, Criterion.position)
        ).first()
        # a second judge on the team (the demo has one on this entry), whose sheet holds a
        # checklist line and no photo yet
        second = db.session.scalar(
            select(User).where(User.role == "judge", User.id != mine.judge_id).order_by(User.id)
        )
        team_mate = Assignment(stage_id=mine.stage_id, entry_id=mine.entry_id, judge_id=second.id)
        db.session.add(team_mate)
        db.session.flush()
        db.session.add(ScoreSheet(assignment_id=team_mate.id))
        db.session.flush()
        others = db.session.scalars(
            select(ScoreSheet)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .where(
                Assignment.stage_id == mine.stage_id,
                Assignment.entry_id == mine.entry_id,
                Assignment.id != mine.id,
            )
        ).all()
        for sheet in others:
            db.session.add(
                VisitCheck(
                    sheet_id=sheet.id,
                    criterion_id=first.id,
                    mark="partly",
                    note="Papan informasi ada, belum diperbarui sejak 2023.",
                )
            )
        # the demo judge's sheet was put on the visit directly: count it as a judging change,
        # as assigning through the app does (the computed results are kept per version)
        versions.bump(mine.stage.event_id)
        db.session.commit()
        return {
            "results": f"/admin/events/{mine.stage.event.slug}/results/entries/{mine.entry_id}",
            "judges": 1 + len(others),
        }


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_organiser_reads_the_visit_evidence_on_a_phone(
    app, browser, live_server, field_phone, demo_password, screenshots, tmp_path, viewport
):
    urls = _visit_with_photos(app)
    extra = _evidence(app, urls)
    width = viewport["width"]
    photo = tmp_path / "papan.jpg"
    _jpeg(photo)
    phone = field_phone(NEAR_KIM, viewport).new_page()
    sign_in(phone, ACCOUNTS[JUDGE], demo_password)
    phone.goto(urls["sheet"])
    criterion = _first_criterion(phone)
    for _ in range(3):  # one more than the two required: "3 foto (wajib 2)"
        phone.set_input_files(f"#photos-{criterion} input[type=file]", photo)
        with phone.expect_navigation():
            phone.locator(f"#photos-{criterion} button[type=submit]").click()
    assert "3 foto (wajib 2)" in phone.content()
    form = phone.locator(f"#check-{criterion}")
    form.get_by_label("Terlihat", exact=True).check()
    form.get_by_label("Catatan").fill("Papan informasi terpasang di balai desa.")
    with phone.expect_navigation():
        form.get_by_role("button", name="Simpan").click()
    # the focus ring is a solid, clearly visible outline (keyboard focus on a secondary button)
    button = phone.locator(f"#check-{criterion} button[type=submit]")
    button.focus()
    phone.keyboard.press("Shift+Tab")
    phone.keyboard.press("Tab")
    ring = button.evaluate(
        "b => { const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert ring == ["solid", "3px"], ring

    context = browser.new_context(base_url=live_server, viewport=viewport, locale="id-ID")
    page = context.new_page()
    try:
        sign_in(page, ADMIN_EMAIL, demo_password)
        page.goto(urls["board"])
        page.screenshot(path=screenshots / f"visit-results-{width}-board.png", full_page=True)
        row = page.locator("tbody tr", has_text="Teluk Pandan")
        # the demo judge took 3 where 2 are required, the others none: 2 of 2 × team
        assert f"2 dari {2 * extra['judges']} wajib" in row.inner_text()
        assert "Dikonfirmasi" in row.inner_text()
        assert page.evaluate(BROKEN_WORDS, row.element_handle()) == []
        _fits(page)
        assert_accessible(page)

        page.goto(extra["results"])
        page.screenshot(path=screenshots / f"visit-results-{width}-drilldown.png", full_page=True)
        _fits(page)
        assert_accessible(page)
        table = page.locator("table.drill-down", has=page.locator(".visit-evidence"))
        cells = table.locator("tbody td[data-label]:not([data-label^='Bobot'])")
        assert cells.count() >= extra["judges"]
        # every judge's cell is on the screen, not past the edge of a scrolling box
        for i in range(cells.count()):
            box = cells.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (i, box)
        text = table.inner_text()
        assert "Di lapangan: Terlihat" in text
        assert "Papan informasi terpasang di balai desa." in text
        assert "Di lapangan: Terlihat sebagian" in text
        assert "3 foto (wajib 2)" in text and "0 foto (wajib 2)" in text
        assert page.locator(".visit-photos-all img").count() == 3
    finally:
        context.close()
