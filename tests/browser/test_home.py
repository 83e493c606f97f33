"""Each role's home page in a real browser, at phone (390 px) and desktop (1280 px) width:
it leads with the task card, passes axe (no serious or critical violation), never scrolls
sideways, and its one large button is reached with the Tab key.

The demo is live: its 2025 event is open for submissions (KIM Teluk Pandan is half-way, with
evidence to upload before a deadline); for the judge, the 2024 Presentasi stage is put back
in judging with sheets still to finalise. Screenshots: test-artifacts/screenshots/home-*.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from monev.core.timeutil import utcnow
from monev.events.models import Event
from monev.extensions import db
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, sign_in

pytestmark = pytest.mark.browser
CURRENT = "monev-kim-kaltim-2025"
PAST = "monev-kim-kaltim-2024"

ROLES = {
    "admin": (ADMIN_EMAIL, "Pindahkan ke Verifikasi"),
    "operator": ("operator.kutim@demo.monev.id", "Progres finalis"),
    "judge": ("juri1@demo.monev.id", "Nilai berikutnya:"),
    "kim": ("kim.telukpandan@demo.monev.id", "Unggah bukti"),
}


def _stage(event: Event, key: str):
    return next(s for s in event.stages if s.key == key)


def _set_phases(app, role: str) -> None:
    """The demo as built (2025 open for submissions); for the judge, 2024's Presentasi in
    judging again until tomorrow (its two open sheets)."""
    now = utcnow()
    with app.app_context():
        events = {e.slug: e for e in db.session.scalars(select(Event))}
        assert events[CURRENT].status == "submission"
        if role == "judge":
            past = events[PAST]
            stage = _stage(past, "presentasi")
            stage.opens_at, stage.closes_at = now - timedelta(days=1), now + timedelta(days=1)
            past.status = "judging"
        db.session.commit()


def _tab_to(page: Page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused element is the link or button whose text starts with
    ``name`` (the skip link, header and menus come first)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("(document.activeElement.innerText || '').trim()")
        if focused.startswith(name):
            return
    pytest.fail(f"{name!r} was not reached with the Tab key on {page.url}")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("role", list(ROLES))
def test_home_leads_with_the_task_fits_the_phone_and_its_button_is_reached_by_keyboard(
    app, browser, live_server, demo_password, screenshots, role, viewport
):
    _set_phases(app, role)
    email, button = ROLES[role]
    context = browser.new_context(base_url=live_server, viewport=viewport, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in(page, email, demo_password)
        page.goto("/admin/" if role == "admin" else "/")
        task = page.locator("article.task").first
        expect(task).to_be_visible()
        main = task.locator("a.task-button")
        expect(main).to_be_visible()
        expect(main).to_contain_text(button)
        # The task comes before everything else of the page's content.
        first = page.evaluate(
            "document.querySelector('main article') === document.querySelector('article.task')"
        )
        assert first, f"{role}: the task card is not the first card"
        assert_accessible(page)
        page.screenshot(
            path=screenshots / f"home-{role}-{'phone' if viewport == PHONE else 'desktop'}.png",
            full_page=True,
        )
        # Folded parts (the admin's "every page of the event") must fit too, once opened.
        page.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
        width = page.evaluate("document.documentElement.scrollWidth")
        inner = page.evaluate("window.innerWidth")
        assert width <= inner, f"{role}: the page is {width}px wide in a {inner}px window"
        _tab_to(page, button)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url != f"{live_server}/", "the task's button led nowhere"
    finally:
        context.close()
    assert errors == []


def test_kim_task_names_the_deadline_with_a_countdown(app, page, demo_password, screenshots):
    _set_phases(app, "kim")
    sign_in(page, ROLES["kim"][0], demo_password)
    task = page.locator("article.task").first
    expect(task.get_by_role("heading", level=2)).to_have_text(
        "Unggah bukti: 2 dari 5 kriteria kurang"  # the demo's KIM is half-way
    )
    expect(task).to_contain_text("WITA")
    expect(task).to_contain_text("hari lagi")


def test_judge_stage_labels_read_right(app, page, demo_password):
    _set_phases(app, "judge")
    sign_in(page, ROLES["judge"][0], demo_password)
    stages = page.get_by_role("article", name="Babak penilaian saya")
    expect(stages).to_contain_text("Dibuka sampai")
    expect(stages).to_contain_text("Selesai")  # Administrasi: every sheet final
