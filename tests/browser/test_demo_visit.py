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
from tests.browser.test_roles import assert_accessible, sign_in
from tests.browser.test_visit_photos import _jpeg, _no_sideways_scroll
from tests.conftest import t
from tests.test_demo_visit import visit_of_today

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
    app, field_phone, demo_password, screenshots, tmp_path
):
    criteria = _criteria(app)
    photo = tmp_path / "inovasi.jpg"
    _jpeg(photo)
    context = field_phone(NEAR_TELUK_PANDAN, accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, award.TEAM[0], demo_password)
        today = page.get_by_role("article", name="Kunjungan hari ini")
        expect(today).to_contain_text(visit_of_today(app))
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
        assert "2 foto (wajib 2)" in content and "1 foto (wajib 1)" in content
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
        assert "2 foto (wajib 2)" in page.content()
    finally:
        context.close()


def test_the_demo_visit_of_today_is_done_without_a_signal(
    app, field_phone, demo_password, screenshots
):
    """README's offline steps on the demo as it is: prepare from the home page, no signal,
    reload, score, checklist and a photo, back online: it arrives on the sheet."""
    from monev.judging.models import Assignment, ScoreSheet, VisitCheck, VisitPhoto
    from tests.browser.test_visit_offline import _jpeg as _photo_file

    criteria = _criteria(app)
    (c1, _p1), (c2, _p2) = criteria[:2]
    context = field_phone(NEAR_TELUK_PANDAN)
    page = context.new_page()
    try:
        sign_in(page, award.TEAM[0], demo_password)
        today = page.get_by_role("article", name="Kunjungan hari ini")
        sheet_url = (
            today.get_by_role("button", name="Buka lembar kunjungan")
            .or_(today.get_by_role("link", name="Buka lembar kunjungan"))
            .first.get_attribute("href")
        )
        sheet = int(sheet_url.rsplit("/", 1)[1])
        today.get_by_role("link", name="Siapkan untuk luring").click()
        page.get_by_role("button", name="Siapkan untuk luring").click()
        expect(page.locator("#offline-stored")).to_contain_text(
            "Tersimpan di ponsel: 3 kunjungan", timeout=15_000
        )
        page.goto(f"/offline?sheet={sheet}")
        expect(page.locator("#offline-send")).to_be_visible()
        page.wait_for_function("navigator.serviceWorker.controller !== null")

        context.set_offline(True)  # airplane mode, and the page reloaded
        page.reload()
        expect(page.locator(".offline-status")).to_contain_text("Tanpa sinyal")
        expect(page.locator("main")).to_contain_text("KIM Teluk Pandan")
        page.fill(f"#value-{c1}", "9")
        page.locator(f"input[name=mark-{c1}][value=observed]").check()
        page.fill(f"#note-{c1}", "Papan digital menyala, dipakai warga.")
        page.fill(f"#value-{c2}", "8")
        page.locator(f"#value-{c2}").blur()
        page.set_input_files(f"#photo-{c1}", _photo_file("green"))
        expect(page.locator(f"#criterion-{c1} .offline-photo")).to_have_count(1)
        expect(page.locator(f"#state-score-{c1}")).to_have_text("tersimpan di ponsel")
        page.screenshot(path=screenshots / "demovisit-390-offline.png", full_page=True)
        _no_sideways_scroll(page)

        context.set_offline(False)  # back in signal: it is sent
        page.get_by_role("button", name="Kirim sekarang").click()
        expect(page.locator(".offline-status")).to_contain_text(
            "Semua sudah terkirim.", timeout=20_000
        )
        with app.app_context():
            stored = db.session.scalar(select(ScoreSheet).where(ScoreSheet.assignment_id == sheet))
            assert db.session.get(Assignment, sheet).judge.email == award.TEAM[0]
            scores = {s.criterion_id: str(s.value) for s in stored.scores}
            assert scores[c1] == "9.00" and scores[c2] == "8.00"
            check = db.session.scalar(select(VisitCheck).where(VisitCheck.sheet_id == stored.id))
            assert (check.criterion_id, check.mark) == (c1, "observed")
            photos = db.session.scalars(
                select(VisitPhoto).where(VisitPhoto.sheet_id == stored.id)
            ).all()
            assert len(photos) == 1 and photos[0].distance_m < 150
        page.goto(sheet_url)  # online, the sheet shows what arrived
        expect(page.locator(f"#value-{c1}")).to_have_value("9")
        assert "1 foto (wajib 2)" in page.content()
    finally:
        context.close()
