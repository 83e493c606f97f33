"""Field visit photos (issue 17, second part): a judge's photo of a visit criterion, stamped
with the device's time and position, stored without its EXIF, counted against what the
criterion requires, and served only to the visit's team and the organiser."""

from __future__ import annotations

import html
import io
from datetime import UTC, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.extensions import db
from tests import upload_corpus as corpus
from tests.conftest import t
from tests.judging_setup import sign_in
from tests.test_signing import pki  # noqa: F401  (fixture)
from tests.test_visits import _kim_login, _visit_stage

LAT, LON = "-0.502200", "117.153600"  # the KIM's coordinates (Samarinda)


def tj(app, msgid: str, **params) -> str:
    """The text as a JSON answer carries it (not HTML-escaped)."""
    return html.unescape(t(app, msgid, **params))


@pytest.fixture
def setup(app):
    return visit_setup(app)


def visit_setup(app):
    """A visit stage with entry 0's visit under way an hour ago, at the KIM's location."""
    from monev.judging.models import Visit

    setup = _visit_stage(app)
    with app.app_context(), write_intent():
        db.session.add(
            Visit(
                stage_id=setup.stage_id,
                entry_id=setup.entries[0],
                starts_at=utcnow() - timedelta(hours=1),
                address="Jl. Poros Desa No. 1, Sangatta",
                latitude=LAT,
                longitude=LON,
            )
        )
        db.session.commit()
    return setup


@pytest.fixture
def judge(app, setup):
    return judge_client(app, setup)


def judge_client(app, setup):
    """The first judge (on entry 0's team), signed in."""
    client = app.test_client()
    client.token = sign_in(client, setup.judges[0]["email"])
    return client


def _now_iso(delta=timedelta(0)) -> str:
    """The device's clock in WITA (+08:00), ISO 8601 with its offset."""
    moment = (
        (utcnow() + delta)
        .replace(tzinfo=UTC)
        .astimezone(__import__("zoneinfo").ZoneInfo("Asia/Makassar"))
    )
    return moment.replace(microsecond=0).isoformat()


def _post(
    client, setup, *, data=None, photo=None, entry=0, criterion=0, json=True, judge=0, **fields
):
    form = {
        "csrf_token": client.token,
        "taken_at": _now_iso(),
        "latitude": "-0.501200",  # about 111 m north of the KIM
        "longitude": LON,
        "accuracy": "12.5",
        "client_key": "foto-kunci-0001",
    }
    form.update(fields)
    form = {k: v for k, v in form.items() if v is not None}
    content = corpus.image("JPEG", (640, 480)) if photo is None else photo
    form["photo"] = (io.BytesIO(content), "foto.jpg")
    headers = {"Accept": "application/json"} if json else {}
    return client.post(
        f"/judge/sheets/{setup.assignment(entry, judge)}/visit/{setup.criteria[criterion]}/photos",
        data=form,
        headers=headers,
        content_type="multipart/form-data",
    )


def _photos(app):
    from monev.judging.models import VisitPhoto

    with app.app_context():
        return db.session.scalars(select(VisitPhoto).order_by(VisitPhoto.id)).all()


def _stored_files(app) -> list[str]:
    from monev.storage import get_storage

    with app.app_context():
        return sorted(o.key for o in get_storage().objects() if "visit-photo" in o.key)


def test_a_photo_is_stored_with_its_stamp_and_distance(app, judge, setup):
    response = _post(judge, setup)
    assert response.status_code == 201
    body = response.get_json()
    assert body["ok"] is True and body["applied"] is True
    (photo,) = _photos(app)
    assert body["photo"]["id"] == photo.id
    assert body["photo"]["distance_m"] == photo.distance_m == 111
    assert body["photo"]["distance_text"] == tj(
        app, "taken %(distance)s from the KIM's location", distance="111 m"
    )
    assert body["photo"]["url"] == f"/schedule/visits/photos/{photo.id}"
    assert body["photo"]["taken_at"].endswith("Z")
    assert (photo.width, photo.height, photo.accuracy_m) == (640, 480, 12)  # 12.5 rounds to even
    assert photo.bytes > 0 and photo.storage_key.startswith("visit-photo-")
    assert str(photo.latitude) == "-0.501200"
    assert abs((photo.taken_at - utcnow()).total_seconds()) < 60  # WITA read as UTC
    served = judge.get(body["photo"]["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"].startswith("private")
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_repeated_key_is_acknowledged_and_stored_once(app, judge, setup):
    assert _post(judge, setup).status_code == 201
    files = _stored_files(app)
    other = corpus.image("JPEG", (300, 300), color=(1, 2, 3))
    again = _post(judge, setup, photo=other)  # the same key: not read again
    assert again.status_code == 200
    assert again.get_json()["applied"] is False
    assert len(_photos(app)) == 1
    assert _stored_files(app) == files and len(files) == 3  # the photo, its small and print copies


@pytest.mark.parametrize(
    ("fields", "field", "status"),
    [
        ({"taken_at": None}, "taken_at", 400),
        ({"taken_at": "kemarin sore"}, "taken_at", 400),
        ({"taken_at": "2026-12-06T10:15:00"}, "taken_at", 400),  # no offset
        ({"latitude": "95"}, "latitude", 400),
        ({"longitude": "200"}, "longitude", 400),
        ({"latitude": ""}, "latitude", 400),  # one without the other
        ({"accuracy": "-3"}, "accuracy", 400),
        ({"client_key": "kunci jelek!"}, "client_key", 400),
    ],
)
def test_bad_stamps_are_refused_and_nothing_is_stored(app, judge, setup, fields, field, status):
    response = _post(judge, setup, **fields)
    assert response.status_code == status
    body = response.get_json()
    assert body["ok"] is False and body["field"] == field and body["message"]
    assert _photos(app) == [] and _stored_files(app) == []


def test_a_photo_from_the_future_or_long_before_the_visit_is_refused(app, judge, setup):
    future = _post(judge, setup, taken_at=_now_iso(timedelta(minutes=10)))
    assert future.status_code == 400
    assert future.get_json()["field"] == "taken_at"
    assert "masa depan" in future.get_json()["message"]
    assert _post(judge, setup, taken_at=_now_iso(timedelta(minutes=4))).status_code == 201
    early = _post(judge, setup, taken_at=_now_iso(-timedelta(days=3)), client_key="kunci-lain-02")
    assert early.status_code == 400 and early.get_json()["field"] == "taken_at"
    assert len(_photos(app)) == 1


def test_without_a_position_the_photo_says_so(app, judge, setup):
    response = _post(judge, setup, latitude="", longitude="", accuracy="")
    assert response.status_code == 201
    photo = response.get_json()["photo"]
    assert photo["distance_m"] is None
    assert photo["distance_text"] == tj(app, "no position")


def test_a_far_photo_is_flagged(app, judge, setup):
    response = _post(judge, setup, latitude="-0.480000")  # about 2.5 km away
    body = response.get_json()["photo"]
    assert body["distance_m"] == 2469
    assert body["distance_text"] == (
        tj(app, "taken %(distance)s from the KIM's location", distance="2,5 km")
        + " · "
        + tj(app, "far from the KIM's location")
    )


def test_not_your_assignment_is_404_and_a_final_sheet_409(app, judge, setup):
    outsider = app.test_client()
    outsider.token = sign_in(outsider, setup.judges[2]["email"])  # not on entry 0's team
    response = outsider.post(
        f"/judge/sheets/{setup.assignment(0, 0)}/visit/{setup.criteria[0]}/photos",
        data={"csrf_token": outsider.token, "taken_at": _now_iso()},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 404 and response.get_json()["ok"] is False
    assert _post(judge, setup, criterion=0).status_code == 201
    a = setup.assignment(0, 0)
    final = judge.post(
        f"/judge/sheets/{a}/finalise",
        data={
            "csrf_token": judge.token,
            "version": 0,
            "confirm": "y",
            f"value-{setup.criteria[0]}": "8",
            f"value-{setup.criteria[1]}": "10",
        },
    )
    assert final.status_code in (302, 303)
    refused = _post(judge, setup, client_key="kunci-setelah-final")
    assert refused.status_code == 409
    assert refused.get_json()["message"] == tj(
        app, "This sheet is final and locked; only the organiser can reopen it."
    )
    assert len(_photos(app)) == 1


def test_a_closed_stage_is_409_and_csrf_is_answered_in_json(app, judge, setup):
    from monev.events.models import Stage

    missing_token = judge.post(
        f"/judge/sheets/{setup.assignment(0, 0)}/visit/{setup.criteria[0]}/photos",
        data={"taken_at": _now_iso()},
        headers={"Accept": "application/json"},
    )
    assert missing_token.status_code == 400 and missing_token.get_json()["ok"] is False
    with app.app_context(), write_intent():
        db.session.get(Stage, setup.stage_id).closes_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    closed = _post(judge, setup)
    assert closed.status_code == 409 and closed.is_json


def test_the_stored_file_carries_no_exif_or_gps(app, judge, setup):
    response = _post(judge, setup, photo=corpus.jpeg_with_gps())
    assert response.status_code == 201
    served = judge.get(response.get_json()["photo"]["url"]).get_data()
    with Image.open(io.BytesIO(served)) as img:
        exif = img.getexif()
        assert len(exif) == 0 and not exif.get_ifd(corpus.GPS_IFD)
        assert img.size == (300, 400)  # turned upright as the camera meant it
    assert b"KameraDesa" not in served


@pytest.mark.parametrize(
    "content",
    [
        corpus.pixel_flood_png(),
        corpus.truncated_png(),
        corpus.svg(),
        corpus.pdf(),
        corpus.html_named_pdf(),
        corpus.zip_not_office(),
        b"",
    ],
    ids=["pixel-flood", "truncated", "svg", "pdf", "html", "zip", "empty"],
)
def test_hostile_files_are_refused_without_a_500(app, judge, setup, content):
    response = _post(judge, setup, photo=content)
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "photo" and body["message"]
    assert _photos(app) == [] and _stored_files(app) == []


def test_the_form_without_javascript_goes_back_to_the_sheet(app, judge, setup):
    saved = _post(judge, setup, json=False)
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(
        f"/judge/sheets/{setup.assignment(0, 0)}#photos-{setup.criteria[0]}"
    )
    refused = _post(judge, setup, json=False, taken_at="", client_key="kunci-kedua-0002")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert t(app, "The photo carries no time; take it again from the score sheet.") in page


def test_only_the_team_and_the_organiser_see_a_photo(app, judge, setup):
    url = _post(judge, setup).get_json()["photo"]["url"]
    teammate = app.test_client()
    sign_in(teammate, setup.judges[1]["email"])
    assert teammate.get(url).status_code == 200
    outsider = app.test_client()
    sign_in(outsider, setup.judges[2]["email"])
    assert outsider.get(url).status_code == 404
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    assert admin.get(url).status_code == 200
    kim = _kim_login(app, setup, 0)
    assert kim.get(url).status_code == 403
    assert app.test_client().get(url).status_code == 302  # to the login


SHORT = "%(name)s: %(have)d photo(s) (%(need)d required)"


def test_finalising_needs_the_required_photos(app, judge, setup):
    from monev.rubrics.models import Criterion

    with app.app_context(), write_intent():
        db.session.get(Criterion, setup.criteria[0]).photos_required = 2
        db.session.get(Criterion, setup.criteria[1]).photos_required = 1
        db.session.commit()
    a = setup.assignment(0, 0)
    assert _post(judge, setup).status_code == 201
    sheet = judge.get(f"/judge/sheets/{a}").get_data(as_text=True)
    assert t(app, "%(have)d photo(s) (%(need)d required)", have=1, need=2) in sheet
    step = judge.get(f"/judge/sheets/{a}/finalise").get_data(as_text=True)
    listing = t(
        app,
        "Finalise needs the photos the visit requires; missing: %(list)s.",
        list=t(app, SHORT, name="Akses informasi", have=1, need=2)
        + "; "
        + t(app, SHORT, name="Produksi konten", have=0, need=1),
    )
    assert listing in step
    data = {
        "csrf_token": judge.token,
        "version": 0,
        "confirm": "y",
        f"value-{setup.criteria[0]}": "8",
        f"value-{setup.criteria[1]}": "10",
    }
    refused = judge.post(f"/judge/sheets/{a}/finalise", data=data)
    assert refused.status_code == 422
    assert listing in refused.get_data(as_text=True)
    assert _post(judge, setup, client_key="kunci-kedua-0002").status_code == 201
    assert _post(judge, setup, criterion=1, client_key="kunci-ketiga-003").status_code == 201
    with app.app_context():
        from monev.judging.models import ScoreSheet

        version = db.session.scalar(select(ScoreSheet.version))
    data["version"] = version
    done = judge.post(f"/judge/sheets/{a}/finalise", data=data)
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:300]


def test_the_judge_removes_a_photo_after_confirming(app, judge, setup):
    photo_id = _post(judge, setup).get_json()["photo"]["id"]
    url = f"/judge/sheets/{setup.assignment(0, 0)}/photos/{photo_id}/delete"
    step = judge.get(url)
    assert step.status_code == 200
    assert t(app, "I want to remove this photo") in step.get_data(as_text=True)
    unconfirmed = judge.post(url, data={"csrf_token": judge.token})
    assert unconfirmed.status_code == 422 and len(_photos(app)) == 1
    done = judge.post(url, data={"csrf_token": judge.token, "confirm": "y"})
    assert done.status_code == 303
    assert _photos(app) == []
    with app.app_context():
        from monev.audit.models import AuditEntry

        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("visit.photo%"))
        ).all()
    assert sorted(actions) == ["visit.photo_added", "visit.photo_deleted"]


def test_distance_text():
    from monev.core import geo

    assert geo.distance_m(-0.5022, 117.1536, -0.5022, 117.1536) == 0
    assert geo.distance_m(0, 0, 0, 1) == 111195
    assert func  # (imported for symmetry with the other tests)


def test_the_rubric_builder_asks_for_photos_only_on_a_visit_stage(app, setup):
    from monev.events.models import Event
    from monev.rubrics.models import Criterion

    admin = app.test_client()
    token = sign_in(admin, setup.admin_email)
    with app.app_context(), write_intent():
        db.session.get(Event, setup.event_id).status = "draft"  # the rubric may change
        db.session.commit()
        criterion = db.session.get(Criterion, setup.criteria[0])
        url = f"/admin/events/{setup.slug}/rubric/criteria/{criterion.id}"
        data = {
            "csrf_token": token,
            "key": criterion.key,
            "name": criterion.name,
            "weight": "60",
            "min_score": "1",
            "max_score": "10",
            "step": "0.5",
            "evidence": "none",
        }
    page = admin.get(url).get_data(as_text=True)
    assert 'name="photos_required"' in page
    refused = admin.post(url, data=data | {"photos_required": "11"})
    assert refused.status_code == 422
    assert t(app, "Enter a whole number from 0 to %(max)d.", max=10) in refused.get_data(
        as_text=True
    )
    assert admin.post(url, data=data | {"photos_required": "3"}).status_code in (302, 303)
    with app.app_context():
        assert db.session.get(Criterion, setup.criteria[0]).photos_required == 3
    from monev.events.models import Stage

    with app.app_context(), write_intent():
        db.session.get(Stage, setup.stage_id).kind = "standard"
        db.session.commit()
    assert 'name="photos_required"' not in admin.get(url).get_data(as_text=True)


# --- the KIM representative's confirmation and the Berita Acara visitasi -------------------


def _signature_png(blank: bool = False) -> str:
    import base64

    from PIL import ImageDraw

    img = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    if not blank:
        ImageDraw.Draw(img).line(
            [(40, 150), (200, 40), (380, 160), (560, 60)], fill="#10243e", width=4
        )
    out = io.BytesIO()
    img.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _visit_id(app, setup, index=0) -> int:
    from monev.judging.models import Visit

    with app.app_context():
        return db.session.scalar(select(Visit.id).where(Visit.entry_id == setup.entries[index]))


def _pdf_text(content: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(content)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


@pytest.mark.parametrize(
    ("data", "field", "msgid"),
    [
        ({"name": "", "typed": "y"}, "name", "Enter the representative's full name."),
        (
            {"name": "Siti Aminah"},
            "signature",
            "Let the representative draw their signature, or tick that they confirm with "
            "their typed name.",
        ),
        (
            {"name": "Siti Aminah", "signature": "data:image/png;base64,bm90IGEgcG5n"},
            "signature",
            "The drawn signature could not be read; clear it and draw it again.",
        ),
        (
            {"name": "Siti Aminah", "signature": "data:text/html;base64,PGgxPg=="},
            "signature",
            "The drawn signature could not be read; clear it and draw it again.",
        ),
        (
            {"name": "Siti Aminah", "signature": _signature_png(blank=True)},
            "signature",
            "The signature is empty: let the representative draw it, or use the typed name.",
        ),
    ],
    ids=["no-name", "nothing", "not-png", "html", "blank"],
)
def test_a_bad_confirmation_is_refused_with_the_name_kept(app, judge, setup, data, field, msgid):
    url = f"/schedule/visits/{_visit_id(app, setup)}/confirm"
    response = judge.post(url, data={"csrf_token": judge.token} | data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, msgid) in page
    if data["name"]:
        assert f'value="{data["name"]}"' in page
    from monev.judging.models import Visit

    with app.app_context():
        assert db.session.scalar(select(Visit.confirmed_at)) is None


def test_a_drawn_signature_is_kept_when_the_name_is_refused(app, judge, setup):
    """The representative drew, the judge forgot the name: the page comes back with the
    drawing in its field (static/js/signature.js puts it back on the canvas)."""
    drawn = _signature_png()
    url = f"/schedule/visits/{_visit_id(app, setup)}/confirm"
    response = judge.post(url, data={"csrf_token": judge.token, "name": "", "signature": drawn})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, "Enter the representative's full name.") in page
    assert f'value="{drawn}"' in page


def test_the_representative_signs_and_the_berita_acara_says_it_all(app, judge, setup):
    from monev.judging.models import Visit

    vid = _visit_id(app, setup)
    a = setup.assignment(0, 0)
    judge.post(
        f"/judge/sheets/{a}/visit/{setup.criteria[0]}",
        data={"csrf_token": judge.token, "mark": "partly", "note": "Papan informasi kusam."},
    )
    assert _post(judge, setup).status_code == 201
    kim = _kim_login(app, setup, 0)
    assert kim.get(f"/schedule/visits/{vid}/berita-acara.pdf").status_code == 404  # not yet
    draft = judge.get(f"/schedule/visits/{vid}/berita-acara.pdf")
    assert draft.status_code == 200 and draft.mimetype == "application/pdf"
    assert "masih draf" in _pdf_text(draft.data)
    page = judge.get(f"/schedule/visits/{vid}/confirm").get_data(as_text=True)
    assert "<canvas" in page and 'name="typed"' in page
    done = judge.post(
        f"/schedule/visits/{vid}/confirm",
        data={"csrf_token": judge.token, "name": "Siti  Aminah", "signature": _signature_png()},
    )
    assert done.status_code == 303
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert visit.representative_name == "Siti Aminah"
        assert visit.representative_signature_key.startswith("visit-signature-")
        assert visit.confirmed_by_id == setup.judges[0]["id"]
    again = judge.post(
        f"/schedule/visits/{vid}/confirm",
        data={"csrf_token": judge.token, "name": "Orang Lain", "typed": "y"},
    )
    assert again.status_code == 409
    pdf = kim.get(f"/schedule/visits/{vid}/berita-acara.pdf")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.data)
    for expected in (
        "BERITA ACARA VISITASI",
        "Monev Uji Juri",
        "Jl. Poros Desa No. 1, Sangatta",
        "-0.502200, 117.153600",
        "Juri Uji 1",
        "Juri Uji 2",
        "Akses informasi",
        "Sebagian",
        "Papan informasi kusam.",
        "diambil 111 m dari lokasi KIM",
        "WITA",
        "Siti Aminah",
    ):
        assert expected in text, expected
    assert "masih draf" not in text
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    assert admin.get(f"/schedule/visits/{vid}/berita-acara.pdf").status_code == 200
    outsider = app.test_client()
    sign_in(outsider, setup.judges[2]["email"])
    assert outsider.get(f"/schedule/visits/{vid}/berita-acara.pdf").status_code == 404
    other_kim = _kim_login(app, setup, 1)
    assert other_kim.get(f"/schedule/visits/{vid}/berita-acara.pdf").status_code == 404


def test_a_typed_confirmation_without_drawing(app, judge, setup):
    from monev.judging.models import Visit

    vid = _visit_id(app, setup)
    done = judge.post(
        f"/schedule/visits/{vid}/confirm",
        data={"csrf_token": judge.token, "name": "Budi Santoso", "typed": "y"},
    )
    assert done.status_code == 303
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert (visit.representative_name, visit.representative_signature_key) == (
            "Budi Santoso",
            None,
        )
    text = _pdf_text(judge.get(f"/schedule/visits/{vid}/berita-acara.pdf").data)
    assert "Budi Santoso" in text and "tanpa tanda tangan gambar" in text


def test_the_visit_page_shows_the_photos_to_the_team_and_the_organiser_only(app, judge, setup):
    _post(judge, setup)
    vid = _visit_id(app, setup)
    page = judge.get(f"/schedule/visits/{vid}").get_data(as_text=True)
    assert "/schedule/visits/photos/" in page
    assert t(app, "taken %(distance)s from the KIM's location", distance="111 m") in page
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    assert "/schedule/visits/photos/" in admin.get(f"/schedule/visits/{vid}").get_data(as_text=True)
    kim = _kim_login(app, setup, 0)
    kim_page = kim.get(f"/schedule/visits/{vid}").get_data(as_text=True)
    assert "/schedule/visits/photos/" not in kim_page
    assert f"/schedule/visits/{vid}/confirm" not in kim_page


def test_render_the_berita_acara_for_a_look(app, judge, setup, tmp_path):
    """Writes the PDF's pages as PNG into $MONEV_SHOTS_DIR when it is set (to look at)."""
    import os

    vid = _visit_id(app, setup)
    judge.post(
        f"/judge/sheets/{setup.assignment(0, 0)}/visit/{setup.criteria[0]}",
        data={"csrf_token": judge.token, "mark": "observed", "note": "Papan informasi ada."},
    )
    _post(judge, setup, photo=corpus.jpeg_with_gps())
    _post(judge, setup, latitude="-0.480000", client_key="foto-kunci-0002", criterion=1)
    judge.post(
        f"/schedule/visits/{vid}/confirm",
        data={"csrf_token": judge.token, "name": "Siti Aminah", "signature": _signature_png()},
    )
    pdf = judge.get(f"/schedule/visits/{vid}/berita-acara.pdf").data
    folder = os.environ.get("MONEV_SHOTS_DIR")
    if folder:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(pdf)
        for i, page in enumerate(doc):
            page.render(scale=1.3).to_pil().save(f"{folder}/ba-page-{i + 1}.png")
        doc.close()
    assert pdf.startswith(b"%PDF")


def test_the_organiser_sees_photos_on_the_board_the_sheet_and_the_results(app, judge, setup):
    from monev.judging.models import ScoreSheet
    from monev.rubrics.models import Criterion

    with app.app_context(), write_intent():
        db.session.get(Criterion, setup.criteria[0]).photos_required = 2
        db.session.commit()
    _post(judge, setup)
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    board = admin.get(f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/visits")
    rows = board.get_data(as_text=True).split("<tbody>", 1)[1]
    # entry 0's team is two judges, two photos each: 1 of 4; the others none of 6
    assert t(app, "%(n)d of %(m)d required", n=1, m=4) in rows
    assert t(app, "%(n)d of %(m)d required", n=0, m=6) in rows
    assert f"/schedule/visits/{_visit_id(app, setup)}" in rows
    with app.app_context():
        sheet_id = db.session.scalar(select(ScoreSheet.id))
    detail = admin.get(f"/admin/events/{setup.slug}/judging/sheets/{sheet_id}")
    assert "/schedule/visits/photos/" in detail.get_data(as_text=True)
    results = admin.get(f"/admin/events/{setup.slug}/results/entries/{setup.entries[0]}")
    assert results.status_code == 200
    body = results.get_data(as_text=True)
    assert "/schedule/visits/photos/" in body
    assert t(app, "taken %(distance)s from the KIM's location", distance="111 m") in body


def test_the_visit_pages_take_the_same_queries_with_one_photo_or_many(app, judge, setup):
    """No query per photo: the visits board, the visit's page and the sheet."""
    from tests.conftest import count_queries

    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    vid = _visit_id(app, setup)
    pages = [
        (admin, f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/visits"),
        (admin, f"/schedule/visits/{vid}"),
        (judge, f"/schedule/visits/{vid}"),
        (judge, f"/judge/sheets/{setup.assignment(0, 0)}"),
    ]

    def counts() -> list[int]:
        out = []
        for client, url in pages:
            with app.app_context():
                engine = db.engine
            with count_queries(engine) as statements:
                assert client.get(url).status_code == 200
            out.append(len(statements))
        return out

    assert _post(judge, setup, client_key="kunci-satu-0001").status_code == 201
    one = counts()
    for n in range(2, 6):
        key = f"kunci-lagi-{n:04d}"
        assert _post(judge, setup, client_key=key, criterion=n % 2).status_code == 201
    assert counts() == one


def test_a_photo_over_the_size_limit_is_answered_in_json(app, judge, setup, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    big = corpus.image("PNG", (1200, 1200))
    big += b"\0" * (1024 * 1024 + 10 - len(big)) if len(big) < 1024 * 1024 + 10 else b""
    response = _post(judge, setup, photo=big)
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and body["field"] == "photo"
    assert _photos(app) == [] and _stored_files(app) == []


def test_copying_the_rubric_keeps_the_photos_a_visit_criterion_requires(app, setup):
    from monev.events.models import Event, Stage
    from monev.rubrics import services as rubrics
    from monev.rubrics.models import Criterion
    from tests.factories import CriterionPlan, StagePlan, make_event

    with app.app_context(), write_intent():
        db.session.get(Criterion, setup.criteria[0]).photos_required = 3
        built = make_event(
            "uji-salinan",
            title="Monev Uji Salinan",
            stages=[
                StagePlan(
                    "presentasi",
                    "Presentasi",
                    100,
                    aspect="Lain",
                    criteria=(CriterionPlan("x1", "Sementara", 100, 1, 10, "1"),),
                )
            ],
        )
        target = built.event
        db.session.get(Stage, built.stages["presentasi"].id).kind = "visit"
        for criterion in db.session.scalars(
            select(Criterion).where(Criterion.event_id == target.id)
        ):
            db.session.delete(criterion)
        db.session.flush()
        rubrics.copy_rubric(db.session.get(Event, setup.event_id), target)
        copied = db.session.scalar(
            select(Criterion).where(Criterion.event_id == target.id, Criterion.key == "c1")
        )
        assert copied.photos_required == 3
        db.session.rollback()


def _require(app, setup, *needs):
    from monev.rubrics.models import Criterion

    with app.app_context(), write_intent():
        for index, need in enumerate(needs):
            db.session.get(Criterion, setup.criteria[index]).photos_required = need
        db.session.commit()


def _second_judge(app, setup):
    client = app.test_client()
    client.token = sign_in(client, setup.judges[1]["email"])
    return client


def _board_row(admin, setup, index=0) -> str:
    board = admin.get(f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/visits")
    page = board.get_data(as_text=True)
    return page.split(f'id="visit-{setup.entries[index]}"', 1)[1].split("</tr>", 1)[0]


def test_the_board_counts_each_judges_required_photos_not_one_judges_extras(app, judge, setup):
    """Issue 17 review: one judge took 7 photos where 4 are required, the other none; the
    board said 7 of 8 (only 4 of the 8 are there), now 4 of 8."""
    _require(app, setup, 4, 0)
    for n in range(7):
        assert _post(judge, setup, client_key=f"kunci-lebih-{n:04d}").status_code == 201
    # a photo on a criterion that requires none counts for nothing
    assert _post(judge, setup, criterion=1, client_key="kunci-bebas-0001").status_code == 201
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    row = _board_row(admin, setup)
    assert t(app, "%(n)d of %(m)d required", n=4, m=8) in row
    assert "badge-wait" in row
    # the second judge takes 3: 7 of 8; a fourth: all 8, and the badge turns green
    second = _second_judge(app, setup)
    for n in range(3):
        assert _post(second, setup, judge=1, client_key=f"kunci-kedua-{n:04d}").status_code == 201
    assert t(app, "%(n)d of %(m)d required", n=7, m=8) in _board_row(admin, setup)
    assert _post(second, setup, judge=1, client_key="kunci-kedua-0009").status_code == 201
    row = _board_row(admin, setup)
    assert t(app, "%(n)d of %(m)d required", n=8, m=8) in row and "badge-ok" in row


def test_the_board_without_required_photos_shows_how_many_were_taken(app, judge, setup):
    _require(app, setup, 0, 0)
    for n in range(2):
        assert _post(judge, setup, client_key=f"kunci-bebas-{n:04d}").status_code == 201
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    row = _board_row(admin, setup)
    assert f'data-label="{t(app, "Photos")}">2</td>' in row


def test_extra_photos_read_as_taken_and_required_on_the_sheets(app, judge, setup):
    """Never "3 of 1 required photos": the count says how many were taken and how many the
    criterion requires, on the judge's sheet and the organiser's copy of it."""
    from monev.judging.models import ScoreSheet

    _require(app, setup, 1, 2)
    for n in range(3):
        assert _post(judge, setup, client_key=f"kunci-tiga-{n:04d}").status_code == 201
    sheet = judge.get(f"/judge/sheets/{setup.assignment(0, 0)}").get_data(as_text=True)
    assert "3 foto (wajib 1)" in sheet and "0 foto (wajib 2)" in sheet
    assert "3 dari 1" not in sheet
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    with app.app_context():
        sheet_id = db.session.scalar(select(ScoreSheet.id))
    copy = admin.get(f"/admin/events/{setup.slug}/judging/sheets/{sheet_id}")
    assert "3 foto (wajib 1)" in copy.get_data(as_text=True)
    # the finalise step lists what is missing in the same words
    step = judge.get(f"/judge/sheets/{setup.assignment(0, 0)}/finalise").get_data(as_text=True)
    assert (
        t(
            app,
            "%(name)s: %(have)d photo(s) (%(need)d required)",
            name="Produksi konten",
            have=0,
            need=2,
        )
        in step
    )


def _cells(page: str, judge_name: str) -> list[str]:
    """The drill-down's cells of one judge (on a phone each reads "judge: value")."""
    marker = f'data-label="{judge_name} ('
    return [part.split("</td>", 1)[0] for part in page.split(marker)[1:]]


def test_the_results_drill_down_shows_each_judges_checklist_and_photos(app, judge, setup):
    """Issue 17: the visit's evidence in the results drill-down, per criterion and judge,
    every judge's column readable on a phone (cards-on-phone: each cell labelled)."""
    from tests.test_visits import _check

    _require(app, setup, 2, 0)
    second = _second_judge(app, setup)
    a0, a1 = setup.assignment(0, 0), setup.assignment(0, 1)
    c0, c1 = setup.criteria[0], setup.criteria[1]
    assert _check(judge, judge.token, a0, c0, "observed", "Papan informasi terpasang.")
    assert _check(judge, judge.token, a0, c1, "partly", "Produksi konten belum rutin.")
    assert _check(second, second.token, a1, c0, "not_observed", "Tidak ada papan.")
    for n in range(3):
        assert _post(judge, setup, client_key=f"kunci-hasil-{n:04d}").status_code == 201
    assert _post(second, setup, judge=1, client_key="kunci-hasil-0009").status_code == 201
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    page = admin.get(f"/admin/events/{setup.slug}/results/entries/{setup.entries[0]}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'class="small cards-on-phone drill-down"' in body
    first, other = _cells(body, "Juri Uji 1"), _cells(body, "Juri Uji 2")
    assert len(first) == len(other) == 2  # one cell per criterion for each judge
    assert t(app, "Observed") in first[0] and "Papan informasi terpasang." in first[0]
    assert "3 foto (wajib 2)" in first[0]
    assert t(app, "Partly observed") in first[1] and "Produksi konten belum rutin." in first[1]
    assert t(app, "Not observed") in other[0] and "Tidak ada papan." in other[0]
    assert "1 foto (wajib 2)" in other[0]
    assert f"{t(app, 'On site')}: —" in other[1]  # no checklist line yet


def test_the_results_drill_down_takes_the_same_queries_with_more_evidence(app, judge, setup):
    from tests.conftest import count_queries
    from tests.test_visits import _check

    _require(app, setup, 2, 1)
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    url = f"/admin/events/{setup.slug}/results/entries/{setup.entries[0]}"

    def count() -> int:
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as statements:
            assert admin.get(url).status_code == 200
        return len(statements)

    a0 = setup.assignment(0, 0)
    assert _check(judge, judge.token, a0, setup.criteria[0], "observed", "Ada.")
    assert _post(judge, setup, client_key="kunci-awal-0001").status_code == 201
    count()  # the first visit computes the results (then cached until a sheet changes)
    one = count()
    second = _second_judge(app, setup)
    a1 = setup.assignment(0, 1)
    assert _check(judge, judge.token, a0, setup.criteria[1], "partly", "Sebagian.")
    assert _check(second, second.token, a1, setup.criteria[0], "observed", "Ada juga.")
    for n in range(4):
        client = judge if n % 2 else second
        key = f"kunci-lagi-{n:04d}"
        who = 0 if client is judge else 1
        assert _post(client, setup, client_key=key, criterion=n % 2, judge=who).status_code == 201
    count()
    assert count() == one


def test_the_signed_berita_acara_has_the_tte_box_over_the_organiser_not_the_drawn_signature(
    app,
    judge,
    setup,
    pki,  # noqa: F811
):
    """Signed electronically for the organiser, the Berita Acara visitasi shows the TTE box
    above the organiser's name, clear of the representative's drawn signature beside it."""
    from monev.events.models import Event
    from tests.stamp_check import assert_stamp_clear
    from tests.test_signing import pkcs12_config

    vid = _visit_id(app, setup)
    judge.post(
        f"/schedule/visits/{vid}/confirm",
        data={"csrf_token": judge.token, "name": "Siti Aminah", "signature": _signature_png()},
    )
    app.config.update(pkcs12_config(pki))
    pdf = judge.get(f"/schedule/visits/{vid}/berita-acara.pdf").data
    with app.app_context():
        organiser = db.session.get(Event, setup.event_id).organiser
    stamp = assert_stamp_clear(pdf, organiser, shot="visit-berita-acara")
    assert len(stamp.images) == 1  # the representative's signature, drawn and not covered
