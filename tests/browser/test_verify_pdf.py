"""In a real browser: the verification page's PDF check (TTE). A certificate signed with a
test certificate (monev.signing.demo, its root trusted) is uploaded as downloaded and is
reported intact and trusted; the same PDF re-saved by another program is "dimodifikasi".
At 1280 px and 390 px, no serious or critical axe violations, usable by keyboard.
Screenshots: test-artifacts/screenshots/verify-pdf-*.png."""

from __future__ import annotations

import io

import pikepdf
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, sign_in

pytestmark = pytest.mark.browser

SLUG = "monev-kim-kaltim-2024"


@pytest.fixture
def signed_certificate(app, tmp_path, live_server, browser, demo_password) -> bytes:
    from monev.extensions import db
    from monev.signing import demo, trust

    p12, root = demo.make(tmp_path)
    app.config.update(
        SIGNING_BACKEND="pkcs12", SIGNING_PKCS12=str(p12), SIGNING_PKCS12_PASSPHRASE=demo.PASSPHRASE
    )
    with app.test_request_context():
        trust.add_root(root)
        db.session.commit()
    context = browser.new_context(base_url=live_server, accept_downloads=True)
    page = context.new_page()
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{SLUG}/certificates")
    href = page.locator("a[href*='/certificates/'][href$='.pdf']").first.get_attribute("href")
    data = page.request.get(href).body()
    context.close()
    return data


def _resaved(data: bytes) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out)
    return out.getvalue()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_upload_a_certificate_then_an_altered_copy(
    page, signed_certificate, screenshots, tmp_path, size
):
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    original, altered = tmp_path / "sertifikat.pdf", tmp_path / "sertifikat-diubah.pdf"
    original.write_bytes(signed_certificate)
    altered.write_bytes(_resaved(signed_certificate))
    page.goto("/verify")
    assert_accessible(page)
    page.screenshot(path=screenshots / f"verify-pdf-form-{size}.png", full_page=True)

    # By keyboard: the file field, then Enter on the button.
    page.get_by_label("PDF sertifikat").set_input_files(str(original))
    page.get_by_role("button", name="Periksa PDF").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    findings = page.locator(".pdf-findings")
    expect(findings).to_contain_text("Tanda tangan utuh dan mencakup seluruh dokumen")
    expect(findings).to_contain_text("berantai ke root yang dipercaya penyelenggara")
    expect(findings).to_contain_text("berstatus sah")
    expect(findings.locator(".notice-bad")).to_have_count(0)
    assert_accessible(page)
    page.screenshot(path=screenshots / f"verify-pdf-genuine-{size}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    page.get_by_label("PDF sertifikat").set_input_files(str(altered))
    with page.expect_navigation():
        page.get_by_role("button", name="Periksa PDF").click()
    expect(findings.locator(".notice-bad").first).to_contain_text("dimodifikasi")
    assert_accessible(page)
    page.screenshot(path=screenshots / f"verify-pdf-modified-{size}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_admin_signing_page_shows_the_certificate_and_the_trusted_roots(
    page, signed_certificate, demo_password, screenshots
):
    from tests.browser.test_roles import screenshot

    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto("/admin/")
    page.get_by_role("link", name="Tanda tangan elektronik").click()
    expect(page.locator("h1")).to_have_text("Tanda tangan elektronik")
    expect(page.locator("dl.facts")).to_contain_text("Kepala Diskominfo DEMO (sertifikat uji)")
    expect(page.locator("table")).to_contain_text("Root CA DEMO Monev")
    assert_accessible(page)
    screenshot(page, screenshots, "admin-signing", phone=True)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_too_many_uploads_are_refused_with_the_form_kept(app, page, screenshots, tmp_path, size):
    from tests import upload_corpus as corpus

    app.config.update(VERIFY_UPLOADS_PER_WINDOW=0)  # the next upload is over the limit
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    upload = tmp_path / "sertifikat.pdf"
    upload.write_bytes(corpus.pdf("Sertifikat"))
    page.goto("/verify")
    page.get_by_label("PDF sertifikat").set_input_files(str(upload))
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Periksa PDF").click()
    assert navigation.value.status == 429
    expect(page.locator(".form-errors")).to_contain_text("Terlalu banyak berkas diperiksa")
    expect(page.get_by_label("PDF sertifikat")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=screenshots / f"verify-pdf-limited-{size}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_remote_signing_asks_the_signatory_when_starting_the_batch(
    app, page, demo_password, screenshots, size
):
    app.config.update(SIGNING_BACKEND="remote", SIGNING_REMOTE_URL="http://127.0.0.1:9/")
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{SLUG}/certificates")
    panel = page.locator("#certificate-batch")
    expect(panel.get_by_label("NIK penanda tangan")).to_be_visible()
    expect(panel.locator("input[type=password]")).to_have_count(1)
    panel.get_by_label("NIK penanda tangan").fill("7371010101900001")
    with page.expect_navigation():
        panel.get_by_role("button").click()
    # Without a passphrase: refused beside the NIK, the NIK kept, nothing started.
    expect(page.locator("#nik-error")).to_contain_text("NIK")
    expect(page.get_by_label("NIK penanda tangan")).to_have_value("7371010101900001")
    assert_accessible(page)
    page.locator("#certificate-batch").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / f"certificate-batch-remote-{size}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
