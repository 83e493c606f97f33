"""In a real browser: a finalist KIM signs in, uploads its evidence (each card refreshes in
place, with the checklist), and submits through its confirmation step; the same upload also
works with JavaScript off.

The demo's 2025 event is live, open for submissions: KIM Teluk Lingga is a finalist there
that has not uploaded anything yet (KIM Teluk Pandan is half-way).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from monev.directory.models import Kim
from monev.entries.models import Entry, Evidence
from monev.events.models import Event
from monev.extensions import db
from tests import upload_corpus as corpus
from tests.browser.test_roles import assert_accessible, sign_in

pytestmark = pytest.mark.browser

SLUG = "monev-kim-kaltim-2025"
EMAIL = "kim.teluklingga@demo.monev.id"
KIM_NAME = "KIM Teluk Lingga"


@pytest.fixture
def open_window(app, live_server):
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        assert event.status == "submission"  # the demo is live: its window is open now
        return event.id


def test_kim_uploads_evidence_and_submits(page: Page, app, open_window, demo_password, screenshots):
    sign_in(page, EMAIL, demo_password)
    page.goto("/")
    page.locator(f"a[href='/entry/{SLUG}']").click()
    expect(page.locator("h1")).to_contain_text("Monev KIM se-Kalimantan Timur 2025")
    assert_accessible(page)

    cards = page.locator("article.evidence-card[id^='criterion-']")
    count = cards.count()
    assert count == 5  # a1–a5 ask for evidence; the Presentasi criteria do not
    for index in range(count):
        card = cards.nth(index)
        card_id = card.get_attribute("id")
        file_input = card.locator("input[type=file]")
        if file_input.count():
            file_input.set_input_files(
                files=[
                    {
                        "name": f"bukti-{index}.pdf",
                        "mimeType": "application/pdf",
                        "buffer": corpus.pdf(f"Bukti {index}"),
                    }
                ]
            )
            card.locator("form.upload-form button[type=submit]").click()
        else:
            card.locator("input[type=url]").fill(f"https://teluklingga.kelurahan.id/bukti-{index}")
            card.locator("form.link-form button[type=submit]").click()
        # htmx swaps the card in place: it now lists the file or link
        expect(page.locator(f"#{card_id} .evidence-items li")).to_have_count(1)

    presentation = page.locator("#presentation")
    presentation.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": "presentasi.pdf",
                "mimeType": "application/pdf",
                "buffer": corpus.pdf("Presentasi KIM Teluk Lingga", pages=3),
            }
        ]
    )
    presentation.locator("form.upload-form button[type=submit]").click()
    expect(page.locator("#presentation .evidence-items li")).to_have_count(1)
    # the checklist followed every card
    expect(page.locator("#checklist .check-missing")).to_have_count(0)
    page.screenshot(path=str(screenshots / "submission-workspace.png"), full_page=True)

    # Submitting goes through its confirmation step (tests/browser/test_confirmations.py).
    page.locator(".submit-entry .submit-button").click()
    dialog = page.locator("dialog#submit-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("checkbox").check()
    dialog.get_by_role("button", name="Ya, kirim entri kami").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("input[type=file]")).to_have_count(0)  # read-only now
    page.screenshot(path=str(screenshots / "submission-submitted.png"), full_page=True)
    with app.app_context():
        entry = db.session.scalar(
            select(Entry).join(Kim).where(Entry.event_id == open_window, Kim.name == KIM_NAME)
        )
        assert entry.submission_status == "submitted"
        assert db.session.query(Evidence).filter(Evidence.entry_id == entry.id).count() == 6


def test_upload_works_without_javascript(browser, live_server, app, open_window, demo_password):
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="id-ID")
    page = context.new_page()
    try:
        sign_in(page, EMAIL, demo_password)
        page.goto(f"/entry/{SLUG}")
        card = page.locator("article.evidence-card[id^='criterion-']").first
        card.locator("input[type=file]").set_input_files(
            files=[{"name": "sk.pdf", "mimeType": "application/pdf", "buffer": corpus.pdf("SK")}]
        )
        with page.expect_navigation():
            card.locator("form.upload-form button[type=submit]").click()
        expect(page.locator(".flash-success")).to_contain_text("sk.pdf")
        expect(
            page.locator("article.evidence-card[id^='criterion-']").first.locator(
                ".evidence-items li"
            )
        ).to_have_count(1)
    finally:
        context.close()
