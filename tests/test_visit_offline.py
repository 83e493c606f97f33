"""Field visits without a signal (issue 17, offline part), over HTTP: the service worker and
the manifest, the judge's bundle (own team's visits only, blind labels, no evidence after a
conflict), and the sync of what a phone kept offline: applied once per key, a change made
online meanwhile answered as a conflict with both values, refusals with their message."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.extensions import db
from tests.conftest import count_queries, login, t
from tests.judging_setup import autosave, sheet_state, sign_in
from tests.test_visits import _visit_stage


def _plan_visits(app, setup, indexes=(0, 1, 2)):
    from monev.judging.models import Visit

    with app.app_context(), write_intent():
        for n, i in enumerate(indexes):
            db.session.add(
                Visit(
                    stage_id=setup.stage_id,
                    entry_id=setup.entries[i],
                    starts_at=utcnow() + timedelta(days=1, hours=n),
                    address=f"Jl. Poros Desa No. {i + 1}",
                    latitude=Decimal("0.413100"),
                    longitude=Decimal("117.475200"),
                )
            )
        db.session.commit()


@pytest.fixture
def setup(app):
    setup = _visit_stage(app)
    _plan_visits(app, setup)
    return setup


def _judge(app, setup, index):
    client = app.test_client()
    client.token = sign_in(client, setup.judges[index]["email"])
    return client


def _sync(client, assignment_id, **body):
    return client.post(
        f"/judge/sheets/{assignment_id}/sync",
        json=body,
        headers={"X-CSRFToken": client.token, "Accept": "application/json"},
    )


def _score(client, a, c, value, key, *, version=0, base="", comment="", base_comment=""):
    return _sync(
        client,
        a,
        kind="score",
        criterion_id=c,
        value=value,
        comment=comment,
        client_key=key,
        base_version=version,
        base_value=base,
        base_comment=base_comment,
    )


def _sync_keys(app):
    from monev.judging.models import SyncKey

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SyncKey))


# --- the worker, the manifest, the shell -------------------------------------------------------


def test_the_service_worker_is_served_from_the_root_never_cached(app, client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache, max-age=0"
    body = response.get_data(as_text=True)
    assert body.startswith("const MONEV_SHELL = {")
    # the shell's files at their versioned URLs (a new file is a new URL and a new cache)
    assert '"/offline"' in body and "/static/js/offline.js?v=" in body
    assert "/static/css/app.css?v=" in body
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["start_url"] == "/offline"


def test_the_shell_holds_nothing_of_anybody(app, setup):
    judge = _judge(app, setup, 0)
    page = judge.get("/offline")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Juri Uji" not in body and "csrf_token" not in body and "K-00" not in body
    assert 'data-offline="shell"' in body
    assert app.test_client().get("/offline").get_data(as_text=True) == body


# --- the bundle -----------------------------------------------------------------------------


def test_the_bundle_holds_the_judges_own_visits_blind(app, setup):
    judge = _judge(app, setup, 2)  # not on entry 0's team
    a = setup.assignment(1, 2)
    autosave(judge, judge.token, a, setup.criteria[0], "7,5", 0, comment="Rapi.")
    bundle = judge.get("/judge/offline/bundle").get_json()
    assert bundle["format"] == "monev-offline/1"
    assert bundle["judge"]["id"] == setup.judges[2]["id"]
    assert [v["label"] for v in bundle["visits"]] == ["K-002", "K-003"]  # blind: codes only
    text = str(bundle)
    assert all(name not in text for name in setup.kim_names.values())
    visit = bundle["visits"][0]
    assert visit["sheet"] == a and visit["editable"] is True and visit["version"] == 1
    assert visit["scores"] == {str(setup.criteria[0]): {"value": "7,5", "comment": "Rapi."}}
    assert visit["address"] == "Jl. Poros Desa No. 2"
    assert (visit["latitude"], visit["longitude"]) == (0.4131, 117.4752)
    criterion = visit["aspects"][0]["criteria"][0]
    assert criterion["id"] == setup.criteria[0] and criterion["descriptors"]
    assert {"min", "max", "step", "photos_required"} <= set(criterion)
    assert visit["photos"] == {}
    assert bundle["prepared_text"].endswith("WITA")


def test_the_bundle_shows_names_when_the_event_allows_it(app, setup):
    from monev.events.models import Event

    with app.app_context(), write_intent():
        db.session.get(Event, setup.event_id).judges_see_names = True
        db.session.commit()
    bundle = _judge(app, setup, 0).get("/judge/offline/bundle").get_json()
    assert bundle["visits"][0]["label"] == f"K-001 · {setup.kim_names[setup.entries[0]]}"


def test_the_bundle_reads_a_fixed_number_of_queries(app, setup):
    judge = _judge(app, setup, 0)
    judge.get("/judge/offline/bundle")  # warm the session and the caches
    with app.app_context(), count_queries(db.engine) as three:
        assert len(judge.get("/judge/offline/bundle").get_json()["visits"]) == 3
    from monev.judging.models import Visit

    with app.app_context(), write_intent():
        db.session.execute(Visit.__table__.delete().where(Visit.entry_id != setup.entries[0]))
        db.session.commit()
    with app.app_context(), count_queries(db.engine) as one:
        assert len(judge.get("/judge/offline/bundle").get_json()["visits"]) == 1
    assert len(three) == len(one)


def test_after_a_conflict_the_bundle_has_nothing_of_the_entry(app, setup):
    from monev.judging.models import Conflict

    with app.app_context(), write_intent():
        db.session.add(
            Conflict(entry_id=setup.entries[0], judge_id=setup.judges[0]["id"], source="judge")
        )
        db.session.commit()
    bundle = _judge(app, setup, 0).get("/judge/offline/bundle").get_json()
    visit = next(v for v in bundle["visits"] if v["label"] == "K-001")
    assert visit["editable"] is False and visit["aspects"] == [] and visit["evidence"] == {}


@pytest.mark.parametrize("role", ["admin", "operator", "kim"])
def test_other_roles_get_no_bundle_and_cannot_sync(app, setup, make_user, make_kim, role):
    kw = {"district_code": "64.04"} if role == "operator" else {}
    if role == "kim":
        kw["kim"] = make_kim(name="KIM Lain")
    user = make_user(role, **kw)
    client = app.test_client()
    login(client, user.email)
    assert client.get("/judge/offline/bundle").status_code == 403
    assert client.get("/judge/offline").status_code == 403
    response = client.post(f"/judge/sheets/{setup.assignment(0, 0)}/sync", json={})
    assert response.status_code in (400, 403)  # no token, or refused: never saved
    assert sheet_state(app, setup.assignment(0, 0)) == (None, 0, {})


def test_anonymous_phones_are_sent_to_sign_in(app, client):
    response = client.get("/judge/offline/session")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_session_gives_a_fresh_token(app, setup):
    judge = _judge(app, setup, 0)
    answer = judge.get("/judge/offline/session").get_json()
    assert answer["user"] == setup.judges[0]["id"] and answer["token"]


# --- the sync --------------------------------------------------------------------------------


def test_a_score_is_applied_once_per_key(app, setup):
    judge = _judge(app, setup, 0)
    a, c1, c2 = setup.assignment(0, 0), setup.criteria[0], setup.criteria[1]
    first = _score(judge, a, c1, "8,5", "kunci-skor-0001", comment="Papan informasi ada.")
    assert first.status_code == 201
    assert first.get_json() == {
        "ok": True,
        "applied": True,
        "version": 1,
        "stored": {"value": "8,5", "comment": "Papan informasi ada."},
    }
    again = _score(judge, a, c1, "8,5", "kunci-skor-0001", comment="Papan informasi ada.")
    assert again.status_code == 200 and again.get_json()["applied"] is False
    # the phone's next item was made offline on the same base version: another criterion
    second = _score(judge, a, c2, "640", "kunci-skor-0002")
    assert second.status_code == 201 and second.get_json()["version"] == 2
    # the whole queue once more (a lost answer): nothing twice
    for key, c, v in (("kunci-skor-0001", c1, "8,5"), ("kunci-skor-0002", c2, "640")):
        assert _score(judge, a, c, v, key).get_json()["applied"] is False
    status, version, scores = sheet_state(app, a)
    assert (status, version) == ("draft", 2)
    assert scores == {c1: (Decimal("8.5"), "Papan informasi ada."), c2: (Decimal("640"), None)}
    assert _sync_keys(app) == 2


def test_a_change_made_online_meanwhile_is_a_conflict_never_overwritten(app, setup):
    judge = _judge(app, setup, 0)
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    # the phone was prepared at version 0 (no score); then the judge scored online
    assert autosave(judge, judge.token, a, c1, "6", 0).status_code == 200
    response = _score(judge, a, c1, "9", "kunci-konflik-01")
    assert response.status_code == 409
    answer = response.get_json()
    assert answer["ok"] is False and answer["field"] == "conflict"
    assert answer["conflict"] == {"server": {"value": "6", "comment": ""}, "version": 1}
    assert answer["message"] == t(
        app,
        "This was changed online since your phone was prepared; nothing was overwritten. "
        "Choose which to keep.",
    )
    assert sheet_state(app, a)[2] == {c1: (Decimal("6"), None)}
    # "keep mine": sent again on top of what the server has
    kept = _score(judge, a, c1, "9", "kunci-konflik-01", version=1, base="6")
    assert kept.status_code == 201
    assert sheet_state(app, a)[1:] == (2, {c1: (Decimal("9"), None)})


def test_the_same_value_set_online_is_no_conflict(app, setup):
    judge = _judge(app, setup, 0)
    a, c1, c2 = setup.assignment(0, 0), setup.criteria[0], setup.criteria[1]
    autosave(judge, judge.token, a, c2, "500", 0)  # another criterion changed online
    assert _score(judge, a, c1, "7", "kunci-lain-0001").status_code == 201
    autosave(judge, judge.token, a, c1, "8", 2)  # the same value, set online too
    assert _score(judge, a, c1, "8", "kunci-lain-0002", base="7").status_code == 201


def test_two_judges_of_a_team_sync_their_own_sheets(app, setup):
    one, two = _judge(app, setup, 0), _judge(app, setup, 1)
    c1 = setup.criteria[0]
    assert _score(one, setup.assignment(0, 0), c1, "8", "kunci-juri-satu").status_code == 201
    assert _score(two, setup.assignment(0, 1), c1, "5", "kunci-juri-satu").status_code == 201
    assert sheet_state(app, setup.assignment(0, 0))[2] == {c1: (Decimal("8"), None)}
    assert sheet_state(app, setup.assignment(0, 1))[2] == {c1: (Decimal("5"), None)}
    # nobody syncs into another judge's sheet
    refused = _score(one, setup.assignment(0, 1), c1, "1", "kunci-juri-lain")
    assert refused.status_code == 404
    assert refused.get_json()["message"] == t(
        app, "This entry is not assigned to you; nothing was saved."
    )
    assert sheet_state(app, setup.assignment(0, 1))[2] == {c1: (Decimal("5"), None)}


@pytest.mark.parametrize(
    ("value", "key", "status", "msgid"),
    [
        ("11", "kunci-luar-rentang", 422, None),
        ("8", "kunci?", 422, "This save carries an unreadable key; nothing was saved."),
    ],
)
def test_bad_scores_are_refused_with_a_message(app, setup, value, key, status, msgid):
    judge = _judge(app, setup, 0)
    a = setup.assignment(0, 0)
    response = _score(judge, a, setup.criteria[0], value, key)
    assert response.status_code in (400, 422)
    answer = response.get_json()
    assert answer["ok"] is False and answer["message"]
    if msgid:
        assert answer["message"] == t(app, msgid)
    assert sheet_state(app, a) == (None, 0, {}) and _sync_keys(app) == 0


def test_a_final_sheet_refuses_the_phone(app, setup):
    judge = _judge(app, setup, 0)
    a = setup.assignment(0, 0)
    judge.post(
        f"/judge/sheets/{a}/finalise",
        data={
            "csrf_token": judge.token,
            "version": 0,
            "confirm": "y",
            f"value-{setup.criteria[0]}": "8",
            f"value-{setup.criteria[1]}": "10",
        },
    )
    response = _score(judge, a, setup.criteria[0], "9", "kunci-final-001", version=2, base="8")
    assert response.status_code == 409
    assert response.get_json()["message"] == t(
        app, "This sheet is final and locked; only the organiser can reopen it."
    )
    bundle = judge.get("/judge/offline/bundle").get_json()
    visit = next(v for v in bundle["visits"] if v["sheet"] == a)
    assert visit["editable"] is False and visit["status"] == "final"


def test_a_checklist_line_is_applied_once_and_conflicts_are_shown(app, setup):
    from monev.judging.models import VisitCheck

    judge = _judge(app, setup, 0)
    a, c1 = setup.assignment(0, 0), setup.criteria[0]

    def check(mark, note, key, base_mark="", base_note=""):
        return _sync(
            judge,
            a,
            kind="check",
            criterion_id=c1,
            mark=mark,
            note=note,
            client_key=key,
            base_mark=base_mark,
            base_note=base_note,
        )

    assert check("partly", "Papan ada.", "kunci-cek-00001").status_code == 201
    assert check("observed", "Sudah.", "kunci-cek-00002", "partly", "Papan ada.").status_code == 201
    # the first again (its answer was lost): acknowledged, the later line stays
    again = check("partly", "Papan ada.", "kunci-cek-00001")
    assert again.status_code == 200 and again.get_json()["applied"] is False
    with app.app_context():
        rows = db.session.execute(select(VisitCheck.mark, VisitCheck.note)).all()
    assert rows == [("observed", "Sudah.")]
    # changed online meanwhile (the sheet's own form): a conflict with both
    judge.post(
        f"/judge/sheets/{a}/visit/{c1}",
        data={"csrf_token": judge.token, "mark": "not_observed", "note": "Tidak ada."},
    )
    conflict = check("partly", "Dari ponsel.", "kunci-cek-00003", "observed", "Sudah.")
    assert conflict.status_code == 409
    assert conflict.get_json()["conflict"]["server"] == {
        "mark": "not_observed",
        "note": "Tidak ada.",
    }
    refused = check("mungkin", "", "kunci-cek-00004", "not_observed", "Tidak ada.")
    assert refused.status_code == 422
    assert refused.get_json()["message"] == t(
        app, "Choose observed, partly observed or not observed."
    )


def test_sync_without_a_token_changes_nothing(app, setup):
    judge = _judge(app, setup, 0)
    a = setup.assignment(0, 0)
    response = judge.post(
        f"/judge/sheets/{a}/sync",
        json={"kind": "score", "criterion_id": setup.criteria[0], "value": "8"},
    )
    assert response.status_code == 400
    assert sheet_state(app, a) == (None, 0, {})


def test_the_judges_home_and_sheet_lead_to_the_offline_page(app, setup):
    judge = _judge(app, setup, 0)
    assert "/judge/offline" in judge.get("/judge/").get_data(as_text=True)
    assert "/judge/offline" in judge.get(f"/judge/sheets/{setup.assignment(0, 0)}").get_data(
        as_text=True
    )
    page = judge.get("/judge/offline").get_data(as_text=True)
    assert "K-001" in page and "Jl. Poros Desa No. 1" in page and 'id="offline-prepare"' in page


def test_a_judge_without_visits_is_not_sent_to_prepare_them(app, setup, make_user):
    user = make_user("judge")
    client = app.test_client()
    login(client, user.email)
    home = client.get("/judge/")
    assert home.status_code == 200
    assert "/judge/offline" not in home.get_data(as_text=True)


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "score", "criterion_id": "abc", "client_key": "kunci-aneh-0001", "value": "8"},
        {"kind": "score", "criterion_id": None, "value": ["8"], "base_version": "x"},
        {"kind": "check", "criterion_id": 999999, "client_key": "kunci-aneh-0002", "mark": 1},
        {"kind": "foto"},
        {},
    ],
)
def test_odd_payloads_are_refused_never_a_500(app, setup, body):
    judge = _judge(app, setup, 0)
    a = setup.assignment(0, 0)
    response = _sync(judge, a, **body)
    assert 400 <= response.status_code < 500
    assert response.get_json()["ok"] is False and response.get_json()["message"]
    assert sheet_state(app, a) == (None, 0, {}) and _sync_keys(app) == 0
    not_json = judge.post(
        f"/judge/sheets/{a}/sync",
        data="kunci",
        headers={"X-CSRFToken": judge.token, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
