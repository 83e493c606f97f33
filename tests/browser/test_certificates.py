"""In a real browser, on the demo (2024 published, certificates issued): the admin's
certificate page with its live design preview (htmx), the KIM's and the judge's downloads,
and the public verification page; no script or CSP errors, no serious or critical axe
violations, usable by keyboard. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser

SLUG = "monev-kim-kaltim-2024"


def _preview_src(page) -> str:
    return page.locator("#certificate-preview img").get_attribute("src")


def test_admin_adjusts_the_design_with_a_live_preview(
    page, demo_password, screenshots, allowed_answers
):
    # The preview answers a broken pattern with 422 and the reasons, which htmx shows.
    allowed_answers.append(("POST", r"/certificates/preview$", 422))
    sign_in(page, ADMIN_EMAIL, demo_password)
    response = page.goto(f"/admin/events/{SLUG}/certificates")
    assert response.status == 200
    expect(page.locator("table tbody tr")).not_to_have_count(0)  # the demo's certificates
    # The preview loads by itself, drawn by the PDF code.
    expect(page.locator("#certificate-preview img")).to_be_visible()
    first = _preview_src(page)
    assert first.startswith("data:image/jpeg;base64,")
    assert_accessible(page)
    screenshot(page, screenshots, "admin-certificates", phone=True)

    # By keyboard: focus the title field, type, and the preview follows before saving.
    page.locator("#title").focus()
    page.keyboard.type("PIAGAM JUARA")
    expect(page.locator("#certificate-preview img")).not_to_have_attribute("src", first)
    page.wait_for_load_state("networkidle")
    changed = _preview_src(page)

    # A broken pattern: the preview says why, in Indonesian, and keeps the form as typed.
    page.locator("#number_pattern").fill("{nomor}")
    expect(page.locator("#certificate-preview .form-errors")).to_contain_text("{seq}")
    page.locator("#number_pattern").fill("{seq:03d}/MONEV-KIM/DISKOMINFO-KT/{year}")
    expect(page.locator("#certificate-preview img")).to_have_attribute("src", changed)

    # Preview as a judge's certificate.
    page.locator("#preview_kind").select_option("judge")
    expect(page.locator("#certificate-preview img")).to_be_visible()
    screenshot(page, screenshots, "admin-certificates-preview")

    # Save by keyboard (Enter in a text field submits the form normally, with its files).
    page.locator("#place").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#title")).to_have_value("PIAGAM JUARA")
    assert_accessible(page)


def test_kim_and_judge_download_their_own_certificate(browser, live_server, demo_password):
    logins = {"kim": "kim.telukpandan@demo.monev.id", "judge": "juri1@demo.monev.id"}
    for role in ("kim", "judge"):
        context = browser.new_context(base_url=live_server, accept_downloads=True)
        page = context.new_page()
        sign_in(page, logins[role], demo_password)
        page.goto("/")
        link = page.locator("a[href*='/certificates/'][href$='.pdf']").first
        expect(link).to_be_visible()
        with page.expect_download() as download:
            link.click()
        assert re.match(r"sertifikat-.*\.pdf", download.value.suggested_filename)
        assert_accessible(page)
        context.close()


def test_verification_page_from_a_certificate_code(page, demo_password, screenshots):
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{SLUG}/certificates")
    href = page.locator("a[href*='/verify/']").first.get_attribute("href")
    page.context.clear_cookies()
    response = page.goto(href)
    assert response.status == 200
    expect(page.locator(".notice-ok")).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "verify-valid", phone=True)
    response = page.goto(href[:-3] + "xyz")
    assert response.status == 404
    assert_accessible(page)


def test_admin_generates_all_certificate_files(page, demo_password, screenshots):
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{SLUG}/certificates")
    panel = page.locator("#certificate-batch")
    # By keyboard: the generate button is reachable and starts the batch (the test app runs
    # jobs at once; a real deployment shows the progress bar polling until done).
    panel.get_by_role("button").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(panel.locator("a[href$='certificates.zip']")).to_be_visible()
    with page.expect_download() as download:
        panel.locator("a[href$='certificates.pdf']").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert_accessible(page)
    screenshot(page, screenshots, "admin-certificate-batch")


def test_documents_page_and_the_kim_rapor(browser, live_server, page, demo_password, screenshots):
    sign_in(page, ADMIN_EMAIL, demo_password)
    response = page.goto(f"/admin/events/{SLUG}/documents")
    assert response.status == 200
    expect(page.locator("a[href$='berita-acara.pdf']")).to_be_visible()
    expect(page.locator("a[href$='draf-sk.pdf']")).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "admin-documents", phone=True)

    context = browser.new_context(base_url=live_server, accept_downloads=True)
    kim = context.new_page()
    sign_in(kim, "kim.telukpandan@demo.monev.id", demo_password)
    kim.goto("/")
    link = kim.locator("a[href*='/my/documents/'][href$='rapor.pdf']")
    expect(link).to_be_visible()
    with kim.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert_accessible(kim)
    screenshot(kim, screenshots, "kim-home-documents", phone=True)
    context.close()
