"""Field visits in a real browser, at desktop (1280 px) and phone (390 px) width: the
organiser's board and visit form, the KIM's home task and visit page, the judge's sheet with
its checklist. None scrolls sideways; axe finds nothing serious. The demo's 2024 Presentasi
is put back in judging as a field visit, with a visit of KIM Teluk Pandan tomorrow.
Screenshots: test-artifacts/screenshots/visits-*."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from monev.judging.models import Assignment, Visit
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_home import PAST, _stage
from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, sign_in, slug
from tests.test_access_matrix import JUDGE, KIM
from tests.test_home_crawl import ACCOUNTS

pytestmark = pytest.mark.browser


def _a_visit(app) -> dict:
    """2024's Presentasi as a field visit in judging; Teluk Pandan (taken on to it) visited
    tomorrow; one of its sheets given to the demo's first judge, open."""
    from monev.auth.models import User

    now = utcnow()
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == PAST))
        stage = _stage(event, "presentasi")
        stage.opens_at, stage.closes_at = now - timedelta(days=1), now + timedelta(days=3)
        stage.kind = "visit"
        event.status = "judging"
        kim = db.session.scalar(select(User).where(User.email == ACCOUNTS[KIM]))
        entry = db.session.scalar(
            select(Entry).where(Entry.event_id == event.id, Entry.kim_id == kim.kim_id)
        )
        # Teluk Pandan was not selected for 2024's Presentasi: here it goes on to the visit.
        entry.standing, entry.standing_reason, entry.standing_stage_id = "active", None, None
        judge = db.session.scalar(select(User).where(User.email == ACCOUNTS[JUDGE]))
        assignment = db.session.scalar(
            select(Assignment).where(
                Assignment.stage_id == stage.id,
                Assignment.entry_id == entry.id,
                Assignment.judge_id == judge.id,
            )
        )
        if assignment is None:
            assignment = Assignment(stage_id=stage.id, entry_id=entry.id, judge_id=judge.id)
            db.session.add(assignment)
        elif assignment.sheet is not None:
            assignment.sheet.status = "draft"
        visit = Visit(
            stage_id=stage.id,
            entry_id=entry.id,
            starts_at=now + timedelta(days=1),
            address="Jl. Poros Teluk Pandan RT 05, Desa Teluk Pandan, Kecamatan Teluk Pandan, "
            "Kabupaten Kutai Timur",
            latitude=0.4131,
            longitude=117.4752,
        )
        db.session.add(visit)
        db.session.commit()
        base = f"/admin/events/{event.slug}/judging/stages/{stage.id}/visits"
        return {
            "board": base,
            "form": f"{base}/{entry.id}",
            "visit": f"/schedule/visits/{visit.id}",
            "sheet": f"/judge/sheets/{assignment.id}",
        }


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_visit_pages_fit_and_are_accessible(
    app, browser, live_server, demo_password, screenshots, viewport
):
    urls = _a_visit(app)
    pages = {
        ADMIN_EMAIL: [urls["board"], urls["form"]],
        ACCOUNTS[KIM]: ["/", urls["visit"]],
        ACCOUNTS[JUDGE]: [urls["sheet"], urls["visit"]],
    }
    wide = []
    for email, paths in pages.items():
        context = browser.new_context(base_url=live_server, viewport=viewport, locale="id-ID")
        page = context.new_page()
        try:
            sign_in(page, email, demo_password)
            for path in paths:
                response = page.goto(path)
                assert response.status == 200, path
                name = f"visits-{viewport['width']}-{email.split('@')[0]}-{slug(path)}"
                page.screenshot(path=screenshots / f"{name}.png", full_page=True)
                if path == "/":
                    assert "Siapkan kunjungan lapangan" in page.content()
                if path == urls["sheet"]:
                    assert "Daftar periksa kunjungan" in page.content()
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > page.evaluate("window.innerWidth"):
                    wide.append(f"{path}: {width}px")
                assert_accessible(page)
        finally:
            context.close()
    assert not wide, wide
