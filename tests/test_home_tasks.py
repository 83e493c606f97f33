"""Each role's home page: the task and its deadline in every phase of the lifecycle.

The services of ``monev.home.services`` are called with a given ``now`` (the deadlines and
countdowns are then exact); the pages are read through the HTTP client for what people
see, including the bugs found on the phone: a KIM whose submission is open must see its
task, deadline and button (not "Belum dimulai"), a published KIM its award (not
"Terverifikasi"), a judge's stage that has not opened "Belum dibuka" (not "Ditutup"), and a
closed, published stage "Selesai" (not "Masih harus diselesaikan")."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select

from monev.core.timeutil import utcnow
from monev.directory.models import Kim
from monev.entries.models import Entry, Evidence
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.home import services as home
from monev.judging.models import ScheduleSlot, ScoreSheet
from monev.results.models import ProvisionalResult, PublishedResult
from tests import judging_setup, results_factory
from tests.conftest import Record, count_queries, sign_in
from tests.submission_fixtures import *  # noqa: F403  (its fixtures)
from tests.submission_fixtures import close_window, set_entry

PROFILE = {
    "sk_number": "01/SK/2024",
    "sk_date": "2024-01-02",
    "chair_name": "Siti",
    "members_count": 12,
    "phone": "0812 5500 1234",
}


def _kim(app, finalist, now=None):
    """The KIM's home items (one per event), read as its home page reads them."""
    with app.test_request_context(), force_locale("id"):
        kim = db.session.get(Kim, finalist.kim_id)
        items = home.kim_tasks(kim, now or utcnow())
        return [(i.event.slug, i.task, i.links, i.placing) for i in items]


def _task(app, finalist, now=None):
    ((_slug, task, _links, _placing),) = _kim(app, finalist, now)
    return task


def _stage(app, event_id, position=0) -> Stage:
    with app.app_context():
        event = db.session.get(Event, event_id)
        stage = sorted(event.stages, key=lambda s: (s.position, s.id))[position]
        db.session.expunge(stage)
        return stage


def _set_stage(app, stage_id, **fields):
    with app.app_context():
        stage = db.session.get(Stage, stage_id)
        for name, value in fields.items():
            setattr(stage, name, value)
        db.session.commit()


def _set_event(app, event_id, **fields):
    with app.app_context():
        event = db.session.get(Event, event_id)
        for name, value in fields.items():
            setattr(event, name, value)
        db.session.commit()


def _add_evidence(app, finalist, keys, presentation=False):
    with app.app_context():
        for key in keys:  # a1 asks for a file, a2 for a link, a3 for either
            kind = "file" if key == "a1" else "link"
            db.session.add(
                Evidence(
                    entry_id=finalist.entry_id,
                    criterion_id=finalist.criteria[key],
                    kind=kind,
                    url=f"https://contoh.desa.id/{key}" if kind == "link" else None,
                    storage_key=f"uji/{finalist.entry_id}/{key}" if kind == "file" else None,
                    original_name="sk.pdf" if kind == "file" else None,
                    sha256="0" * 64 if kind == "file" else None,
                )
            )
        if presentation:
            db.session.add(
                Evidence(entry_id=finalist.entry_id, kind="link", url="https://video.id/p")
            )
        db.session.commit()


# --- time as people read it -----------------------------------------------------------------


def test_countdown_and_time_are_written_as_people_read_them(app):
    deadline = utcnow().replace(microsecond=0)
    tz = "Asia/Makassar"
    with app.test_request_context(), force_locale("id"):
        assert home.countdown(deadline, deadline - timedelta(days=4), tz) == "4 hari lagi"
        assert home.countdown(deadline, deadline - timedelta(days=1), tz) == "besok"
        assert home.countdown(deadline, deadline - timedelta(hours=3, minutes=5), tz) == (
            "3 jam lagi"
        )
        assert home.countdown(deadline, deadline - timedelta(minutes=20), tz) == (
            "kurang dari 1 jam lagi"
        )
        assert home.countdown(deadline, deadline + timedelta(seconds=1), tz) == "lewat"
        event = Event(timezone=tz)
        from datetime import datetime

        assert home.when(datetime(2026, 12, 6, 6, 0), event) == "6 Des 2026, 14.00 WITA"


# --- KIM --------------------------------------------------------------------------------------


def test_kim_with_a_pending_nomination_waits_and_keeps_its_profile(app, make_finalist):
    f = make_finalist(status="nomination", nomination_status="nominated")
    task = _task(app, f)
    assert (task.code, task.tone) == ("wait_nomination", home.WAIT)
    assert task.title == "Usulan menunggu keputusan panitia"
    assert task.action.endpoint == "directory.edit"


def test_accepted_kim_before_submission_is_told_when_the_window_opens(app, make_finalist):
    f = make_finalist(status="nomination", opens=timedelta(days=10), closes=timedelta(days=20))
    opens = _stage(app, f.event_id).opens_at
    task = _task(app, f, now=opens - timedelta(days=4))
    assert (task.code, task.title) == ("wait_submission", "Diterima sebagai finalis")
    assert task.deadline == opens
    assert (task.deadline_label, task.countdown) == ("Pengumpulan dibuka", "4 hari lagi")
    assert task.action.endpoint == "workspace.index"


def test_open_submission_leads_with_the_missing_evidence_its_deadline_and_one_button(
    app, client, make_finalist
):
    f = make_finalist(closes=timedelta(days=6))
    closes = _stage(app, f.event_id).closes_at
    now = closes - timedelta(days=4)
    task = _task(app, f, now=now)
    assert task.code == "upload"
    assert task.title == "Unggah bukti: 3 dari 3 kriteria kurang"
    assert "Presentasi" in task.detail
    assert (task.deadline, task.deadline_label, task.countdown) == (
        closes,
        "Batas waktu",
        "4 hari lagi",
    )
    assert (task.action.endpoint, task.action.values) == ("workspace.index", {"slug": f.slug})

    _add_evidence(app, f, ["a1", "a2"])
    assert _task(app, f, now=now).title == "Unggah bukti: 1 dari 3 kriteria kurang"

    # What the KIM sees: the task first, with the deadline and the button; not "Belum dimulai".
    sign_in(client, f.email)
    page = client.get("/").get_data(as_text=True)
    assert page.index("Unggah bukti: 1 dari 3 kriteria kurang") < page.index("Profil kami")
    assert f'class="task-button" href="/entry/{f.slug}"' in page
    assert "WITA" in page
    assert "ruang kerja lomba Anda akan muncul di sini" not in page


def test_complete_entry_is_told_to_submit(app, make_finalist):
    f = make_finalist()
    set_entry(app, f.entry_id, profile=PROFILE, submission_status="in_progress")
    _add_evidence(app, f, ["a1", "a2", "a3"], presentation=True)
    task = _task(app, f)
    assert (task.code, task.title) == ("submit", "Kirim berkas")
    assert task.action.anchor == "checklist"
    assert task.deadline == _stage(app, f.event_id).closes_at


def test_only_the_presentation_missing_names_it(app, make_finalist):
    f = make_finalist()
    set_entry(app, f.entry_id, profile=PROFILE)
    _add_evidence(app, f, ["a1", "a2", "a3"])
    task = _task(app, f)
    assert (task.code, task.title) == ("complete", "Lengkapi entri Anda: Presentasi")


def test_submitted_then_verified_entry_waits(app, make_finalist):
    f = make_finalist()
    set_entry(app, f.entry_id, submission_status="submitted", submitted_at=utcnow())
    assert _task(app, f).code == "wait_verification"
    assert _task(app, f).title == "Terkirim: menunggu verifikasi"
    set_entry(app, f.entry_id, submission_status="verified")
    _set_event(app, f.event_id, status="verification")
    task = _task(app, f)
    assert (task.code, task.title) == ("wait_judging", "Terverifikasi: menunggu penilaian")


def test_returned_entry_is_told_to_fix_it_before_its_personal_deadline(app, make_finalist):
    f = make_finalist()
    close_window(app, f.event_id)
    _set_event(app, f.event_id, status="verification")
    deadline = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    set_entry(
        app,
        f.entry_id,
        submission_status="returned",
        returned_note="SK belum ditandatangani.",
        personal_deadline=deadline,
    )
    task = _task(app, f, now=deadline - timedelta(days=1))
    assert (task.code, task.title) == ("fix", "Perbaiki entri Anda dan kirim kembali")
    assert "SK belum ditandatangani." in task.detail
    assert (task.deadline, task.deadline_label, task.countdown) == (
        deadline,
        "Perbaiki sebelum",
        "besok",
    )
    # After its personal deadline: eliminated by rule, with the public reason.
    late = _task(app, f, now=deadline + timedelta(minutes=1))
    assert (late.code, late.tone) == ("eliminated", home.OFF)
    assert late.title == "Gugur"


def test_kim_that_never_submitted_reads_its_standing_and_why(app, make_finalist):
    f = make_finalist()
    close_window(app, f.event_id)
    task = _task(app, f)
    assert (task.code, task.title, task.tone) == ("no_submission", "Tidak mengumpulkan", home.OFF)
    assert task.detail == "Masa pengumpulan ditutup tanpa pengiriman."


def test_withdrawn_kim_reads_withdrawn(app, make_finalist):
    f = make_finalist()
    set_entry(app, f.entry_id, standing="withdrawn", standing_reason="withdrawn")
    assert _task(app, f).title == "Mengundurkan diri"


def test_judged_kim_sees_its_presentation_slot(app, make_finalist):
    f = make_finalist()
    set_entry(app, f.entry_id, submission_status="verified")
    _set_event(app, f.event_id, status="judging")
    stage = _stage(app, f.event_id, 1)
    starts = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    with app.app_context():
        db.session.add(
            ScheduleSlot(
                stage_id=stage.id,
                entry_id=f.entry_id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=20),
                room="Ruang Rapat",
            )
        )
        db.session.commit()
    ((_slug, task, links, _placing),) = _kim(app, f, now=starts - timedelta(days=2))
    assert (task.code, task.title) == ("judging", "Entri Anda sedang dinilai")
    assert (task.deadline, task.countdown) == (starts, "2 hari lagi")
    assert "Ruang Rapat" in task.detail
    assert task.action.endpoint == "schedule.mine"


def _kim_of_results_entry(app, make_user, judged, index=0):
    with app.app_context():
        kim_id = db.session.get(Entry, judged.entry_ids[index]).kim_id
    user = make_user("kim", kim=Record(kim_id, {}))
    return kim_id, user


def _finalist_like(judged, kim_id, entry_index=0):
    from tests.submission_fixtures import Finalist

    return Finalist(judged.slug, judged.event_id, judged.entry_ids[entry_index], kim_id, "")


def test_provisional_results_lead_to_the_objections_with_their_deadline(app, make_user):
    judged = results_factory.build(app, status="results")
    kim_id, _user = _kim_of_results_entry(app, make_user, judged)
    closes = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    with app.app_context():
        db.session.add(
            ProvisionalResult(
                event_id=judged.event_id,
                version=1,
                objections_close_at=closes,
                digest="0" * 64,
                snapshot={"categories": []},
            )
        )
        db.session.commit()
    f = _finalist_like(judged, kim_id)
    task = _task(app, f, now=closes - timedelta(days=3))
    assert (task.code, task.title) == ("objections", "Hasil sementara sudah keluar")
    assert (task.deadline, task.deadline_label) == (closes, "Sanggahan sampai")
    assert task.action.endpoint == "results_kim.kim_index"
    after = _task(app, f, now=closes + timedelta(minutes=1))
    assert after.code == "wait_publication"


def _publish(app, judged):
    """Freeze the computed results as version 1, as publishing does."""
    from monev.results import services as results

    with app.app_context():
        event = db.session.get(Event, judged.event_id)
        snapshot = results.build_snapshot(results.compute(event))
        db.session.add(
            PublishedResult(
                event_id=event.id, version=1, digest=snapshot["digest"], snapshot=snapshot
            )
        )
        event.status = "published"
        db.session.commit()
        return snapshot


def test_published_kim_reads_its_award_not_verified(app, client, make_user):
    judged = results_factory.build(app, status="results")
    snapshot = _publish(app, judged)
    rows = {r["code"]: r for c in snapshot["categories"] for r in c["entries"]}
    with app.app_context():
        codes = {e.id: e.code for e in db.session.scalars(select(Entry))}
    winner = next(i for i, e in enumerate(judged.entry_ids) if rows[codes[e]]["award"] == "Juara I")
    kim_id, user = _kim_of_results_entry(app, make_user, judged, winner)
    f = _finalist_like(judged, kim_id, winner)
    ((_slug, task, links, placing),) = _kim(app, f)
    assert (task.code, task.title, task.tone) == ("published", "Juara I", home.FINISHED)
    assert placing.rank == 1
    assert "Peringkat 1" in task.detail
    assert {a.endpoint for a in links} >= {"results_kim.kim_index", "workspace.index"}
    assert task.action.endpoint == "results_public.public_index"  # no certificate issued yet

    sign_in(client, user.email)
    page = client.get("/").get_data(as_text=True)
    assert '<h2 id="task-1">Juara I</h2>' in page
    assert "Terverifikasi" not in page
    assert f'href="/my/documents/{judged.slug}/rapor.pdf"' in page  # the rapor, below


def test_published_kim_with_a_certificate_gets_it_as_its_button(app, make_user):
    from monev.certificates import services as certificates

    judged = results_factory.build(app, status="results")
    _publish(app, judged)
    with app.app_context():
        certificates.issue(db.session.get(Event, judged.event_id), "participant", actor=None)
        db.session.commit()
    kim_id, _user = _kim_of_results_entry(app, make_user, judged)
    task = _task(app, _finalist_like(judged, kim_id))
    assert task.action.endpoint == "certificates.download"
    assert task.action.label == "Unduh sertifikat Anda"


def test_kim_home_reads_a_fixed_number_of_queries(app, make_finalist):
    f = make_finalist()
    other = make_finalist(slug="monev-kim-lain-2025")
    with app.test_request_context():
        kim = db.session.get(Kim, f.kim_id)
        engine = db.engine
        with count_queries(engine) as one:
            home.kim_tasks(kim, utcnow())
    # A second event (its window closed: nothing to read for it) costs no query more.
    set_entry(app, other.entry_id, kim_id=f.kim_id)
    close_window(app, other.event_id)
    with app.test_request_context():
        kim = db.session.get(Kim, f.kim_id)
        with count_queries(engine) as two:
            items = home.kim_tasks(kim, utcnow())
    assert len(items) == 2
    assert len(two) == len(one)


# --- judge ------------------------------------------------------------------------------------


def _judge(app, setup, now=None, index=0):
    with app.test_request_context(), force_locale("id"):
        from monev.auth.models import User

        user = db.session.get(User, setup.judges[index]["id"])
        result = home.judge_tasks(user, now or utcnow())
        return result.task, [(s.state, s.label, s.detail, s.action) for s in result.stages]


def test_open_stage_gives_the_next_sheet_and_its_deadline(app):
    setup = judging_setup.build(app, n_entries=3, n_judges=1)
    closes = _stage(app, setup.event_id).closes_at
    task, [(state, label, detail, action)] = _judge(app, setup, now=closes - timedelta(hours=3))
    assert state == "open"
    assert label.startswith("Dibuka sampai ") and label.endswith("WITA")
    assert detail.startswith("3 lembar belum final, ditutup ")
    assert (action.endpoint, action.values) == (
        "judge.sheet",
        {"assignment_id": setup.assignment(0, 0)},
    )
    assert (task.code, task.title) == ("score", "3 lembar perlu dinilai dan difinalkan")
    assert (task.deadline, task.countdown) == (closes, "3 jam lagi")
    assert task.action == action


def test_stage_not_opened_yet_reads_belum_dibuka_not_ditutup(app):
    setup = judging_setup.build(app, n_entries=2, n_judges=1)
    opens = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    _set_stage(app, setup.stage_id, opens_at=opens, closes_at=opens + timedelta(days=1))
    task, [(state, label, detail, action)] = _judge(app, setup, now=opens - timedelta(days=2))
    assert (state, label, action) == ("not_open", "Belum dibuka", None)
    assert detail.startswith("Penilaian dibuka ")
    assert (task.code, task.deadline, task.countdown) == ("wait_scoring", opens, "2 hari lagi")
    # Before the judging phase too, even if the stage's time has come.
    _set_stage(app, setup.stage_id, opens_at=utcnow() - timedelta(days=1))
    _set_event(app, setup.event_id, status="verification")
    _task, [(state, label, _detail, _action)] = _judge(app, setup)
    assert (state, label) == ("not_open", "Belum dibuka")


def test_judge_home_page_shows_belum_dibuka(app):
    setup = judging_setup.build(app, n_entries=2, n_judges=1)
    opens = utcnow() + timedelta(days=2)
    _set_stage(app, setup.stage_id, opens_at=opens, closes_at=opens + timedelta(days=1))
    client = app.test_client()
    judging_setup.sign_in(client, setup.judges[0]["email"])
    page = client.get("/").get_data(as_text=True)
    assert "Belum dibuka" in page
    assert ">Ditutup<" not in page


def test_closed_stage_says_what_is_missing_and_when_it_closed(app):
    setup = judging_setup.build(app, n_entries=3, n_judges=1)
    closed = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    _set_stage(app, setup.stage_id, closes_at=closed)
    task, [(state, label, detail, action)] = _judge(app, setup)
    assert (state, label, action) == ("closed", "Ditutup", None)
    assert detail.startswith("3 lembar belum final, sudah ditutup ")
    assert task.code == "closed"


def test_closed_published_stage_reads_selesai_not_still_missing(app):
    setup = judging_setup.build(app, n_entries=3, n_judges=1)
    _set_stage(app, setup.stage_id, closes_at=utcnow() - timedelta(days=1))
    _set_event(app, setup.event_id, status="published")
    task, [(state, label, detail, _action)] = _judge(app, setup)
    assert (state, label) == ("done", "Selesai")
    assert detail == "Hasil sudah keluar: tidak ada lagi yang perlu dinilai."
    assert task.code == "done"
    client = app.test_client()
    judging_setup.sign_in(client, setup.judges[0]["email"])
    page = client.get("/").get_data(as_text=True)
    assert "Selesai" in page
    assert "Masih harus diselesaikan" not in page


def test_every_sheet_final_reads_selesai(app):
    setup = judging_setup.build(app, n_entries=2, n_judges=1)
    with app.app_context():
        for entry in range(2):
            db.session.add(ScoreSheet(assignment_id=setup.assignment(entry, 0), status="final"))
        db.session.commit()
    task, [(state, label, detail, _action)] = _judge(app, setup)
    assert (state, label) == ("done", "Selesai")
    assert detail == "Semua 2 lembar Anda sudah final."
    assert (task.code, task.title) == ("done", "Tidak ada yang perlu dinilai sekarang")


def test_judge_without_assignments_is_told_they_will_come(app, make_user):
    judge = make_user("judge")
    with app.test_request_context(), force_locale("id"):
        from monev.auth.models import User

        result = home.judge_tasks(db.session.get(User, judge.id), utcnow())
    assert (result.task.code, result.stages) == ("none", ())


# --- operator ---------------------------------------------------------------------------------


def _operator(app, user, now=None):
    with app.test_request_context(), force_locale("id"):
        from monev.auth.models import User

        return home.operator_overview(db.session.get(User, user.id), now or utcnow())


def test_operator_follows_the_event_through_every_phase(app, client, make_user, five):
    operator = make_user("operator", district_code="64.04")
    closes = _stage(app, five[0].event_id).closes_at
    (item,) = _operator(app, operator, now=closes - timedelta(hours=5))
    assert (item.task.code, item.task.title) == (
        "remind",
        "4 dari 5 finalis belum mengirim berkas",
    )
    assert (item.task.deadline, item.task.countdown) == (closes, "5 jam lagi")
    assert item.task.action.endpoint == "verification.progress"
    assert [r.status for r in item.finalists].count("Dikirim") == 1

    # The window closes and the event moves on: still on the operator's home, with standings.
    close_window(app, five[0].event_id)
    _set_event(app, five[0].event_id, status="verification")
    (item,) = _operator(app, operator)
    assert item.task.code == "wait_verification"
    assert sorted(r.standing or "" for r in item.finalists) == [""] + ["Tidak mengumpulkan"] * 4
    _set_event(app, five[0].event_id, status="judging")
    assert _operator(app, operator)[0].task.code == "wait_judging"

    sign_in(client, operator.email)
    page = client.get("/").get_data(as_text=True)
    assert "Monev KIM Uji 2026" in page
    assert "Tidak mengumpulkan" in page


def test_operator_in_the_nomination_phase_is_told_the_places_left(app, make_user, make_finalist):
    make_finalist(status="nomination", nomination_status="nominated")
    operator = make_user("operator", district_code="64.04")
    (item,) = _operator(app, operator)
    assert item.task.code == "nominate"
    assert item.task.action.endpoint == "nominations.district"
    assert item.finalists[0].status == "Diusulkan, menunggu keputusan"


def test_operator_sees_the_awards_of_its_kims_after_publication(app, make_user):
    judged = results_factory.build(app, status="results")
    snapshot = _publish(app, judged)
    operator = make_user("operator", district_code="64.04")
    (item,) = _operator(app, operator)
    awards = {r["code"]: r["award"] for c in snapshot["categories"] for r in c["entries"]}
    assert item.task.code == "published"
    assert {r.entry.code: r.award for r in item.finalists} == {
        r.entry.code: awards[r.entry.code] for r in item.finalists
    }
    assert item.task.action.endpoint == "results_public.public_index"


def test_operator_home_query_count_does_not_grow_with_finalists(app, make_user, make_finalist):
    operator = make_user("operator", district_code="64.04")
    make_finalist()
    with app.test_request_context():
        from monev.auth.models import User

        user = db.session.get(User, operator.id)
        engine = db.engine
        with count_queries(engine) as few:
            home.operator_overview(user, utcnow())
    for _ in range(4):
        make_finalist()
    with app.test_request_context():
        user = db.session.get(User, operator.id)
        with count_queries(engine) as many:
            (item,) = home.operator_overview(user, utcnow())
    assert len(item.finalists) == 5
    assert len(many) == len(few)


# --- admin ------------------------------------------------------------------------------------


def _cockpit(app, event_id, now=None):
    with app.test_request_context(), force_locale("id"):
        return home.admin_cockpit(db.session.get(Event, event_id), now or utcnow())


def test_admin_cockpit_gives_the_next_move_its_checklist_and_the_figures(app, five):
    cockpit = _cockpit(app, five[0].event_id)
    assert cockpit.phase == "Pengumpulan berkas"
    assert cockpit.next_target == "verification"
    assert cockpit.next_action.endpoint == "lifecycle.move"
    assert cockpit.checks  # four entries have not submitted: said before the move
    assert cockpit.figures == {
        "nominated": 5,
        "accepted": 5,
        "submitted": 1,
        "verified": 0,
        "sheets_final": 0,
        "sheets": 0,
        "objections_open": 0,
        "objections": 0,
    }


def test_admin_cockpit_in_results_leads_to_publishing(app):
    judged = results_factory.build(app, status="results")
    cockpit = _cockpit(app, judged.event_id)
    assert (cockpit.next_target, cockpit.next_action.endpoint) == ("published", "results.index")
    assert (cockpit.figures["sheets_final"], cockpit.figures["sheets"]) == (24, 24)


def test_admin_cockpit_reads_a_fixed_number_of_queries(app, make_finalist):
    first = make_finalist()
    with app.test_request_context():
        event = db.session.get(Event, first.event_id)
        engine = db.engine
        with count_queries(engine) as few:
            home.admin_cockpit(event, utcnow())
    for _ in range(4):
        make_finalist()
    with app.test_request_context():
        event = db.session.get(Event, first.event_id)
        with count_queries(engine) as many:
            home.admin_cockpit(event, utcnow())
    assert len(many) == len(few)


def test_dashboard_and_event_page_link_every_page_of_the_event(app, client, login_as, five):
    login_as("admin")
    slug = five[0].slug
    for url in ("/admin/", f"/admin/events/{slug}"):
        page = client.get(url).get_data(as_text=True)
        for path in (
            f"/admin/events/{slug}/certificates",
            f"/admin/events/{slug}/documents",
            f"/admin/events/{slug}/judging/",
            f"/admin/events/{slug}/results/",
            f"/admin/transfer/{slug}/rubric",
            f"/admin/events/{slug}/verification",
            f"/admin/events/{slug}/nominations",
            f"/admin/events/{slug}/rubric/",
        ):
            assert f'href="{path}"' in page, (url, path)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert f'href="/admin/events/{slug}/phase/verification"' in dashboard


def test_judge_on_a_panel_before_judging_is_told_when_scoring_opens(app):
    """Judging scheduled ahead: a judge on a stage's panel with nothing assigned yet sees the
    stage as "Belum dibuka" with its opening time; once judging starts, only assigned stages
    count (a panel stage with no entries for them is not a stage to score)."""
    setup = judging_setup.build(app, n_entries=2, n_judges=1, assign=False, status="submission")
    opens = (utcnow() + timedelta(days=20)).replace(microsecond=0)
    _set_stage(app, setup.stage_id, opens_at=opens, closes_at=opens + timedelta(days=2))
    task, stages = _judge(app, setup, now=opens - timedelta(days=20))
    [(state, label, detail, action)] = stages
    assert (state, label, action) == ("not_open", "Belum dibuka", None)
    assert detail.startswith("Penilaian dibuka ")
    assert (task.code, task.title) == ("wait_scoring", "Belum ada yang perlu dinilai")
    assert (task.deadline, task.countdown) == (opens, "20 hari lagi")
    client = app.test_client()
    judging_setup.sign_in(client, setup.judges[0]["email"])
    page = client.get("/").get_data(as_text=True)
    assert "Anda termasuk juri babak ini." in page
    _set_event(app, setup.event_id, status="judging")
    task, stages = _judge(app, setup)
    assert (task.code, stages) == ("none", [])
