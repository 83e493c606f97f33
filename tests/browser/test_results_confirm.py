"""In a real browser, at desktop and phone width, with axe: the organiser drops a score sheet
through its confirmation dialog (opened with the keyboard), acknowledges a fairness "Check:"
with a note, and meets the publish step (a dialog with htmx, a page without JavaScript) that
refuses while checks are unread and without its confirmation.

Screenshots go to test-artifacts/screenshots/results-confirm-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from monev.events.models import Event
from monev.extensions import db
from monev.judging.models import Assignment
from monev.results.models import PublishedResult
from tests import results_factory
from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser

PAST = "monev-kim-kaltim-2024"
REASON = "Juri berhalangan karena sakit; lembar tidak dapat diselesaikan."


@pytest.fixture
def judging_again(app, live_server):
    """The demo's 2024 event back in its judging phase (its presentation stage has sheets
    that are not final): the progress board of that stage."""
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == PAST))
        event.status = "judging"
        stage_id = next(s.id for s in event.stages if s.key == "presentasi")
        db.session.commit()
    return f"/admin/events/{PAST}/judging/stages/{stage_id}/progress"


def test_admin_drops_a_sheet_through_its_dialog_by_keyboard(
    app, page, demo_password, screenshots, judging_again
):
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(judging_again)
    section = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("belum final"))
    )
    expect(section).to_be_visible()
    link = section.get_by_role("button", name=re.compile("^Batalkan lembar")).first
    link.focus()
    page.keyboard.press("Enter")

    dialog = page.locator("dialog#drop-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(re.compile(r"akan dinilai oleh \d+ dari \d+ juri"))).to_be_visible()
    expect(dialog.get_by_text("Akibat tindakan ini:")).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "results-confirm-drop-dialog", phone=True)

    dialog.get_by_label("Mengapa lembar ini dibatalkan?").fill(REASON)
    dialog.get_by_role("button", name="Batalkan lembar").click()  # without the confirmation
    expect(
        page.get_by_text("Konfirmasikan bahwa Anda sudah membaca akibat tindakan ini.")
    ).to_be_visible()
    expect(page.get_by_label("Mengapa lembar ini dibatalkan?")).to_have_value(REASON)
    with app.app_context():
        assert (
            db.session.scalar(select(Assignment.id).where(Assignment.drop_reason.is_not(None)))
            is None
        )

    page.get_by_label("Saya sudah membaca akibat tindakan ini").check()
    page.get_by_role("button", name="Batalkan lembar").click()
    expect(
        page.get_by_text("Lembar dibatalkan; hasil menyebutnya beserta alasannya.")
    ).to_be_visible()
    dropped = page.locator("section", has=page.get_by_role("heading", name="1 lembar dibatalkan"))
    expect(dropped).to_contain_text(REASON)
    expect(dropped.get_by_role("button", name=re.compile("^Pulihkan"))).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "results-confirm-board-dropped", phone=True)


@pytest.fixture
def to_publish(app, live_server):
    """A judged event in its results phase, not published yet (10 fairness checks)."""
    return results_factory.build(app, slug="uji-terbit", entries=4, judges=3)


def test_publish_waits_for_acknowledged_checks_and_its_confirmation(
    app, page, demo_password, screenshots, to_publish
):
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{to_publish.slug}/results/#fairness")
    first = page.locator("ul.guidance li.guidance-warning").first
    first.locator("summary").click()
    first.get_by_label("Catatan Anda").fill("Selisih nilai dibahas dalam rapat juri; hasil tetap.")
    first.get_by_role("button", name="Simpan catatan").click()
    expect(
        page.get_by_text("Pemeriksaan sudah ditinjau; catatan Anda disimpan bersamanya.")
    ).to_be_visible()
    expect(page.locator("ul.guidance li.guidance-warning").first).to_contain_text("Sudah ditinjau")
    assert_accessible(page)
    page.locator("#fairness").screenshot(path=screenshots / "results-confirm-fairness.png")

    publish = page.get_by_role("button", name="Umumkan hasil…")
    publish.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#results-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Belum dapat dilakukan. Perbaiki dulu:")).to_be_visible()
    expect(
        dialog.get_by_text(re.compile(r"9 pemeriksaan keadilan .* belum ditinjau"))
    ).to_be_visible()
    expect(dialog.get_by_role("button", name="Umumkan hasil")).to_be_disabled()
    assert_accessible(page)
    screenshot(page, screenshots, "results-confirm-publish-blocked", phone=True)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # The provisional results: the closing time, then their confirmation step.
    page.get_by_label("Masa sanggah ditutup").fill("2030-08-12T17:00")
    page.get_by_role("button", name="Umumkan hasil sementara…").click()
    announce = page.locator("dialog#announce-dialog")
    expect(
        announce.get_by_text(
            "4 finalis melihat hasil sementara dan dapat mengajukan sanggahan sampai "
            "12 Agu 2030, 17.00 WITA."
        )
    ).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "results-confirm-announce-dialog", phone=True)
    announce.get_by_role("button", name="Batal").click()
    expect(announce).to_be_hidden()

    results_factory.acknowledge_all(app, to_publish.slug)
    page.reload()
    page.get_by_role("button", name="Umumkan hasil…").click()
    expect(
        dialog.get_by_text("Hasil 4 entri dalam 1 kategori diumumkan ke publik.")
    ).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "results-confirm-publish-dialog", phone=True)
    dialog.get_by_label("Saya sudah membaca akibat tindakan ini").check()
    dialog.get_by_role("button", name="Umumkan hasil").click()
    expect(page.get_by_text("Hasil telah diumumkan.")).to_be_visible()
    with app.app_context():
        assert db.session.scalars(
            select(PublishedResult.version).where(PublishedResult.event_id == to_publish.event_id)
        ).all() == [1]


def test_publish_without_javascript_is_a_page_that_needs_the_confirmation(
    app, browser, live_server, demo_password, screenshots, to_publish
):
    results_factory.acknowledge_all(app, to_publish.slug)
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="id-ID")
    page = context.new_page()
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto(f"/admin/events/{to_publish.slug}/results/")
    page.get_by_role("button", name="Umumkan hasil…").click()
    expect(page).to_have_url(re.compile(r"/results/publish$"))
    expect(page.get_by_role("heading", level=1, name="Umumkan hasil")).to_be_visible()
    page.get_by_role("button", name="Umumkan hasil").click()  # without ticking
    expect(
        page.get_by_text("Konfirmasikan bahwa Anda sudah membaca akibat tindakan ini.")
    ).to_be_visible()
    # (axe needs JavaScript; the same step is checked as a dialog above)
    screenshot(page, screenshots, "results-confirm-publish-page", phone=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(PublishedResult.id).where(PublishedResult.event_id == to_publish.event_id)
            )
            is None
        )
    page.get_by_label("Saya sudah membaca akibat tindakan ini").check()
    page.get_by_role("button", name="Umumkan hasil").click()
    expect(page.get_by_text("Hasil telah diumumkan.")).to_be_visible()
    with app.app_context():
        assert (
            db.session.scalar(
                select(PublishedResult.version).where(
                    PublishedResult.event_id == to_publish.event_id
                )
            )
            == 1
        )
    context.close()
