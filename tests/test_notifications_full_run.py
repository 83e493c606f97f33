"""A whole competition, from the live demo to certificates, and every message of the table
(``monev.notify.catalog.KINDS``): each kind reaches exactly the people it concerns, once per
person and subject, in the app and, for the kinds that go by e-mail, in the outbox.

The demo (``flask demo``) has 2025 open for submissions: KIM Teluk Pandan half-way, KIM
Teluk Lingga not started, the panel of five judges set, KIM Pinang Raya's nomination
waiting. From there every step goes through the services the pages call (the KIMs' own
uploads and submit through HTTP); only the judges' scores are written directly, as the
demo writes 2024's, since a score is not a message."""

from __future__ import annotations

import random
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from flask_babel import force_locale
from sqlalchemy import select

from monev.auth.models import User
from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.core.timezones import to_local
from monev.entries.models import Entry, Evidence
from monev.entries.nominations import services as nominations
from monev.entries.verification import services as verification
from monev.entries.workspace import reminders as kim_reminders
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import assignments, drops, schedule, sheets, visits
from monev.judging import reminders as judge_reminders
from monev.judging.models import Assignment, Score, ScoreSheet
from monev.lifecycle import selection, transitions
from monev.mail.services import list_outbox
from monev.notify.catalog import EMAIL, KINDS
from monev.notify.models import Notification
from monev.results import objections, publication
from monev.results import services as results
from monev.rubrics.models import Criterion
from tests import upload_corpus as corpus
from tests.conftest import post, sign_in
from tests.submission_fixtures import send_file, send_link

SLUG = "monev-kim-kaltim-2025"
TP, TL, PR = "kim.telukpandan", "kim.teluklingga", "kim.pinangraya"
OPERATOR = "operator.kutim"  # Kutai Timur: the three KIMs' district
JUDGES = [f"juri{n}" for n in range(1, 6)]


def _email(name: str) -> str:
    return f"{name}@demo.monev.id"


@contextmanager
def step(app):
    """One request's worth of work: committed at the end, like a page's POST."""
    with app.test_request_context(), write_intent():
        yield
        db.session.commit()


def _event() -> Event:
    return db.session.scalar(select(Event).where(Event.slug == SLUG))


def _stage(key: str) -> Stage:
    return next(s for s in _event().stages if s.key == key)


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.email == _email(name)))


def _entry(account: str) -> Entry:
    kim_id = _user(account).kim_id
    return db.session.scalar(
        select(Entry).where(Entry.event_id == _event().id, Entry.kim_id == kim_id)
    )


def _event_id(app) -> int:
    with app.app_context():
        return _event().id


def _move(target: str) -> None:
    check = transitions.preview(_event(), target)
    transitions.move(
        _user("admin"),
        _event(),
        target,
        acknowledged={c.code for c in check.warnings},
        confirmed=True,
    )


def _complete_and_submit(app, account: str) -> None:
    """The KIM fills what its workspace still misses and submits, through its pages."""
    client = app.test_client()
    sign_in(client, _email(account))
    with app.app_context():
        entry = db.session.scalar(
            select(Entry)
            .join(Event)
            .join(User, User.kim_id == Entry.kim_id)
            .where(Event.slug == SLUG, User.email == _email(account))
        )
        have = set(
            db.session.scalars(select(Evidence.criterion_id).where(Evidence.entry_id == entry.id))
        )
        criteria = [
            (c.id, c.evidence)
            for c in db.session.scalars(
                select(Criterion).where(
                    Criterion.event_id == entry.event_id, Criterion.evidence != "none"
                )
            )
            if c.id not in have
        ]
        has_presentation = None in have
    page = f"/entry/{SLUG}"
    for criterion_id, kind in criteria:
        if kind == "link":
            url = f"https://contoh.desa.id/{account}/{criterion_id}"
            assert send_link(client, f"{page}/criteria/{criterion_id}/link", url).status_code == 303
        else:
            data = corpus.pdf(f"Bukti {account} {criterion_id}")
            assert (
                send_file(client, f"{page}/criteria/{criterion_id}/file", data).status_code == 303
            )
    if not has_presentation:
        data = corpus.pdf(f"Presentasi {account}", pages=2)
        assert send_file(client, f"{page}/presentation/file", data).status_code == 303
    response = post(client, f"{page}/submit", {"confirm": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def _score_final(stage_key: str, quality: dict[int, float]) -> None:
    """Every open sheet of the stage scored and final (as the demo writes 2024's)."""
    stage = _stage(stage_key)
    criteria = list(
        db.session.scalars(
            select(Criterion).where(Criterion.event_id == stage.event_id).order_by(Criterion.id)
        )
    )
    rng = random.Random(13)  # noqa: S311 - test data
    for assignment in db.session.scalars(
        select(Assignment).where(Assignment.stage_id == stage.id, Assignment.dropped_at.is_(None))
    ):
        sheet = db.session.scalar(
            select(ScoreSheet).where(ScoreSheet.assignment_id == assignment.id)
        )
        if sheet is None:
            sheet = ScoreSheet(assignment_id=assignment.id, status="draft")
            db.session.add(sheet)
            db.session.flush()
        if sheet.status == "final":
            continue
        scored = {s.criterion_id for s in sheet.scores} if hasattr(sheet, "scores") else set()
        for criterion in criteria:
            if criterion.stage_id != stage.id or criterion.id in scored:
                continue
            value = Decimal(str(round(quality[assignment.entry_id] + rng.uniform(-0.4, 0.4))))
            value = min(criterion.max_score, max(criterion.min_score, value))
            db.session.add(Score(sheet_id=sheet.id, criterion_id=criterion.id, value=value))
        sheet.status, sheet.finalised_at = "final", utcnow()
    db.session.flush()


def test_a_full_run_sends_every_message_of_the_table_once_to_the_right_people(app, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0

    # Submission: the organiser accepts Pinang Raya late (it hears that submission is open),
    # rejects Panji; reminders at H-3 and H-1 reach the three finalists not submitted.
    with step(app):
        nominations.decide(_event(), _entry(PR), "accepted", None)
    with step(app):
        deadline = _stage("administrasi").closes_at
        assert kim_reminders.remind_event(_event(), now=deadline - timedelta(days=3)) == 3
    with step(app):
        assert kim_reminders.remind_event(_event(), now=deadline - timedelta(hours=23)) == 3
    _complete_and_submit(app, TP)
    _complete_and_submit(app, PR)

    # The window closes; Teluk Lingga never submitted (told, with its operator).
    with step(app):
        _stage("administrasi").closes_at = utcnow() - timedelta(minutes=1)
    with step(app):
        _move("verification")
    with step(app):
        admin = _user("admin")
        back_until = to_local(utcnow() + timedelta(days=2), "Asia/Makassar").replace(tzinfo=None)
        verification.send_back(admin, _entry(TP), "SK belum ditandatangani.", back_until)
    client = app.test_client()
    sign_in(client, _email(TP))
    response = post(client, f"/entry/{SLUG}/submit", {"confirm": "y"})
    assert response.status_code == 303
    with step(app):
        verification.verify(_user("admin"), _entry(TP))
        verification.verify(_user("admin"), _entry(PR))

    # Judging Administrasi: assignments, reminders, a sheet dropped and restored, one
    # reopened after it was final.
    with step(app):  # the cut-off after Administrasi: the best KIM Desa goes on
        stage = _stage("administrasi")
        desa = next(c for c in _event().categories if c.key == "desa")
        selection.set_rule(_user("admin"), stage, desa, kind="top_n", count=1)
        assignments.apply_plan(stage, assignments.plan_stage(stage).plan.fingerprint())
    with step(app):
        _stage("administrasi").closes_at = utcnow() + timedelta(days=5)  # judged until then
        _move("judging")
    with step(app):
        stage = _stage("administrasi")
        missing = judge_reminders.remind_stage(stage, now=stage.closes_at - timedelta(days=2))
        assert missing == 5  # every judge of the panel has sheets to do (2 entries x 3)
    with step(app):
        stage = _stage("administrasi")
        judge_reminders.remind_stage(stage, now=stage.closes_at - timedelta(hours=12))
    with step(app):
        dropped = db.session.scalar(
            select(Assignment)
            .where(Assignment.stage_id == _stage("administrasi").id)
            .order_by(Assignment.id)
        )
        dropped_id = dropped.id
        drops.drop_sheet(_event(), dropped_id, _user("admin"), "Juri berhalangan.", confirmed=True)
    with step(app):
        drops.restore_sheet(_event(), dropped_id, _user("admin"))
    quality = {}
    with step(app):
        quality = {_entry(TP).id: 8.4, _entry(PR).id: 6.1}
        _score_final("administrasi", quality)
    with step(app):
        sheet = db.session.scalar(select(ScoreSheet).where(ScoreSheet.assignment_id == dropped_id))
        sheets.reopen_sheet(sheet.id, _event(), _user("admin"), "Nilai A3 salah ketik.")
    with step(app):
        _score_final("administrasi", quality)

    # The cut-off confirmed: Presentasi for the one, not for the other.
    with step(app):
        selection.confirm(_user("admin"), _stage("administrasi"), confirmed=True)
    with step(app):
        stage = _stage("presentasi")
        assignments.apply_plan(stage, assignments.plan_stage(stage).plan.fingerprint())
        start = to_local(stage.opens_at, "Asia/Makassar").replace(tzinfo=None)
        schedule.generate_schedule(stage, start=start, minutes=20, gap=5, room="Ruang Rapat")
    with step(app):  # Presentasi taken as a field visit for a moment: one visit planned
        stage = _stage("presentasi")
        stage.kind = "visit"
        visits.save_visit(stage, entry_id=_entry(TP).id, start=start, address="Balai Desa")
        stage.kind = "standard"
    with step(app):
        _score_final("presentasi", quality)

    # Results: provisional, an objection decided, published, certificates.
    with step(app):
        _move("results")
    with step(app):
        objections.announce(
            _event(), closes_at=utcnow() + timedelta(days=2), actor=_user("admin"), confirmed=True
        )
    with step(app):
        objection = objections.file_objection(
            _event(),
            _entry(PR),
            reason="Nilai administrasi kami tertukar dengan KIM lain.",
            evidence_url=None,
            user=_user(PR),
        )
        objections.resolve_objection(
            _event(),
            objection.id,
            decision="rejected",
            note="Nilai sudah diperiksa ulang.",
            reopen=False,
            admin=_user("admin"),
        )
    with step(app):
        results.acknowledge_all(_event(), "Dibahas dalam rapat pleno juri.", actor=_user("admin"))
        publication.publish(_event(), actor=_user("admin"), confirmed=True)
    with step(app):
        from monev.certificates import services as certificates

        for kind in ("winner", "participant"):
            certificates.issue(_event(), kind, actor=_user("admin"))

    # --- what everybody got ------------------------------------------------------------------
    judges = {j: 2 for j in JUDGES}  # both stages' panels, set by the demo
    with app.app_context():
        presentasi_judges = {
            u.email.split("@")[0]
            for u in db.session.scalars(
                select(User)
                .join(Assignment, Assignment.judge_id == User.id)
                .where(Assignment.stage_id == _stage("presentasi").id)
            )
        }
        dropped_judge = db.session.get(Assignment, dropped_id).judge.email.split("@")[0]
        winner_is_tp = _entry(TP).standing == "active"
    assert winner_is_tp, "Teluk Pandan (the better scores) goes on to Presentasi"
    expected = {
        "submission_opened": {TP: 1, TL: 1, PR: 1},
        "deadline_h3": {TP: 1, TL: 1, PR: 1},
        "deadline_h1": {TP: 1, TL: 1, PR: 1},
        "entry_returned": {TP: 1},
        "entry_verified": {TP: 1, PR: 1},
        "standing_changed": {TL: 1},  # did not submit (the not-selected hears it below)
        "stage_selected": {TP: 1},
        "stage_not_selected": {PR: 1},
        "schedule_set": {TP: 1},
        "visit_set": {TP: 1},
        "provisional_results": {TP: 1, PR: 1},
        "objection_decided": {PR: 1},
        "results_published": {TP: 1, PR: 1},
        "certificate_ready": {TP: 2, PR: 1},  # one per certificate: Juara I and participant
        "rapor_ready": {TP: 1, PR: 1},
        "panel_added": judges,
        "assigned": {j: 1 + (j in presentasi_judges) for j in JUDGES},
        "judging_h3": {j: 1 for j in JUDGES},
        "judging_h1": {j: 1 for j in JUDGES},
        "sheet_reopened": {dropped_judge: 1},
        "sheet_dropped": {dropped_judge: 1},
        "sheet_restored": {dropped_judge: 1},
        "finalist_standing": {OPERATOR: 2},  # Teluk Lingga did not submit; Pinang Raya cut
        "district_results": {OPERATOR: 1},
    }
    assert set(expected) == set(KINDS), "the run must cover every kind of the table"

    with app.app_context():
        rows = db.session.execute(
            select(User.email, Notification.kind, Notification.key, Notification.params)
            .join(User, User.id == Notification.user_id)
            .where(Notification.event_id == _event_id(app))  # not the demo's 2024 messages
        ).all()
        with app.test_request_context(), force_locale("id"):
            subjects = Counter(
                (email, str(KINDS[kind].title % params))
                for email, kind, _key, params in rows
                if EMAIL in KINDS[kind].channels
            )
    got = Counter((email.split("@")[0], kind) for email, kind, _key, _params in rows)
    want = Counter(
        {(who, kind): n for kind, people in expected.items() for who, n in people.items()}
    )
    assert got == want
    assert len({(email, key) for email, _kind, key, _params in rows}) == len(rows)  # no repeat
    awards = sorted(p["award"] for e, k, _key, p in rows if k == "certificate_ready" and TP in e)
    assert len(set(awards)) == 2, awards  # two different certificates, not one told twice

    # The outbox holds one mail per notification that goes by e-mail, with its title.
    with app.test_request_context():
        outbox = list_outbox(limit=100_000)  # the whole outbox, the demo's mails included
    mails = Counter((m.to, m.subject) for m in outbox)
    missing = {k: n for k, n in subjects.items() if mails[k] < n}
    assert not missing, f"not in the outbox: {missing}"
    repeated = {k: mails[k] for k in subjects if mails[k] > subjects[k]}
    assert not repeated, f"sent more than once: {repeated}"
