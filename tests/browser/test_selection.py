"""The selection between stages, as the organiser: the demo's confirmed cut-off at desktop and
phone width, and a provisional one confirmed by keyboard in its dialog (and, without
JavaScript, on its own page, refused without the confirmation)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from monev.entries.models import Entry
from monev.events.models import Event, StageSelection
from monev.extensions import db
from monev.judging.models import Assignment
from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser
PAST = "monev-kim-kaltim-2024"


def _stage_id(app, key: str = "administrasi") -> int:
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == PAST))
        return next(s.id for s in event.stages if s.key == key)


def _back_to_provisional(app) -> int:
    """The demo's 2024 event as it was before its cut-off was confirmed: in Judging, nobody
    assigned in Presentasi yet, the rules set but not confirmed, every finalist active."""
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == PAST))
        stages = {s.key: s.id for s in event.stages}
        for assignment in db.session.scalars(
            select(Assignment).where(Assignment.stage_id == stages["presentasi"])
        ):
            db.session.delete(assignment)
        for row in db.session.scalars(
            select(StageSelection).where(StageSelection.stage_id == stages["administrasi"])
        ):
            row.confirmed_at, row.confirmed_by_id, row.decisions = None, None, None
        for entry in db.session.scalars(
            select(Entry).where(Entry.event_id == event.id, Entry.standing == "not_selected")
        ):
            entry.standing, entry.standing_reason, entry.standing_stage_id = "active", None, None
        event.status = "judging"
        db.session.commit()
        return stages["administrasi"]


def test_the_demo_cut_off_reads_at_desktop_and_phone_width(app, page, demo_password, screenshots):
    stage_id = _stage_id(app)
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{PAST}")
    link = page.get_by_role("link", name="Seleksi sesudah Administrasi")
    expect(link).to_contain_text("Dikonfirmasi")
    link.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "selection-event-page.png")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Seleksi sesudah Administrasi")
    expect(page.get_by_text("Dikonfirmasi pada")).to_be_visible()
    desa = page.get_by_role("article", name="KIM Desa")
    expect(desa.get_by_role("row", name="KIM Teluk Pandan")).to_contain_text("Tidak lolos")
    expect(desa).to_contain_text("Peringkat 4 dari 4: di luar 3 teratas.")
    kelurahan = page.get_by_role("article", name="KIM Kelurahan")
    expect(kelurahan).to_contain_text("Setiap entri dengan total minimal 60 lolos.")
    expect(kelurahan).to_contain_text("di bawah nilai batas 60")
    assert page.url.endswith(f"/stages/{stage_id}/selection")
    assert_accessible(page)
    screenshot(page, screenshots, "selection-confirmed", phone=True)

    # The results list the entries left out after the finalists, without a rank.
    page.goto(f"/admin/events/{PAST}/results/")
    row = page.locator("#category-desa table.results-table tbody tr").last
    expect(row).to_contain_text("KIM Teluk Pandan")
    expect(row).to_contain_text("Tidak lolos ke tahap Presentasi")
    page.goto(f"/events/{PAST}/results")
    expect(page.get_by_role("row", name="KIM Teluk Pandan")).to_contain_text(
        "Tidak lolos ke tahap Presentasi"
    )
    assert_accessible(page)
    screenshot(page, screenshots, "selection-public-results", phone=True)


def test_a_provisional_cut_off_is_confirmed_by_keyboard_in_its_dialog(
    app, page, demo_password, screenshots
):
    stage_id = _back_to_provisional(app)
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{PAST}/stages/{stage_id}/selection")
    expect(page.get_by_text("Daftar sementara.")).to_be_visible()
    expect(page.get_by_text("8 entri akan lolos ke Presentasi, 3 tidak.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "selection-provisional", phone=True)

    # Change a rule by keyboard: open the details, choose the top N, type 2, press Enter.
    desa = page.get_by_role("article", name="KIM Desa")
    desa.locator("summary").focus()
    page.keyboard.press("Enter")
    desa.get_by_label("N teratas dalam peringkat").focus()
    page.keyboard.press("Space")
    desa.get_by_label("Jumlah entri yang lolos").fill("2")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("KIM Desa: 2 entri teratas lolos.").first).to_be_visible()

    confirm = page.get_by_role("button", name="Konfirmasi seleksi…")
    confirm.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#selection-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("7 entri lolos ke Presentasi, 4 tidak lolos.")
    expect(dialog).to_contain_text("KIM Desa: 2 lolos, 2 tidak lolos")
    assert_accessible(page)
    screenshot(page, screenshots, "selection-confirm-dialog", phone=True)
    dialog.get_by_role("button", name="Batal").click()
    expect(dialog).to_be_hidden()

    confirm.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Saya sudah membaca akibat tindakan ini").focus()
    page.keyboard.press("Space")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Konfirmasi seleksi", exact=True).click()
    expect(page.get_by_text("Seleksi dikonfirmasi: 7 entri lolos ke Presentasi.")).to_be_visible()
    expect(page.get_by_text("Dikonfirmasi pada")).to_be_visible()
    with app.app_context():
        left_out = db.session.scalars(
            select(Entry.code).where(Entry.standing == "not_selected").order_by(Entry.code)
        ).all()
    assert len(left_out) == 4
    assert_accessible(page)


def test_without_javascript_the_confirmation_is_a_page_that_needs_the_checkbox(
    app, browser, live_server, demo_password, screenshots
):
    stage_id = _back_to_provisional(app)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{PAST}/stages/{stage_id}/selection")
    page.get_by_role("button", name="Konfirmasi seleksi…").click()
    expect(page).to_have_url(
        f"{live_server}/admin/events/{PAST}/stages/{stage_id}/selection/confirm"
    )
    page.get_by_role("button", name="Konfirmasi seleksi", exact=True).click()
    expect(
        page.get_by_text("Konfirmasikan bahwa Anda sudah membaca akibat tindakan ini.")
    ).to_be_visible()
    screenshot(page, screenshots, "selection-confirm-page")
    with app.app_context():
        assert db.session.scalar(select(Entry.id).where(Entry.standing == "not_selected")) is None
    context.close()
