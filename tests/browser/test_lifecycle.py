"""The confirmation step of a phase move (a dialog with htmx, a page without JavaScript)
and an entry's standing page, as the admin, at desktop and phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser
CURRENT = "monev-kim-kaltim-2025"
PAST = "monev-kim-kaltim-2024"


def _back_to_nomination(app) -> None:
    """The demo's 2025 event is open for submissions; its move from nomination (with a
    warning to acknowledge and consequences to state) is the one these tests look at."""
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == CURRENT))
        event.status = "nomination"
        db.session.commit()


def test_phase_move_opens_its_checklist_in_a_dialog_by_keyboard(
    app, page, demo_password, screenshots
):
    _back_to_nomination(app)
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{CURRENT}")
    move = page.get_by_role("button", name="Pindahkan ke Pengumpulan berkas")
    move.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Pindahkan ke Pengumpulan berkas")).to_be_visible()
    expect(dialog.get_by_text("Yang akan terjadi:")).to_be_visible()
    expect(dialog.get_by_label("Saya sudah membaca akibat perpindahan ini")).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "lifecycle-move-dialog", phone=True)
    dialog.get_by_role("button", name="Batal").click()
    expect(dialog).to_be_hidden()


def test_phase_move_without_javascript_is_a_page_and_needs_the_confirmation(
    app, browser, live_server, demo_password, screenshots
):
    _back_to_nomination(app)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{CURRENT}/phase/submission")
    submit = page.get_by_role("button", name="Pindahkan ke Pengumpulan berkas")
    if submit.is_enabled():
        submit.click()  # without ticking the confirmation
        expect(
            page.get_by_text("Konfirmasikan bahwa Anda sudah membaca akibat tindakan ini.")
        ).to_be_visible()
    else:
        expect(page.get_by_text("Belum dapat dilakukan. Perbaiki dulu:")).to_be_visible()
    screenshot(page, screenshots, "lifecycle-move-page")
    context.close()


def test_standing_page_refuses_a_disqualification_without_its_reason(
    app, page, demo_password, screenshots
):
    with app.app_context():
        entry_id = db.session.scalar(
            select(Entry.id).join(Event).where(Event.slug == PAST).order_by(Entry.code).limit(1)
        )
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{PAST}/entries/{entry_id}/standing")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Status keikutsertaan")
    assert_accessible(page)
    screenshot(page, screenshots, "lifecycle-standing", phone=True)
    page.get_by_label("Alasan (dicatat di log audit").first.fill("Uji tanpa kategori")
    page.get_by_role("button", name="Diskualifikasi").click()
    expect(page.get_by_text("Pilih alasannya.")).to_be_visible()
    expect(page.get_by_label("Alasan (dicatat di log audit").first).to_have_value(
        "Uji tanpa kategori"
    )
    assert_accessible(page)


def test_public_page_lists_the_finalist_that_never_submitted(page, screenshots):
    page.goto(f"/events/{PAST}")
    section = page.get_by_role("article", name="Tidak dinilai")
    expect(section).to_contain_text("KIM Sangkima Bersatu")
    expect(section).to_contain_text("Tidak mengumpulkan")
    assert_accessible(page)
    screenshot(page, screenshots, "lifecycle-public-not-judged", phone=True)
