"""The progress board at scale (issue 14): the judging version every change counts, the poll
answered 304 from it, one render per version shared by every organiser (each with their own
CSRF token), how fresh the board is, the summary with a page per judge and per entry when
the grid is larger than a screen, and the board's query counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from monev.extensions import db
from monev.judging import versions
from monev.judging.models import Assignment, Conflict, ScoreSheet
from monev.judging.queries import progress as progress_queries
from monev.judging.views.board import boards
from tests.conftest import count_queries, post, t
from tests.judging_setup import autosave, build, sign_in

HX = {"HX-Request": "true"}


@pytest.fixture
def setup(app):
    return build(app, n_entries=3, n_judges=3)


@pytest.fixture
def admin(app, setup):
    client = app.test_client()
    sign_in(client, setup.admin_email)
    return client


def board_url(setup) -> str:
    return f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/progress"


def version(app, setup) -> versions.Version:
    with app.app_context():
        return versions.current(setup.event_id)


def poll(client, setup, etag: str | None = None):
    headers = dict(HX)
    if etag:
        headers["If-None-Match"] = etag
    return client.get(board_url(setup), headers=headers)


def finalise(client, token, setup, assignment_id, version=0):
    return client.post(
        f"/judge/sheets/{assignment_id}/finalise",
        data={
            "csrf_token": token,
            "version": version,
            "confirm": "y",
            f"value-{setup.criteria[0]}": "8",
            f"value-{setup.criteria[1]}": "10",
        },
    )


def sheet_states(body: str) -> list[str]:
    """The states of the sheets listed in a page's table, in order."""
    return re.findall(r'<span class="cell cell-(\w+)">', body.split("<tbody>", 1)[1])


# --- the version: every change the board shows counts ----------------------------------------


def test_every_change_the_board_shows_counts_in_the_events_version(app, setup, admin):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    admin_token = sign_in(admin, setup.admin_email)
    base = f"/admin/events/{setup.slug}/judging"
    seen = [version(app, setup)]
    assert seen[0] == versions.Version(0, None)

    def changed(response, status=(200, 302, 303)):
        assert response.status_code in status, response.get_data(as_text=True)[:500]
        now = version(app, setup)
        assert now.n > seen[-1].n
        assert now.changed_at is not None
        seen.append(now)

    a, b = setup.assignment(0, 0), setup.assignment(1, 0)
    changed(autosave(judge, token, a, setup.criteria[0], "5", 0))  # autosave
    changed(  # the whole sheet (the form without JavaScript)
        judge.post(
            f"/judge/sheets/{a}",
            data={"csrf_token": token, "version": 1, f"value-{setup.criteria[1]}": "100"},
        )
    )
    changed(finalise(judge, token, setup, b))  # finalise (with its scores)
    with app.app_context():
        sheet_id = db.session.scalar(select(ScoreSheet.id).where(ScoreSheet.assignment_id == b))
    changed(  # the organiser reopens it
        admin.post(
            f"{base}/sheets/{sheet_id}", data={"csrf_token": admin_token, "reason": "Salah ketik."}
        )
    )
    drop_url = f"{base}/assignments/{a}"
    changed(post(admin, f"{drop_url}/drop", {"reason": "Juri sakit.", "confirm": "y"}))
    changed(post(admin, f"{drop_url}/restore"))
    c = setup.assignment(2, 0)
    changed(  # a judge declares a conflict
        judge.post(
            f"/judge/assignments/{c}/conflict",
            data={"csrf_token": token, "reason": "Tetangga.", "confirm": "y"},
        )
    )
    with app.app_context():
        conflict_id = db.session.scalar(select(Conflict.id))
    changed(post(admin, f"{base}/conflicts/{conflict_id}/delete"))  # the organiser removes it
    changed(  # the organiser records one
        post(
            admin,
            f"{base}/conflicts",
            {"judge_id": setup.judges[1]["id"], "entry_id": setup.entries[2], "reason": ""},
        )
    )
    stage = f"{base}/stages/{setup.stage_id}"
    d = setup.assignment(0, 2)
    changed(post(admin, f"{stage}/assignments/{d}/delete"))  # unassign
    changed(  # assign by hand
        post(
            admin,
            f"{stage}/assignments",
            {"entry_id": setup.entries[0], "judge_id": setup.judges[2]["id"]},
        )
    )
    changed(  # a judge joins the panel
        post(
            admin,
            f"{base}/judges",
            {"email": "juri.baru@uji.monev.id", "name": "Juri Baru", "stages": setup.stage_id},
        )
    )
    assert [v.n for v in seen] == sorted({v.n for v in seen})  # it only grows


def test_paper_scores_count_like_online_ones(app, setup):
    from monev.auth.models import User
    from monev.core.database import write_intent
    from monev.judging.sheets import lock_assignment, locked_sheet, write_scores

    before = version(app, setup)
    a = setup.assignment(0, 1)
    with app.app_context(), write_intent():
        admin = db.session.scalar(select(User).where(User.email == setup.admin_email))
        written = write_scores(
            lock_assignment(a),
            locked_sheet(a),
            {setup.criteria[0]: (7, None)},
            admin,
            source="paper",
        )
        assert written.changed == 1
        db.session.commit()
    assert version(app, setup).n == before.n + 1


def test_saves_of_different_judges_count_in_rows_of_their_own(app, setup):
    from monev.judging.models import JudgingVersion

    for j in range(2):
        client = app.test_client()
        token = sign_in(client, setup.judges[j]["email"])
        autosave(client, token, setup.assignment(0, j), setup.criteria[0], "6", 0)
        autosave(client, token, setup.assignment(0, j), setup.criteria[0], "7", 1)
    with app.app_context():
        rows = db.session.execute(
            select(JudgingVersion.judge_id, JudgingVersion.n).where(
                JudgingVersion.event_id == setup.event_id
            )
        ).all()
    assert sorted(rows) == sorted((setup.judges[j]["id"], 2) for j in range(2))
    assert version(app, setup).n == 4


def test_a_refused_save_counts_nothing(app, setup):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    stale = autosave(judge, token, setup.assignment(0, 0), setup.criteria[0], "6", 5)
    assert stale.status_code == 409
    assert version(app, setup).n == 0


# --- the poll: 304 when nothing changed ------------------------------------------------------


def test_a_poll_with_the_current_etag_is_answered_304_without_a_body(app, setup, admin):
    first = poll(admin, setup)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert f'data-etag="{etag.replace(chr(34), "&#34;")}"' in first.get_data(as_text=True)
    again = poll(admin, setup, etag)
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert "HX-Request" in again.headers["Vary"]

    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    autosave(judge, token, setup.assignment(0, 0), setup.criteria[0], "6", 0)
    changed = poll(admin, setup, etag)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "cell cell-draft" in changed.get_data(as_text=True)
    assert poll(admin, setup, changed.headers["ETag"]).status_code == 304


def test_htmx_keeps_the_board_on_a_304(app, admin, setup):
    page = admin.get(board_url(setup)).get_data(as_text=True)
    assert '{"code": "304", "swap": false}' in page  # before [23].., which would swap
    assert page.index('"304"') < page.index('"[23].."')
    assert 'hx-trigger="every 5s"' in page and "data-revalidate" in page


def test_a_standing_change_changes_the_board(app, setup, admin):
    from monev.core.database import write_intent
    from monev.entries import standing
    from monev.entries.models import Entry

    etag = poll(admin, setup).headers["ETag"]
    with app.test_request_context(), write_intent():
        entry = db.session.get(Entry, setup.entries[2])
        standing.disqualify(None, entry, "false_information", "Data palsu.")
        db.session.commit()
    response = poll(admin, setup, etag)
    assert response.status_code == 200
    assert "K-003" not in response.get_data(as_text=True)


def test_each_language_has_a_board_of_its_own(app, setup, admin):
    etag = poll(admin, setup).headers["ETag"]
    assert post(admin, "/lang/en", {"next": "/"}).status_code in (302, 303)
    english = poll(admin, setup, etag)
    assert english.status_code == 200
    assert "Follows live: checked every 5 seconds" in english.get_data(as_text=True)


# --- one render per version, for everyone -----------------------------------------------------


def test_the_board_is_rendered_once_per_version_for_every_organiser(app, setup, admin):
    other = app.test_client()
    sign_in(other, setup.admin_email)
    boards.clear()
    before = boards.renders
    first = poll(admin, setup)
    second = poll(other, setup)
    full = other.get(board_url(setup))
    assert boards.renders == before + 1
    assert first.headers["ETag"] == second.headers["ETag"] == full.headers["ETag"]


def test_each_organiser_gets_the_cached_board_with_their_own_csrf_token(app, setup, admin):
    other = app.test_client()
    sign_in(other, setup.admin_email)
    a = setup.assignment(0, 0)
    drop = post(
        admin,
        f"/admin/events/{setup.slug}/judging/assignments/{a}/drop",
        {"reason": "Juri berhalangan.", "confirm": "y"},
    )
    assert drop.status_code == 303
    tokens = []
    for client in (admin, other):
        body = poll(client, setup).get_data(as_text=True)
        assert "__monev_board_csrf_token__" not in body
        restore = re.search(
            r'action="([^"]+/restore)".*?name="csrf_token" value="([^"]+)"', body, re.S
        )
        tokens.append(restore.group(2))
    assert tokens[0] != tokens[1]
    restored = other.post(restore.group(1), data={"csrf_token": tokens[1]})
    assert restored.status_code == 303
    with app.app_context():
        assert db.session.get(Assignment, a).dropped_at is None


def test_polls_share_a_recent_render_while_the_full_page_shows_the_newest(app, setup, admin):
    app.config["BOARD_REUSE_SECONDS"] = 60
    try:
        etag = poll(admin, setup).headers["ETag"]
        judge = app.test_client()
        token = sign_in(judge, setup.judges[0]["email"])
        autosave(judge, token, setup.assignment(0, 0), setup.criteria[0], "6", 0)
        # A poll takes the render of a moment ago (here: what it already has).
        assert poll(admin, setup, etag).status_code == 304
        # The page itself (after the organiser's own change, for one) is never older.
        page = admin.get(board_url(setup))
        assert page.headers["ETag"] != etag
        assert "cell cell-draft" in page.get_data(as_text=True)
        # ... and polls now share that newer render.
        assert poll(admin, setup, etag).headers["ETag"] == page.headers["ETag"]
    finally:
        app.config["BOARD_REUSE_SECONDS"] = 0.0


def test_a_poll_never_gets_an_older_board_than_it_has(app, setup, admin):
    """(several server processes each cache their own: a poll may reach one whose newest
    render is older than what the page shows)"""
    from monev.judging.renders import RenderCache, Rendered

    cache = RenderCache()
    old = cache.get("f", ("f", 1), lambda: Rendered("v1", "1-a", 0.0, 1))
    assert (
        cache.get(
            "f", ("f", 2), lambda: Rendered("v2", "2-b", 0.0, 2), reuse_for=1e9, at_least=2
        ).html
        == "v2"
    )
    assert old.html == "v1"
    assert (
        cache.get(
            "f", ("f", 3), lambda: Rendered("v3", "3-c", 0.0, 3), reuse_for=1e9, at_least=2
        ).html
        == "v2"
    )


# --- freshness ------------------------------------------------------------------------------


def test_the_board_says_when_it_was_updated_and_that_it_follows_live(app, setup, admin):
    from monev.core.timezones import to_local

    body = admin.get(board_url(setup)).get_data(as_text=True)
    assert t(app, "No change yet.") in body
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    autosave(judge, token, setup.assignment(0, 0), setup.criteria[0], "6", 0)
    body = poll(admin, setup).get_data(as_text=True)
    local = to_local(version(app, setup).changed_at, "Asia/Makassar")
    assert t(app, "Updated %(time)s", time=local.strftime("%H.%M.%S")) + " WITA" in body
    assert "Follows live: checked every 5 seconds" not in body  # in Indonesian by default
    assert "Mengikuti langsung" in body


# --- larger than a screen: a summary and a page per judge and per entry ------------------


@pytest.fixture
def small_screen(monkeypatch):
    monkeypatch.setattr(progress_queries, "GRID_MAX_ENTRIES", 2)


def test_a_board_larger_than_a_screen_is_a_summary_worst_first(app, setup, admin, small_screen):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[1]["email"])
    for entry in range(3):
        assert finalise(judge, token, setup, setup.assignment(entry, 1)).status_code == 302
    body = poll(admin, setup).get_data(as_text=True)
    assert '<table class="board">' not in body  # no grid
    assert 'class="board board-summary"' in body
    judges = re.findall(r'/progress/judges/(\d+)">([^<]+)</a>', body)
    # The judge who finished everything comes last.
    assert [int(j) for j, _name in judges][-1] == setup.judges[1]["id"]
    entries = re.findall(r"/progress/entries/(\d+)\"><code>", body)
    assert sorted(int(e) for e in entries) == sorted(setup.entries)
    judge_rows, entry_rows = body.split('id="board-entries-title"')
    assert "<strong>3</strong>" in judge_rows.split('<th scope="row">')[1]  # none final
    assert "<strong>2</strong>" in entry_rows.split('<th scope="row">')[1]  # 3 judges, 1 final
    assert "Drop the sheet" not in body and t(app, "Drop the sheet") not in body


def test_the_summary_counts_what_the_grid_shows(app, setup, admin, monkeypatch):
    """The summary is counted by the database, the grid cell by cell: the same numbers."""
    from monev.events.models import Stage

    judges = [app.test_client() for _ in range(3)]
    tokens = [sign_in(c, setup.judges[i]["email"]) for i, c in enumerate(judges)]
    finalise(judges[0], tokens[0], setup, setup.assignment(0, 0))
    autosave(judges[0], tokens[0], setup.assignment(1, 0), setup.criteria[0], "6", 0)
    judges[1].post(
        f"/judge/assignments/{setup.assignment(2, 1)}/conflict",
        data={"csrf_token": tokens[1], "reason": "Saudara.", "confirm": "y"},
    )
    post(
        admin,
        f"/admin/events/{setup.slug}/judging/assignments/{setup.assignment(1, 2)}/drop",
        {"reason": "Sakit.", "confirm": "y"},
    )
    stage_url = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}"
    post(admin, f"{stage_url}/assignments/{setup.assignment(0, 2)}/delete")  # then a conflict
    post(
        admin,
        f"/admin/events/{setup.slug}/judging/conflicts",
        {"judge_id": setup.judges[2]["id"], "entry_id": setup.entries[0], "reason": ""},
    )

    def counted(grid_max_entries):
        monkeypatch.setattr(progress_queries, "GRID_MAX_ENTRIES", grid_max_entries)
        with app.app_context():
            board = progress_queries.progress_board(db.session.get(Stage, setup.stage_id))
            return (
                board.summary,
                board.counts,
                {j.id: (j.counts, j.assigned, j.missing) for j in board.judges},
                {r.entry.id: (r.counts, r.assigned) for r in board.entry_rows},
                [(d.assignment_id, d.state) for d in board.dropped],
            )

    grid, summary = counted(30), counted(2)
    assert (grid[0], summary[0]) == (False, True)
    assert grid[1:] == summary[1:]
    assert grid[1] == {"final": 1, "draft": 1, "empty": 4, "conflict": 2, "dropped": 1}


def test_the_page_of_a_judge_lists_their_sheets_with_their_actions(app, setup, admin, small_screen):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    finalise(judge, token, setup, setup.assignment(0, 0))
    autosave(judge, token, setup.assignment(1, 0), setup.criteria[0], "6", 0)
    url = f"{board_url(setup)}/judges/{setup.judges[0]['id']}"
    body = admin.get(url).get_data(as_text=True)
    assert sheet_states(body) == ["draft", "empty", "final"]  # the unfinished first
    assert body.count(t(app, "Drop the sheet")) == 2
    assert t(app, "This page does not follow live: reload it to see new changes.") in body


def test_the_page_of_an_entry_lists_each_judges_sheet(app, setup, admin, small_screen):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[2]["email"])
    judge.post(
        f"/judge/assignments/{setup.assignment(0, 2)}/conflict",
        data={"csrf_token": token, "reason": "Tetangga.", "confirm": "y"},
    )
    body = admin.get(f"{board_url(setup)}/entries/{setup.entries[0]}").get_data(as_text=True)
    assert "K-001" in body and setup.kim_names[setup.entries[0]] in body
    assert sheet_states(body) == ["empty", "empty", "conflict"]


def test_pages_of_a_judge_or_entry_of_another_event_are_not_found(app, setup, admin):
    from monev.auth.models import User

    with app.app_context():
        stranger = User(email="juri.lain@uji.monev.id", name="Juri Lain", role="judge")
        db.session.add(stranger)
        db.session.commit()
        stranger_id = stranger.id
    assert admin.get(f"{board_url(setup)}/judges/{stranger_id}").status_code == 404
    assert admin.get(f"{board_url(setup)}/entries/999999").status_code == 404


# --- query counts ------------------------------------------------------------------------------


def _more_entries_and_judges(app, setup, n: int):
    """``n`` more judges and entries, each judge assigned every entry, through the services'
    own counting (the board must see them)."""
    from monev.auth.models import User
    from monev.core.database import write_intent
    from monev.directory.models import Kim
    from monev.entries.models import Entry
    from monev.judging.models import EventJudge

    with app.app_context(), write_intent():
        kim = db.session.scalar(select(Kim))
        first = db.session.get(Entry, setup.entries[0])
        users, entries = [], []
        for i in range(n):
            user = User(email=f"tambahan{i}@uji.monev.id", name=f"Tambahan {i}", role="judge")
            other = Kim(name=f"KIM Tambahan {i}", district_id=kim.district_id)
            other.refresh_search_text()
            db.session.add_all([user, other])
            db.session.flush()
            db.session.add(EventJudge(event_id=setup.event_id, user_id=user.id))
            entry = Entry(
                event_id=setup.event_id,
                kim_id=other.id,
                category_id=first.category_id,
                code=f"K-9{i:02d}",
                nomination_status="accepted",
                submission_status="verified",
            )
            db.session.add(entry)
            db.session.flush()
            users.append(user)
            entries.append(entry)
        for user in users:
            for entry in entries + [first]:
                a = Assignment(stage_id=setup.stage_id, entry_id=entry.id, judge_id=user.id)
                db.session.add(a)
                db.session.flush()
                db.session.add(ScoreSheet(assignment_id=a.id, status="draft", version=0))
        versions.bump(setup.event_id)
        db.session.commit()


def _queries(app, client, setup, etag=None):
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        response = poll(client, setup, etag)
    return response, statements


@pytest.mark.parametrize("summary", [False, True], ids=["grid", "summary"])
def test_a_board_render_takes_the_same_queries_whatever_its_size(
    app, setup, admin, summary, monkeypatch
):
    if summary:
        monkeypatch.setattr(progress_queries, "GRID_MAX_ENTRIES", 0)
    poll(admin, setup)  # the session's first request loads what every request loads
    boards.clear()
    small, few = _queries(app, admin, setup)
    _more_entries_and_judges(app, setup, 4)
    large, many = _queries(app, admin, setup)
    assert small.status_code == large.status_code == 200
    assert len(large.data) > len(small.data)
    assert len(many) == len(few), "\n".join(many)


def test_an_unchanged_poll_costs_one_query_beyond_the_request_and_reads_no_sheet(app, setup, admin):
    etag = poll(admin, setup).headers["ETag"]
    not_modified, statements = _queries(app, admin, setup, etag)
    assert not_modified.status_code == 304
    _more_entries_and_judges(app, setup, 4)
    etag = poll(admin, setup).headers["ETag"]
    again, more = _queries(app, admin, setup, etag)
    assert again.status_code == 304
    assert len(more) == len(statements)
    touched = [s.lower() for s in statements if not s.startswith(("ROLLBACK", "SAVEPOINT"))]
    version_reads = [s for s in touched if "judging_versions" in s]
    assert len(version_reads) == 1
    # Beyond it, only what every request of these pages reads: the session's user, the event
    # of the URL with its stages and categories.
    request_tables = ("user_sessions", "users", "events", "categories", "stages")
    for statement in touched:
        if statement not in version_reads:
            tables = re.findall(r"\bfrom (\w+)", statement)
            assert set(tables) <= set(request_tables), statement
