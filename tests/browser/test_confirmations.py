"""In a real browser, at phone width (390 px) and desktop width (1280 px): the confirmation
steps of a KIM's submit and of a judge's finalise.

With JavaScript the button opens the step in a <dialog> (htmx): it states the numbers,
Escape and Cancel close it, and the keyboard alone can tick the box and confirm. Without
JavaScript the button leads to a page of its own, which refuses the action until the box is
ticked. Each state passes axe; screenshots go to test-artifacts/screenshots/confirm-*.png.

The entry and the sheet are filled beforehand through the app itself (its test client on
the same database as the live server), so the browser does only the confirmation.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.entries.workspace import queries as workspace_queries
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import queries as judging_queries
from monev.judging.models import ScoreSheet
from monev.judging.sheets import total_of
from tests import upload_corpus as corpus
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_judging import open_sheet  # noqa: F401  (a fixture)
from tests.browser.test_roles import assert_accessible, sign_in
from tests.conftest import csrf_token, post
from tests.conftest import sign_in as sign_in_directly
from tests.submission_fixtures import send_file, send_link

pytestmark = pytest.mark.browser

SLUG = "monev-kim-kaltim-2025"
KIM = "kim.teluklingga@demo.monev.id"  # a 2025 finalist that has not started yet
KIM_NAME = "KIM Teluk Lingga"
JUDGE = "juri1@demo.monev.id"
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
REFUSED = "Konfirmasikan bahwa Anda sudah membaca akibat tindakan ini."
PROFILE = {
    "sk_number": "141/12/SK-KIM/2024",
    "sk_date": "2024-03-14",
    "chair_name": "Andi Firmansyah",
    "members_count": "15",
    "phone": "0812 5500 7788",
    "email": "kim.teluklingga@contoh.id",
}


# --- fixtures: a complete entry in an open window, a complete draft sheet -----------------


@pytest.fixture
def complete_entry(app, live_server) -> dict:
    """KIM Teluk Lingga's 2025 entry in the demo's open submission window, with its profile, one
    piece of evidence per criterion (a link where the criterion takes one) and the
    presentation; returns the numbers the step must state."""
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        assert event.status == "submission"  # the demo is live: its window is open now
        criteria = [(c.id, c.evidence) for c in workspace_queries.evidence_criteria(event.id)]
        event_id = event.id
    client = app.test_client()
    sign_in_directly(client, KIM)
    page = f"/entry/{SLUG}"
    assert post(client, f"{page}/profile", PROFILE).status_code == 303
    links = 0
    for criterion_id, kind in criteria:
        if kind == "file":
            url = f"{page}/criteria/{criterion_id}/file"
            assert send_file(client, url, corpus.pdf(f"Bukti {criterion_id}")).status_code == 303
        else:
            links += 1
            url = f"{page}/criteria/{criterion_id}/link"
            link = f"https://teluklingga.kelurahan.id/bukti-{criterion_id}"
            assert send_link(client, url, link).status_code == 303
    presentation = corpus.pdf("Presentasi KIM Teluk Lingga", pages=2)
    assert send_file(client, f"{page}/presentation/file", presentation).status_code == 303
    return {"event_id": event_id, "criteria": len(criteria), "links": links}


def _entry_status(app, event_id: int) -> str:
    with app.app_context():
        return db.session.scalar(
            select(Entry.submission_status)
            .join(Kim)
            .where(Entry.event_id == event_id, Kim.name == KIM_NAME)
        )


@pytest.fixture
def draft_sheet(app, open_sheet) -> dict:  # noqa: F811  (the imported fixture)
    """juri1's open 2024 presentation sheet, every criterion scored as a draft (the first
    with a comment); returns the total the step must state, as a judge reads it."""
    assignment_id, criteria = open_sheet
    with app.app_context():
        stage_id = db.session.scalar(
            select(Stage.id)
            .join(Event)
            .where(Event.slug == "monev-kim-kaltim-2024", Stage.key == "presentasi")
        )
        rules = {c.id: c for a in judging_queries.stage_criteria(stage_id) for c in a.criteria}
    client = app.test_client()
    sign_in_directly(client, JUDGE)
    data = {"csrf_token": csrf_token(client), "version": 0}
    for index, criterion_id in enumerate(criteria):
        rule = rules[criterion_id]
        value = rule.max_score if index % 2 == 0 else rule.min_score + rule.step
        data[f"value-{criterion_id}"] = str(value)
        data[f"comment-{criterion_id}"] = "Forum warga rutin setiap Jumat." if index == 0 else ""
    assert client.post(f"/judge/sheets/{assignment_id}", data=data).status_code == 302
    with app.app_context():
        sheet = db.session.scalar(
            select(ScoreSheet).where(ScoreSheet.assignment_id == assignment_id)
        )
        totals = total_of(
            judging_queries.criterion_rules(judging_queries.stage_criteria(stage_id)),
            judging_queries.sheet_scores(sheet.id),
        )
    return {
        "assignment_id": assignment_id,
        "total": f"{totals.total:.2f}".replace(".", ","),
        "criteria": len(criteria),
    }


def _sheet_status(app, assignment_id: int) -> str:
    with app.app_context():
        return db.session.scalar(
            select(ScoreSheet.status).where(ScoreSheet.assignment_id == assignment_id)
        )


def _page_without_javascript(browser: Browser, live_server: str, width: str) -> Page:
    context = browser.new_context(
        base_url=live_server, viewport=WIDTHS[width], locale="id-ID", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def _tab_to(page: Page, dialog, target) -> None:
    """The dialog took the focus when it opened (its first focusable part: the box, or on a
    phone the scrolling body of the dialog first); Tab, staying inside, reaches ``target``."""
    assert dialog.evaluate("d => d.contains(document.activeElement)")
    for _press in range(3):
        if target.evaluate("e => e === document.activeElement"):
            break
        page.keyboard.press("Tab")
        assert dialog.evaluate("d => d.contains(document.activeElement)")
    expect(target).to_be_focused()


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{page.url} is {width}px wide in a {viewport}px window"


# --- a KIM submits its entry ----------------------------------------------------------------


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_kim_submit_dialog_states_the_numbers_and_closes_and_confirms_by_keyboard(
    app, page, demo_password, complete_entry, screenshots, width
):
    page.set_viewport_size(WIDTHS[width])
    sign_in(page, KIM, demo_password)
    page.goto(f"/entry/{SLUG}/submit")  # the step as a page of its own (no JavaScript needed)
    expect(page.get_by_role("heading", name="Kirim entri kami")).to_be_visible()
    assert_accessible(page)
    page.goto(f"/entry/{SLUG}")
    page.locator("#checklist").screenshot(
        path=str(screenshots / f"confirm-submit-button-{width}.png"), caret="initial"
    )
    open_step = page.get_by_role("button", name="Kirim entri kami")
    dialog = page.locator("dialog#submit-dialog")

    # Open with the mouse; Escape closes it and nothing is sent.
    open_step.click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Kirim entri kami")).to_be_visible()
    numbers = f"{complete_entry['criteria']} kriteria dengan {complete_entry['criteria']} bukti"
    expect(dialog).to_contain_text(numbers)
    expect(dialog).to_contain_text("WITA")
    expect(dialog).to_contain_text(f"{complete_entry['links']} bukti dukung berupa tautan")
    expect(dialog).to_contain_text("3 isian profil yang tidak wajib masih kosong")
    # caret="initial": hiding the caret would leave style attributes that htmx copies later
    page.screenshot(path=str(screenshots / f"confirm-submit-dialog-{width}.png"), caret="initial")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Open again; Cancel closes it.
    open_step.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Batal").click()
    expect(dialog).to_be_hidden()
    assert _entry_status(app, complete_entry["event_id"]) == "in_progress"

    # The keyboard alone: open (the focus moves into the dialog), tick, confirm.
    open_step.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    box = dialog.get_by_label("Saya sudah memeriksa entri kami dan ingin mengirimnya sekarang")
    _tab_to(page, dialog, box)
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Ya, kirim entri kami")).to_be_focused()
    # axe last before leaving (it too may leave style attributes that htmx would copy)
    assert_accessible(page)
    _fits(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Entri Anda telah dikirim")
    assert _entry_status(app, complete_entry["event_id"]) == "submitted"
    page.screenshot(path=str(screenshots / f"confirm-submit-done-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_kim_submit_without_javascript_is_a_page_that_needs_the_tick(
    app, browser, live_server, demo_password, complete_entry, screenshots, width
):
    page = _page_without_javascript(browser, live_server, width)
    sign_in(page, KIM, demo_password)
    page.goto(f"/entry/{SLUG}")
    with page.expect_navigation():
        page.get_by_role("button", name="Kirim entri kami").click()
    expect(page).to_have_url(f"{live_server}/entry/{SLUG}/submit")
    expect(page.get_by_role("heading", name="Kirim entri kami")).to_be_visible()
    _fits(page)  # (axe needs JavaScript: the JavaScript test checks this same page)
    page.screenshot(path=str(screenshots / f"confirm-submit-page-{width}.png"), full_page=True)

    send = page.get_by_role("button", name="Ya, kirim entri kami")
    with page.expect_navigation():
        send.click()  # without ticking the box
    expect(page.get_by_text(REFUSED)).to_be_visible()
    assert _entry_status(app, complete_entry["event_id"]) == "in_progress"
    page.screenshot(path=str(screenshots / f"confirm-submit-refused-{width}.png"), full_page=True)

    page.get_by_label("Saya sudah memeriksa entri kami dan ingin mengirimnya sekarang").check()
    with page.expect_navigation():
        send.click()
    expect(page.locator(".flash-success")).to_contain_text("Entri Anda telah dikirim")
    assert _entry_status(app, complete_entry["event_id"]) == "submitted"
    page.context.close()


# --- a judge finalises a score sheet --------------------------------------------------------


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_judge_finalise_dialog_states_the_total_and_confirms_by_keyboard(
    app, page, demo_password, draft_sheet, screenshots, width
):
    assignment_id = draft_sheet["assignment_id"]
    page.set_viewport_size(WIDTHS[width])
    sign_in(page, JUDGE, demo_password)
    page.goto(f"/judge/sheets/{assignment_id}/finalise")  # the step as a page of its own
    expect(page.get_by_text(f"Nilai akhir: {draft_sheet['total']} dari 100.")).to_be_visible()
    assert_accessible(page)
    page.goto(f"/judge/sheets/{assignment_id}")
    expect(page.locator("#sheet-connection")).to_have_text("Semua perubahan tersimpan.")
    page.screenshot(path=str(screenshots / f"confirm-finalise-sheet-{width}.png"), caret="initial")
    finalise = page.locator("#finalise-button")
    dialog = page.locator("dialog#finalise-dialog")

    finalise.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Nilai akhir: {draft_sheet['total']} dari 100.")
    expect(dialog).to_contain_text(f"{draft_sheet['criteria']} kriteria dinilai.")
    expect(dialog).to_contain_text(f"{draft_sheet['criteria'] - 1} kriteria tanpa komentar.")
    expect(dialog).to_contain_text("hanya penyelenggara yang dapat membukanya kembali")
    page.screenshot(path=str(screenshots / f"confirm-finalise-dialog-{width}.png"), caret="initial")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    finalise.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Batal").click()
    expect(dialog).to_be_hidden()
    assert _sheet_status(app, assignment_id) == "draft"

    finalise.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    box = dialog.get_by_label("Saya sudah memeriksa nilainya dan ingin memfinalkan lembar ini")
    _tab_to(page, dialog, box)
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Ya, finalkan lembar nilai")).to_be_focused()
    assert_accessible(page)  # last before leaving (see above)
    _fits(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_be_visible()
    assert _sheet_status(app, assignment_id) == "final"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_judge_finalise_without_javascript_saves_then_asks_on_a_page(
    app, browser, live_server, demo_password, draft_sheet, screenshots, width
):
    assignment_id = draft_sheet["assignment_id"]
    page = _page_without_javascript(browser, live_server, width)
    sign_in(page, JUDGE, demo_password)
    page.goto(f"/judge/sheets/{assignment_id}")
    with page.expect_navigation():
        page.get_by_role("button", name="Finalkan lembar nilai").click()
    expect(page).to_have_url(f"{live_server}/judge/sheets/{assignment_id}/finalise")
    expect(page.get_by_text(f"Nilai akhir: {draft_sheet['total']} dari 100.")).to_be_visible()
    _fits(page)
    page.screenshot(path=str(screenshots / f"confirm-finalise-page-{width}.png"), full_page=True)

    confirm = page.get_by_role("button", name="Ya, finalkan lembar nilai")
    with page.expect_navigation():
        confirm.click()  # without ticking the box
    expect(page.get_by_text(REFUSED)).to_be_visible()
    assert _sheet_status(app, assignment_id) == "draft"
    page.get_by_label("Saya sudah memeriksa nilainya dan ingin memfinalkan lembar ini").check()
    with page.expect_navigation():
        confirm.click()
    expect(page.locator(".flash-success")).to_be_visible()
    assert _sheet_status(app, assignment_id) == "final"
    page.context.close()


# --- a judge declares a conflict of interest ------------------------------------------------


def test_judge_conflict_dialog_states_what_it_does_and_needs_the_tick(
    app, page, demo_password, draft_sheet, screenshots
):
    """At phone width: the dialog says how many scores were given; sending it without the
    tick answers the step as a page with the refusal, and nothing is recorded."""
    from monev.judging.models import Assignment, Conflict

    assignment_id = draft_sheet["assignment_id"]
    page.set_viewport_size(PHONE)
    sign_in(page, JUDGE, demo_password)
    page.goto(f"/judge/sheets/{assignment_id}")
    page.get_by_role("button", name="Nyatakan konflik kepentingan").click()
    dialog = page.locator("dialog#conflict-dialog")
    expect(dialog).to_be_visible()
    given = f"{draft_sheet['criteria']} nilai yang sudah Anda berikan tetap tersimpan"
    expect(dialog).to_contain_text(given)
    page.screenshot(path=str(screenshots / "confirm-conflict-dialog-phone.png"), caret="initial")
    dialog.get_by_role("button", name="Batal").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Nyatakan konflik kepentingan").click()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Apa bentuk konflik kepentingannya?").fill("Saya kerabat ketua KIM ini.")
    assert_accessible(page)  # last before leaving the page
    with page.expect_navigation():
        dialog.get_by_role("button", name="Nyatakan konflik kepentingan untuk").click()
    expect(page.get_by_text(REFUSED)).to_be_visible()
    expect(page.get_by_label("Apa bentuk konflik kepentingannya?")).to_have_value(
        "Saya kerabat ketua KIM ini."
    )
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        declared = select(Conflict).where(
            Conflict.entry_id == assignment.entry_id, Conflict.judge_id == assignment.judge_id
        )
        assert db.session.scalar(declared) is None


# --- a dialog opened again before Chromium fires the last "close" ----------------------------


def test_a_dialog_opened_again_before_its_close_event_keeps_its_new_step(page):
    """Chromium fires a dialog's "close" event with the next frame. On a busy phone a quick
    Cancel then Finalise can swap the new step in before that: app.js's emptying of a closed
    dialog must not then wipe the step that is showing (it left the dialog open and empty,
    with the keyboard focus thrown out of it)."""
    page.goto("/login")
    kept = page.evaluate(
        """async () => {
            const dialog = document.createElement("dialog");
            dialog.innerHTML = "<article><p>Langkah lama</p><input aria-label=lama></article>";
            document.body.appendChild(dialog);
            dialog.showModal();
            dialog.close();  // its "close" event is queued, not fired yet
            dialog.firstElementChild.innerHTML = "<p>Langkah baru</p><input aria-label=baru>";
            dialog.showModal();
            const frame = () => new Promise((done) => requestAnimationFrame(done));
            await frame(); await frame(); await frame();
            return {text: dialog.textContent, focused: dialog.contains(document.activeElement)};
        }"""
    )
    assert kept == {"text": "Langkah baru", "focused": True}
