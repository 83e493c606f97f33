"""Field visits (issue 17, first part): a stage that is a field visit, its schedule per
entry (when, where, the team), the KIM's task and notice, the judge's visit checklist beside
the ordinary scores, and the organiser's board (planned, in progress, synced, late)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.extensions import db
from tests.conftest import login, t
from tests.judging_setup import PASSWORD, build, sign_in


def _visit_stage(app, **kw):
    """The judging set-up of tests/judging_setup.py, its stage a field visit; two judges on
    every entry except judge 3, who is on no team of entry 1."""
    from monev.events.models import Stage
    from monev.judging.models import Assignment

    setup = build(app, n_entries=3, n_judges=3, **kw)
    with app.app_context(), write_intent():
        db.session.get(Stage, setup.stage_id).kind = "visit"
        db.session.delete(db.session.get(Assignment, setup.assignment(0, 2)))
        db.session.commit()
    return setup


def _kim_login(app, setup, index):
    from monev.auth.models import User
    from monev.auth.passwords import hash_password
    from monev.entries.models import Entry

    with app.app_context(), write_intent():
        entry = db.session.get(Entry, setup.entries[index])
        email = f"kim{index}@uji.monev.id"
        db.session.add(
            User(
                email=email,
                name=f"Pengelola {index}",
                role="kim",
                kim_id=entry.kim_id,
                password_hash=hash_password(PASSWORD),
            )
        )
        db.session.commit()
    client = app.test_client()
    login(client, email, PASSWORD)
    return client


def _visit_url(setup, index=None):
    base = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/visits"
    return base if index is None else f"{base}/{setup.entries[index]}"


def _plan(client, token, setup, index, start, **extra):
    data = {"csrf_token": token, "start": start, "address": "Jl. Poros Desa No. 1, Sangatta"}
    data.update(extra)
    return client.post(_visit_url(setup, index), data=data)


def _visits(app):
    from monev.judging.models import Visit

    with app.app_context():
        return {v.entry_id: v for v in db.session.scalars(select(Visit))}


def _notes(app, kind="visit_set"):
    from monev.notify.models import Notification

    with app.app_context():
        return db.session.scalars(select(Notification).where(Notification.kind == kind)).all()


@pytest.fixture
def setup(app):
    return _visit_stage(app)


@pytest.fixture
def admin(app, setup):
    client = app.test_client()
    client.token = sign_in(client, setup.admin_email)
    return client


def test_the_stage_form_makes_a_stage_a_field_visit(app, admin, setup):
    from monev.events.models import Stage

    url = f"/admin/events/{setup.slug}/stages/{setup.stage_id}"
    page = admin.get(url).get_data(as_text=True)
    assert '<option selected value="visit">' in page
    response = admin.post(
        url,
        data={
            "csrf_token": admin.token,
            "name": "Presentasi",
            "key": "presentasi",
            "weight": "100",
            "judges_per_entry": "3",
            "kind": "standard",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Stage, setup.stage_id).kind == "standard"
    assert admin.get(_visit_url(setup)).status_code == 404  # no visits for such a stage
    refused = admin.post(
        url,
        data={
            "csrf_token": admin.token,
            "name": "Presentasi",
            "key": "presentasi",
            "weight": "100",
            "judges_per_entry": "3",
            "kind": "kapal",
        },
    )
    assert refused.status_code == 422


def test_the_organiser_schedules_a_visit_in_wita_and_the_kim_is_told(app, admin, setup):
    _kim_login(app, setup, 0)  # the KIM's account, which is told
    judging = admin.get(f"/admin/events/{setup.slug}/judging/").get_data(as_text=True)
    assert _visit_url(setup) in judging  # the board is linked from the judging overview
    board = admin.get(_visit_url(setup)).get_data(as_text=True)
    assert _visit_url(setup, 0) in board and t(app, "Not scheduled") in board
    response = _plan(
        admin, admin.token, setup, 0, "2026-07-08T09:00", latitude="0,5022", longitude="117.1536"
    )
    assert response.status_code == 302
    visit = _visits(app)[setup.entries[0]]
    assert visit.starts_at.hour == 1  # 09.00 WITA is 01.00 UTC
    assert (str(visit.latitude), str(visit.longitude)) == ("0.502200", "117.153600")
    page = admin.get(_visit_url(setup, 0)).get_data(as_text=True)
    assert 'value="2026-07-08T09:00"' in page and "Jl. Poros Desa No. 1" in page
    (note,) = _notes(app)
    assert note.params["when"] == "8 Jul 2026, 09.00 WITA"
    # saved again unchanged: nobody is told twice; moved: told again
    assert _plan(admin, admin.token, setup, 0, "2026-07-08T09:00").status_code == 302
    assert len(_notes(app)) == 1
    assert _plan(admin, admin.token, setup, 0, "2026-07-09T10:30").status_code == 302
    assert sorted(n.params["when"] for n in _notes(app)) == [
        "8 Jul 2026, 09.00 WITA",
        "9 Jul 2026, 10.30 WITA",
    ]


@pytest.mark.parametrize(
    ("fields", "field", "msgid"),
    [
        (
            {"latitude": "95", "longitude": "117"},
            "latitude",
            "The latitude is a number from -90 to 90, e.g. -0.5022.",
        ),
        (
            {"latitude": "-0.5", "longitude": "utara"},
            "longitude",
            "The longitude is a number from -180 to 180, e.g. 117.1536.",
        ),
        (
            {"latitude": "-0.5"},
            "longitude",
            "Enter both the latitude and the longitude, or neither.",
        ),
        ({"address": ""}, "address", "Enter the KIM's address."),
        ({"start": ""}, "start", "Enter the date and time of the visit."),
    ],
)
def test_bad_visit_input_is_refused_in_indonesian_and_kept(app, admin, setup, fields, field, msgid):
    data = {"start": "2026-07-08T09:00", "address": "Jl. Masjid Raya, Desa Uji"} | fields
    response = _plan(admin, admin.token, setup, 1, data.pop("start"), **data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, msgid) in page
    assert f'id="{field}"' in page and 'aria-invalid="true"' in page
    if fields.get("latitude"):
        assert f'value="{fields["latitude"]}"' in page  # the input is kept
    assert _visits(app) == {}
    assert _notes(app) == []


def test_the_kim_sees_its_visit_team_and_what_to_prepare(app, admin, setup):
    start = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    with app.app_context():
        from monev.core.timezones import to_local

        local = to_local(start, "Asia/Makassar").strftime("%Y-%m-%dT%H:%M")
    assert _plan(admin, admin.token, setup, 0, local).status_code == 302
    visit = _visits(app)[setup.entries[0]]
    kim = _kim_login(app, setup, 0)
    home = kim.get("/").get_data(as_text=True)
    with app.app_context():
        from monev.events.models import Event
        from monev.notify.tell import when

        event = db.session.get(Event, setup.event_id)
        when_text = when(visit.starts_at, event)
    assert t(app, "Prepare for the field visit: %(when)s", when=when_text) in home
    assert "Juri Uji 1, Juri Uji 2" in home and "Juri Uji 3" not in home
    assert f"/schedule/visits/{visit.id}" in home
    page = kim.get(f"/schedule/visits/{visit.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Akses informasi" in body and "Produksi konten" in body  # what to prepare
    assert "Bagaimana warga mendapat informasi." in body
    assert "Jl. Poros Desa No. 1" in body and "Juri Uji 2" in body
    # the KIM of another entry, a judge outside the team, an operator: not theirs
    other = _kim_login(app, setup, 1)
    assert other.get(f"/schedule/visits/{visit.id}").status_code == 404
    assert t(app, "Prepare for the field visit: %(when)s", when=when_text) not in other.get(
        "/"
    ).get_data(as_text=True)
    outsider = app.test_client()
    sign_in(outsider, setup.judges[2]["email"])
    assert outsider.get(f"/schedule/visits/{visit.id}").status_code == 404
    member = app.test_client()
    sign_in(member, setup.judges[0]["email"])
    assert member.get(f"/schedule/visits/{visit.id}").status_code == 200
    assert admin.get(f"/schedule/visits/{visit.id}").status_code == 200  # the organiser
    # everyone's own schedule lists the visit: the KIM's and the team's, nobody else's
    link = f'href="/schedule/visits/{visit.id}"'
    assert link in kim.get("/schedule/").get_data(as_text=True)
    assert link in member.get("/schedule/").get_data(as_text=True)
    assert link not in outsider.get("/schedule/").get_data(as_text=True)
    assert link not in other.get("/schedule/").get_data(as_text=True)


def test_an_operator_cannot_schedule_visits(app, setup, make_user):
    operator = make_user("operator", district_code="64.04")
    client = app.test_client()
    login(client, operator.email)
    assert client.get(_visit_url(setup)).status_code == 403
    assert client.post(_visit_url(setup, 0), data={}).status_code in (400, 403)


# --- the judge's checklist ----------------------------------------------------------------


def _check(client, token, assignment_id, criterion_id, mark, note="", key=None):
    data = {"csrf_token": token, "mark": mark, "note": note}
    if key:
        data["client_key"] = key
    return client.post(f"/judge/sheets/{assignment_id}/visit/{criterion_id}", data=data)


def _checks(app):
    from monev.judging.models import VisitCheck

    with app.app_context():
        return db.session.execute(
            select(VisitCheck.criterion_id, VisitCheck.mark, VisitCheck.note)
        ).all()


def test_the_judge_keeps_a_visit_checklist_on_the_sheet(app, setup):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    sheet = judge.get(f"/judge/sheets/{a}").get_data(as_text=True)
    assert t(app, "Visit checklist") in sheet and f'id="check-{c1}"' in sheet
    saved = _check(judge, token, a, c1, "partly", "Papan informasi ada, belum diperbarui.")
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"#check-{c1}")
    assert _checks(app) == [(c1, "partly", "Papan informasi ada, belum diperbarui.")]
    page = judge.get(f"/judge/sheets/{a}").get_data(as_text=True)
    assert 'value="partly" checked' in page and "belum diperbarui" in page
    # the same save again (one key): acknowledged, applied once
    first = _check(judge, token, a, c1, "observed", "Sudah.", key="kunci-simpan-0001")
    assert first.status_code == 303
    again = _check(judge, token, a, c1, "not_observed", "Diulang.", key="kunci-simpan-0001")
    assert again.status_code == 303
    assert _checks(app) == [(c1, "observed", "Sudah.")]
    assert t(app, "This checklist line was already saved.") in judge.get(
        f"/judge/sheets/{a}"
    ).get_data(as_text=True)
    # the checklist does not change the sheet's version (the score autosave keeps working)
    from monev.judging.models import ScoreSheet

    with app.app_context():
        assert db.session.scalar(select(ScoreSheet.version)) == 0


def test_a_bad_checklist_line_is_refused_with_the_note_kept(app, setup):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    response = _check(judge, token, a, c1, "mungkin", "Catatan yang tidak boleh hilang.")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, "Choose observed, partly observed or not observed.") in page
    assert "Catatan yang tidak boleh hilang." in page
    assert _checks(app) == []


def test_the_checklist_is_only_the_judges_own_and_locked_when_final(app, setup):
    outsider = app.test_client()
    token = sign_in(outsider, setup.judges[2]["email"])
    assert (
        _check(outsider, token, setup.assignment(0, 0), setup.criteria[0], "observed").status_code
        == 404
    )
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    a = setup.assignment(1, 0)
    final = judge.post(
        f"/judge/sheets/{a}/finalise",
        data={
            "csrf_token": token,
            "version": 0,
            "confirm": "y",
            f"value-{setup.criteria[0]}": "8",
            f"value-{setup.criteria[1]}": "10",
        },
    )
    assert final.status_code in (302, 303)
    refused = _check(judge, token, a, setup.criteria[0], "observed")
    assert refused.status_code == 409
    assert t(app, "This sheet is final and locked; only the organiser can reopen it.") in (
        refused.get_data(as_text=True)
    )
    assert _checks(app) == []


# --- scores reach the results; the board ------------------------------------------------------


def _finalise_all(app, setup, values):
    """Every judge finalises every sheet through the page (entry index -> (c1, c2))."""
    for j, judge in enumerate(setup.judges):
        client = app.test_client()
        token = sign_in(client, judge["email"])
        for i, entry in enumerate(setup.entries):
            if (entry, judge["id"]) not in setup.assignments or (i, j) == (0, 2):
                continue
            c1, c2 = values[i]
            response = client.post(
                f"/judge/sheets/{setup.assignment(i, j)}/finalise",
                data={
                    "csrf_token": token,
                    "version": 0,
                    "confirm": "y",
                    f"value-{setup.criteria[0]}": c1,
                    f"value-{setup.criteria[1]}": c2,
                },
            )
            assert response.status_code in (302, 303), response.get_data(as_text=True)[:400]


def test_a_visit_stages_scores_reach_the_results(app, setup):
    from monev.events.models import Event
    from monev.results import services as results

    _finalise_all(app, setup, {0: ("9", "800"), 1: ("5", "500"), 2: ("7", "600")})
    with app.app_context():
        snapshot = results.build_snapshot(results.compute(db.session.get(Event, setup.event_id)))
    rows = {r["code"]: r for c in snapshot["categories"] for r in c["entries"]}
    # c1 9/10 of 60, c2 800/1000 of 40 -> ... each criterion scaled to its range
    assert [rows[code]["rank"] for code in ("K-001", "K-003", "K-002")] == [1, 2, 3]
    assert rows["K-001"]["total"] > rows["K-003"]["total"] > rows["K-002"]["total"]


def test_the_board_shows_each_visits_state_by_district(app, admin, setup):

    _plan(admin, admin.token, setup, 0, "2026-07-08T09:00")  # long past: late, no sheet final
    future = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    _plan(admin, admin.token, setup, 1, future)
    board = admin.get(_visit_url(setup)).get_data(as_text=True)
    for state in ("Late", "Planned", "Not scheduled"):
        assert t(app, state) in board
    rows = board.split("<tbody>", 1)[1]
    # by district name: Kutai Kartanegara (64.02), Kutai Barat (64.03), Kutai Timur (64.04)...
    positions = [rows.index(code) for code in ("K-003", "K-002", "K-001")]
    with app.app_context():
        from monev.regions.models import District

        names = {d.code: d.name for d in db.session.scalars(select(District))}
    order = sorted(["64.02", "64.03", "64.04"], key=lambda c: names[c])
    expected = [{"64.04": "K-001", "64.03": "K-002", "64.02": "K-003"}[c] for c in order]
    assert sorted(positions) == [rows.index(code) for code in expected]
    # every sheet of the team final: synced
    _finalise_all(app, setup, {0: ("9", "800"), 1: ("5", "500"), 2: ("7", "600")})
    board = admin.get(_visit_url(setup)).get_data(as_text=True)
    assert t(app, "Synced") in board and t(app, "Late") not in board


def test_visit_states():
    from monev.judging.queries import visit_state

    now = utcnow()
    assert visit_state(None, [], now) == "unplanned"
    assert visit_state(now + timedelta(hours=1), [None, "draft"], now) == "planned"
    assert visit_state(now - timedelta(hours=1), ["draft"], now) == "in_progress"
    assert visit_state(now - timedelta(hours=23), [None], now) == "in_progress"
    assert visit_state(now - timedelta(hours=24), [None, "final"], now) == "late"
    assert visit_state(now - timedelta(days=3), ["final", "final"], now) == "synced"
    assert visit_state(now - timedelta(days=3), [], now) == "late"
