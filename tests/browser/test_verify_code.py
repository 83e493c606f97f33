"""In a real browser, on a phone (390 px): a villager types the code printed under a
certificate's QR code the way one types, in lower case with spaces, and presses Enter: the
certificate is "Valid". A code with one character wrong is refused with advice to check the
characters or scan the QR code, the typed code kept in the field (in capitals and groups) to
correct. No serious or critical axe violations (at 1280 px too). Screenshots:
test-artifacts/screenshots/verify-code-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_roles import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def live_code(app) -> tuple[str, str]:
    """(code, number) of a valid certificate of the demo."""
    from monev.certificates.models import Certificate
    from monev.extensions import db

    with app.app_context():
        cert = db.session.scalars(
            select(Certificate).where(Certificate.revoked_at.is_(None)).order_by(Certificate.id)
        ).first()
        return cert.code, cert.number


def test_a_code_typed_in_lowercase_with_spaces_verifies_on_a_phone(
    page, live_server, live_code, screenshots, allowed_answers
):
    code, number = live_code
    assert "." not in code and len(code) == 24  # the demo issues short codes
    page.set_viewport_size(PHONE)
    page.goto("/verify")
    field = page.get_by_label("Kode sertifikat")
    expect(page.locator("#code-hint")).to_contain_text("7K3P-Q9XD-2MWT-5RVA-H4CN")
    typed = " ".join(code.lower().split("-"))
    field.fill(typed)
    assert_accessible(page)
    page.screenshot(path=screenshots / "verify-code-typed-phone.png", full_page=False)
    with page.expect_navigation():
        field.press("Enter")
    assert page.url == f"{live_server}/verify/{code}"
    expect(page.locator(".notice-ok")).to_contain_text("Sah.")
    expect(page.locator("dl.facts")).to_contain_text(number)
    assert_accessible(page)
    page.screenshot(path=screenshots / "verify-code-valid-phone.png", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # One character wrong (a B read as 8, say): refused, with what to do.
    wrong = ("8" if code[0] != "8" else "B") + code[1:]
    field = page.get_by_label("Kode sertifikat")
    field.fill(wrong.lower().replace("-", " "))
    with page.expect_navigation():
        field.press("Enter")
    notice = page.locator("[role=status].notice-bad")
    expect(notice).to_contain_text("kemungkinan salah ketik")
    expect(notice).to_contain_text("Periksa setiap karakter")
    expect(notice).to_contain_text("pindai kode QR")
    expect(page.get_by_label("Kode sertifikat")).to_have_value(wrong)
    assert_accessible(page)
    page.screenshot(path=screenshots / "verify-code-mistyped-phone.png", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    assert_accessible(page)
    page.screenshot(path=screenshots / "verify-code-mistyped-desktop.png", full_page=False)
