"""The event package (monev-event/1): export, import, round trip, refusals, CLI and admin UI."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from monev import create_app
from monev.audit.models import AuditEntry
from monev.auth.models import User
from monev.core.documents import DocumentError, dumps
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events import queries as event_queries
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, EventJudge, Score, ScoreSheet
from monev.regions.models import Kecamatan
from monev.rubrics.models import Criterion
from monev.transfer import package
from tests.conftest import PG_URL, _config, _truncate_pg, post, t
from tests.event_documents import full, minimal, msg

COUNTED = (Event, Stage, Criterion, User, Kim, Kecamatan, Entry, Assignment, Score, AuditEntry)


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def import_doc(app, document) -> str:
    """Import as a caller does: commit on success, roll back on refusal; the event's slug."""
    with app.test_request_context():
        try:
            event = package.import_package(document)
        except DocumentError:
            db.session.rollback()
            raise
        db.session.commit()
        return event.slug


def export_doc(app, slug: str) -> dict:
    with app.test_request_context():
        return package.export_event(event_queries.get_by_slug(slug))


def problems_of(app, document) -> list[str]:
    with app.test_request_context():
        try:
            package.import_package(document)
        except DocumentError as error:
            db.session.rollback()
            return [str(p) for p in error.problems]
    raise AssertionError("the document was accepted")


# --- a second, separate database --------------------------------------------------------


@pytest.fixture(scope="session")
def second_pg_url(template_db, tmp_path_factory):
    """A second PostgreSQL database beside the test one, migrated once per session."""
    from flask_migrate import upgrade

    url = make_url(PG_URL)
    name = f"{url.database}_second"
    admin = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    second = url.set(database=name).render_as_string(hide_password=False)
    app = create_app(_config(tmp_path_factory.mktemp("second"), second))
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return second


@pytest.fixture
def empty_app(request, template_db, tmp_path):
    """Another app on its own empty, migrated database (not the one ``app`` uses)."""
    instance = tmp_path / "second-instance"
    instance.mkdir()
    if PG_URL:
        uri = request.getfixturevalue("second_pg_url")
    else:
        shutil.copy(template_db, tmp_path / "second.db")
        uri = f"sqlite:///{tmp_path / 'second.db'}"
    application = create_app(_config(instance, uri))
    if PG_URL:
        _truncate_pg(application)
    yield application
    with application.app_context():
        db.engine.dispose()


# --- import and export --------------------------------------------------------------------


def test_minimal_document_is_imported_with_defaults(app):
    slug = import_doc(app, minimal())
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        assert (event.organiser, event.status, event.timezone) == (
            "Diskominfo",
            "draft",
            "Asia/Makassar",
        )
        assert (event.aggregation, event.normalize_judges) == ("trimmed", True)
        assert event.tie_breaks == ["stage:presentasi", "criterion:c3"]
        assert [(s.key, s.weight, s.position) for s in event.stages] == [
            ("administrasi", Decimal("40.00"), 0),
            ("presentasi", Decimal("60.00"), 1),
        ]
        p1 = db.session.scalar(select(Criterion).where(Criterion.key == "p1"))
        assert (p1.weight, p1.min_score, p1.max_score, p1.step) == (
            Decimal("50.50"),
            Decimal("0.00"),
            Decimal("100.00"),
            Decimal("5.00"),
        )
        entries = db.session.scalars(select(Entry).order_by(Entry.code)).all()
        assert [(e.code, e.kim.name, e.kim.district.code, e.category.key) for e in entries] == [
            ("K-001", "KIM Teluk Pandan", "64.04", "desa"),
            ("K-002", "KIM Teluk Lingga", "64.04", "kelurahan"),
            ("K-003", "KIM Tanjung Redeb", "64.05", "kelurahan"),  # "Berau", by name
            ("K-004", "KIM Labanan Makmur", "64.05", "desa"),
        ]
        judges = db.session.scalars(select(User).order_by(User.email)).all()
        assert [(u.email, u.role, u.has_password) for u in judges] == [
            ("budi@kaltimpost.id", "judge", False),
            ("rina@unmul.ac.id", "judge", False),
            ("sari@kominfo.kaltimprov.go.id", "judge", False),
        ]
        assert db.session.scalar(select(func.count(EventJudge.id))) == 3
        sheets = db.session.execute(
            select(Entry.code, User.email, Stage.key, ScoreSheet.status, func.count(Score.id))
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .join(Entry, Entry.id == Assignment.entry_id)
            .join(User, User.id == Assignment.judge_id)
            .join(Stage, Stage.id == Assignment.stage_id)
            .join(Score, Score.sheet_id == ScoreSheet.id)
            .group_by(Entry.code, User.email, Stage.key, ScoreSheet.status)
            .order_by(Entry.code, User.email)
        ).all()
        assert [tuple(row) for row in sheets] == [
            ("K-001", "budi@kaltimpost.id", "administrasi", "draft", 2),
            ("K-001", "rina@unmul.ac.id", "administrasi", "final", 3),
            ("K-003", "sari@kominfo.kaltimprov.go.id", "presentasi", "final", 3),
            ("K-004", "rina@unmul.ac.id", "presentasi", "final", 3),
        ]
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "event.imported")
        )
        assert entry.object_id == str(event.id)
        assert (entry.changes["entries"], entry.changes["scores"], entry.changes["criteria"]) == (
            4,
            11,
            6,
        )


def test_round_trip_into_an_empty_database_gives_the_same_document(app, empty_app):
    slug = import_doc(app, full())
    first = export_doc(app, slug)

    assert counts(empty_app)["Event"] == 0
    import_doc(empty_app, json.loads(dumps(first)))
    second = export_doc(empty_app, slug)

    assert dumps(second) == dumps(first)
    # What the hand-written document said survives, normalised (district by code, UTC times).
    assert first["stages"][0]["opens_at"] == "2024-05-01T00:00:00Z"
    assert first["entries"][2]["district"] == "64.05"
    assert [j["key"] for j in first["judges"]] == ["budi", "rina", "sari"]
    assert first["assignments"][2] == {"stage": "presentasi", "entry": "K-002", "judge": "budi"}
    assert first["scores"][0] == {
        "entry": "K-001",
        "judge": "budi",
        "criterion": "c1",
        "value": 5,
        "comment": "SK perlu diperbarui.",
        "final": False,
    }
    assert first["rubric"][2]["criteria"][1]["weight"] == 24.5


def test_export_is_deterministic(app):
    slug = import_doc(app, full())
    assert dumps(export_doc(app, slug)) == dumps(export_doc(app, slug))


def test_existing_kims_and_judges_are_reused(app, make_kim, make_user):
    kim = make_kim(name="kim teluk pandan", district_code="64.04")
    judge = make_user("judge", email="rina@unmul.ac.id", name="Rina W.")
    before = counts(app)
    import_doc(app, minimal())
    after = counts(app)
    assert after["Kim"] - before["Kim"] == 3
    assert after["User"] - before["User"] == 2
    with app.app_context():
        entry = db.session.scalar(select(Entry).where(Entry.code == "K-001"))
        assert entry.kim_id == kim.id
        sheet_judges = set(db.session.scalars(select(Assignment.judge_id)))
        assert judge.id in sheet_judges
        assert db.session.get(User, judge.id).name == "Rina W."  # an account is not renamed


# --- refusals -----------------------------------------------------------------------------


def _set(doc: dict, path: tuple, value) -> dict:
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


BAD_DOCUMENTS = {
    "step": (
        ("rubric", 0, "criteria", 0, "step"),
        1.5,
        "$.rubric[0].criteria[0].step",
        (
            "The step %(step)s does not divide the range %(min)s–%(max)s into whole steps.",
            {"step": "1,5", "min": "1", "max": "5"},
        ),
    ),
    "criteria weights": (
        ("rubric", 1, "criteria", 0, "weight"),
        35,
        "$.stages[0]",
        (
            "The criteria weights of stage %(stage)s add up to %(total)s, not 100.",
            {"stage": "Administrasi", "total": "105"},
        ),
    ),
    "stage weights": (
        ("stages", 1, "weight"),
        50,
        "$.stages",
        ("The stage weights add up to %(total)s, not 100.", {"total": "90"}),
    ),
    "unknown criterion": (
        ("scores", 0, "criterion"),
        "c9",
        "$.scores[0].criterion",
        ("No criterion has the code %(key)s.", {"key": "c9"}),
    ),
    "score out of range": (
        ("scores", 5, "value"),
        105,
        "$.scores[5].value",
        (
            "The score %(value)s lies outside the range %(min)s–%(max)s.",
            {"value": "105", "min": "0", "max": "100"},
        ),
    ),
    "score off the steps": (
        ("scores", 1, "value"),
        3.25,
        "$.scores[1].value",
        (
            "The score %(value)s is not on the steps of %(step)s from %(min)s.",
            {"value": "3,25", "step": "0,5", "min": "1"},
        ),
    ),
    "wrong format": (
        ("format",),
        "monev-event/2",
        "$.format",
        ('Expected "%(format)s".', {"format": "monev-event/1"}),
    ),
    "number as text": (
        ("stages", 0, "weight"),
        "40",
        "$.stages[0].weight",
        ("Expected a number, e.g. 2.5.", {}),
    ),
    "unknown district": (
        ("entries", 3, "district"),
        "Atlantis",
        "$.entries[3].district",
        ("No kabupaten/kota has the code or name %(value)s.", {"value": "Atlantis"}),
    ),
    "unknown category": (
        ("entries", 1, "category"),
        "kota",
        "$.entries[1].category",
        ("No category has the code %(key)s.", {"key": "kota"}),
    ),
    "duplicate entry key": (
        ("entries", 1, "key"),
        "K-001",
        "$.entries[1].key",
        ("Another entry already uses this code.", {}),
    ),
    "unknown key": (
        ("event", "colour"),
        "blue",
        "$.event.colour",
        (
            "Unknown key. Allowed here: %(keys)s.",
            {
                "keys": "aggregation, description, normalize_judges, organiser, slug, status, "
                "tie_breaks, timezone, title, year"
            },
        ),
    ),
    "unknown tie-break": (
        ("event", "tie_breaks", 1),
        "criterion:c7",
        "$.event.tie_breaks[1]",
        (
            'The tie-break rule "%(rule)s" names no stage or criterion of this event.',
            {"rule": "criterion:c7"},
        ),
    ),
}


@pytest.mark.parametrize("case", list(BAD_DOCUMENTS))
def test_bad_document_is_refused_with_its_path_and_changes_nothing(app, runner, tmp_path, case):
    path, value, where, (msgid, params) = BAD_DOCUMENTS[case]
    document = _set(minimal(), path, value)
    file = tmp_path / "bad.json"
    file.write_text(json.dumps(document))
    before = counts(app)

    result = runner.invoke(args=["event", "import", str(file)])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{where}: {msg(app, msgid, **params)}",
        msg(app, "The file has %(num)d problem; nothing was imported.", num=1),
    ]
    assert counts(app) == before


def test_every_problem_is_reported_at_once(app):
    doc = minimal()
    doc["rubric"][2]["criteria"][0]["name"] = " "
    doc["judges"][2]["email"] = "bukan-email"
    doc["scores"][3]["judge"] = "andi"
    assert problems_of(app, doc) == [
        f"$.rubric[2].criteria[0].name: {msg(app, 'This must not be empty.')}",
        f"$.judges[2].email: {msg(app, 'Invalid email address.')}",
        f"$.scores[3].judge: {msg(app, 'No judge has the key %(key)s.', key='andi')}",
    ]


def test_existing_slug_is_refused(app):
    import_doc(app, minimal())
    before = counts(app)
    assert problems_of(app, minimal()) == [
        f"$.event.slug: {msg(app, 'Another event already uses this address.')}"
    ]
    assert counts(app) == before


def test_email_of_a_non_judge_account_is_refused(app, make_user):
    make_user("admin", email="budi@kaltimpost.id")
    before = counts(app)
    assert problems_of(app, minimal()) == [
        "$.judges[1].email: "
        + msg(
            app,
            "This e-mail address belongs to an account that is not a judge (%(role)s).",
            role="admin",
        )
    ]
    assert counts(app) == before


def test_final_sheet_must_score_every_criterion(app):
    doc = minimal()
    del doc["scores"][2]  # rina's final K-001 sheet loses c3
    assert problems_of(app, doc) == [
        "$.scores[0]: "
        + msg(
            app,
            "A final sheet scores every criterion of its stage; missing: %(keys)s.",
            keys="c3",
        )
    ]


def test_unfinished_rubric_is_allowed_for_a_draft_without_scores(app):
    doc = minimal()
    doc["scores"] = []
    doc["rubric"][0]["criteria"][0]["weight"] = 10  # administrasi adds up to 70
    slug = import_doc(app, doc)
    assert export_doc(app, slug)["rubric"][0]["criteria"][0]["weight"] == 10
    doc["event"]["slug"] = "monev-kim-kaltim-2024-b"
    doc["event"]["status"] = "submission"
    assert problems_of(app, doc) == [
        "$.stages[0]: "
        + msg(
            app,
            "The criteria weights of stage %(stage)s add up to %(total)s, not 100.",
            stage="Administrasi",
            total="70",
        )
    ]


def test_published_event_cannot_be_imported(app):
    doc = minimal()
    doc["event"]["status"] = "published"
    [problem] = problems_of(app, doc)
    assert problem.startswith("$.event.status: ")


def test_not_json_is_refused(app):
    with app.test_request_context(), pytest.raises(DocumentError) as caught:
        package.parse(b'{"format": "monev-event/1", ')
    [problem] = caught.value.problems
    assert problem.path == "$"


# --- CLI ----------------------------------------------------------------------------------


def test_cli_export_and_import(app, empty_app, tmp_path):
    slug = import_doc(app, full())
    out = tmp_path / "event.json"

    result = app.test_cli_runner().invoke(args=["event", "export", slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == export_doc(app, slug)

    stdout = app.test_cli_runner().invoke(args=["event", "export", slug])
    assert stdout.output == out.read_text(encoding="utf-8")

    result = empty_app.test_cli_runner().invoke(args=["event", "import", str(out)])
    assert result.exit_code == 0, result.output
    assert export_doc(empty_app, slug) == export_doc(app, slug)

    again = empty_app.test_cli_runner().invoke(args=["event", "import", str(out)])
    assert again.exit_code == 1
    assert f"$.event.slug: {msg(app, 'Another event already uses this address.')}" in (
        again.output.splitlines()
    )


def test_cli_export_of_unknown_event_fails(runner):
    result = runner.invoke(args=["event", "export", "tidak-ada"])
    assert result.exit_code == 1
    assert "tidak-ada" in result.output


# --- admin pages --------------------------------------------------------------------------


def _upload(client, document: bytes, name: str = "event.json"):
    return post(
        client,
        "/admin/transfer/import",
        {"file": (BytesIO(document), name)},
        content_type="multipart/form-data",
    )


def test_admin_uploads_a_package_and_downloads_it_again(app, client, login_as):
    login_as("admin")
    document = dumps(full()).encode()

    response = _upload(client, document)

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Monev KIM se-Kalimantan Timur 2024" in page
    download = client.get("/admin/transfer/monev-kim-kaltim-2024/event.json")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=monev-kim-kaltim-2024.monev-event.json"
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert json.loads(download.data) == export_doc(app, "monev-kim-kaltim-2024")
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "event.imported")
        )
        assert entry.actor != "system"


def test_upload_with_problems_lists_them_and_writes_nothing(app, client, login_as):
    login_as("admin")
    doc = minimal()
    doc["rubric"][0]["criteria"][0]["step"] = 1.5
    doc["scores"][0]["criterion"] = "c9"
    before = counts(app)

    response = _upload(client, json.dumps(doc).encode())

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "$.rubric[0].criteria[0].step" in page
    assert "$.scores[0].criterion" in page
    assert t(app, "No criterion has the code %(key)s.", key="c9") in page
    assert counts(app) == before


def test_upload_of_something_else_than_json(app, client, login_as):
    login_as("admin")
    before = counts(app)
    response = _upload(client, b"\x89PNG\r\n\x1a\n not json", "gambar.json")
    assert response.status_code == 422
    assert t(app, "The file is not UTF-8 text.") in response.get_data(as_text=True)
    response = _upload(client, b"[1, 2", "potong.json")
    assert response.status_code == 422
    assert msg(
        app, "The file is not valid JSON (line %(line)d, column %(column)d).", line=1, column=6
    ) in response.get_data(as_text=True)
    assert counts(app) == before


def test_upload_without_a_file_asks_for_one(app, client, login_as):
    login_as("admin")
    response = post(client, "/admin/transfer/import", {})
    assert response.status_code == 422
    assert t(app, "Choose the file to import.") in response.get_data(as_text=True)


def test_upload_larger_than_the_limit_is_refused(app, client, login_as):
    login_as("admin")
    big = b" " * (20 * 1024 * 1024 + 1)
    assert _upload(client, big).status_code == 413


def test_export_of_unknown_event_is_404(client, login_as):
    login_as("admin")
    assert client.get("/admin/transfer/tidak-ada/event.json").status_code == 404


def test_sheet_is_final_only_when_all_its_scores_are(app):
    doc = minimal()
    doc["scores"][3]["final"] = True  # budi's K-001 sheet: one final, one draft score
    slug = import_doc(app, doc)
    scores = export_doc(app, slug)["scores"]
    assert [(s["judge"], s["criterion"], s["final"]) for s in scores[:2]] == [
        ("budi", "c1", False),
        ("budi", "c2", False),
    ]


def test_a_field_visit_stage_keeps_its_kind_and_an_unknown_kind_is_refused(app):
    document = full()
    document["stages"][1]["kind"] = "visit"
    slug = import_doc(app, document)
    with app.app_context():
        kinds = {s.key: s.kind for s in db.session.scalars(select(Stage))}
    assert sorted(kinds.values()) == ["standard", "visit"]
    assert [s.get("kind") for s in export_doc(app, slug)["stages"]] == ["standard", "visit"]
    wrong = full()
    wrong["stages"][0]["kind"] = "kunjungan"
    problems = problems_of(app, wrong)
    assert any("stages[0].kind" in p for p in problems), problems
