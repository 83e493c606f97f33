"""Rubric import and export, JSON and Excel: round trips, bad cells, locking, admin pages."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from monev.audit.models import AuditEntry
from monev.core.documents import DocumentError
from monev.core.errors import ServiceError
from monev.events import queries as event_queries
from monev.extensions import db
from monev.rubrics.models import Aspect, Criterion
from monev.transfer import package
from monev.transfer import rubric as transfer
from tests.conftest import post, t
from tests.event_documents import full, minimal, msg

SOURCE = "monev-kim-kaltim-2024"
TARGET = "monev-kim-kaltim-2025"


@pytest.fixture
def events(app):
    """The 2024 event with its rubric, and a 2025 event with the same stages and no rubric."""
    source = full()
    source["event"]["status"] = "draft"
    target = minimal()
    target["event"].update(
        slug=TARGET, title="Monev KIM se-Kalimantan Timur 2025", year=2025, tie_breaks=[]
    )
    for key in ("rubric", "entries", "judges", "scores"):
        target[key] = []
    with app.test_request_context():
        package.import_package(source)
        package.import_package(target)
        db.session.commit()
    return app


def rubric_json(app, slug: str) -> dict:
    with app.test_request_context():
        return transfer.export_json(event_queries.get_by_slug(slug))


def criteria_count(app, slug: str | None = None) -> int:
    with app.app_context():
        stmt = select(func.count(Criterion.id))
        if slug:
            stmt = stmt.where(Criterion.event_id == event_queries.get_by_slug(slug).id)
        return db.session.scalar(stmt)


def run_import(app, slug: str, function, data):
    """Import as a caller does: commit on success, roll back on refusal."""
    with app.test_request_context():
        try:
            result = function(event_queries.get_by_slug(slug), data)
        except ServiceError:
            db.session.rollback()
            raise
        db.session.commit()
        return result


def excel_of(app, slug: str) -> bytes:
    with app.test_request_context():
        return transfer.export_excel(event_queries.get_by_slug(slug))


# --- JSON ---------------------------------------------------------------------------------


def test_json_round_trip_into_another_event(events):
    app = events
    source = rubric_json(app, SOURCE)
    assert source["format"] == "monev-rubric/1"
    assert source["stages"] == ["administrasi", "presentasi"]

    count = run_import(app, TARGET, transfer.import_json, json.loads(json.dumps(source)))

    assert count == 6
    assert rubric_json(app, TARGET) == source
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "rubric.imported")
        )
        assert entry.changes == {
            "source": "json",
            "stages": ["administrasi", "presentasi"],
            "criteria": 6,
            "replaced": 0,
        }


def test_import_replaces_the_rubric_of_the_stages_it_names(events):
    app = events
    run_import(app, TARGET, transfer.import_json, rubric_json(app, SOURCE))
    only_presentasi = rubric_json(app, SOURCE)
    only_presentasi["stages"] = ["presentasi"]
    only_presentasi["rubric"] = [only_presentasi["rubric"][2]]
    only_presentasi["rubric"][0]["criteria"][0]["name"] = "Materi dan alur presentasi"

    run_import(app, TARGET, transfer.import_json, only_presentasi)

    after = rubric_json(app, TARGET)
    assert [c["key"] for item in after["rubric"] for c in item["criteria"]] == [
        "c1",
        "c2",
        "c3",
        "p1",
        "p2",
        "p3",
    ]
    assert after["rubric"][2]["criteria"][0]["name"] == "Materi dan alur presentasi"


def test_json_problems_name_their_paths_and_change_nothing(events):
    app = events
    doc = rubric_json(app, SOURCE)
    doc["rubric"][0]["criteria"][1]["step"] = 0.75
    doc["rubric"][2]["criteria"][2]["weight"] = 30
    doc["rubric"][1]["criteria"][0]["key"] = "c1"
    doc["stages"].append("visitasi")

    with pytest.raises(DocumentError) as caught:
        run_import(app, TARGET, transfer.import_json, doc)

    assert [str(p) for p in caught.value.problems] == [
        "$.stages[2]: "
        + msg(app, "This event has no stage with the code %(key)s.", key="visitasi"),
        "$.rubric[1].criteria[0].key: "
        + msg(app, "The criterion code %(key)s is used twice.", key="c1"),
        "$.rubric[0].criteria[1].step: "
        + msg(
            app,
            "The step %(step)s does not divide the range %(min)s–%(max)s into whole steps.",
            step="0,75",
            min="1",
            max="5",
        ),
        "$.stages[1]: "
        + msg(
            app,
            "The criteria weights of stage %(stage)s add up to %(total)s, not 100.",
            stage="Presentasi",
            total="105",
        ),
    ]
    assert criteria_count(app, TARGET) == 0


def test_wrong_format_is_refused(events):
    doc = rubric_json(events, SOURCE)
    doc["format"] = "monev-event/1"
    with pytest.raises(DocumentError) as caught:
        run_import(events, TARGET, transfer.import_json, doc)
    assert [p.path for p in caught.value.problems] == ["$.format"]


def test_rubric_with_scores_is_locked(events):
    app = events
    before = rubric_json(app, SOURCE)
    with pytest.raises(ServiceError) as caught:
        run_import(app, SOURCE, transfer.import_json, before)
    assert caught.value.status == 409
    assert rubric_json(app, SOURCE) == before


def test_rubric_is_locked_once_judging_started(events):
    app = events
    with app.app_context():
        event_queries.get_by_slug(TARGET).status = "judging"
        db.session.commit()
    with pytest.raises(ServiceError) as caught:
        run_import(app, TARGET, transfer.import_json, rubric_json(app, SOURCE))
    assert caught.value.status == 409
    assert criteria_count(app, TARGET) == 0


# --- Excel --------------------------------------------------------------------------------


def test_excel_round_trip_into_another_event(events):
    app = events
    data = excel_of(app, SOURCE)
    sheet = load_workbook(BytesIO(data))["Rubrik"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == transfer.COLUMNS
    assert rows[1][:8] == ("administrasi", "Kelembagaan", "c1", "SK pembentukan KIM", 40, 1, 5, 1)
    assert rows[1][11] == "1-2: Belum ada SK\n3-5: SK ada dan masih berlaku"

    assert run_import(app, TARGET, transfer.import_excel, data) == 6

    assert rubric_json(app, TARGET)["rubric"] == rubric_json(app, SOURCE)["rubric"]


def _sheet(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Rubrik"
    sheet.append(list(transfer.COLUMNS))
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


GOOD_ROWS = [
    [
        "administrasi",
        "Kelembagaan",
        "c1",
        "SK pembentukan",
        40,
        1,
        5,
        1,
        None,
        None,
        None,
        "1-2: Belum ada SK\n3-5: Ada SK",
    ],
    ["administrasi", "Kelembagaan", "c2", "Pengurus", "30", 1, 5, "0,5"],
    ["administrasi", "Dokumentasi", "c3", "Arsip", 30, 0, 10, 1, "file", "PDF"],
    ["presentasi", "Penyajian", "p1", "Materi", 100, 0, 100, 5],
]


def test_excel_written_by_hand_is_read_with_decimal_commas(events):
    app = events
    assert run_import(app, TARGET, transfer.import_excel, _sheet(GOOD_ROWS)) == 4
    rubric = rubric_json(app, TARGET)["rubric"]
    assert [(i["stage"], i["aspect"], [c["key"] for c in i["criteria"]]) for i in rubric] == [
        ("administrasi", "Kelembagaan", ["c1", "c2"]),
        ("administrasi", "Dokumentasi", ["c3"]),
        ("presentasi", "Penyajian", ["p1"]),
    ]
    assert rubric[0]["criteria"][1]["step"] == 0.5
    assert rubric[1]["criteria"][0]["evidence"] == "file"
    assert rubric[0]["criteria"][0]["descriptors"] == [
        {"min": 1, "max": 2, "text": "Belum ada SK"},
        {"min": 3, "max": 5, "text": "Ada SK"},
    ]


def test_excel_bad_cells_are_refused_with_their_address(events):
    app = events
    rows = [list(r) for r in GOOD_ROWS]
    rows[0][11] = "satu sampai dua: belum ada"  # L2
    rows[1][4] = "tiga puluh"  # E3
    rows[2][3] = None  # D4 empty name
    rows[2][8] = "foto"  # I4
    rows[3][7] = 7  # H5: 7 does not divide 0–100
    rows.append(["visitasi", "Lapangan", "v1", "Kunjungan", 100, 1, 5, 1])  # A6

    with pytest.raises(DocumentError) as caught:
        run_import(app, TARGET, transfer.import_excel, _sheet(rows))

    assert [str(p) for p in caught.value.problems] == [
        "L2: " + msg(app, 'Line %(n)d: write a level as "1-2: description".', n=1),
        "E3: " + msg(app, "Expected a number, e.g. 2.5."),
        "D4: " + msg(app, "This cell is empty."),
        "I4: " + msg(app, "Use one of: %(choices)s.", choices="none, file, link, either"),
        "H5: "
        + msg(
            app,
            "The step %(step)s does not divide the range %(min)s–%(max)s into whole steps.",
            step="7",
            min="0",
            max="100",
        ),
        "A6: " + msg(app, "No stage has the code %(key)s.", key="visitasi"),
    ]
    assert criteria_count(app, TARGET) == 0


def test_excel_without_the_columns_or_the_sheet(events):
    app = events
    book = Workbook()
    book.active.title = "Lembar1"
    out = BytesIO()
    book.save(out)
    with pytest.raises(DocumentError) as caught:
        run_import(app, TARGET, transfer.import_excel, out.getvalue())
    assert [p.path for p in caught.value.problems] == ["Rubrik"]

    book = Workbook()
    book.active.title = "Rubrik"
    book.active.append(["stage", "aspect", "key", "name", "bobot", "min", "max", "step"])
    out = BytesIO()
    book.save(out)
    with pytest.raises(DocumentError) as caught:
        run_import(app, TARGET, transfer.import_excel, out.getvalue())
    assert [str(p) for p in caught.value.problems] == [
        "A1: " + msg(app, 'The header row lacks the column "%(name)s".', name="weight")
    ]


def test_file_that_is_not_a_workbook(events):
    with pytest.raises(DocumentError) as caught:
        run_import(events, TARGET, transfer.import_file, b"PK\x03\x04 rusak")
    assert [p.message for p in caught.value.problems] == [
        msg(events, "This is not an Excel workbook (.xlsx).")
    ]


# --- admin pages --------------------------------------------------------------------------


def test_admin_downloads_and_uploads_rubrics(events, client, login_as):
    app = events
    login_as("admin")
    page = client.get(f"/admin/transfer/{TARGET}/rubric")
    assert page.status_code == 200

    excel = client.get(f"/admin/transfer/{SOURCE}/rubric.xlsx")
    assert excel.headers["Content-Disposition"] == (f"attachment; filename={SOURCE}.rubric.xlsx")
    as_json = client.get(f"/admin/transfer/{SOURCE}/rubric.json")
    assert as_json.headers["Content-Disposition"] == f"attachment; filename={SOURCE}.rubric.json"
    assert json.loads(as_json.data) == rubric_json(app, SOURCE)

    response = post(
        client,
        f"/admin/transfer/{TARGET}/rubric",
        {"file": (BytesIO(excel.data), "apa-saja.bin")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert rubric_json(app, TARGET)["rubric"] == rubric_json(app, SOURCE)["rubric"]


def test_admin_rubric_upload_with_problems(events, client, login_as):
    app = events
    login_as("admin")
    rows = [list(r) for r in GOOD_ROWS]
    rows[1][4] = "tiga puluh"
    response = post(
        client,
        f"/admin/transfer/{TARGET}/rubric",
        {"file": (BytesIO(_sheet(rows)), "rubrik.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<code>E3</code>" in page
    assert t(app, "Expected a number, e.g. 2.5.") in page
    assert criteria_count(app, TARGET) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Aspect.id))) == 3  # the source's only


def test_admin_rubric_upload_refused_when_locked(events, client, login_as):
    app = events
    login_as("admin")
    before = rubric_json(app, SOURCE)
    response = post(
        client,
        f"/admin/transfer/{SOURCE}/rubric",
        {"file": (BytesIO(json.dumps(before).encode()), "rubrik.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 409
    assert rubric_json(app, SOURCE) == before


def test_import_keeps_the_criteria_the_tie_breaks_name(events):
    app = events
    run_import(app, TARGET, transfer.import_json, rubric_json(app, SOURCE))
    with app.app_context():
        event_queries.get_by_slug(TARGET).tie_breaks = ["criterion:c3"]
        db.session.commit()
    doc = rubric_json(app, SOURCE)
    doc["rubric"][1]["criteria"][0]["key"] = "c4"
    with pytest.raises(DocumentError) as caught:
        run_import(app, TARGET, transfer.import_json, doc)
    assert [str(p) for p in caught.value.problems] == [
        "$.rubric: "
        + msg(
            app,
            'The tie-break rule "%(rule)s" names no stage or criterion of this event.',
            rule="criterion:c3",
        )
    ]


# --- field visits: the photos a criterion requires --------------------------------------------


@pytest.fixture
def visit_events(app):
    """As ``events``, with the presentation stage a field visit in both events and the source's
    first visit criterion requiring two photos."""
    source = full()
    source["event"]["status"] = "draft"
    source["stages"][1]["kind"] = "visit"
    source["rubric"][2]["criteria"][0]["photos"] = 2
    target = minimal()
    target["event"].update(
        slug=TARGET, title="Monev KIM se-Kalimantan Timur 2025", year=2025, tie_breaks=[]
    )
    target["stages"][1]["kind"] = "visit"
    for key in ("rubric", "entries", "judges", "scores"):
        target[key] = []
    with app.test_request_context():
        package.import_package(source)
        package.import_package(target)
        db.session.commit()
    return app


def photos_required(app, slug: str) -> dict[str, int]:
    with app.app_context():
        event = event_queries.get_by_slug(slug)
        return dict(
            db.session.execute(
                select(Criterion.key, Criterion.photos_required).where(
                    Criterion.event_id == event.id
                )
            ).all()
        )


def test_the_photos_a_visit_criterion_requires_go_with_the_package_json_and_excel(visit_events):
    app = visit_events
    assert photos_required(app, SOURCE)["p1"] == 2  # the event package kept it
    source = rubric_json(app, SOURCE)
    [p1] = [c for item in source["rubric"] for c in item["criteria"] if c["key"] == "p1"]
    assert p1["photos"] == 2
    assert source["rubric"][0]["criteria"][0]["photos"] == 0  # none required

    run_import(app, TARGET, transfer.import_json, json.loads(json.dumps(source)))
    assert photos_required(app, TARGET)["p1"] == 2
    assert rubric_json(app, TARGET) == source

    data = excel_of(app, SOURCE)
    rows = list(load_workbook(BytesIO(data))["Rubrik"].iter_rows(values_only=True))
    assert rows[0][-1] == "photos"
    assert [r[12] for r in rows[1:] if r[2] == "p1"] == [2]
    run_import(app, TARGET, transfer.import_excel, data)
    assert photos_required(app, TARGET) == photos_required(app, SOURCE)


def test_a_bad_photo_count_is_refused_with_its_address(visit_events):
    app = visit_events
    rows = [list(r) + [None] * (13 - len(r)) for r in GOOD_ROWS]
    rows[3][12] = 11  # M5: more than 10 photos
    with pytest.raises(DocumentError) as caught:
        run_import(app, TARGET, transfer.import_excel, _sheet(rows))
    assert [str(p) for p in caught.value.problems] == [
        "M5: " + msg(app, "Use a number from %(low)d to %(high)d.", low=0, high=10)
    ]
    source = rubric_json(app, SOURCE)
    source["rubric"][2]["criteria"][0]["photos"] = "dua"
    with pytest.raises(DocumentError) as caught:
        run_import(app, TARGET, transfer.import_json, source)
    assert [p.path for p in caught.value.problems] == ["$.rubric[2].criteria[0].photos"]
    assert criteria_count(app, TARGET) == 0


def test_photos_on_a_stage_that_is_not_a_visit_are_not_kept(events):
    app = events
    source = rubric_json(app, SOURCE)
    source["rubric"][0]["criteria"][0]["photos"] = 3  # administrasi is not a field visit
    run_import(app, TARGET, transfer.import_json, source)
    assert set(photos_required(app, TARGET).values()) == {0}
