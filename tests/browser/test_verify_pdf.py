"""In a real browser: the verification page's PDF check (TTE). A certificate signed with a
test certificate (monev.signing.demo, its root trusted) is uploaded as downloaded and the
verdict is "ASLI"; the same PDF re-saved by another program is "TIDAK DAPAT DIPERCAYA" with
no green box beside it, and a copy with the signature taken out is "TIDAK BERTANDA TANGAN".
After each upload the keyboard focus is on the "Hasil pemeriksaan" heading, which names the
file. On the trust page, removing the only root asks first in a dialog. At 1280 px and
390 px, no serious or critical axe violations, usable by keyboard.
Screenshots: test-artifacts/screenshots/verify-pdf-*.png, admin-signing-*.png."""

from __future__ import annotations

import io
import re

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


def _unsigned(data: bytes) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            if "/Annots" in page.obj:
                keep = [a for a in page.obj.Annots if a.get("/FT") != "/Sig"]
                page.obj.Annots = pdf.make_indirect(pikepdf.Array(keep))
        del pdf.Root["/AcroForm"]
        pdf.save(out)
    return out.getvalue()


def _upload(page, path, *, keyboard=False) -> None:
    page.get_by_label("PDF sertifikat").set_input_files(str(path))
    button = page.get_by_role("button", name="Periksa PDF")
    with page.expect_navigation():
        if keyboard:
            button.focus()
            page.keyboard.press("Enter")
        else:
            button.click()


def _result_has_focus(page, name: str) -> None:
    heading = page.locator("#pdf-result-title")
    expect(heading).to_be_focused()
    expect(heading).to_contain_text("Hasil pemeriksaan")
    expect(heading).to_contain_text(name)
    # On a phone too the result is in view, not below the code form.
    top = page.evaluate("document.getElementById('pdf-result-title').getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"] / 2


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_upload_a_certificate_then_an_altered_and_an_unsigned_copy(
    page, signed_certificate, screenshots, tmp_path, size
):
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    original, altered = tmp_path / "sertifikat.pdf", tmp_path / "sertifikat-diubah.pdf"
    bare = tmp_path / "sertifikat-tanpa-ttd.pdf"
    original.write_bytes(signed_certificate)
    altered.write_bytes(_resaved(signed_certificate))
    bare.write_bytes(_unsigned(signed_certificate))
    page.goto("/verify")
    assert_accessible(page)
    page.screenshot(path=screenshots / f"verify-pdf-form-{size}.png", full_page=True)

    # By keyboard: the file field, then Enter on the button.
    _upload(page, original, keyboard=True)
    _result_has_focus(page, "sertifikat.pdf")
    verdict = page.locator(".pdf-verdict")
    expect(verdict).to_have_class(re.compile(r"notice-ok"))
    expect(verdict).to_contain_text("ASLI:")
    expect(verdict).to_contain_text("ditandatangani oleh Kepala Diskominfo DEMO")
    findings = page.locator(".pdf-findings")
    expect(findings).to_contain_text("Tanda tangan utuh dan mencakup seluruh dokumen")
    expect(findings).to_contain_text("berantai ke root yang dipercaya penyelenggara")
    expect(findings).to_contain_text("berstatus sah")
    expect(findings).to_contain_text("waktu menurut penanda tangan sendiri")  # no TSA: amber
    expect(page.locator(".pdf-result .notice-bad")).to_have_count(0)
    expect(page.locator(".pdf-record")).to_contain_text("Penerima")
    assert_accessible(page)
    page.screenshot(path=screenshots / f"verify-pdf-genuine-{size}.png", full_page=False)
    page.screenshot(path=screenshots / f"verify-pdf-genuine-{size}-full.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    _upload(page, altered)
    _result_has_focus(page, "sertifikat-diubah.pdf")
    expect(verdict).to_have_class(re.compile(r"notice-bad"))
    expect(verdict).to_contain_text("TIDAK DAPAT DIPERCAYA")
    expect(verdict).to_contain_text("dimodifikasi")
    expect(page.locator(".pdf-result .notice-ok")).to_have_count(0)
    expect(page.locator(".pdf-result")).not_to_contain_text("berstatus sah")
    expect(page.locator(".pdf-record")).to_contain_text("Penerima")
    assert_accessible(page)
    page.screenshot(path=screenshots / f"verify-pdf-modified-{size}.png", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    _upload(page, bare)
    _result_has_focus(page, "sertifikat-tanpa-ttd.pdf")
    expect(verdict).to_contain_text("TIDAK BERTANDA TANGAN")
    expect(page.locator(".pdf-result .notice-ok")).to_have_count(0)
    assert_accessible(page)
    page.screenshot(path=screenshots / f"verify-pdf-unsigned-{size}.png", full_page=False)


def test_admin_signing_page_shows_the_certificate_and_the_trusted_roots(
    page, signed_certificate, demo_password, screenshots
):
    from tests.browser.test_roles import screenshot

    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto("/admin/")
    page.get_by_role("link", name="Tanda tangan elektronik").click()
    expect(page.locator("h1")).to_have_text("Tanda tangan elektronik")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Nama umum: Kepala Diskominfo DEMO (sertifikat uji)")
    expect(facts).to_contain_text("Organisasi: Monev DEMO (sertifikat uji); Negara: ID")
    expect(facts).to_contain_text("Layanan stempel waktu (TSA)")
    expect(page.locator("table")).to_contain_text("Nama umum: Root CA DEMO Monev")
    expect(page.locator("main")).not_to_contain_text("Common Name")
    assert_accessible(page)
    screenshot(page, screenshots, "admin-signing", phone=True)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_removing_the_only_root_asks_first_in_a_dialog(page, demo_password, screenshots, size):
    """The demo trusts one root, its own test root."""
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto("/admin/signing")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    remove = page.get_by_role("button", name=re.compile("Hapus"))
    # By keyboard: the Remove link opens the confirmation step in a dialog.
    remove.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#root-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Ini satu-satunya root yang dipercaya")
    expect(dialog).to_contain_text("Nama umum: Root CA DEMO Monev")
    assert_accessible(page)
    page.screenshot(path=screenshots / f"admin-signing-remove-root-{size}.png", full_page=False)
    # Cancel keeps it.
    dialog.get_by_role("button", name="Batal").click()
    expect(dialog).to_be_hidden()
    expect(rows).to_have_count(1)
    # Without the tick: refused (the step comes back as a page of its own), the root kept.
    remove.click()
    expect(dialog).to_be_visible()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Berhenti memercayai root ini").click()
    step = page.locator("main")
    expect(step.locator("h1")).to_have_text("Berhenti memercayai root ini")
    expect(step.locator(".field-error")).to_contain_text("Konfirmasikan bahwa Anda sudah membaca")
    assert_accessible(page)
    page.screenshot(path=screenshots / f"admin-signing-remove-refused-{size}.png", full_page=False)
    # With the tick (by keyboard): gone, and the page says nothing is trusted now.
    step.get_by_label("Saya memahami akibatnya").focus()
    page.keyboard.press("Space")
    with page.expect_navigation():
        step.get_by_role("button", name="Berhenti memercayai root ini").click()
    expect(page.locator("table")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Belum ada root yang dipercaya")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


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
