"""The confirmation steps of the irreversible actions of KIMs and judges (issue 12, part 4):
a KIM submits its entry, a judge finalises a score sheet, a judge declares a conflict of
interest.

For each: the step (a page without JavaScript, the fragment htmx puts in a <dialog>) states
the consequences with the real numbers; a POST without the ticked ``confirm`` box is refused
with 422 and the message beside the box, and nothing is stored; with it the action is done;
and the step is refused to everyone else as the action itself is."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, ngettext
from sqlalchemy import select

from monev.audit.models import AuditEntry
from monev.core.timeutil import utcnow
from monev.core.timezones import to_local
from monev.events.models import Stage
from monev.extensions import db
from monev.judging.models import Conflict
from tests import upload_corpus as corpus
from tests.conftest import csrf_token, post, t
from tests.conftest import sign_in as sign_in_directly
from tests.judging_setup import autosave, build, sheet_state, sign_in, snapshot
from tests.submission_fixtures import *  # noqa: F403  (its fixtures)
from tests.submission_fixtures import (
    entry_state,
    page_text,
    plain,
    send_file,
    send_link,
    set_entry,
)

CONFIRM_REFUSED = "Confirm that you have read what this will do."
HTMX = {"HX-Request": "true"}


def tn(app, singular: str, plural: str, num: int, **params) -> str:
    """An ngettext message as the user reads it (Indonesian), plain text."""
    with app.test_request_context(), force_locale("id"):
        return ngettext(singular, plural, num, **params)


def checkbox(body: str) -> str:
    """The confirmation step's ``confirm`` checkbox."""
    return re.search(r'<input type="checkbox"[^>]*name="confirm"[^>]*>', body).group(0)


def refused_beside_the_box(app, body: str) -> None:
    assert 'aria-invalid="true"' in checkbox(body)
    assert f'class="field-error">{t(app, CONFIRM_REFUSED)}</small>' in body


def submit_button(body: str) -> str:
    """The confirmation step's own button."""
    step = re.search(r'<section class="move-confirm".*?</section>', body, re.S).group(0)
    return re.search(r'<button type="submit"[^>]*>', step).group(0)


# --- a KIM submits its entry ----------------------------------------------------------------

PROFILE = {  # the required fields only: website, social links and description stay empty
    "sk_number": "141/12/SK-KIM/2024",
    "sk_date": "2024-03-14",
    "chair_name": "Hendra Saputra",
    "members_count": "15",
    "phone": "0812 5500 7788",
    "email": "kim@contoh.id",
}


def complete(client, finalist) -> None:
    """Everything the checklist asks for: 3 criteria with 4 pieces of evidence (2 of them
    links) and the presentation."""
    assert post(client, f"{finalist.page}/profile", PROFILE).status_code == 303
    for name in ("sk.pdf", "sk-lampiran.pdf"):
        assert send_file(client, finalist.file_url("a1"), corpus.pdf(name), name).status_code == 303
    assert send_link(client, finalist.link_url("a2"), "https://kim.desa.id").status_code == 303
    assert send_link(client, finalist.link_url("a3"), "https://kim.desa.id/lap").status_code == 303
    presentation = send_file(client, finalist.file_url(None), corpus.office("pptx"), "materi.pptx")
    assert presentation.status_code == 303


def submit_url(finalist) -> str:
    return f"{finalist.page}/submit"


def submitted_audit(app) -> list[AuditEntry]:
    with app.app_context():
        rows = list(
            db.session.scalars(select(AuditEntry).where(AuditEntry.action == "entry.submitted"))
        )
        db.session.expunge_all()
        return rows


def test_submit_step_states_what_is_sent_with_numbers_and_the_deadline(app, finalist, kim_client):
    complete(kim_client, finalist)
    response = kim_client.get(submit_url(finalist))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    text = page_text(body)
    with app.test_request_context(), force_locale("id"):
        criteria = ngettext("%(num)d criterion", "%(num)d criteria", 3)
        evidence = ngettext("%(num)d piece of evidence", "%(num)d pieces of evidence", 4)
    assert (
        plain(
            app,
            "After submitting, your entry is locked: %(criteria)s with %(evidence)s and the "
            "presentation are sent to the organiser.",
            criteria=criteria,
            evidence=evidence,
        )
        in text
    )
    assert "3 kriteria dengan 4 bukti dukung" in text  # the numbers, as a KIM reads them
    assert (
        plain(app, "You can no longer change it unless the organiser sends it back to you.") in text
    )
    with app.app_context():
        closes = db.session.scalar(
            select(Stage.closes_at).where(
                Stage.event_id == finalist.event_id, Stage.key == "administrasi"
            )
        )
    local = to_local(closes, "Asia/Makassar")
    assert f"{local:%H:%M} WITA" in text
    assert str(local.year) in text
    # optional, but worth a last look
    assert (
        tn(
            app,
            "%(num)d optional profile field is empty: %(fields)s.",
            "%(num)d optional profile fields are empty: %(fields)s.",
            3,
            fields="Situs web, Tautan media sosial, Deskripsi singkat",
        )
        in text
    )
    assert "2 bukti dukung berupa tautan" in text
    # the box to tick, the big button, the way back
    assert 'name="confirm"' in checkbox(body) and "checked" not in checkbox(body)
    assert "disabled" not in submit_button(body)
    assert t(app, "Yes, submit our entry") in body
    assert f'href="{finalist.page}"' in body
    assert "<html" in body  # without JavaScript: a page of its own


def test_submit_step_of_a_returned_entry_states_the_personal_deadline(app, finalist, kim_client):
    complete(kim_client, finalist)
    deadline = utcnow() + timedelta(days=3)
    set_entry(app, finalist.entry_id, submission_status="returned", personal_deadline=deadline)
    text = page_text(kim_client.get(submit_url(finalist)).get_data(as_text=True))
    local = to_local(deadline, "Asia/Makassar")
    assert "Batas waktu perbaikan:" in text and f"{local:%H:%M} WITA" in text
    assert "tidak dinilai" not in text  # the first window's wording is not used
    assert post(kim_client, submit_url(finalist), {"confirm": "y"}).status_code == 303
    assert entry_state(app, finalist.entry_id).submission_status == "submitted"


def test_submit_step_is_a_fragment_for_the_dialog(app, finalist, kim_client):
    complete(kim_client, finalist)
    response = kim_client.get(submit_url(finalist), headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="submit-title"' in body and "data-close-dialog" in body
    assert "3 kriteria dengan 4 bukti dukung" in page_text(body)


def test_workspace_submit_button_opens_the_step_in_a_dialog(app, finalist, kim_client):
    complete(kim_client, finalist)
    body = kim_client.get(finalist.page).get_data(as_text=True)
    link = re.search(r'<a role="button"[^>]*class="submit-button"[^>]*>', body).group(0)
    assert f'href="{submit_url(finalist)}"' in link
    assert f'hx-get="{submit_url(finalist)}"' in link
    assert 'hx-target="#submit-dialog-body"' in link
    assert '<dialog id="submit-dialog" aria-labelledby="submit-title">' in body


def test_submit_without_the_confirmation_is_refused_and_changes_nothing(app, finalist, kim_client):
    complete(kim_client, finalist)
    before = entry_state(app, finalist.entry_id)
    response = post(kim_client, submit_url(finalist))  # no confirm
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    refused_beside_the_box(app, body)
    assert "3 kriteria dengan 4 bukti dukung" in page_text(body)  # the step, again
    after = entry_state(app, finalist.entry_id)
    assert after.submission_status == before.submission_status == "in_progress"
    assert after.submitted_at is None
    assert submitted_audit(app) == []
    # a value other than a ticked box is no confirmation either
    assert post(kim_client, submit_url(finalist), {"confirm": ""}).status_code == 422
    assert entry_state(app, finalist.entry_id).submission_status == "in_progress"


def test_submit_with_the_confirmation_locks_the_entry(app, finalist, kim_client):
    complete(kim_client, finalist)
    response = post(kim_client, submit_url(finalist), {"confirm": "y"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(finalist.page)
    entry = entry_state(app, finalist.entry_id)
    assert entry.submission_status == "submitted" and entry.submitted_at is not None
    (record,) = submitted_audit(app)
    assert (record.changes["criteria"], record.changes["evidence"]) == (3, 4)
    # the step now says why there is nothing to confirm, and the button is off
    body = kim_client.get(submit_url(finalist)).get_data(as_text=True)
    assert t(app, "Your entry has been submitted and can no longer be changed.") in body
    assert "disabled" in submit_button(body)


def test_submit_step_lists_what_is_missing_with_links_and_refuses(app, finalist, kim_client):
    assert post(kim_client, f"{finalist.page}/profile", PROFILE).status_code == 303
    send_link(kim_client, finalist.link_url("a2"), "https://kim.desa.id")
    body = kim_client.get(submit_url(finalist)).get_data(as_text=True)
    assert t(app, "Not possible yet. Fix these first:") in body
    assert f'href="{finalist.page}#criterion-{finalist.criteria["a1"]}"' in body
    assert f'href="{finalist.page}#presentation"' in body
    assert "disabled" in submit_button(body)
    response = post(kim_client, submit_url(finalist), {"confirm": "y"})
    assert response.status_code == 409
    assert entry_state(app, finalist.entry_id).submission_status == "in_progress"


def test_submit_step_and_submit_are_refused_to_everyone_else(
    app, finalist, kim_client, make_finalist, make_user
):
    complete(kim_client, finalist)
    other = make_finalist(name="KIM Tetangga")  # another KIM of the same event
    other_client = app.test_client()
    sign_in_directly(other_client, other.email)
    # The URL names the event, not the entry: another KIM reaches only its own entry (here
    # incomplete, so refused), never this one.
    own_step = other_client.get(submit_url(finalist)).get_data(as_text=True)
    assert "3 kriteria" not in page_text(own_step)
    assert post(other_client, submit_url(other), {"confirm": "y"}).status_code == 409
    assert entry_state(app, other.entry_id).submission_status == "not_started"
    assert entry_state(app, finalist.entry_id).submission_status == "in_progress"
    for role in ("admin", "operator", "judge"):
        client = app.test_client()
        sign_in_directly(client, make_user(role).email)
        assert client.get(submit_url(finalist)).status_code == 403
        token = csrf_token(client)
        response = client.post(submit_url(finalist), data={"csrf_token": token, "confirm": "y"})
        assert response.status_code == 403
    anonymous = app.test_client()
    assert anonymous.get(submit_url(finalist)).status_code == 302  # to the sign-in page
    assert entry_state(app, finalist.entry_id).submission_status == "in_progress"


def test_submit_step_of_a_kim_without_an_entry_in_the_event_is_not_found(
    app, finalist, make_kim, make_user
):
    stranger = app.test_client()
    sign_in_directly(stranger, make_user("kim", kim=make_kim(name="KIM Lain")).email)
    assert stranger.get(submit_url(finalist)).status_code == 404
    token = csrf_token(stranger)
    response = stranger.post(submit_url(finalist), data={"csrf_token": token, "confirm": "y"})
    assert response.status_code == 404


# --- a judge finalises a score sheet --------------------------------------------------------


@pytest.fixture
def setup(app):
    return build(app)


@pytest.fixture
def judge(app, setup):
    client = app.test_client()
    return client, sign_in(client, setup.judges[0]["email"])


def scored(client, token, setup, a) -> int:
    """c1 8,5 with a comment, c2 250,25 without: total 50 + 10,01 = 60,01. The version."""
    c1, c2 = setup.criteria
    assert autosave(client, token, a, c1, "8,5", 0, comment="Papan informasi aktif").status_code
    assert autosave(client, token, a, c2, "250,25", 1).status_code == 200
    return 2


def finalise_url(a) -> str:
    return f"/judge/sheets/{a}/finalise"


def test_finalise_step_states_the_total_and_the_counts(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    version = scored(client, token, setup, a)
    response = client.get(finalise_url(a))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    text = page_text(body)
    assert plain(app, "Final score: %(total)s of 100.", total="60,01") in text
    assert tn(app, "%(num)d criterion scored.", "%(num)d criteria scored.", 2) in text
    assert (
        tn(app, "%(num)d criterion without a comment.", "%(num)d criteria without a comment.", 1)
        in text
    )
    assert "Nilai akhir: 60,01 dari 100." in text
    assert (
        plain(
            app,
            "Once final, the sheet is locked: you can no longer change it, and only the "
            "organiser can reopen it.",
        )
        in text
    )
    assert f'<input type="hidden" name="version" value="{version}">' in body
    assert "disabled" not in submit_button(body)
    assert "<html" in body
    fragment = client.get(finalise_url(a), headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="finalise-title"' in fragment
    assert "60,01" in fragment


def test_sheet_page_finalise_button_opens_the_step_or_saves_first(app, setup, judge):
    client, _token = judge
    a = setup.assignment(0, 0)
    body = client.get(f"/judge/sheets/{a}").get_data(as_text=True)
    button = re.search(r'<button[^>]*id="finalise-button"[^>]*>', body, re.S).group(0)
    assert f'hx-get="{finalise_url(a)}"' in button
    assert 'hx-target="#finalise-dialog-body"' in button
    assert 'name="then" value="finalise"' in button  # without JavaScript: save, then the step
    assert '<dialog id="finalise-dialog" aria-labelledby="finalise-title">' in body


def test_without_javascript_finalise_saves_the_sheet_then_shows_the_step(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    c1, c2 = setup.criteria
    response = client.post(
        f"/judge/sheets/{a}",
        data={
            "csrf_token": token,
            "version": 0,
            f"value-{c1}": "8,5",
            f"comment-{c1}": "Papan informasi aktif",
            f"value-{c2}": "250,25",
            f"comment-{c2}": "",
            "then": "finalise",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(finalise_url(a))
    status, version, scores = sheet_state(app, a)
    assert (status, version) == ("draft", 2)  # saved, not final
    assert scores[c2][0] == Decimal("250.25")
    step = client.get(finalise_url(a)).get_data(as_text=True)
    assert "Nilai akhir: 60,01 dari 100." in page_text(step)


def test_finalise_without_the_confirmation_is_refused_and_changes_nothing(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    version = scored(client, token, setup, a)
    before = snapshot(app)
    response = client.post(finalise_url(a), data={"csrf_token": token, "version": version})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    refused_beside_the_box(app, body)
    assert "Nilai akhir: 60,01 dari 100." in page_text(body)
    assert snapshot(app) == before
    assert sheet_state(app, a)[0] == "draft"
    # scores sent with it are not saved either
    c1, _c2 = setup.criteria
    response = client.post(
        finalise_url(a), data={"csrf_token": token, "version": version, f"value-{c1}": "3"}
    )
    assert response.status_code == 422
    refused_beside_the_box(app, response.get_data(as_text=True))
    assert snapshot(app) == before


def test_finalise_with_the_confirmation_locks_the_sheet(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    version = scored(client, token, setup, a)
    response = client.post(
        finalise_url(a), data={"csrf_token": token, "version": version, "confirm": "y"}
    )
    assert response.status_code == 302
    status, _version, scores = sheet_state(app, a)
    assert status == "final"
    assert scores[setup.criteria[1]] == (Decimal("250.25"), None)
    with app.app_context():
        record = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sheet.finalised"))
        assert record.changes["total"] == "60.01"
    body = client.get(finalise_url(a)).get_data(as_text=True)
    assert t(app, "This sheet is final and locked; only the organiser can reopen it.") in body
    assert "disabled" in submit_button(body)


def test_finalise_of_a_sheet_changed_since_the_step_is_refused(app, setup, judge):
    """The step stated version 2; another tab saved since: the judge sees the new numbers."""
    client, token = judge
    a = setup.assignment(0, 0)
    version = scored(client, token, setup, a)
    assert autosave(client, token, a, setup.criteria[1], "1000", version).status_code == 200
    before = snapshot(app)
    response = client.post(
        finalise_url(a), data={"csrf_token": token, "version": version, "confirm": "y"}
    )
    assert response.status_code == 409
    assert "Nilai akhir: 90,00 dari 100." in page_text(response.get_data(as_text=True))
    assert snapshot(app) == before


def test_finalise_step_of_an_incomplete_sheet_says_what_is_missing(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    c1, c2 = setup.criteria
    autosave(client, token, a, c1, "8", 0)
    body = client.get(finalise_url(a)).get_data(as_text=True)
    assert tn(
        app,
        "%(num)d criterion has no score yet: score it before finalising.",
        "%(num)d criteria have no score yet: score them before finalising.",
        1,
    ) in page_text(body)
    assert f'href="/judge/sheets/{a}#criterion-{c2}"' in body
    assert "disabled" in submit_button(body)
    assert "Nilai akhir" not in body
    before = snapshot(app)
    response = client.post(
        finalise_url(a), data={"csrf_token": token, "version": 1, "confirm": "y"}
    )
    assert response.status_code == 422
    assert snapshot(app) == before


def test_finalise_step_is_refused_to_everyone_else(app, setup, judge, make_user):
    client, token = judge
    a = setup.assignment(0, 0)
    version = scored(client, token, setup, a)
    before = snapshot(app)
    other = app.test_client()  # another judge of the panel, not assigned this sheet
    other_token = sign_in(other, setup.judges[1]["email"])
    assert other.get(finalise_url(a)).status_code == 404
    data = {"csrf_token": other_token, "version": version, "confirm": "y"}
    assert other.post(finalise_url(a), data=data).status_code == 404
    for role in ("admin", "operator", "kim"):
        stranger = app.test_client()
        sign_in_directly(stranger, make_user(role).email)
        assert stranger.get(finalise_url(a)).status_code == 403
        data = {"csrf_token": csrf_token(stranger), "version": version, "confirm": "y"}
        assert stranger.post(finalise_url(a), data=data).status_code == 403
    assert snapshot(app) == before


def test_finalise_service_needs_its_confirmation_stated(app, setup, judge):
    """The paper import states it (``confirmed=True`` after its preview); nobody skips it."""
    from monev.auth.models import User
    from monev.core.errors import ServiceError
    from monev.judging.models import Assignment
    from monev.judging.queries import criterion_rules, sheet_scores, stage_criteria
    from monev.judging.sheets import finalise_sheet, locked_sheet, total_of

    client, token = judge
    a = setup.assignment(0, 0)
    scored(client, token, setup, a)
    with app.app_context():
        assignment = db.session.get(Assignment, a)
        sheet = locked_sheet(a)
        totals = total_of(criterion_rules(stage_criteria(setup.stage_id)), sheet_scores(sheet.id))
        judge_user = db.session.get(User, setup.judges[0]["id"])
        with pytest.raises(ServiceError) as refused:
            finalise_sheet(sheet, assignment, judge_user, totals, confirmed=False)
        assert refused.value.field == "confirm" and refused.value.status == 422
        db.session.rollback()
    assert sheet_state(app, a)[0] == "draft"


# --- a judge declares a conflict of interest ------------------------------------------------


def conflict_url(a) -> str:
    return f"/judge/assignments/{a}/conflict"


def conflicts(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Conflict)).all())


def test_conflict_step_states_what_it_does_with_the_scores_given(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    scored(client, token, setup, a)
    body = client.get(conflict_url(a)).get_data(as_text=True)
    text = page_text(body)
    assert (
        plain(
            app,
            "The entry is withdrawn from you: you will no longer see its evidence and cannot "
            "score it, in any stage.",
        )
        in text
    )
    assert "2 nilai yang sudah Anda berikan tetap tersimpan" in text
    undo = "Only the organiser can undo a declared conflict; they will assign another judge."
    assert plain(app, undo) in text
    assert 'name="reason"' in body and 'name="confirm"' in body
    sheet = client.get(f"/judge/sheets/{a}").get_data(as_text=True)
    link = re.search(r'<a role="button"[^>]*href="/judge/assignments/[^>]*>', sheet).group(0)
    assert f'hx-get="{conflict_url(a)}"' in link and "#conflict-dialog-body" in link
    fragment = client.get(conflict_url(a), headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="conflict-title"' in fragment


def test_conflict_without_the_confirmation_is_refused_and_changes_nothing(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    before = snapshot(app)
    response = client.post(conflict_url(a), data={"csrf_token": token, "reason": "Kerabat ketua"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    refused_beside_the_box(app, body)
    assert "Kerabat ketua" in body  # the reason is kept
    assert snapshot(app) == before and conflicts(app) == 0


def test_conflict_with_the_confirmation_is_recorded(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    data = {"csrf_token": token, "reason": "Kerabat ketua", "confirm": "y"}
    assert client.post(conflict_url(a), data=data).status_code == 302
    assert conflicts(app) == 1
    body = client.get(conflict_url(a)).get_data(as_text=True)
    assert t(app, "You have already declared a conflict with this entry.") in body
    assert "disabled" in submit_button(body)


def test_conflict_step_is_refused_to_everyone_else(app, setup, make_user):
    a = setup.assignment(0, 0)
    other = app.test_client()
    other_token = sign_in(other, setup.judges[1]["email"])
    assert other.get(conflict_url(a)).status_code == 404
    data = {"csrf_token": other_token, "reason": "x", "confirm": "y"}
    assert other.post(conflict_url(a), data=data).status_code == 404
    for role in ("admin", "operator", "kim"):
        stranger = app.test_client()
        sign_in_directly(stranger, make_user(role).email)
        assert stranger.get(conflict_url(a)).status_code == 403
        data = {"csrf_token": csrf_token(stranger), "reason": "x", "confirm": "y"}
        assert stranger.post(conflict_url(a), data=data).status_code == 403
    assert conflicts(app) == 0
