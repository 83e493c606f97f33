"""The offline visit page (static/js/offline.js) at 390 px: a criterion shows its evidence
line only where it asks for evidence, as the online sheet does; the photo count reads
"N foto terkirim (wajib M)"; while a photo is saved (reading the position may take up to
8 s) the page says "Menyimpan foto…" and takes no second tap; the focus ring on "Kirim
sekarang" and on the file input is solid and clearly visible. Screenshots:
test-artifacts/screenshots/offline-photo-*."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from monev.extensions import db
from monev.rubrics.models import Criterion
from tests.browser.conftest import PHONE
from tests.browser.test_roles import assert_accessible, sign_in
from tests.browser.test_visit_offline import KAMPUNG, _criteria, _fits, _jpeg, _prepare, _sheet_id
from tests.browser.test_visits import _a_visit
from tests.test_access_matrix import JUDGE
from tests.test_home_crawl import ACCOUNTS

pytestmark = pytest.mark.browser

# The phone takes its time to find its position (a slow GPS fix), so the saving is seen.
SLOW_GPS = """(() => {
  const geo = navigator.geolocation;
  if (!geo) return;
  const original = geo.getCurrentPosition.bind(geo);
  geo.getCurrentPosition = (ok, fail, options) =>
    setTimeout(() => original(ok, fail, options), 1500);
})();"""


def _ring(locator) -> list[str]:
    return locator.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
    )


def _keyboard_focus(page, locator) -> None:
    """Focus ``locator`` the way a keyboard does (so :focus-visible applies)."""
    locator.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert locator.evaluate("e => e === document.activeElement")


def test_the_offline_page_says_what_it_is_doing_with_a_photo(
    app, field_phone, demo_password, screenshots
):
    urls = _a_visit(app)
    sheet = _sheet_id(urls)
    c1, c2 = _criteria(app, sheet)[:2]
    with app.app_context():
        first, second = db.session.get(Criterion, c1), db.session.get(Criterion, c2)
        first.photos_required, first.evidence = 2, "none"
        second.evidence = "file"
        db.session.commit()
    context = field_phone(KAMPUNG, PHONE)
    context.add_init_script(SLOW_GPS)
    page = context.new_page()
    sign_in(page, ACCOUNTS[JUDGE], demo_password)
    _prepare(page, PHONE)
    page.goto(f"/offline?sheet={sheet}")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    one, two = page.locator(f"#criterion-{c1}"), page.locator(f"#criterion-{c2}")
    # the evidence line only where evidence is asked for
    expect(two).to_contain_text("Bukti dukung:")
    expect(one).not_to_contain_text("Bukti dukung")
    expect(one.locator(".offline-photos > p").first).to_have_text(
        "Foto · 0 foto terkirim (wajib 2)"
    )

    # the focus ring is solid and 3 px on the send button and on the file input
    send = page.get_by_role("button", name="Kirim sekarang")
    _keyboard_focus(page, send)
    assert _ring(send) == ["solid", "3px"]
    take = page.locator(f"#photo-{c1}")
    _keyboard_focus(page, take)
    assert _ring(take) == ["solid", "3px"]
    page.screenshot(path=screenshots / "offline-photo-390-focus.png", full_page=False)

    context.set_offline(True)
    page.set_input_files(f"#photo-{c1}", _jpeg("green"))
    status = page.locator(f"#photo-status-{c1}")
    expect(status).to_have_text("Menyimpan foto…")
    assert status.get_attribute("role") == "status"
    expect(take).to_be_disabled()
    page.screenshot(path=screenshots / "offline-photo-390-saving.png", full_page=False)
    expect(one.locator(".offline-photo")).to_have_count(1)
    expect(page.locator(f"#photo-{c1}")).to_be_enabled()
    expect(page.locator(f"#photo-status-{c1}")).to_have_text("")
    _fits(page)
    assert_accessible(page)

    context.set_offline(False)
    send.click()
    expect(one.locator(".offline-photos > p").first).to_have_text(
        "Foto · 1 foto terkirim (wajib 2)", timeout=20_000
    )
    page.screenshot(path=screenshots / "offline-photo-390-sent.png", full_page=True)
