"""The judge's home (progress, next entry, what is missing) and the organiser's progress
board (judges × entries, htmx polling, reminders, the trail of changes)."""

from __future__ import annotations

import re

from monev.extensions import db
from tests.conftest import count_queries, outbox_messages, t
from tests.judging_setup import autosave, build, sign_in


def _finalise(client, token, a, setup, c1="8", c2="10"):
    return client.post(
        f"/judge/sheets/{a}/finalise",
        data={
            "csrf_token": token,
            "version": 0,
            "confirm": "y",
            f"value-{setup.criteria[0]}": c1,
            f"value-{setup.criteria[1]}": c2,
        },
    )


def test_judge_home_shows_progress_next_entry_and_what_is_missing(app):
    setup = build(app, n_entries=3, n_judges=2)
    client = app.test_client()
    token = sign_in(client, setup.judges[0]["email"])
    _finalise(client, token, setup.assignment(0, 0), setup)
    autosave(client, token, setup.assignment(1, 0), setup.criteria[0], "5", 0)
    page = client.get("/").get_data(as_text=True)
    assert t(app, "%(final)d of %(assigned)d score sheets final", final=1, assigned=3) in page
    assert t(app, "%(n)d drafts", n=1) in page
    assert '<progress id="stage-progress-1" value="1" max="3">' in page
    # Next: the first sheet not final, in presentation order (here code order).
    assert t(app, "Score next: %(label)s", label="K-002") in page
    assert t(app, "Sheets not final yet (%(n)d)", n=2) in page
    assert f'href="/judge/sheets/{setup.assignment(2, 0)}"' in page


def test_board_shows_every_state_and_polls(app):
    setup = build(app, n_entries=3, n_judges=3)
    j1, j2 = app.test_client(), app.test_client()
    t1, t2 = sign_in(j1, setup.judges[0]["email"]), sign_in(j2, setup.judges[1]["email"])
    _finalise(j1, t1, setup.assignment(0, 0), setup)
    autosave(j1, t1, setup.assignment(1, 0), setup.criteria[0], "6", 0)
    j2.post(
        f"/judge/assignments/{setup.assignment(2, 1)}/conflict",
        data={"csrf_token": t2, "reason": "Tetangga ketua KIM.", "confirm": "y"},
    )
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    url = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/progress"
    page = admin.get(url).get_data(as_text=True)
    assert 'hx-trigger="every 5s"' in page
    for state in ("final", "draft", "empty", "conflict"):
        assert f"cell cell-{state}" in page
    counts = re.findall(r'class="cell cell-(\w+)">[^:<]+: (\d+)', page)
    assert dict(counts) == {"final": "1", "draft": "1", "empty": "6", "conflict": "1"}
    fragment = admin.get(url, headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "cell-conflict" in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_board_query_count_does_not_grow_with_judges_and_entries(app):
    small = build(app, n_entries=1, n_judges=1)
    admin = app.test_client()
    sign_in(admin, small.admin_email)
    url = f"/admin/events/{small.slug}/judging/stages/{small.stage_id}/progress"
    headers = {"HX-Request": "true"}
    admin.get(url, headers=headers)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        admin.get(url, headers=headers)
    _more_entries_and_judges(app, small)
    with count_queries(engine) as many:
        assert admin.get(url, headers=headers).status_code == 200
    assert len(many) == len(few)


def _more_entries_and_judges(app, setup):
    from sqlalchemy import select

    from monev.auth.models import User
    from monev.directory.models import Kim
    from monev.entries.models import Entry
    from monev.judging.models import Assignment, EventJudge, ScoreSheet

    with app.app_context():
        kim = db.session.scalar(select(Kim))
        first = db.session.get(Entry, setup.entries[0])
        for i in range(3):
            user = User(email=f"tambahan{i}@uji.monev.id", name=f"Tambahan {i}", role="judge")
            db.session.add(user)
            db.session.flush()
            db.session.add(EventJudge(event_id=setup.event_id, user_id=user.id))
            other = Kim(name=f"KIM Tambahan {i}", district_id=kim.district_id)
            other.refresh_search_text()
            db.session.add(other)
            db.session.flush()
            entry = Entry(
                event_id=setup.event_id,
                kim_id=other.id,
                category_id=first.category_id,
                code=f"K-9{i}",
                nomination_status="accepted",
                submission_status="verified",  # judged entries were submitted and verified
            )
            db.session.add(entry)
            db.session.flush()
            a = Assignment(stage_id=setup.stage_id, entry_id=entry.id, judge_id=user.id)
            db.session.add(a)
            db.session.flush()
            db.session.add(ScoreSheet(assignment_id=a.id, status="draft", version=0))
        db.session.commit()


def test_reminders_go_to_judges_with_missing_sheets_only(app):
    setup = build(app, n_entries=1, n_judges=3)
    done = app.test_client()
    token = sign_in(done, setup.judges[0]["email"])
    _finalise(done, token, setup.assignment(0, 0), setup)
    admin = app.test_client()
    admin_token = sign_in(admin, setup.admin_email)
    response = admin.post(
        f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/remind",
        data={"csrf_token": admin_token},
    )
    assert response.status_code == 303
    reminded = sorted(m.to for m in outbox_messages(app) if "K-001" in m.body)
    assert reminded == [setup.judges[1]["email"], setup.judges[2]["email"]]
    assert setup.kim_names[setup.entries[0]] not in "".join(m.body for m in outbox_messages(app))


def test_trail_lists_every_change_for_the_organiser(app):
    setup = build(app, n_entries=1, n_judges=1)
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    a, c1 = setup.assignment(0, 0), setup.criteria[0]
    for version, value in enumerate(["5", "6,5", "7"]):
        assert autosave(judge, token, a, c1, value, version).status_code == 200
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    page = admin.get(f"/admin/events/{setup.slug}/judging/changes").get_data(as_text=True)
    assert t(app, "%(n)d changes, newest first.", n=3) in page
    assert page.index("6,5 → <strong>7") < page.index("5 → <strong>6,5")
    # Each change's moment in the one app format, with its seconds (changes seconds apart
    # read apart): "6 Des 2026, 14.00.05 WITA", not "06-12-2026 14:00:05".
    import re

    moments = re.findall(r'<td class="nowrap">([^<]*)</td>', page)
    assert len(moments) == 3
    assert all(
        re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}\.\d{2}\.\d{2} WITA", m) for m in moments
    )


def test_format_moment_with_seconds(app):
    from datetime import datetime

    from flask_babel import force_locale

    from monev.core.timezones import format_moment

    moment = datetime(2026, 8, 12, 9, 0, 5)  # UTC: 17.00.05 in Makassar
    with app.test_request_context():
        with force_locale("id"):
            assert format_moment(moment, "Asia/Makassar", seconds=True) == (
                "12 Agu 2026, 17.00.05 WITA"
            )
            assert format_moment(moment, "Asia/Makassar") == "12 Agu 2026, 17.00 WITA"
        with force_locale("en"):
            assert format_moment(moment, "Asia/Jakarta", seconds=True) == (
                "12 Aug 2026, 16:00:05 WIB"
            )
