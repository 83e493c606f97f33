"""Entry standing: deadlines change it by rule, the organiser with a reason; only competing
entries may be judged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from monev.audit.models import AuditEntry
from monev.auth.models import User
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from tests.conftest import sign_in
from tests.submission_fixtures import *  # noqa: F403
from tests.submission_fixtures import close_window, set_entry


def test_unsubmitted_entries_stop_competing_when_the_window_closes_without_a_click(app, five):
    with app.app_context():
        before = {e.id: standing.standing_of(e).code for e in db.session.scalars(select(Entry))}
    assert sorted(before.values()) == ["active"] * 5

    close_window(app, five[0].event_id)
    with app.app_context():
        now = {e.id: standing.standing_of(e) for e in db.session.scalars(select(Entry))}
        competing = db.session.scalars(select(Entry.id).where(standing.competing())).all()
    assert now[five[0].entry_id].code == "active"
    assert [now[f.entry_id].code for f in five[1:]] == ["no_submission"] * 4
    assert now[five[1].entry_id].reason == "deadline_passed"
    assert competing == [five[0].entry_id]


def test_sweep_records_each_change_once_with_an_audit_row(app, five):
    close_window(app, five[0].event_id)
    with app.app_context():
        event = db.session.get(Event, five[0].event_id)
        first = standing.sweep(event)
        db.session.commit()
        second = standing.sweep(event)
        db.session.commit()
        stored = dict(db.session.execute(select(Entry.id, Entry.standing)).all())
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "entry.standing_changed")
        ).all()
    assert len(first) == 4
    assert second == []
    assert stored[five[0].entry_id] == "active"
    assert sorted(stored[f.entry_id] for f in five[1:]) == ["no_submission"] * 4
    assert [r.changes["by"] for r in rows] == ["rule"] * 4


def test_the_periodic_job_sweeps_open_events(app, five):
    close_window(app, five[0].event_id)
    with app.app_context():
        standing.sweep_open_events.call_local()
        stored = db.session.scalars(select(Entry.standing).order_by(Entry.id)).all()
    assert stored == ["active"] + ["no_submission"] * 4


def test_returned_entry_is_eliminated_when_its_personal_deadline_passes(app, five):
    entry_id = five[0].entry_id
    set_entry(
        app,
        entry_id,
        submission_status="returned",
        personal_deadline=utcnow() + timedelta(hours=1),
    )
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        assert standing.standing_of(entry).code == "returned"
        later = standing.standing_of(entry, utcnow() + timedelta(hours=2))
    assert (later.code, later.reason) == ("eliminated", "not_fixed")


def test_disqualification_needs_a_reason_category_and_a_note(app, five, make_user):
    admin = make_user("admin")
    entry_id = five[0].entry_id
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        actor = db.session.get(User, admin.id)
        with pytest.raises(ServiceError) as no_reason:
            standing.disqualify(actor, entry, "", "Plagiat")
        with pytest.raises(ServiceError) as no_note:
            standing.disqualify(actor, entry, "false_information", "  ")
        assert (no_reason.value.field, no_note.value.field) == ("reason", "note")
        standing.disqualify(actor, entry, "false_information", "Foto kegiatan dari KIM lain")
        db.session.commit()
        result = standing.standing_of(db.session.get(Entry, entry_id))
        competing = db.session.scalars(select(Entry.id).where(standing.competing())).all()
    assert (result.code, result.reason) == ("eliminated", "false_information")
    assert entry_id not in competing


def test_withdrawn_entry_can_be_reinstated_only_with_a_note(app, five, make_user):
    admin = make_user("admin")
    entry_id = five[0].entry_id
    with app.app_context():
        actor = db.session.get(User, admin.id)
        entry = db.session.get(Entry, entry_id)
        standing.withdraw(actor, entry, None)
        with pytest.raises(ServiceError):
            standing.withdraw(actor, entry, None)
        with pytest.raises(ServiceError):
            standing.reinstate(actor, entry, "")
        standing.reinstate(actor, entry, "Surat pengunduran diri dicabut")
        db.session.commit()
        assert standing.standing_of(db.session.get(Entry, entry_id)).code == "active"


def test_the_kim_sees_its_standing_and_why(app, client, five):
    close_window(app, five[1].event_id)
    sign_in(client, five[1].email)
    page = client.get(five[1].page).get_data(as_text=True)
    assert "Status keikutsertaan Anda: Tidak mengumpulkan." in page
    assert "Masa pengumpulan ditutup tanpa pengiriman." in page
    home = client.get("/").get_data(as_text=True)
    assert '<h2 id="task-1">Tidak mengumpulkan</h2>' in home  # the home leads with it
    assert "<p>Masa pengumpulan ditutup tanpa pengiriman.</p>" in home


def test_entries_that_did_not_submit_cannot_be_assigned_ranked_or_certified(app, five):
    from monev.certificates.recipients import participant_subjects
    from monev.judging import assignments
    from monev.judging.queries.panel import judged_entries
    from monev.results.queries import load_event_data

    set_entry(app, five[0].entry_id, submission_status="verified")
    close_window(app, five[0].event_id)
    with app.test_request_context():
        event = db.session.get(Event, five[0].event_id)
        standing.sweep(event)
        assert [e.id for e in judged_entries(event.id)] == [five[0].entry_id]
        assert [e.id for e in load_event_data(event).entries] == [five[0].entry_id]
        assert len(participant_subjects(event)) == 1
        with pytest.raises(ServiceError) as refused:
            assignments.assign(event.stages[0], entry_id=five[1].entry_id, judge_id=1)
    assert refused.value.status == 409
    assert "Tidak mengumpulkan" in refused.value.message


def test_the_public_page_lists_entries_not_judged_with_the_reason_category_only(
    app, client, five, make_user
):
    close_window(app, five[0].event_id)
    set_entry(
        app,
        five[0].entry_id,
        standing="eliminated",
        standing_reason="rule_violation",
        standing_note="Catatan rahasia panitia",
    )
    with app.app_context():
        db.session.get(Event, five[0].event_id).status = "verification"
        db.session.commit()
    page = client.get(f"/events/{five[0].slug}").get_data(as_text=True)
    assert "Tidak dinilai" in page
    assert page.count("Tidak mengumpulkan: Masa pengumpulan ditutup tanpa pengiriman.") == 4
    assert "Gugur: Didiskualifikasi karena melanggar ketentuan lomba." in page
    assert "Catatan rahasia panitia" not in page
