"""In a real browser: each demo role signs in with the keyboard and sees its home page, the
main pages have no serious or critical axe violation, the login form works from the
keyboard, the KIM search updates in place, and a wrong password is reported in Indonesian.

Screenshots go to test-artifacts/screenshots/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import select

from monev.directory.models import Kim
from monev.extensions import db
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

# Indonesian texts, as in translations/id/LC_MESSAGES/messages.po (the default locale is id).
# Labels are matched as substrings: required fields add an aria-hidden " *" to the label.
LABEL_EMAIL = "Email"  # msgid "E-mail"
LABEL_PASSWORD = "Kata sandi"  # msgid "Password"
DASHBOARD = "Dasbor"  # msgid "Dashboard"
WRONG_LOGIN = (
    "Alamat email atau kata sandi salah."  # msgid "The e-mail address or password is wrong."
)

ADMIN_EMAIL = "admin@demo.monev.id"
BLOCKING_IMPACTS = {"serious", "critical"}
AXE = Axe()


@dataclass(frozen=True)
class Role:
    name: str
    email: str
    path: str | None  # where the role lands after signing in, when it is not "/"
    heading: str  # the text of its home page's h1


ROLES = [
    Role("admin", ADMIN_EMAIL, "/admin/", DASHBOARD),
    Role("operator", "operator.kutim@demo.monev.id", None, "Kabupaten Kutai Timur"),
    Role("judge", "juri1@demo.monev.id", None, "Dr. Rahmawati Hasan, M.Si."),
    Role("kim", "kim.telukpandan@demo.monev.id", None, "KIM Teluk Pandan"),
]


# --- helpers ------------------------------------------------------------------------------


def sign_in(page: Page, email: str, password: str) -> None:
    """Fill the login form by its labels and submit it with the Enter key."""
    page.goto("/login")
    page.get_by_label(LABEL_EMAIL).fill(email)
    page.get_by_label(LABEL_PASSWORD).fill(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def assert_accessible(page: Page) -> None:
    """No axe violation of impact serious or critical on the page as it is now."""
    results = AXE.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {', '.join(map(str, node['target']))}" for node in v["nodes"])
        for v in blocking
    )
    assert not blocking, f"axe found serious/critical violations on {page.url}:\n{report}"


def screenshot(page: Page, folder, name: str, phone: bool = False) -> None:
    """Full-page screenshot at desktop size; with ``phone``, one at phone size too, where the
    page must fit the width (no sideways scrolling, WCAG 1.4.10 reflow)."""
    page.screenshot(path=folder / f"{name}.png", full_page=True)
    if phone:
        page.set_viewport_size(PHONE)
        page.screenshot(path=folder / f"{name}-phone.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        page.set_viewport_size(DESKTOP)
        assert width <= PHONE["width"], f"{page.url} is {width}px wide on a phone"


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"


# --- each role's home page ----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_signs_in_and_sees_its_home(page, demo_password, screenshots, role):
    sign_in(page, role.email, demo_password)

    if role.path:
        expect(page).to_have_url(re.compile(re.escape(role.path) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(role.heading)
    assert_accessible(page)
    screenshot(page, screenshots, f"{role.name}-home", phone=True)


# --- other pages: axe ---------------------------------------------------------------------

ADMIN_PAGES = [
    "/admin/users",
    "/kim/",
    "/regions/",
    "/admin/audit/",
    "/admin/outbox",
    "/account",
    "/kim/{kim_id}/edit",
    "/admin/users/new",
]
ANONYMOUS_PAGES = ["/login", "/", "/password/forgot"]


def _teluk_pandan_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Kim.id).where(Kim.name == "KIM Teluk Pandan"))


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_page_is_accessible(page, app, demo_password, screenshots, path):
    sign_in(page, ADMIN_EMAIL, demo_password)
    url = path.format(kim_id=_teluk_pandan_id(app))

    response = page.goto(url)

    assert response.status == 200, f"{url} answered {response.status}"
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, f"admin-{slug(path.replace('{kim_id}', 'id'))}", phone=True)


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_anonymous_page_is_accessible(page, screenshots, path):
    response = page.goto(path)

    assert response.status == 200, f"{path} answered {response.status}"
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, f"anonymous-{slug(path)}", phone=True)


# --- keyboard -----------------------------------------------------------------------------


def test_login_form_works_from_the_keyboard_alone(page, demo_password):
    page.goto("/login")
    form = page.locator("main form")
    targets = {
        "email": page.get_by_label(LABEL_EMAIL),
        "password": page.get_by_label(LABEL_PASSWORD),
        "submit": form.locator("button[type=submit]"),
    }

    def focused() -> str:
        for name, locator in targets.items():
            if locator.evaluate("el => el === document.activeElement"):
                return name
        return page.evaluate("document.activeElement ? document.activeElement.outerHTML : ''")

    # The focus may start on the e-mail field (autofocus); otherwise Tab gets there, after
    # the skip link and the header links. Type into each field as the focus reaches it.
    values = {"email": ADMIN_EMAIL, "password": demo_password}
    stops = [focused()]
    while stops[-1] != "submit":
        if stops[-1] in values:
            page.keyboard.type(values.pop(stops[-1]))
        assert len(stops) < 15, f"Tab never reached the submit button: {stops}"
        page.keyboard.press("Tab")
        stops.append(focused())

    reached = [s for s in stops if s in targets]
    assert reached == ["email", "password", "submit"], f"focus order: {stops}"
    assert not values, f"never focused: {sorted(values)}"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(DASHBOARD)


# --- active search ------------------------------------------------------------------------


def test_kim_search_updates_results_in_place(page, demo_password):
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.goto("/kim/")
    results = page.locator("#kim-results")
    expect(results).to_contain_text("KIM Klandasan Ilir")
    # A full page load would drop this marker and fire a new "load" event.
    page.evaluate("window.__sameDocument = true")
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))

    page.get_by_role("searchbox").press_sequentially("Pandan")

    expect(results).to_contain_text("KIM Teluk Pandan")
    expect(results).not_to_contain_text("KIM Klandasan Ilir")
    expect(page).to_have_url(re.compile(r"[?&]q=Pandan"))  # hx-push-url keeps it linkable
    assert page.evaluate("window.__sameDocument === true"), "the search reloaded the page"
    assert not loads, f"full page loads during the search: {loads}"


# --- bad input ----------------------------------------------------------------------------


def test_wrong_password_is_reported_and_email_kept(page, screenshots):
    sign_in(page, ADMIN_EMAIL, "not-the-password")

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("alert")).to_contain_text(WRONG_LOGIN)
    expect(page.get_by_label(LABEL_EMAIL)).to_have_value(ADMIN_EMAIL)
    expect(page.get_by_label(LABEL_PASSWORD)).to_have_value("")
    assert_accessible(page)
    screenshot(page, screenshots, "anonymous-login-wrong-password")


def test_a_date_input_reads_in_the_one_date_format_as_it_changes(page, demo_password, screenshots):
    """Chromium shows a date input in its own locale's order ("03/14/2024"); the line under it
    says the same date the way every page of the app writes one, and follows each change."""
    sign_in(page, ADMIN_EMAIL, demo_password)
    page.set_viewport_size(PHONE)
    page.goto("/kim/new")
    page.fill("#sk_date", "2024-03-14")
    expect(page.locator("#sk_date-echo")).to_have_text("Terbaca: 14 Mar 2024")
    page.fill("#sk_date", "2024-12-06")
    expect(page.locator("#sk_date-echo")).to_have_text("Terbaca: 6 Des 2024")
    page.locator("#sk_date").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "date-echo-phone.png")
