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

    # A damaged QR: the code printed under it is typed into the form, by keyboard.
    page.goto("/verify")
    page.get_by_label("Kode sertifikat").fill(href.rsplit("/", 1)[1])
    page.keyboard.press("Enter")
    expect(page.locator(".notice-ok")).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "verify-typed-code", phone=True)


def test_admin_generates_all_certificate_files(page, demo_password, screenshots):
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{SLUG}/certificates")
    panel = page.locator("#certificate-batch")
    # By keyboard: the generate button is reachable and starts the batch (the test app runs
    # jobs at once; a real deployment shows the progress bar polling until done).
    panel.get_by_role("button").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # Rendered by the job: slow on a busy machine.
    expect(panel.locator("a[href$='certificates.zip']")).to_be_visible(timeout=30_000)
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


@pytest.fixture
def slow_queue(app, tmp_path, monkeypatch):
    """The live app's jobs go to a real SQLite queue, run by a consumer thread, with each
    rendering step slowed down so that the progress bar is seen moving."""
    import threading
    import time

    from monev import jobs
    from monev.certificates import services

    app.config.update(
        HUEY_IMMEDIATE=False,
        HUEY_NAME="browser-batch",
        HUEY_SQLITE_PATH=str(tmp_path / "huey.db"),
        CERTIFICATE_BATCH_CHUNK=4,
    )
    jobs.init_app(app)
    real = services.pdfs

    def slow(certs, **options):
        time.sleep(0.6)
        return real(certs, **options)

    monkeypatch.setattr(services, "pdfs", slow)
    stop = threading.Event()

    def consume():
        while not stop.is_set():
            task = jobs.huey.dequeue()
            if task is None:
                time.sleep(0.1)
            else:
                jobs.huey.execute(task)

    consumer = threading.Thread(target=consume, name="consumer", daemon=True)
    consumer.start()
    yield
    stop.set()
    consumer.join(timeout=30)
    jobs.huey.flush()
    app.config.update(HUEY_IMMEDIATE=True, CERTIFICATE_BATCH_CHUNK=100)
    jobs.init_app(app)


def test_progress_bar_updates_live_until_the_files_are_ready(
    page, demo_password, screenshots, slow_queue
):
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{SLUG}/certificates")
    panel = page.locator("#certificate-batch")
    with page.expect_navigation():
        panel.get_by_role("button").click()
    progress = panel.locator("progress")
    expect(progress).to_be_visible()
    total = int(progress.get_attribute("max"))
    assert total == 24  # the demo's: 8 winners, 11 participants, 5 judges
    # htmx polls the progress: the bar moves without reloading the page.
    expect(progress).not_to_have_attribute("value", "0", timeout=15_000)
    moving = int(progress.get_attribute("value"))
    assert 0 < moving < total
    expect(panel).to_contain_text(f"dari {total} sertifikat")  # "%(done)d of %(total)d …"
    assert_accessible(page)
    screenshot(page, screenshots, "admin-certificate-batch-progress")
    # Done: the polling stops (HTTP 286) and the downloads appear, still without a reload.
    expect(panel.locator("a[href$='certificates.zip']")).to_be_visible(timeout=30_000)
    expect(progress).to_have_count(0)
