"""Phase moves go through a confirmation step and refuse every hard block at the server."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from monev.audit.models import AuditEntry
from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from tests.conftest import post, sign_in, t
from tests.submission_fixtures import *  # noqa: F403
from tests.submission_fixtures import close_window


def _status(app, event_id) -> str:
    with app.app_context():
        return db.session.get(Event, event_id).status


def _admin(client, make_user):
    admin = make_user("admin")
    sign_in(client, admin.email)
    return admin


def _move(client, slug, target, **fields):
    url = f"/admin/events/{slug}/phase/{target}"
    return post(client, url, fields)


def test_verification_is_refused_while_entries_may_still_submit(app, client, five, make_user):
    _admin(client, make_user)
    slug, event_id = five[0].slug, five[0].event_id

    page = client.get(f"/admin/events/{slug}/phase/verification").get_data(as_text=True)
    assert t(app, "Not possible yet. Fix these first:") in page
    assert "4 dari 5 entri belum mengirim" in page

    # A forged confirmation changes nothing.
    response = _move(client, slug, "verification", confirm="y")
    assert response.status_code == 409
    assert "4 dari 5 entri belum mengirim" in response.get_data(as_text=True)
    assert _status(app, event_id) == "submission"


def test_after_the_window_closes_the_move_states_its_consequences_then_needs_a_confirmation(
    app, client, five, make_user
):
    _admin(client, make_user)
    slug, event_id = five[0].slug, five[0].event_id
    close_window(app, event_id)

    page = client.get(f"/admin/events/{slug}/phase/verification").get_data(as_text=True)
    assert "4 entri yang tidak pernah mengirim akan ditandai" in page
    assert "1 entri yang sudah dikirim masuk ke verifikasi" in page

    unconfirmed = _move(client, slug, "verification")
    assert unconfirmed.status_code == 422
    assert t(app, "Confirm that you have read what this will do.") in unconfirmed.get_data(
        as_text=True
    )
    assert _status(app, event_id) == "submission"

    confirmed = _move(client, slug, "verification", confirm="y")
    assert confirmed.status_code == 303, confirmed.get_data(as_text=True)[-3000:]
    assert _status(app, event_id) == "verification"
    with app.app_context():
        standings = db.session.scalars(select(Entry.standing).order_by(Entry.id)).all()
        logged = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "event.move_confirmed")
        ).one()
    assert standings == ["active"] + ["no_submission"] * 4
    assert logged.changes["status"] == ["submission", "verification"]
    assert logged.changes["consequences"][0].startswith("4 ")


def test_judging_without_a_panel_or_verified_entries_is_refused(app, client, five, make_user):
    _admin(client, make_user)
    slug, event_id = five[0].slug, five[0].event_id
    close_window(app, event_id)
    assert _move(client, slug, "verification", confirm="y").status_code == 303

    refused = _move(client, slug, "judging", confirm="y")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "1 entri yang sudah dikirim belum diverifikasi" in body
    assert "belum memiliki juri di panelnya" in body
    assert _status(app, event_id) == "verification"


def test_warnings_need_an_acknowledgement(app, client, make_finalist, make_user):
    _admin(client, make_user)
    finalist = make_finalist(status="nomination")
    make_finalist(status="nomination", nomination_status="nominated")
    slug = finalist.slug
    with app.app_context():  # every stage needs its window before submission opens
        for stage in db.session.get(Event, finalist.event_id).stages:
            stage.opens_at, stage.closes_at = utcnow(), utcnow() + timedelta(days=30)
        db.session.commit()

    page = client.get(f"/admin/events/{slug}/phase/submission").get_data(as_text=True)
    assert "1 usulan belum diputuskan" in page

    refused = _move(client, slug, "submission", confirm="y")
    assert refused.status_code == 409
    assert _status(app, finalist.event_id) == "nomination"

    moved = _move(client, slug, "submission", confirm="y", acknowledge="nominations_undecided")
    assert moved.status_code == 303
    assert _status(app, finalist.event_id) == "submission"


def test_moving_back_states_what_it_undoes(app, client, five, make_user):
    _admin(client, make_user)
    slug = five[0].slug
    page = client.get(f"/admin/events/{slug}/phase/nomination").get_data(as_text=True)
    assert t(app, "KIMs can no longer upload; what they uploaded is kept.") in page
    assert _move(client, slug, "nomination", confirm="y").status_code == 303
    assert _status(app, five[0].event_id) == "nomination"


def test_a_move_the_phase_does_not_allow_is_refused(app, client, five, make_user):
    _admin(client, make_user)
    page = client.get(f"/admin/events/{five[0].slug}/phase/judging").get_data(as_text=True)
    said = "Kegiatan tidak dapat berpindah dari Pengumpulan berkas ke Penilaian."
    assert said in page
    forged = _move(client, five[0].slug, "judging", confirm="y")
    assert forged.status_code == 409
    assert said in forged.get_data(as_text=True)
    assert _status(app, five[0].event_id) == "submission"


def test_admin_disqualifies_with_a_public_reason_and_a_private_note(app, client, five, make_user):
    _admin(client, make_user)
    finalist = five[0]
    url = f"/admin/events/{finalist.slug}/entries/{finalist.entry_id}/standing"

    missing = post(client, f"{url}/disqualify", {"reason": "", "note": ""})
    assert missing.status_code == 422
    assert t(app, "Choose the reason.") in missing.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Entry, finalist.entry_id).standing == "active"

    done = post(
        client,
        f"{url}/disqualify",
        {"reason": "false_information", "note": "Foto kegiatan milik KIM lain"},
    )
    assert done.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert t(app, "Disqualified for untrue data or evidence.") in page
    with app.app_context():
        entry = db.session.get(Entry, finalist.entry_id)
        assert (entry.standing, entry.standing_reason) == ("eliminated", "false_information")
        assert entry.standing_note == "Foto kegiatan milik KIM lain"

    public = client.get(f"/events/{finalist.slug}").get_data(as_text=True)
    assert "Foto kegiatan milik KIM lain" not in public
