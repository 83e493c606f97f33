"""The demo's field visit of today, in Chromium at phone width (390 px), as README's tour
tells a newcomer: juri1's home lists *Kunjungan hari ini* (Anugerah KIM Inovatif 2025, KIM
Teluk Pandan at 10.00 WITA); the judge opens the visit sheet, scores, fills the checklist,
takes the photos the criteria require (the device's position granted, near the KIM), the
KIM's representative signs with a finger (the mouse), and the Berita Acara visitasi is
downloaded and read. Nothing of the demo is changed first. No sideways scroll; axe finds
nothing serious. Screenshots: test-artifacts/screenshots/demovisit-*."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from monev.demo import award
from monev.events.models import Event
from monev.extensions import db
from monev.rubrics.models import Criterion
from tests.browser.conftest import PHONE
from tests.browser.test_roles import assert_accessible, sign_in
from tests.browser.test_visit_photos import _jpeg, _no_sideways_scroll
from tests.conftest import t

pytestmark = pytest.mark.browser

NEAR_TELUK_PANDAN = {"latitude": 0.4305, "longitude": 117.4705, "accuracy": 15}  # ~90 m north


def _criteria(app) -> list[tuple[int, int]]:
    """The award's visit criteria: (id, photos required), in the rubric's order."""
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == award.SLUG))
        return [
            (c.id, c.photos_required)
            for c in db.session.scalars(
                select(Criterion)
                .where(Criterion.stage_id == event.stages[0].id)
                .order_by(Criterion.position)
            )
        ]


def test_the_demo_visit_of_today_is_done_on_a_phone(
    app, browser, live_server, demo_password, screenshots, tmp_path
):
    criteria = _criteria(app)
    photo = tmp_path / "inovasi.jpg"
    _jpeg(photo)
    context = browser.new_context(
        base_url=live_server,
        viewport=PHONE,
        locale="id-ID",
        timezone_id="Asia/Makassar",
        geolocation=NEAR_TELUK_PANDAN,
        permissions=["geolocation"],
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, award.TEAM[0], demo_password)
        today = page.get_by_role("article", name="Kunjungan hari ini")
        expect(today).to_contain_text("10.00 WITA")
        expect(today).to_contain_text("KIM Teluk Pandan")
        expect(today).to_contain_text("Anugerah KIM Inovatif 2025")
        page.screenshot(path=screenshots / "demovisit-390-home.png", full_page=True)
        _no_sideways_scroll(page)
        assert_accessible(page)

        today.get_by_role("button", name="Buka lembar kunjungan").or_(
            today.get_by_role("link", name="Buka lembar kunjungan")
        ).first.click()
        expect(page.get_by_role("heading", name="Daftar periksa kunjungan")).to_be_visible()
        sheet_url = page.url
        for n, (cid, _photos) in enumerate(criteria):
            page.fill(f"#value-{cid}", str(8 - n))
        expect(page.locator("#sheet-connection")).to_have_text(
            t(app, "All changes saved."), timeout=15_000
        )
        for n, (cid, photos) in enumerate(criteria):
            form = page.locator(f"#check-{cid}")
            form.locator("input[value=observed]").check()
            form.locator("textarea").fill(f"Inovasi terlihat di lokasi ({n + 1}).")
            with page.expect_navigation():
                form.get_by_role("button").click()
            for _k in range(photos):
                page.set_input_files(f"#photos-{cid} input[type=file]", photo)
                with page.expect_navigation():
                    page.locator(f"#photos-{cid} button[type=submit]").click()
                assert "Foto telah disimpan." in page.content()
        content = page.content()
        assert "2 dari 2 foto wajib" in content and "1 dari 1 foto wajib" in content
        caption = page.locator(".visit-photo figcaption").first.inner_text()
        assert "WITA" in caption and "m dari lokasi KIM" in caption
        for n, (cid, _p) in enumerate(criteria):  # the scores are still there
            expect(page.locator(f"#value-{cid}")).to_have_value(str(8 - n))
        page.screenshot(path=screenshots / "demovisit-390-sheet.png", full_page=True)
        _no_sideways_scroll(page)
        assert_accessible(page)

        page.goto("/")
        page.get_by_role("link", name="Halaman kunjungan dan Berita Acara").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("KIM Teluk Pandan")
        page.get_by_role("button", name="Konfirmasi oleh KIM").or_(
            page.get_by_role("link", name="Konfirmasi oleh KIM")
        ).first.click()
        page.get_by_label("Nama lengkap perwakilan").fill("Hendra Saputra")
        canvas = page.locator("canvas")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
        page.mouse.down()
        for step in range(1, 9):
            page.mouse.move(
                box["x"] + 20 + step * (box["width"] - 40) / 8,
                box["y"] + box["height"] * (0.3 if step % 2 else 0.7),
                steps=4,
            )
        page.mouse.up()
        _no_sideways_scroll(page)
        with page.expect_navigation():
            page.get_by_role("button", name="Konfirmasi visitasi").click()
        assert "Perwakilan KIM telah mengonfirmasi visitasi." in page.content()
        page.screenshot(path=screenshots / "demovisit-390-visit.png", full_page=True)
        _no_sideways_scroll(page)
        assert_accessible(page)

        with page.expect_download() as info:
            page.get_by_role("link", name="Unduh Berita Acara visitasi (PDF)").click()
        doc = pdfium.PdfDocument(info.value.path().read_bytes())
        text = "\n".join(p.get_textpage().get_text_range() for p in doc)
        doc.close()
        for expected in (
            "BERITA ACARA VISITASI",
            "Anugerah KIM Inovatif 2025",
            "KIM Teluk Pandan",
            "Hendra Saputra",
            "Inovasi terlihat di lokasi (1).",
            "m dari lokasi KIM",
        ):
            assert expected in text, expected
        page.goto(sheet_url)  # the sheet keeps what was done
        assert "2 dari 2 foto wajib" in page.content()
    finally:
        context.close()
