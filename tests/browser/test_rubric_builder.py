"""In a real browser: an admin creates an event, its stages and a category through the forms,
then builds a small rubric in the rubric builder, whose htmx inline forms edit the page in
place and keep the validation summary up to date. Bad input is reported in Indonesian beside
its field, one criterion is entered with the keyboard alone, and the pages pass axe.

Screenshots go to test-artifacts/screenshots/rubric-*.png (gitignored) for a human to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest
from babel.dates import format_datetime
from flask_babel import force_locale, gettext
from playwright.sync_api import ConsoleMessage, Page, Response, expect
from sqlalchemy import select

from monev.events.models import Event
from monev.extensions import db
from monev.rubrics.models import Criterion
from tests.browser import test_roles
from tests.browser.test_roles import ADMIN_EMAIL, assert_accessible, sign_in

pytestmark = pytest.mark.browser

SLUG = "uji-browser"
EVENT_URL = f"/admin/events/{SLUG}"
RUBRIC_URL = f"{EVENT_URL}/rubric/"

# Answers with an error status that the test provokes on purpose: (method, URL pattern, status).
# The builder answers a refused criterion form with 422 and the form again, which htmx swaps in.
REFUSED_CRITERION = ("POST", re.compile(r"/rubric/aspects/\d+/criteria/new$"), 422)
# The criterion form's fields in Tab order, from the name field (autofocus) to the button.
KEYBOARD_ORDER = [
    "name",
    "weight",
    "min_score",
    "max_score",
    "step",
    "guidance",
    "descriptors",
    "evidence",
    "evidence_hint",
]


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture
def page(context) -> Iterator[Page]:
    """As tests/browser/conftest.py's ``page`` (a script error, a console error or a failed
    sub-request fails the test), except for the one 422 answer this test provokes."""
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"console error: {msg.text} ({msg.location.get('url')})")

    def on_response(response: Response) -> None:
        request = response.request
        if response.status < 400 or request.is_navigation_request():
            return
        method, pattern, status = REFUSED_CRITERION
        if (request.method, response.status) == (method, status) and pattern.search(response.url):
            return
        errors.append(f"{request.method} {response.url}: {response.status}")

    new_page = context.new_page()
    new_page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    new_page.on("console", on_console)
    new_page.on("response", on_response)
    yield new_page
    assert not errors, "errors in the browser:\n" + "\n".join(errors)


@pytest.fixture
def ui(app):
    """The text the app shows for a msgid, in Indonesian (the default locale), from the
    app's own compiled catalog: labels and messages are matched as the user reads them,
    whether or not the catalog has been recompiled since a translation was added."""

    def translate(msgid: str, **params) -> str:
        with app.test_request_context(), force_locale("id"):
            return gettext(msgid, **params)

    return translate


def mark_document(page: Page) -> list[str]:
    """Set a marker on ``window`` that a full page load would drop; returns the list of the
    page loads that happen from now on (it must stay empty). The current page's own load
    event is awaited first: on a busy machine it can fire after the marker is set."""
    page.wait_for_load_state("load")
    page.evaluate("window.__sameDocument = true")
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    return loads


def assert_same_document(page: Page, loads: list[str], action: str) -> None:
    assert page.evaluate("window.__sameDocument === true"), f"{action} reloaded the page"
    assert not loads, f"full page loads during {action}: {loads}"


def screenshot(page: Page, folder, name: str) -> None:
    """test_roles' desktop and phone screenshots (the page must fit a phone's width), then
    drop the empty ``style`` attributes that Playwright leaves on inputs when it hides the
    caret: htmx would copy them onto the swapped-in inputs with the same id, which the
    Content Security Policy (no inline styles) refuses with a console error."""
    test_roles.screenshot(page, folder, name, phone=True)
    page.evaluate(
        "document.querySelectorAll('[style=\"\"]').forEach(e => e.removeAttribute('style'))"
    )


def focused_id(page: Page) -> str:
    return page.evaluate(
        "document.activeElement ? (document.activeElement.id ||"
        " document.activeElement.outerHTML.slice(0, 80)) : ''"
    )


# --- the scenario -------------------------------------------------------------------------


def test_admin_builds_a_rubric_in_the_browser(page, app, ui, demo_password, screenshots):
    sign_in(page, ADMIN_EMAIL, demo_password)
    expect(page.locator("html")).to_have_attribute("lang", "id")

    # A new event, from the events list.
    page.goto("/admin/events/")
    page.get_by_role("button", name=ui("New event")).click()
    expect(page).to_have_url(re.compile(r"/admin/events/new$"))
    page.locator("#title").fill("Monev Uji Browser")
    page.locator("#slug").fill(SLUG)
    page.locator("#year").fill("2026")
    with page.expect_navigation():
        page.get_by_role("button", name=ui("Create event")).click()
    expect(page).to_have_url(re.compile(re.escape(EVENT_URL) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Monev Uji Browser")

    # Two stages, with their opening times (datetime-local) and judges per entry.
    stages = [
        ("Administrasi", "adm", "40", "2026-03-02T08:00", "2026-03-20T16:00", "2"),
        ("Presentasi", "pre", "60", "2026-04-06T08:00", "2026-04-10T17:00", "3"),
    ]
    for name, key, weight, opens, closes, judges in stages:
        page.locator("#stages").get_by_role("button", name=ui("Add a stage")).click()
        expect(page).to_have_url(re.compile(r"/stages/new$"))
        page.locator("#name").fill(name)
        page.locator("#key").fill(key)
        page.locator("#weight").fill(weight)
        page.locator("#opens_at").fill(opens)
        page.locator("#closes_at").fill(closes)
        page.locator("#judges_per_entry").fill(judges)
        with page.expect_navigation():
            page.get_by_role("button", name=ui("Save stage")).click()
        expect(page).to_have_url(re.compile(re.escape(EVENT_URL) + "#stages$"))
        row = page.locator("#stages tbody tr", has_text=name)
        expect(row).to_contain_text(key)
        expect(row).to_contain_text(f"{weight} %")
        moment = datetime.fromisoformat(opens)  # written "2 Mar 2026, 08.00 WITA" everywhere
        shown = format_datetime(moment, "d MMM yyyy, HH.mm", locale="id")
        expect(row).to_contain_text(f"{shown} WITA")
    expect(page.locator("#stages tbody tr")).to_have_count(2)

    # A category.
    page.locator("#categories").get_by_role("button", name=ui("Add a category")).click()
    page.locator("#name").fill("KIM Desa")
    page.locator("#key").fill("desa")
    with page.expect_navigation():
        page.get_by_role("button", name=ui("Save category")).click()
    expect(page.locator("#categories")).to_contain_text("KIM Desa")
    expect(page.locator("#categories")).to_contain_text("desa")

    # The rubric builder: an aspect, then a criterion, each without a page load.
    page.get_by_role("button", name=ui("Open the rubric builder")).click()
    expect(page).to_have_url(re.compile(re.escape(RUBRIC_URL) + "$"))
    summary = page.locator("#rubric-summary")
    adm_empty = ui("Stage %(stage)s has no criteria yet.", stage="Administrasi")
    pre_empty = ui("Stage %(stage)s has no criteria yet.", stage="Presentasi")
    expect(summary).to_contain_text(adm_empty)
    expect(summary).to_contain_text(pre_empty)

    loads = mark_document(page)
    new_aspect = page.get_by_label(ui("New aspect in %(stage)s", stage="Administrasi"))
    expect(new_aspect).to_have_id(re.compile(r"^new-aspect-\d+$"))
    stage_id = new_aspect.get_attribute("id").removeprefix("new-aspect-")
    adm = page.locator(f"#stage-{stage_id}")
    new_aspect.fill("Akses")
    adm.get_by_role("button", name=ui("Add aspect")).click()
    created = adm.locator("article.rubric-aspect", has=page.get_by_role("heading", name="Akses"))
    expect(created).to_have_count(1)
    aspect = page.locator("#" + created.get_attribute("id"))  # stays while the heading is edited
    expect(adm.get_by_label(ui("New aspect in %(stage)s", stage="Administrasi"))).to_have_value("")
    assert_same_document(page, loads, "adding an aspect")

    add_criterion = "+ " + ui("Add a criterion to %(aspect)s", aspect="Akses")
    aspect.get_by_role("link", name=add_criterion).click()
    form = aspect.locator(".criterion-form")
    expect(form.locator("#key")).to_have_value("c1")  # proposed: the event's next code
    expect(form.locator("#name")).to_be_focused()  # autofocus after the swap
    form.locator("#name").fill("Papan informasi")
    form.locator("#weight").fill("60")
    form.locator("#min_score").fill("1")
    form.locator("#max_score").fill("10")
    form.locator("#step").fill("0,5")
    form.locator("#descriptors").fill("1-4: Belum ada\n5-10: Ada dan rutin")
    # The summary refreshes itself on the "rubric-changed" event of the builder's answer.
    with page.expect_request(re.compile(r"/rubric/summary$")):
        form.get_by_role("button", name=ui("Save criterion")).click()

    rows = aspect.locator("ol.criteria > li.criterion")
    expect(rows).to_have_count(1)
    c1 = rows.filter(has_text="Papan informasi")
    expect(c1).to_contain_text("c1")
    expect(c1).to_contain_text("0,5")  # the step, with the Indonesian decimal comma
    expect(c1.locator(".descriptors li")).to_have_text(["1–4: Belum ada", "5–10: Ada dan rutin"])
    expect(aspect.locator(".criterion-form")).to_have_count(0)
    weights = "The criteria weights of stage %(stage)s add up to %(total)s, not 100."
    expect(summary).to_contain_text(ui(weights, stage="Administrasi", total="60"))
    expect(summary).not_to_contain_text(adm_empty)
    expect(summary).to_contain_text(pre_empty)
    assert_same_document(page, loads, "adding a criterion")

    # The second criterion with the keyboard alone: Enter opens the form, whose name field
    # takes the focus; type, Tab from field to field in reading order, Enter on the button.
    link = aspect.get_by_role("link", name=add_criterion)
    link.focus()
    page.keyboard.press("Enter")
    form = aspect.locator(".criterion-form")
    expect(form.locator("#name")).to_be_focused()
    expect(form.locator("#key")).to_have_value("c2")
    values = {"name": "Struktur pengelola", "weight": "40"}
    submit = form.get_by_role("button", name=ui("Save criterion"))
    stops = [focused_id(page)]
    while not submit.evaluate("el => el === document.activeElement"):
        if stops[-1] in values:
            page.keyboard.type(values.pop(stops[-1]))
        assert len(stops) < 15, f"Tab never reached the save button: {stops}"
        page.keyboard.press("Tab")
        stops.append(focused_id(page))
    assert not values, f"never focused: {sorted(values)} (focus order: {stops})"
    assert stops[:-1] == KEYBOARD_ORDER, f"focus order: {stops}"
    page.keyboard.press("Enter")

    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("c2")
    expect(rows.nth(1)).to_contain_text("Struktur pengelola")
    expect(summary).not_to_contain_text("Administrasi")  # its weights now add up to 100
    expect(summary).to_contain_text(pre_empty)
    assert_same_document(page, loads, "adding a criterion with the keyboard")

    # Bad input: the lowest score above the highest. The form comes back with the message
    # beside the field and what was typed; nothing is added.
    aspect.get_by_role("link", name=add_criterion).click()
    form = aspect.locator(".criterion-form")
    form.locator("#key").fill("c3")
    form.locator("#name").fill("Kegiatan rutin")
    form.locator("#weight").fill("10")
    form.locator("#min_score").fill("10")
    form.locator("#max_score").fill("5")
    form.locator("#step").fill("1")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_role("button", name=ui("Save criterion")).click()
    assert answer.value.status == 422
    wrong_range = ui(
        "The lowest score (%(min)s) must be below the highest score (%(max)s).", min="10", max="5"
    )
    expect(form.locator("#min_score-error")).to_have_text(wrong_range)
    expect(form.locator("#min_score")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#min_score")).to_have_accessible_description(wrong_range)
    expect(form.get_by_role("alert")).to_contain_text(ui("Please correct the marked fields."))
    expect(form.locator("#name")).to_have_value("Kegiatan rutin")
    expect(form.locator("#key")).to_have_value("c3")
    expect(rows).to_have_count(2)
    expect(summary).not_to_contain_text("Administrasi")
    assert_same_document(page, loads, "a refused criterion")

    assert_accessible(page)  # with the inline form and its error open
    screenshot(page, screenshots, "rubric-builder-error")

    # Cancel closes the inline form and brings the link back, in place.
    form.get_by_role("link", name=ui("Cancel")).click()
    expect(aspect.locator(".criterion-form")).to_have_count(0)
    expect(aspect.get_by_role("link", name=add_criterion)).to_be_visible()
    expect(rows).to_have_count(2)
    # So does the Cancel of the inline rename form.
    aspect.get_by_role("link", name=f"{ui('Rename')} Akses").click()
    expect(aspect.locator(".aspect-form #name")).to_have_value("Akses")
    aspect.locator(".aspect-form").get_by_role("link", name=ui("Cancel")).click()
    expect(aspect.locator(".aspect-form")).to_have_count(0)
    expect(aspect.get_by_role("heading", name="Akses")).to_be_visible()
    assert_same_document(page, loads, "cancelling the inline forms")

    # Edit c1 inline: its weight 60 -> 50; the summary then reports 90.
    c1.get_by_role("link", name=f"{ui('Edit')} Papan informasi").click()
    form = aspect.locator(".criterion-form")
    expect(form.locator("#weight")).to_have_value("60")
    expect(form.locator("#step")).to_have_value("0,5")
    expect(form.locator("#descriptors")).to_have_value("1-4: Belum ada\n5-10: Ada dan rutin")
    assert_accessible(page)  # with the edit form open inside the list of criteria
    screenshot(page, screenshots, "rubric-builder-edit")
    form.locator("#weight").fill("50")
    form.get_by_role("button", name=ui("Save criterion")).click()

    expect(aspect.locator(".criterion-form")).to_have_count(0)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Papan informasi")
    expect(rows.nth(0)).to_contain_text(
        ui(
            "Weight %(w)s · scores %(min)s–%(max)s, step %(step)s · evidence: %(ev)s",
            w="50",
            min="1",
            max="10",
            step="0,5",
            ev=ui("No evidence"),
        )
    )
    expect(summary).to_contain_text(ui(weights, stage="Administrasi", total="90"))
    expect(summary).to_contain_text(pre_empty)
    assert_same_document(page, loads, "editing a criterion")

    # axe and screenshots of the finished pages.
    assert_accessible(page)
    screenshot(page, screenshots, "rubric-builder")
    aspect.get_by_role("link", name=add_criterion).click()
    expect(aspect.locator(".criterion-form #name")).to_be_focused()
    assert_accessible(page)  # with an empty new-criterion form open
    screenshot(page, screenshots, "rubric-builder-new")

    page.goto(EVENT_URL)
    expect(page.locator("#rubric")).to_contain_text(ui(weights, stage="Administrasi", total="90"))
    assert_accessible(page)
    screenshot(page, screenshots, "rubric-event")

    page.goto("/admin/events/")
    expect(page.get_by_role("link", name="Monev Uji Browser")).to_be_visible()
    assert_accessible(page)
    screenshot(page, screenshots, "rubric-events-index")

    # The database holds exactly what was built.
    with app.app_context():
        event_id = db.session.scalar(select(Event.id).where(Event.slug == SLUG))
        criteria = db.session.scalars(
            select(Criterion).where(Criterion.event_id == event_id).order_by(Criterion.key)
        ).all()
        saved = {c.key: (c.name, c.weight, c.step, c.stage.key, c.aspect.name) for c in criteria}
    assert saved == {
        "c1": ("Papan informasi", Decimal(50), Decimal("0.5"), "adm", "Akses"),
        "c2": ("Struktur pengelola", Decimal(40), Decimal(1), "adm", "Akses"),
    }
