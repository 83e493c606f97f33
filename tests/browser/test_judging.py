"""In a real browser: a judge scores the demo's open presentation sheet, the connection drops
mid-sheet (Playwright's offline mode), the judge keeps typing, the page says the changes are
kept in this browser, the connection returns and every value reaches the database. The sheet
passes axe. Screenshots go to test-artifacts/screenshots/judging-*.png."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import select

from monev.auth.models import User
from monev.core.timeutil import utcnow
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, Score, ScoreSheet
from tests.browser.test_roles import assert_accessible, sign_in

pytestmark = pytest.mark.browser

JUDGE = "juri1@demo.monev.id"
OFFLINE = (
    "You are offline. Your changes are kept in this browser and will be sent when the "
    "connection returns."
)


def _id(app, msgid: str) -> str:
    with app.test_request_context(), force_locale("id"):
        return gettext(msgid)


@pytest.fixture
def open_sheet(app, live_server):
    """Reopen the demo's 2024 presentation stage for judging, and pick juri1's assignment
    that has no sheet yet."""
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == "monev-kim-kaltim-2024"))
        stage = next(s for s in event.stages if s.key == "presentasi")
        event.status = "judging"
        stage.opens_at = utcnow() - timedelta(days=1)
        stage.closes_at = utcnow() + timedelta(days=1)
        judge = db.session.scalar(select(User).where(User.email == JUDGE))
        assignment = db.session.scalar(
            select(Assignment)
            .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
            .where(
                Assignment.judge_id == judge.id,
                Assignment.stage_id == stage.id,
                ScoreSheet.id.is_(None),
            )
        )
        criteria = [
            c.id
            for a in sorted(stage_aspects(stage.id), key=lambda a: a.position)
            for c in a.criteria
        ]
        db.session.commit()
        return assignment.id, criteria


def stage_aspects(stage_id):
    from monev.judging.queries import stage_criteria

    return stage_criteria(stage_id)


def _stored(app, assignment_id) -> dict[int, tuple]:
    with app.app_context():
        sheet = db.session.scalar(
            select(ScoreSheet).where(ScoreSheet.assignment_id == assignment_id)
        )
        if sheet is None:
            return {}
        return {
            s.criterion_id: (s.value, s.comment)
            for s in db.session.scalars(select(Score).where(Score.sheet_id == sheet.id))
        }


def test_offline_changes_are_kept_and_sent_when_the_connection_returns(
    app, page, context, demo_password, open_sheet, screenshots
):
    assignment_id, criteria = open_sheet
    saved = _id(app, "Saved")
    all_saved = _id(app, "All changes saved.")
    sign_in(page, JUDGE, demo_password)
    page.goto(f"/judge/sheets/{assignment_id}")
    status = page.locator("#sheet-connection")
    expect(status).to_have_text(all_saved)

    # Online: the first score is autosaved and says so.
    page.locator(f"#value-{criteria[0]}").fill("8,5")
    expect(page.locator(f"#state-{criteria[0]}")).to_contain_text(saved)
    expect(status).to_have_text(all_saved)
    assert _stored(app, assignment_id)[criteria[0]][0] == Decimal("8.5")

    # Offline: keep typing; nothing is lost and the page says so.
    context.set_offline(True)
    typed = {criteria[1]: "7", criteria[2]: "9,5", criteria[3]: "6"}
    for criterion, value in typed.items():
        page.locator(f"#value-{criterion}").fill(value)
    page.locator(f"#comment-{criteria[1]}").fill("Forum warga rutin setiap Jumat.")
    page.locator(f"#value-{criteria[0]}").fill("9")  # a saved score changed while offline
    page.wait_for_timeout(1200)  # longer than the autosave delay
    expect(status).to_contain_text(_id(app, OFFLINE))
    assert status.get_attribute("data-state") == "offline"
    kept = page.evaluate(
        "() => Object.keys(JSON.parse(localStorage.getItem("
        "'monev:sheet:' + document.getElementById('score-sheet').dataset.sheetKey)).items).length"
    )
    assert kept == 4
    expect(page.locator("#finalise-button")).to_be_disabled()
    page.screenshot(path=str(screenshots / "judging-sheet-offline.png"), full_page=True)
    assert set(_stored(app, assignment_id)) == {criteria[0]}  # nothing reached the server

    # Back online: every kept change is sent, in order, and acknowledged.
    context.set_offline(False)
    expect(status).to_have_text(all_saved, timeout=15_000)
    for criterion in [criteria[0], *typed]:
        expect(page.locator(f"#state-{criterion}")).to_contain_text(saved)
    stored = _stored(app, assignment_id)
    assert stored[criteria[0]][0] == Decimal("9")
    assert stored[criteria[1]] == (Decimal("7"), "Forum warga rutin setiap Jumat.")
    assert stored[criteria[2]][0] == Decimal("9.5")
    assert stored[criteria[3]][0] == Decimal("6")
    assert (
        page.evaluate(
            "() => localStorage.getItem('monev:sheet:' + "
            "document.getElementById('score-sheet').dataset.sheetKey)"
        )
        is None
    )
    page.screenshot(path=str(screenshots / "judging-sheet-back-online.png"), full_page=True)

    # A reload shows what the server has.
    page.reload()
    expect(page.locator(f"#value-{criteria[2]}")).to_have_value("9,5")
    expect(page.locator(f"#comment-{criteria[1]}")).to_have_value("Forum warga rutin setiap Jumat.")
    # Last: axe may leave style attributes behind, which htmx's settling would then copy.
    assert_accessible(page)


def test_a_refused_value_is_never_reported_as_saved(
    app, page, demo_password, open_sheet, screenshots, allowed_answers
):
    assignment_id, criteria = open_sheet
    allowed_answers.append(("POST", r"/judge/sheets/\d+/scores/\d+$", 422))  # the refusal
    sign_in(page, JUDGE, demo_password)
    page.goto(f"/judge/sheets/{assignment_id}")
    status = page.locator("#sheet-connection")
    page.locator(f"#value-{criteria[0]}").fill("99")  # above the criterion's maximum
    expect(page.locator(f"#state-{criteria[0]}")).to_have_attribute("data-state", "error")
    expect(status).to_have_text(
        _id(app, "Some values were not saved: correct the criteria marked in red.")
    )
    assert status.get_attribute("data-state") == "refused"
    assert _stored(app, assignment_id) == {}
    page.locator(f"#value-{criteria[0]}").fill("8")
    expect(status).to_have_text(_id(app, "All changes saved."))
    # The total says how it is computed.
    page.get_by_text(_id(app, "How the total is computed")).click()
    expect(page.locator(".total-explained")).to_contain_text("0–100")
    page.screenshot(path=str(screenshots / "judging-sheet-total-explained.png"), full_page=True)


def test_kept_changes_survive_closing_the_tab_while_offline(
    app, context, demo_password, open_sheet
):
    """The tab is closed before the connection returns: when the sheet is opened again, the
    kept changes come back into their fields and are sent."""
    assignment_id, criteria = open_sheet
    first = context.new_page()
    sign_in(first, JUDGE, demo_password)
    first.goto(f"/judge/sheets/{assignment_id}")
    context.set_offline(True)
    first.locator(f"#value-{criteria[4]}").fill("5,5")
    first.locator(f"#comment-{criteria[4]}").fill("Dicatat saat sinyal hilang.")
    first.wait_for_timeout(1200)
    first.close()
    assert criteria[4] not in _stored(app, assignment_id)
    context.set_offline(False)
    again = context.new_page()
    again.goto(f"/judge/sheets/{assignment_id}")
    expect(again.locator(f"#value-{criteria[4]}")).to_have_value("5,5")
    expect(again.locator(f"#state-{criteria[4]}")).to_contain_text(_id(app, "Saved"))
    assert _stored(app, assignment_id)[criteria[4]] == (
        Decimal("5.5"),
        "Dicatat saat sinyal hilang.",
    )
    again.close()


def test_progress_board_and_judge_home_pass_axe(app, page, demo_password, screenshots):
    sign_in(page, "admin@demo.monev.id", demo_password)
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == "monev-kim-kaltim-2024"))
        stage_id = next(s.id for s in event.stages if s.key == "presentasi")
        assert db.session.get(Stage, stage_id) is not None
    page.goto(f"/admin/events/monev-kim-kaltim-2024/judging/stages/{stage_id}/progress")
    for state in ("final", "draft", "empty", "conflict"):
        assert page.locator(f"td.cell-{state}").count() >= 1, state
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "judging-board.png"), full_page=True)
    page.goto("/admin/events/monev-kim-kaltim-2024/judging/")
    assert_accessible(page)
