"""Visit photos in a real browser, at desktop (1280 px) and phone (390 px) width: the judge
takes a photo on a visit sheet (the device's position granted, near KIM Teluk Pandan), sees
its stamp and distance; the KIM's representative
draws the signature with the mouse; the Berita Acara visitasi is downloaded and read. No
sideways scroll; axe finds nothing serious. Screenshots: test-artifacts/screenshots/photos-*."""

from __future__ import annotations

import io
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import select

from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.judging.models import Assignment
from monev.rubrics.models import Criterion
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_roles import assert_accessible, sign_in
from tests.browser.test_visits import _a_visit
from tests.test_access_matrix import JUDGE
from tests.test_home_crawl import ACCOUNTS

pytestmark = pytest.mark.browser

NEAR_KIM = {"latitude": 0.4140, "longitude": 117.4752, "accuracy": 15}  # ~100 m north


def _visit_with_photos(app) -> dict:
    """The visit of tests/browser/test_visits.py (2024's Presentasi as a field visit in
    judging), its first criterion requiring two photos; the visit started half an hour ago
    (its representative may not confirm it long before)."""
    from monev.judging.models import Visit

    urls = _a_visit(app)
    with app.app_context():
        visit = db.session.get(Visit, int(urls["visit"].rsplit("/", 1)[1]))
        visit.starts_at = utcnow() - timedelta(minutes=30)
        assignment_id = int(urls["sheet"].rsplit("/", 1)[1])
        stage_id = db.session.get(Assignment, assignment_id).stage_id
        first = db.session.scalars(
            select(Criterion)
            .where(Criterion.stage_id == stage_id)
            .order_by(Criterion.aspect_id, Criterion.position)
        ).first()
        first.photos_required = 2
        db.session.commit()
    return urls


def _jpeg(path, size=(800, 600)) -> None:
    ramp = Image.linear_gradient("L").resize(size)
    img = Image.merge("RGB", (ramp, Image.new("L", size, 120), ramp.point(lambda v: 255 - v)))
    out = io.BytesIO()
    img.save(out, "JPEG")
    path.write_bytes(out.getvalue())


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth"), f"{page.url}: {width}px wide"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_judge_photographs_the_visit_and_the_kim_signs(
    app, field_phone, demo_password, screenshots, tmp_path, viewport
):
    urls = _visit_with_photos(app)
    photo = tmp_path / "papan-informasi.jpg"
    _jpeg(photo)
    context = field_phone(NEAR_KIM, viewport, accept_downloads=True)
    page = context.new_page()
    width = viewport["width"]
    try:
        sign_in(page, ACCOUNTS[JUDGE], demo_password)
        page.goto(urls["sheet"])
        assert "0 foto (wajib 2)" in page.content()
        page.set_input_files("#photos-" + _first_criterion(page) + " input[type=file]", photo)
        with page.expect_navigation():
            page.locator(f"#photos-{_first_criterion(page)} button[type=submit]").click()
        content = page.content()
        assert "Foto telah disimpan." in content
        assert "1 foto (wajib 2)" in content
        assert "WITA" in page.locator(".visit-photo figcaption").first.inner_text()
        caption = page.locator(".visit-photo figcaption").first.inner_text()
        assert "dari lokasi KIM" in caption and "m dari lokasi KIM" in caption
        # the small copy (400 px), sized before it loads, linking the full photo
        thumb = page.locator(".visit-photo img").first
        assert thumb.evaluate("img => img.naturalWidth") == 400
        assert thumb.get_attribute("src").endswith("?size=small")
        assert (thumb.get_attribute("width"), thumb.get_attribute("height")) == ("400", "300")
        box = thumb.bounding_box()
        assert box["width"] == 160 and box["height"] == 120
        full = page.locator(".visit-photo a").first.get_attribute("href")
        assert "size=" not in full
        assert page.request.get(full).body()[:2] == b"\xff\xd8"
        upright = tmp_path / "pengumuman.jpg"  # a second photo, upright (portrait)
        _jpeg(upright, (600, 800))
        section = f"#photos-{_first_criterion(page)}"
        page.set_input_files(f"{section} input[type=file]", upright)
        with page.expect_navigation():
            page.locator(f"{section} button[type=submit]").click()
        assert "2 foto (wajib 2)" in page.content()
        thumbs = page.locator(f"{section} .visit-photo img")
        assert thumbs.count() == 2
        sizes = thumbs.evaluate_all(
            "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight, i.getAttribute('width'),"
            " i.getAttribute('height')])"
        )
        assert sorted(sizes) == [[300, 400, "300", "400"], [400, 300, "400", "300"]]
        page.locator(section).screenshot(path=screenshots / f"photos-{width}-thumbs.png")
        page.screenshot(path=screenshots / f"photos-{width}-sheet.png", full_page=True)
        _no_sideways_scroll(page)
        assert_accessible(page)

        page.goto(urls["visit"])
        assert "Foto visitasi" in page.content()
        page.get_by_role("button", name="Konfirmasi oleh KIM").or_(
            page.get_by_role("link", name="Konfirmasi oleh KIM")
        ).first.click()
        page.wait_for_load_state()
        page.get_by_label("Nama lengkap perwakilan").fill("Siti Aminah")
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
        page.screenshot(path=screenshots / f"photos-{width}-confirm.png", full_page=True)
        _no_sideways_scroll(page)
        assert_accessible(page)
        with page.expect_navigation():
            page.get_by_role("button", name="Konfirmasi visitasi").click()
        assert "Perwakilan KIM telah mengonfirmasi visitasi." in page.content()
        assert "Siti Aminah" in page.content()
        page.screenshot(path=screenshots / f"photos-{width}-visit.png", full_page=True)
        _no_sideways_scroll(page)
        assert_accessible(page)

        with page.expect_download() as info:
            page.get_by_role("link", name="Unduh Berita Acara visitasi (PDF)").click()
        pdf = info.value.path().read_bytes()
        doc = pdfium.PdfDocument(pdf)
        text = "\n".join(p.get_textpage().get_text_range() for p in doc)
        doc.close()
        for expected in ("BERITA ACARA VISITASI", "KIM Teluk Pandan", "Siti Aminah", "WITA"):
            assert expected in text, expected
        assert "m dari lokasi KIM" in text
    finally:
        context.close()


def _first_criterion(page) -> str:
    return page.locator(".visit-photos").first.get_attribute("id").split("-", 1)[1]
