"""Issue scenario, in the browser: five finalists, four never submit, the window closes.

Nobody clicks anything when the deadline passes, yet the four are "Tidak mengumpulkan"
everywhere the organiser and the KIM look; the move to verification first names why it is
refused, then states the four with a number and needs its confirmation; the KIM sees its
standing and the reason on a phone.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_roles import assert_accessible, screenshot, sign_in
from tests.conftest import PASSWORD
from tests.submission_fixtures import *  # noqa: F403
from tests.submission_fixtures import SLUG, close_window

pytestmark = pytest.mark.browser


def test_four_finalists_that_never_submitted_are_not_judged(
    app, page, context, five, make_user, screenshots
):
    admin = make_user("admin")
    sign_in(page, admin.email, PASSWORD)

    # While the window is open, the move names its reason and cannot be confirmed.
    page.goto(f"/admin/events/{SLUG}")
    page.get_by_role("button", name=re.compile("Pindahkan ke Verifikasi")).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("4 dari 5 entri belum mengirim")
    expect(
        dialog.get_by_role("button", name=re.compile("Pindahkan ke Verifikasi"))
    ).to_be_disabled()
    assert_accessible(page)
    screenshot(page, screenshots, "scenario-move-refused")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # The window closes: no click, yet the queue shows four entries that did not submit.
    close_window(app, five[0].event_id)
    page.goto(f"/admin/events/{SLUG}/verification")
    expect(page.get_by_text("Tidak mengumpulkan")).to_have_count(4)
    assert_accessible(page)
    screenshot(page, screenshots, "scenario-verification-queue", phone=True)

    # The move now states the consequence with its number and needs the confirmation.
    page.goto(f"/admin/events/{SLUG}")
    page.get_by_role("button", name=re.compile("Pindahkan ke Verifikasi")).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("4 entri yang tidak pernah mengirim")
    move = dialog.get_by_role("button", name=re.compile("Pindahkan ke Verifikasi"))
    move.click()
    expect(
        page.get_by_text("Konfirmasikan bahwa Anda sudah membaca akibat tindakan ini.")
    ).to_be_visible()
    page.get_by_label("Saya sudah membaca akibat").check()
    page.get_by_role("button", name=re.compile("Pindahkan ke Verifikasi")).click()
    expect(page.get_by_text("Kegiatan kini berada pada tahapan Verifikasi")).to_be_visible()

    # A KIM that never submitted sees its standing and why, on a phone.
    phone = context.browser.new_context(
        base_url=page.url.split("/admin")[0], viewport={"width": 390, "height": 844}
    )
    kim_page = phone.new_page()
    sign_in(kim_page, five[2].email, PASSWORD)
    expect(kim_page.get_by_text("Tidak mengumpulkan").first).to_be_visible()
    expect(kim_page.get_by_text("ditutup tanpa pengiriman").first).to_be_visible()
    assert_accessible(kim_page)
    kim_page.screenshot(path=screenshots / "scenario-kim-standing-phone.png", full_page=True)
    phone.close()
