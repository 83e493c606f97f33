"""Dropping a score sheet that is not final, with a reason (issue 12): the confirmation step
with its numbers, every refusal at the server (and that it stored nothing), the judge locked
out of the sheet, the sheet gone from the to-do, the board, reminders and the readiness for
results, restoring it, and the drop stated in the results, the public page and the Berita
Acara."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select, text, update

from monev.audit.models import AuditEntry
from monev.core.database import write_intent
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, Score, ScoreSheet
from monev.notify.models import Notification
from tests import results_factory
from tests.conftest import outbox_messages, post, t
from tests.judging_setup import autosave, build, sign_in, snapshot
from tests.pdf import pdf_text

REASON = "Juri sakit dan dirawat di rumah sakit sejak hari penilaian."


@pytest.fixture
def setup(app):
    return build(app)  # 3 entries × 3 judges, one stage "Presentasi", judging open


@pytest.fixture
def admin(app, setup):
    client = app.test_client()
    sign_in(client, setup.admin_email)
    return client


def drop_url(setup, assignment_id: int, action: str = "drop") -> str:
    return f"/admin/events/{setup.slug}/judging/assignments/{assignment_id}/{action}"


def drop(client, setup, assignment_id: int, **fields):
    return post(client, drop_url(setup, assignment_id), fields)


def stored(app, assignment_id: int) -> tuple:
    with app.app_context():
        a = db.session.get(Assignment, assignment_id)
        return a.dropped_at, a.dropped_by_id, a.drop_reason


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def finalise_directly(app, setup, *assignment_ids: int) -> None:
    """Final sheets with both criteria scored, written straight to the database."""
    with app.app_context():
        for assignment_id in assignment_ids:
            sheet = ScoreSheet(assignment_id=assignment_id, status="final", version=3)
            db.session.add(sheet)
            db.session.flush()
            db.session.add(Score(sheet_id=sheet.id, criterion_id=setup.criteria[0], value=8))
            db.session.add(Score(sheet_id=sheet.id, criterion_id=setup.criteria[1], value=700))
        db.session.commit()


# --- the confirmation step ----------------------------------------------------------------


def test_drop_states_its_consequences_then_needs_the_reason_and_the_confirmation(app, setup, admin):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    a = setup.assignment(0, 0)
    assert autosave(judge, token, a, setup.criteria[0], "7", 0).status_code == 200

    page = text_of(admin.get(drop_url(setup, a)))
    assert "K-001 · KIM Rahasia Nomor 1 akan dinilai oleh 2 dari 3 juri pada tahap Presentasi." in (
        page
    )
    assert "Draf Juri Uji 1 (1 dari 2 kriteria sudah dinilai) tidak dihitung" in page
    assert "Panel tahap Presentasi menjadi tidak lengkap" in page
    assert 'name="reason"' in page and 'name="confirm"' in page

    before = snapshot(app)
    unconfirmed = drop(admin, setup, a, reason=REASON)
    assert unconfirmed.status_code == 422
    assert t(app, "Confirm that you have read what this will do.") in unconfirmed.get_data(
        as_text=True
    )
    assert REASON in text_of(unconfirmed)  # the input is kept
    no_reason = drop(admin, setup, a, confirm="y", reason="  ")
    assert no_reason.status_code == 422
    assert "Tuliskan alasan pembatalan lembar ini" in text_of(no_reason)
    too_long = drop(admin, setup, a, confirm="y", reason="x" * 2001)
    assert too_long.status_code == 422
    assert snapshot(app) == before
    assert stored(app, a) == (None, None, None)

    done = drop(admin, setup, a, confirm="y", reason=REASON)
    assert done.status_code == 303
    dropped_at, by, reason = stored(app, a)
    assert dropped_at is not None and reason == REASON
    with app.app_context():
        logged = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sheet.dropped")
        ).one()
        assert by == db.session.scalar(text("SELECT id FROM users WHERE role = 'admin'"))
    assert logged.changes["reason"] == REASON
    assert logged.changes["judges_counted"] == 2 and logged.changes["judges_assigned"] == 3
    assert logged.changes["sheet"] == "draft"
    with app.app_context():
        told = db.session.scalars(
            select(Notification).where(Notification.user_id == setup.judges[0]["id"])
        ).all()
    assert [(n.kind, n.params["reason"]) for n in told] == [("sheet_dropped", REASON)]
    mails = [m for m in outbox_messages(app) if m.to == setup.judges[0]["email"]]
    assert len(mails) == 1 and REASON in mails[0].body


def test_the_drop_page_opens_as_a_dialog_fragment_for_htmx(app, setup, admin):
    fragment = admin.get(drop_url(setup, setup.assignment(1, 2)), headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in body and 'id="drop-title"' in body


@pytest.mark.parametrize("case", ["final", "not_judging", "already", "not_competing"])
def test_only_a_sheet_not_final_of_a_competing_entry_is_dropped_while_judging(
    app, setup, admin, case
):
    a = setup.assignment(0, 1)
    expected = {
        "final": "Lembar ini sudah final dan dihitung",
        "not_judging": "Lembar hanya dapat dibatalkan selama kegiatan berada pada tahapan",
        "already": "Lembar ini sudah dibatalkan.",
        "not_competing": "K-001 tidak lagi dinilai",
    }[case]
    with app.app_context(), write_intent():
        if case == "final":
            finalise_directly(app, setup, a)
        elif case == "not_judging":
            db.session.get(Event, setup.event_id).status = "verification"
        elif case == "already":
            db.session.execute(
                update(Assignment)
                .where(Assignment.id == a)
                .values(dropped_at=func.now(), drop_reason="Sebelumnya.")
            )
        else:
            db.session.get(Entry, setup.entries[0]).standing = "withdrawn"
        db.session.commit()
    before = snapshot(app)

    page = text_of(admin.get(drop_url(setup, a)))
    assert "Belum dapat dilakukan. Perbaiki dulu:" in page and expected in page
    refused = drop(admin, setup, a, confirm="y", reason=REASON)

    assert refused.status_code == 409
    assert expected in text_of(refused)
    assert snapshot(app) == before


def test_an_assignment_of_another_event_is_not_found(app, setup, admin):
    other = results_factory.build(app, entries=1, judges=1, status="judging")
    with app.app_context():
        foreign = db.session.scalar(
            select(Assignment.id).where(Assignment.judge_id == other.judge_ids[0]).limit(1)
        )
    assert admin.get(drop_url(setup, foreign)).status_code == 404
    assert drop(admin, setup, foreign, confirm="y", reason=REASON).status_code == 404
    assert stored(app, foreign) == (None, None, None)


@pytest.mark.parametrize("role", ["judge", "operator", "kim", "anonymous"])
def test_nobody_but_the_organiser_drops_or_restores_a_sheet(app, setup, make_user, role):
    a = setup.assignment(0, 0)
    client = app.test_client()
    if role == "judge":
        sign_in(client, setup.judges[0]["email"])  # the sheet's own judge
    elif role != "anonymous":
        sign_in(client, make_user(role).email)
    before = snapshot(app)

    page = client.get(drop_url(setup, a))
    forged = drop(client, setup, a, confirm="y", reason=REASON)
    restore = post(client, drop_url(setup, a, "restore"))

    for response in (page, forged, restore):
        assert response.status_code in (302, 403), response.status_code
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]
    assert snapshot(app) == before


# --- the judge ----------------------------------------------------------------------------


def test_the_judge_can_no_longer_open_or_write_a_dropped_sheet(app, setup, admin):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[0]["email"])
    a = setup.assignment(0, 0)
    assert autosave(judge, token, a, setup.criteria[0], "7", 0).status_code == 200
    assert drop(admin, setup, a, confirm="y", reason=REASON).status_code == 303
    before = snapshot(app)

    page = judge.get(f"/judge/sheets/{a}")
    forged_autosave = autosave(judge, token, a, setup.criteria[0], "9", 1)
    whole_sheet = judge.post(
        f"/judge/sheets/{a}",
        data={"csrf_token": token, "version": 1, f"value-{setup.criteria[0]}": "9"},
    )
    finalise = judge.post(
        f"/judge/sheets/{a}/finalise",
        data={
            "csrf_token": token,
            "version": 1,
            f"value-{setup.criteria[0]}": "9",
            f"value-{setup.criteria[1]}": "900",
        },
    )

    assert page.status_code == 200
    assert "Lembar ini dibatalkan oleh panitia." in text_of(page)
    assert REASON in text_of(page)
    assert "KIM Rahasia Nomor 1" not in text_of(page)  # nothing of the entry any more
    for refused in (forged_autosave, whole_sheet, finalise):
        assert refused.status_code == 409
        assert "Lembar ini dibatalkan oleh panitia" in text_of(refused)
    assert snapshot(app) == before


def test_a_dropped_sheet_leaves_the_judges_to_do_the_board_and_reminders(app, setup, admin):
    a = setup.assignment(1, 0)
    assert drop(admin, setup, a, confirm="y", reason=REASON).status_code == 303
    judge = app.test_client()
    sign_in(judge, setup.judges[0]["email"])

    home = text_of(judge.get("/"))
    assert t(app, "%(final)d of %(assigned)d score sheets final", final=0, assigned=2) in home
    assert f'href="/judge/sheets/{a}"' not in home

    board = text_of(
        admin.get(f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/progress")
    )
    assert "1 lembar dibatalkan" in board
    assert REASON in board
    # When it was dropped, written as every page writes a moment ("6 Des 2026, 14.00 WITA").
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}\.\d{2} WITA", board)
    assert "8 lembar belum final" in board  # 9 assigned, 1 dropped
    assert f"/judging/assignments/{a}/restore" in board
    rows = {
        row.split("</th>")[0].rsplit(">", 1)[-1]: row
        for row in board.split('<th scope="row">')[1:]
        if "Juri Uji" in row.split("</th>")[0]
    }
    assert rows["Juri Uji 1"].split('<td class="num">')[-1].startswith("2<")  # missing: 2 of 3

    assert (
        post(
            admin, f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/remind"
        ).status_code
        == 303
    )
    reminded = [
        m for m in outbox_messages(app) if "Pengingat" in m.subject or "Reminder" in m.subject
    ]
    to_judge = next(m for m in reminded if m.to == setup.judges[0]["email"])
    assert "K-002" not in to_judge.body and "K-001" in to_judge.body


def test_readiness_for_results_excludes_dropped_sheets_and_counts_them(app, setup, admin):
    dropped = setup.assignment(2, 2)
    others = [a for a in setup.assignments.values() if a != dropped]
    finalise_directly(app, setup, *others[:-1])  # one sheet still open
    assert drop(admin, setup, dropped, confirm="y", reason=REASON).status_code == 303
    url = f"/admin/events/{setup.slug}/phase/results"

    page = text_of(admin.get(url))
    assert "1 dari 8 lembar nilai belum final" in page
    assert "1 lembar dibatalkan oleh panitia dan tidak dihitung" in page
    assert post(admin, url, {"confirm": "y"}).status_code == 409

    finalise_directly(app, setup, others[-1])
    page = text_of(admin.get(url))
    assert "belum final" not in page
    assert "Juri tidak dapat lagi mengubah satu pun dari 8 lembar nilai" in page
    assert post(admin, url, {"confirm": "y"}).status_code == 303
    with app.app_context():
        assert db.session.get(Event, setup.event_id).status == "results"
        move = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "event.move_confirmed")
        ).one()
    assert any("1 lembar dibatalkan" in line for line in move.changes["consequences"])
    # The drop cannot be undone once results are computed.
    refused = post(admin, drop_url(setup, dropped, "restore"))
    assert refused.status_code == 303
    assert stored(app, dropped)[2] == REASON


def test_restoring_a_dropped_sheet_gives_it_back_to_its_judge(app, setup, admin):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[1]["email"])
    a = setup.assignment(0, 1)
    autosave(judge, token, a, setup.criteria[0], "6", 0)
    drop(admin, setup, a, confirm="y", reason=REASON)

    restored = post(admin, drop_url(setup, a, "restore"))

    assert restored.status_code == 303
    assert stored(app, a) == (None, None, None)
    assert "sheet.restored" in audit_actions(app)
    assert autosave(judge, token, a, setup.criteria[0], "6,5", 1).status_code == 200
    again = post(admin, drop_url(setup, a, "restore"))  # not dropped any more
    assert again.status_code == 303
    assert audit_actions(app).count("sheet.restored") == 1


def test_a_dropped_assignment_is_not_removed_without_restoring_it(app, setup, admin):
    a = setup.assignment(0, 0)
    drop(admin, setup, a, confirm="y", reason=REASON)
    url = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/assignments/{a}/delete"

    assert post(admin, url).status_code == 303
    with app.app_context():
        assert db.session.get(Assignment, a) is not None


# --- results, public page, Berita Acara ---------------------------------------------------


@pytest.fixture
def judged(app):
    """4 entries × 3 judges, both stages final except judge 0's Pres sheet of K-001 (a draft
    whose values must not count); the event is judging."""
    ev = results_factory.build(app, entries=4, judges=3, status="judging")
    with app.app_context():
        draft = db.session.scalar(
            select(Assignment.id)
            .join(Entry, Entry.id == Assignment.entry_id)
            .join(Stage, Stage.id == Assignment.stage_id)
            .where(
                Entry.event_id == ev.event_id,
                Entry.code == "K-001",
                Assignment.judge_id == ev.judge_ids[0],
                Stage.key == "pres",
            )
        )
        sheet_id = db.session.scalar(select(ScoreSheet.id).where(ScoreSheet.assignment_id == draft))
        db.session.execute(
            update(ScoreSheet).where(ScoreSheet.id == sheet_id).values(status="draft")
        )
        db.session.execute(
            update(Score).where(Score.sheet_id == sheet_id).values(value=Decimal("10"))
        )
        db.session.commit()
    return ev, draft


def test_results_leave_out_a_dropped_sheet_and_every_page_states_it(app, client, login_as, judged):
    ev, draft = judged
    admin = login_as("admin")
    base = f"/admin/events/{ev.slug}"
    stage_name = "Pres"
    before = client.get(base + "/results/").get_data(as_text=True)
    assert "1 lembar nilai yang ditugaskan belum final" in unescape(before)

    response = post(
        client, f"{base}/judging/assignments/{draft}/drop", {"confirm": "y", "reason": REASON}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]

    line = (
        f"Lembar Juri Uji 0 untuk K-001 KIM Hasil {ev.slug} 1 ({stage_name}) dibatalkan: {REASON}"
    )
    page = unescape(client.get(base + "/results/").get_data(as_text=True))
    assert line in page
    assert "belum final" not in page
    assert (
        "1 lembar pada tahap ini dibatalkan oleh panitia, sehingga panelnya tidak lengkap" in page
    )
    entry_page = unescape(
        client.get(f"{base}/results/entries/{ev.entry_ids[0]}").get_data(as_text=True)
    )
    assert line in entry_page and "dibatalkan, tidak dihitung" in entry_page

    from monev.events import queries as event_queries
    from monev.results import services

    with app.app_context():
        computed = services.compute(event_queries.get_by_slug(ev.slug))
        row = computed.results.row(ev.entry_ids[0])
        judges = [j.judge for j in row.stages["pres"].judges]
    assert sorted(judges) == sorted(ev.judge_ids[1:])  # the draft's 10s never count

    # To results, then publish: the public page says only that a sheet was dropped.
    with app.app_context():  # (the factory's stages have no times: the move is tested above)
        db.session.get(Event, ev.event_id).status = "results"
        db.session.commit()
    results_factory.acknowledge_all(app, ev.slug)
    published = post(client, f"{base}/results/publish", {"confirm": "y"})
    assert published.status_code == 302, unescape(published.get_data(as_text=True))[-3000:]
    public = unescape(app.test_client().get(f"/events/{ev.slug}/results").get_data(as_text=True))
    assert (
        f"KIM Hasil {ev.slug} 1, tahap {stage_name}: 1 lembar juri dibatalkan oleh panitia dan "
        "tidak dihitung." in public
    )
    assert "Juri Uji 0" not in public and REASON not in public
    api = app.test_client().get(f"/api/v1/events/{ev.slug}/results").get_data(as_text=True)
    assert "Juri Uji 0" not in api and REASON not in unescape(api)

    pdf = client.get(f"/admin/events/{ev.slug}/documents/berita-acara.pdf")
    assert pdf.status_code == 200
    minutes = pdf_text(pdf.data)
    assert "1 lembar penilaian yang belum final dibatalkan oleh panitia" in minutes
    assert line in minutes
    assert admin.role == "admin"


def test_the_admin_sheet_page_offers_the_drop_and_then_states_it(app, setup, admin):
    judge = app.test_client()
    token = sign_in(judge, setup.judges[2]["email"])
    a = setup.assignment(1, 2)
    autosave(judge, token, a, setup.criteria[0], "5", 0)
    with app.app_context():
        sheet_id = db.session.scalar(select(ScoreSheet.id).where(ScoreSheet.assignment_id == a))
    url = f"/admin/events/{setup.slug}/judging/sheets/{sheet_id}"

    before = text_of(admin.get(url))
    assert f'href="{drop_url(setup, a)}"' in before
    assert 'hx-target="#drop-dialog-body"' in before

    drop(admin, setup, a, confirm="y", reason=REASON)
    after = text_of(admin.get(url))
    assert "Dibatalkan pada" in after and "oleh Panitia." in after
    assert REASON in after
    assert f'action="{drop_url(setup, a, "restore")}"' in after
