"""Presentation day: the organiser makes a schedule; judges see their entries' slots, each
KIM its own."""

from __future__ import annotations

from sqlalchemy import select

from monev.extensions import db
from tests.conftest import login, t
from tests.judging_setup import build, sign_in, snapshot


def _kim_account(app, setup, index):
    from monev.auth.models import User
    from monev.auth.passwords import hash_password
    from monev.entries.models import Entry

    with app.app_context():
        entry = db.session.get(Entry, setup.entries[index])
        user = User(
            email=f"kim{index}@uji.monev.id",
            name="KIM",
            role="kim",
            kim_id=entry.kim_id,
            password_hash=hash_password("kopi-susu-pagi-hari"),
        )
        db.session.add(user)
        db.session.commit()
        return user.email


def test_schedule_is_made_and_shown_to_judges_and_kims(app):
    setup = build(app, n_entries=3, n_judges=2, judges_per_entry=2)
    from monev.judging.models import Assignment

    with app.app_context():  # judge 2 scores only entry 3
        for entry in setup.entries[:2]:
            a = db.session.scalar(
                select(Assignment).where(
                    Assignment.entry_id == entry, Assignment.judge_id == setup.judges[1]["id"]
                )
            )
            db.session.delete(a)
        db.session.commit()
    admin = app.test_client()
    token = sign_in(admin, setup.admin_email)
    url = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/schedule"
    response = admin.post(
        url,
        data={
            "csrf_token": token,
            "start": "2026-07-08T09:00",
            "minutes": "20",
            "gap": "10",
            "room": "Aula Diskominfo",
        },
    )
    assert response.status_code == 302
    page = admin.get(url).get_data(as_text=True)
    assert 'value="2026-07-08T09:30"' in page  # the second slot, WITA
    judge = app.test_client()
    sign_in(judge, setup.judges[1]["email"])
    mine = judge.get("/schedule/").get_data(as_text=True)
    assert "10.00–10.20 WITA" in mine and "K-003" in mine
    assert "K-001" not in mine and "09:00" not in mine
    kim = app.test_client()
    login(kim, _kim_account(app, setup, 0), "kopi-susu-pagi-hari")
    own = kim.get("/schedule/").get_data(as_text=True)
    assert "09.00–09.20 WITA" in own and "Aula Diskominfo" in own
    assert "K-002" not in own


def test_overlapping_slot_in_the_same_room_is_refused(app):
    setup = build(app, n_entries=2, n_judges=1)
    admin = app.test_client()
    token = sign_in(admin, setup.admin_email)
    base = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/schedule"
    first = admin.post(
        f"{base}/{setup.entries[0]}",
        data={"csrf_token": token, "start": "2026-07-08T09:00", "minutes": "30", "room": "A"},
    )
    assert first.status_code == 302
    before = snapshot(app)
    clash = admin.post(
        f"{base}/{setup.entries[1]}",
        data={"csrf_token": token, "start": "2026-07-08T09:15", "minutes": "30", "room": "A"},
    )
    assert clash.status_code == 422
    assert t(app, "This time overlaps the slot of %(code)s in the same room.", code="K-001") in (
        clash.get_data(as_text=True)
    )
    assert snapshot(app) == before
    other_room = admin.post(
        f"{base}/{setup.entries[1]}",
        data={"csrf_token": token, "start": "2026-07-08T09:15", "minutes": "30", "room": "B"},
    )
    assert other_room.status_code == 302
    cleared = admin.post(f"{base}/{setup.entries[1]}", data={"csrf_token": token, "start": ""})
    assert cleared.status_code == 302
    from monev.judging.models import ScheduleSlot

    with app.app_context():
        assert db.session.scalar(select(db.func.count(ScheduleSlot.id))) == 1
