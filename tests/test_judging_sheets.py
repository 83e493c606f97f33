"""Score sheets: autosave, strict numbers, every refusal at the server (and that it changed
nothing), finalise and reopen, the two-tab conflict, a double-submit race, and the checks
made again inside the write transaction."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from monev.core.timeutil import utcnow
from monev.extensions import db
from tests.conftest import PG_URL, t
from tests.judging_setup import autosave, build, sheet_state, sign_in, snapshot


@pytest.fixture
def setup(app):
    return build(app)


@pytest.fixture
def judge(app, setup):
    client = app.test_client()
    token = sign_in(client, setup.judges[0]["email"])
    return client, token


def test_autosave_stores_the_score_and_answers_with_the_new_version(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    c1, c2 = setup.criteria
    response = autosave(client, token, a, c1, "8,5", 0, comment="Papan informasi aktif")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert t(app, "Saved") in body
    assert 'data-version="1"' in body  # the page's script moves it into the form
    assert "<html" not in body
    # 8.5 on 1–10 is 83.33 normalised; weight 60 → 50.00
    assert ">50<" in body.replace(",00", "")
    assert sheet_state(app, a) == ("draft", 1, {c1: (Decimal("8.5"), "Papan informasi aktif")})
    response = autosave(client, token, a, c2, "1000", 1)
    assert response.status_code == 200
    assert sheet_state(app, a)[1] == 2


def test_saving_the_same_value_again_changes_nothing(app, setup, judge):
    client, token = judge
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    autosave(client, token, a, c1, "7", 0)
    before = snapshot(app)
    assert autosave(client, token, a, c1, "7,0", 1).status_code == 200
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11", "The score %(value)s lies outside the range %(min)s–%(max)s."),
        ("0,5", "The score %(value)s lies outside the range %(min)s–%(max)s."),
        ("8,3", "The score %(value)s is not on the steps of %(step)s from %(min)s."),
        ("١٠", None),  # Arabic-Indic ten
        ("５", None),  # full-width five
        ("٨", None),
        ("-0", None),
        ("1e1", None),
        ("8.5.1", None),
        ("1.000,5", None),
        ("8 5", None),
        ("+8", None),
        ("NaN", None),
        ("Infinity", None),
        ("delapan", None),
    ],
)
def test_bad_numbers_are_refused_and_change_nothing(app, setup, judge, value, message):
    client, token = judge
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    autosave(client, token, a, c1, "6", 0)
    before = snapshot(app)
    response = autosave(client, token, a, c1, value, 1)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "save-error" in body
    if message and "range" in message:
        assert t(app, message, value=value, min="1", max="10") in body
    elif message:
        assert t(app, message, value=value, step="0,5", min="1") in body
    assert snapshot(app) == before


def test_unassigned_sheet_is_refused_and_hidden(app, setup):
    """A judge cannot read or write another judge's sheet: it does not exist for them."""
    client = app.test_client()
    token = sign_in(client, setup.judges[0]["email"])
    other = setup.assignment(0, 1)
    before = snapshot(app)
    assert client.get(f"/judge/sheets/{other}").status_code == 404
    assert autosave(client, token, other, setup.criteria[0], "8", 0).status_code == 404
    assert (
        client.post(
            f"/judge/sheets/{other}/finalise",
            data={"csrf_token": token, "version": 0, "confirm": "y"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/judge/assignments/{other}/conflict",
            data={"csrf_token": token, "reason": "x", "confirm": "y"},
        ).status_code
        == 404
    )
    assert snapshot(app) == before


def test_assignment_removed_meanwhile_is_refused(app, setup, judge):
    """The view found the assignment; the service, under the lock, does not: refused."""
    from monev.judging import services

    client, token = judge
    a = setup.assignment(0, 0)
    with app.app_context():
        from monev.auth.models import User

        user = db.session.get(User, setup.judges[0]["id"])
        db.session.execute(text("DELETE FROM assignments WHERE id = :id"), {"id": a})
        with pytest.raises(services.ServiceError) as refused:
            services.save_score(
                a, user, criterion_id=setup.criteria[0], value="8", comment="", version=0
            )
        assert refused.value.status == 404
        db.session.rollback()


def test_conflicted_judge_is_refused(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    response = client.post(
        f"/judge/assignments/{a}/conflict",
        data={"csrf_token": token, "reason": "Saya kerabat ketua KIM ini.", "confirm": "y"},
    )
    assert response.status_code == 302
    before = snapshot(app)
    response = autosave(client, token, a, setup.criteria[0], "8", 0)
    assert response.status_code == 403
    assert t(
        app, "You declared a conflict of interest with this entry, so you cannot score it."
    ) in (response.get_data(as_text=True))
    assert snapshot(app) == before


def _set_window(app, setup, opens, closes):
    from monev.events.models import Stage

    with app.app_context():
        stage = db.session.get(Stage, setup.stage_id)
        stage.opens_at, stage.closes_at = opens, closes
        db.session.commit()


def test_scores_after_the_deadline_are_refused(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    autosave(client, token, a, setup.criteria[0], "6", 0)
    _set_window(app, setup, utcnow() - timedelta(days=3), utcnow() - timedelta(minutes=1))
    before = snapshot(app)
    response = autosave(client, token, a, setup.criteria[0], "7", 1)
    assert response.status_code == 409
    assert t(app, "Saved") not in response.get_data(as_text=True)
    assert snapshot(app) == before
    page = client.get(f"/judge/sheets/{a}").get_data(as_text=True)
    assert "disabled" in page and "hx-post" not in page


def test_scores_before_the_window_opens_are_refused(app, setup, judge):
    client, token = judge
    _set_window(app, setup, utcnow() + timedelta(hours=2), utcnow() + timedelta(days=2))
    before = snapshot(app)
    assert (
        autosave(client, token, setup.assignment(0, 0), setup.criteria[0], "7", 0).status_code
        == 409
    )
    assert snapshot(app) == before


def test_scores_outside_the_judging_phase_are_refused(app, setup, judge):
    from monev.events.models import Event

    client, token = judge
    with app.app_context():
        db.session.get(Event, setup.event_id).status = "results"
        db.session.commit()
    before = snapshot(app)
    assert (
        autosave(client, token, setup.assignment(0, 0), setup.criteria[0], "7", 0).status_code
        == 409
    )
    assert snapshot(app) == before


def _finalise(client, token, a, setup, values, version):
    data = {"csrf_token": token, "version": version, "confirm": "y"}
    for cid, value in zip(setup.criteria, values, strict=True):
        data[f"value-{cid}"] = value
        data[f"comment-{cid}"] = ""
    return client.post(f"/judge/sheets/{a}/finalise", data=data)


def test_finalise_needs_every_criterion_and_changes_nothing_otherwise(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    before = snapshot(app)
    response = _finalise(client, token, a, setup, ["8", ""], 0)
    assert response.status_code == 422
    assert t(app, "Score this criterion before finalising.") in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_finalised_sheet_is_locked_and_refuses_changes(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    response = _finalise(client, token, a, setup, ["8,5", "250,25"], 0)
    assert response.status_code == 302
    status, version, scores = sheet_state(app, a)
    assert status == "final"
    assert scores[setup.criteria[1]][0] == Decimal("250.25")
    before = snapshot(app)
    response = autosave(client, token, a, setup.criteria[0], "9", version)
    assert response.status_code == 409
    assert t(app, "This sheet is final and locked; only the organiser can reopen it.") in (
        response.get_data(as_text=True)
    )
    assert _finalise(client, token, a, setup, ["9", "1"], version).status_code == 409
    assert snapshot(app) == before


def test_only_the_organiser_reopens_with_a_reason_and_it_is_logged(app, setup, judge):
    from monev.audit.models import AuditEntry
    from monev.judging.models import ScoreChange, ScoreSheet

    client, token = judge
    a = setup.assignment(0, 0)
    _finalise(client, token, a, setup, ["8", "100"], 0)
    with app.app_context():
        sheet_id = db.session.scalar(select(ScoreSheet.id).where(ScoreSheet.assignment_id == a))
    url = f"/admin/events/{setup.slug}/judging/sheets/{sheet_id}"
    # A judge cannot reach it.
    assert client.post(url, data={"csrf_token": token, "reason": "x"}).status_code == 403
    admin = app.test_client()
    admin_token = sign_in(admin, setup.admin_email)
    before = snapshot(app)
    assert admin.post(url, data={"csrf_token": admin_token, "reason": ""}).status_code == 422
    assert snapshot(app) == before
    response = admin.post(url, data={"csrf_token": admin_token, "reason": "Salah ketik nilai c2."})
    assert response.status_code == 302
    status, version, _scores = sheet_state(app, a)
    assert status == "draft"
    with app.app_context():
        kinds = list(
            db.session.scalars(
                select(ScoreChange.kind)
                .where(ScoreChange.sheet_id == sheet_id)
                .order_by(ScoreChange.version)
            )
        )
        assert kinds == ["score", "score", "final", "reopen"]
        logged = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sheet.reopened"))
        assert logged.changes["reason"] == "Salah ketik nilai c2."
        assert logged.actor == setup.admin_email
    # The judge may change and finalise again.
    assert autosave(client, token, a, setup.criteria[1], "120", version).status_code == 200


def test_two_tabs_do_not_overwrite_each_other(app, setup, judge):
    client, token = judge
    other_tab = app.test_client()
    other_token = sign_in(other_tab, setup.judges[0]["email"])
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    # Both tabs loaded the sheet at version 0.
    assert autosave(client, token, a, c1, "9", 0).status_code == 200
    before = snapshot(app)
    response = autosave(other_tab, other_token, a, c1, "3", 0)
    assert response.status_code == 409
    assert t(
        app,
        "This sheet was changed in another tab or window since this page was loaded, so nothing "
        "was saved here. Reload the page to see the latest scores.",
    ) in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert sheet_state(app, a)[2][c1][0] == Decimal("9")
    # After reloading, the other tab sees version 1 and can save.
    page = other_tab.get(f"/judge/sheets/{a}").get_data(as_text=True)
    assert 'id="sheet-version" name="version" value="1"' in page
    assert autosave(other_tab, other_token, a, c1, "3", 1).status_code == 200


def test_no_javascript_form_saves_everything_or_nothing(app, setup, judge):
    client, token = judge
    a = setup.assignment(0, 0)
    c1, c2 = setup.criteria
    before = snapshot(app)
    response = client.post(
        f"/judge/sheets/{a}",
        data={"csrf_token": token, "version": 0, f"value-{c1}": "8", f"value-{c2}": "5000"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="5000"' in page  # the input is kept
    assert 'aria-invalid="true"' in page
    assert snapshot(app) == before
    response = client.post(
        f"/judge/sheets/{a}",
        data={"csrf_token": token, "version": 0, f"value-{c1}": "8", f"value-{c2}": "500"},
    )
    assert response.status_code == 302
    assert sheet_state(app, a)[1] == 2


@pytest.mark.real_commits
def test_double_submit_race_saves_exactly_once(app, setup):
    """Two identical autosaves sent at the same moment (a double click, a retried request):
    one is saved, the other refused as stale; one trail row, version + 1."""
    from monev.judging.models import ScoreChange

    clients = []
    for _ in range(2):
        c = app.test_client()
        clients.append((c, sign_in(c, setup.judges[0]["email"])))
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    barrier = threading.Barrier(2)
    results = []

    def send(client, token):
        barrier.wait(timeout=10)
        results.append(autosave(client, token, a, c1, "7,5", 0).status_code)

    threads = [threading.Thread(target=send, args=pair) for pair in clients]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(results) == [200, 409]
    status, version, scores = sheet_state(app, a)
    assert version == 1 and scores[c1][0] == Decimal("7.5")
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ScoreChange.id))) == 1


@pytest.mark.real_commits
def test_double_finalise_race_finalises_once(app, setup):
    from monev.audit.models import AuditEntry

    clients = []
    for _ in range(2):
        c = app.test_client()
        clients.append((c, sign_in(c, setup.judges[0]["email"])))
    a = setup.assignment(1, 0)
    barrier = threading.Barrier(2)
    results = []

    def send(client, token):
        barrier.wait(timeout=10)
        results.append(_finalise(client, token, a, setup, ["8", "10"], 0).status_code)

    threads = [threading.Thread(target=send, args=pair) for pair in clients]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(results) == [302, 409]
    with app.app_context():
        n = db.session.scalar(
            select(db.func.count(AuditEntry.id)).where(AuditEntry.action == "sheet.finalised")
        )
        assert n == 1


# --- checked again inside the write transaction --------------------------------------------


def _interfere(app, sql: str, params: dict) -> str:
    """Run ``sql`` on another connection, as another request would, and say what happened."""
    if PG_URL:
        with app.app_context():
            engine = db.engine
        with engine.connect() as conn:
            conn.execute(text(sql), params)
            conn.commit()
        return "done"
    import sqlite3

    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    conn = sqlite3.connect(path, timeout=0.2)
    try:
        conn.execute(sql, params)
        conn.commit()
    except sqlite3.OperationalError as exc:
        return f"blocked: {exc}"
    finally:
        conn.close()
    return "done"


def _closed(setup):
    return (
        "UPDATE stages SET closes_at = :at WHERE id = :id",
        {
            "at": (utcnow() - timedelta(minutes=1)).isoformat(sep=" ")
            if not PG_URL
            else utcnow() - timedelta(minutes=1),
            "id": setup.stage_id,
        },
    )


@pytest.mark.real_commits
@pytest.mark.parametrize(
    ("what", "status"),
    [("deadline", 409), ("finalised", 409), ("unassigned", 404), ("conflict", 403)],
)
def test_rules_are_checked_again_under_the_lock(app, setup, judge, monkeypatch, what, status):
    """Between the view's own checks and the write, another request closes the window,
    finalises the sheet, removes the assignment or records a conflict. On PostgreSQL the
    save then sees it under the lock and refuses; on SQLite the other writer cannot get in
    at all (the save's transaction holds the write lock from its first statement)."""
    from monev.judging import sheets

    client, token = judge
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    autosave(client, token, a, c1, "6", 0)  # the sheet exists, version 1
    sql = {
        "deadline": _closed(setup),
        "finalised": (
            "UPDATE score_sheets SET status = 'final' WHERE assignment_id = :a",
            {"a": a},
        ),
        "unassigned": ("DELETE FROM assignments WHERE id = :a", {"a": a}),
        "conflict": (
            "INSERT INTO conflicts (entry_id, judge_id, source, created_at) "
            "VALUES (:e, :j, 'admin', CURRENT_TIMESTAMP)",
            {"e": setup.entries[0], "j": setup.judges[0]["id"]},
        ),
    }[what]
    outcome = []
    original = sheets.lock_assignment

    def interfering_lock(assignment_id):
        outcome.append(_interfere(app, *sql))
        return original(assignment_id)

    monkeypatch.setattr(sheets, "lock_assignment", interfering_lock)
    before = sheet_state(app, a) if what != "unassigned" else None
    response = autosave(client, token, a, c1, "9", 1)
    if PG_URL:
        assert outcome == ["done"]
        assert response.status_code == status
        if what != "unassigned":
            assert sheet_state(app, a)[2] == before[2]  # the score is still 6
    else:
        assert outcome[0].startswith("blocked")
        assert response.status_code == 200


def test_sheet_shows_the_entrys_evidence_beside_the_rubric(app, setup, judge):
    from monev.entries.models import Evidence

    client, _token = judge
    c1 = setup.criteria[0]
    with app.app_context():
        db.session.add_all(
            [
                Evidence(
                    entry_id=setup.entries[0],
                    criterion_id=c1,
                    kind="link",
                    url="https://kim-uji.desa.id/papan-informasi",
                ),
                Evidence(entry_id=setup.entries[0], kind="link", url="https://youtu.be/presentasi"),
            ]
        )
        db.session.commit()
    page = client.get(f"/judge/sheets/{setup.assignment(0, 0)}").get_data(as_text=True)
    criterion = page[page.index(f'id="criterion-{c1}"') :]
    criterion = criterion[: criterion.index("</fieldset>")]
    assert 'href="https://kim-uji.desa.id/papan-informasi"' in criterion
    aside = page[page.index('class="sheet-evidence"') : page.index('id="score-sheet"')]
    assert 'href="https://youtu.be/presentasi"' in aside
    assert "Bagaimana warga mendapat informasi." in criterion  # the criterion's guidance


def test_a_disqualified_entry_can_no_longer_be_scored(app, setup, judge):
    from monev.entries.models import Entry
    from monev.judging.models import Assignment

    client, token = judge
    a = setup.assignment(0, 0)
    assert autosave(client, token, a, setup.criteria[0], "7", 0).status_code == 200
    with app.app_context():
        entry = db.session.get(Entry, db.session.get(Assignment, a).entry_id)
        entry.standing, entry.standing_reason = "eliminated", "rule_violation"
        db.session.commit()
    response = autosave(client, token, a, setup.criteria[0], "9", 1)
    assert response.status_code == 409
    assert "Gugur" in response.get_data(as_text=True)
    assert sheet_state(app, a)[2] == {setup.criteria[0]: (Decimal("7"), None)}
    page = client.get(f"/judge/sheets/{a}").get_data(as_text=True)
    assert "Entri ini tidak lagi dinilai: Gugur." in page


def test_a_field_the_request_does_not_carry_is_left_unchanged(app, setup, judge):
    client, token = judge
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    assert autosave(client, token, a, c1, "7", 0, comment="Papan aktif").status_code == 200
    url = f"/judge/sheets/{a}/scores/{c1}"
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    only_value = client.post(url, data={f"value-{c1}": "8", "version": 1}, headers=headers)
    assert only_value.status_code == 200
    assert sheet_state(app, a)[2] == {c1: (Decimal("8"), "Papan aktif")}
    only_comment = client.post(
        url, data={f"comment-{c1}": "Diperbarui", "version": 2}, headers=headers
    )
    assert only_comment.status_code == 200
    assert sheet_state(app, a)[2] == {c1: (Decimal("8"), "Diperbarui")}
    # An empty field is a deliberate change: it clears.
    assert autosave(client, token, a, c1, "", 3, comment="").status_code == 200
    assert sheet_state(app, a)[2] == {c1: (None, None)}


def test_one_comment_limit_online_on_paper_and_in_packages():
    from monev.judging import models, paper_import, sheets
    from monev.transfer.package import scores

    for module in (sheets, paper_import, scores):
        assert module.COMMENT_MAX is models.COMMENT_MAX


def test_after_a_conflict_the_judge_no_longer_sees_the_entrys_evidence(app, setup, judge):
    from monev.entries.models import Evidence
    from monev.judging.models import Assignment

    client, token = judge
    a = setup.assignment(0, 0)
    with app.app_context():
        entry_id = db.session.get(Assignment, a).entry_id
        db.session.add(Evidence(entry_id=entry_id, kind="link", url="https://kim.contoh.id/pp"))
        db.session.commit()
    assert "https://kim.contoh.id/pp" in client.get(f"/judge/sheets/{a}").get_data(as_text=True)
    client.post(
        f"/judge/assignments/{a}/conflict",
        data={"csrf_token": token, "reason": "Kerabat", "confirm": "y"},
    )
    page = client.get(f"/judge/sheets/{a}").get_data(as_text=True)
    assert "https://kim.contoh.id/pp" not in page
    assert "sehingga entri ini ditarik dari Anda" in page


# --- what one autosave costs ------------------------------------------------------------------


def _statement(sql: str) -> str:
    """``SELECT assignments``, ``INSERT scores``…: the verb and the first table it names."""
    words = sql.split()
    verb = words[0].upper()
    table = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE"}.get(verb)
    at = next((i for i, w in enumerate(words) if w.upper() == table), None) if table else None
    return f"{verb} {words[at + 1]}" if at is not None and at + 1 < len(words) else verb


def test_an_autosave_reads_and_writes_in_nine_statements(app, setup, judge):
    """Judging day's busiest request, statement by statement (judging-day bench: 100 judges
    saving while 20 organisers poll the board): the session, the assignment locked with its
    stage, event and entry, the conflict check, the sheet locked with its scores, the rules,
    then the version count, the trail row, the sheet's version and the score. Nothing is
    read again after the commit (the answer's time zone and the signed-in user included)."""
    from tests.conftest import count_queries

    client, token = judge
    a, c1, c2 = setup.assignment(0, 0), *setup.criteria
    assert autosave(client, token, a, c1, "6", 0).status_code == 200  # the sheet exists
    with app.app_context():
        engine = db.engine
    reads = [
        "SELECT user_sessions",
        "SELECT assignments",
        "SELECT conflicts",
        "SELECT score_sheets",
        "SELECT criteria",
    ]
    for criterion, value, version, score in (
        (c2, "7", 1, "INSERT scores"),
        (c1, "8", 2, "UPDATE scores"),
    ):
        with count_queries(engine) as statements:
            response = autosave(client, token, a, criterion, value, version)
        assert response.status_code == 200
        writes = [
            "INSERT judging_versions",
            "INSERT score_changes",
            "UPDATE score_sheets",
            score,
        ]
        shown = [_statement(s) for s in statements if not s.startswith(("ROLLBACK", "COMMIT"))]
        assert shown[: len(reads)] == reads, "\n".join(statements)
        assert sorted(shown[len(reads) :]) == sorted(writes), "\n".join(statements)
        if PG_URL:  # the locks are taken by the reads themselves
            assert "FOR NO KEY UPDATE OF assignments" in statements[1]
            assert "FOR UPDATE OF score_sheets" in statements[3]
    assert sheet_state(app, a)[1] == 3
