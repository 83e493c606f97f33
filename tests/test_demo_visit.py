"""The demo's field visit (issue "Field visits": done when a newcomer can do the visit of
today in the demo). *Anugerah KIM Inovatif 2025* is built through the real services and is
judging, with KIM Teluk Pandan visited today at 10.00 WITA by juri1 and juri2; juri1 does
the visit over HTTP exactly as README's tour says: the home page's *Kunjungan hari ini*, the
checklist, the scores, the photos the criteria require, the sheet finalised, the KIM's
representative signing, and the Berita Acara visitasi downloaded, by the judge and the KIM."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.core.timezones import to_local
from monev.demo import award, data, loader
from monev.extensions import db
from tests import upload_corpus as corpus
from tests.conftest import sign_in
from tests.test_visit_photos import _now_iso, _pdf_text, _signature_png

JURI1, JURI2 = award.TEAM
TELUK_PANDAN = f"kim.{data.KIMS[0][0]}@demo.monev.id"
NEAR = {"latitude": "0.430500", "longitude": "117.470500", "accuracy": "15"}  # ~90 m north


@pytest.fixture
def demo(app):
    with app.app_context(), write_intent():
        loader.load(app.config["DEMO_PASSWORD"])
        db.session.commit()
    return app


def _award(app):
    from monev.events.models import Event

    return db.session.scalar(select(Event).where(Event.slug == award.SLUG))


def visit_of_today(app):
    """The demo's visit of today (KIM Teluk Pandan): its planned time as the pages write it
    ("10.00 WITA"), after checking that its representative may confirm it now."""
    from monev.events.models import Stage
    from monev.judging.models import Visit
    from monev.judging.visits import confirm_opens_at

    with app.app_context():
        visit = db.session.scalars(
            select(Visit)
            .join(Stage, Stage.id == Visit.stage_id)
            .where(Stage.event_id == _award(app).id)
            .order_by(Visit.starts_at)
        ).first()
        assert confirm_opens_at(visit) <= utcnow(), "the demo's visit cannot be confirmed yet"
        local = to_local(visit.starts_at, "Asia/Makassar")
        assert local.date() == to_local(utcnow(), "Asia/Makassar").date()
        return f"{local:%H.%M} WITA"


def _client(app, email: str):
    client = app.test_client()
    sign_in(client, email)
    return client


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_the_award_is_judging_with_a_visit_today_and_two_later(demo):
    from monev.entries.models import Entry
    from monev.judging.models import Assignment, Visit
    from monev.rubrics.models import Criterion

    now = utcnow()
    with demo.app_context():
        event = _award(demo)
        assert event.status == "judging" and event.judges_see_names
        (stage,) = event.stages
        assert stage.kind == "visit" and stage.opens_at <= now < stage.closes_at
        assert [c.key for c in event.categories] == ["inovasi"]
        entries = db.session.scalars(select(Entry).where(Entry.event_id == event.id)).all()
        assert len(entries) == 3
        assert {e.submission_status for e in entries} == {"verified"}
        assert {e.nomination_status for e in entries} == {"accepted"}
        criteria = db.session.scalars(
            select(Criterion).where(Criterion.stage_id == stage.id).order_by(Criterion.position)
        ).all()
        assert [c.photos_required for c in criteria] == [2, 1, 1]
        assert all(c.descriptors and c.guidance for c in criteria)
        teams = db.session.execute(
            select(Assignment.entry_id, func.count())
            .where(Assignment.stage_id == stage.id)
            .group_by(Assignment.entry_id)
        ).all()
        assert sorted(n for _e, n in teams) == [2, 2, 2]
        visits = db.session.scalars(
            select(Visit).where(Visit.stage_id == stage.id).order_by(Visit.starts_at)
        ).all()
        today = to_local(now, event.timezone).date()
        local = [to_local(v.starts_at, event.timezone) for v in visits]
        assert local[0].date() == today and local[0].minute == 0
        assert local[0].hour == 10 or to_local(now, event.timezone).hour < 7
        assert visits[0].entry.kim.name == "KIM Teluk Pandan"
        assert all(today < t.date() <= today + timedelta(days=6) for t in local[1:])
        for visit in visits:  # in East Kalimantan, each with its address
            assert Decimal("-2.5") < visit.latitude < Decimal("2.5")
            assert Decimal("113.8") < visit.longitude < Decimal("119.1")
            assert visit.address and visit.starts_at < stage.closes_at


def test_juri1_does_the_visit_of_today_and_the_berita_acara_is_downloaded(demo):
    from monev.judging.models import ScoreSheet, Visit, VisitCheck, VisitPhoto
    from monev.rubrics.models import Criterion

    judge = _client(demo, JURI1)
    home = judge.get("/").get_data(as_text=True)
    assert "Kunjungan hari ini" in home
    assert f"{visit_of_today(demo)} · " in home and "KIM Teluk Pandan" in home
    assert "Anugerah KIM Inovatif 2025" in home
    sheet_url = re.search(r'href="(/judge/sheets/\d+)">Buka lembar kunjungan', home).group(1)
    visit_url = re.search(r'href="(/schedule/visits/\d+)"', home).group(1)
    assignment_id = int(sheet_url.rsplit("/", 1)[1])

    page = judge.get(sheet_url).get_data(as_text=True)
    assert "Daftar periksa kunjungan" in page and "0 foto (wajib 2)" in page
    token = _token(page)
    with demo.app_context():
        stage_id = _award(demo).stages[0].id
        criteria = [
            (c.id, c.photos_required)
            for c in db.session.scalars(
                select(Criterion).where(Criterion.stage_id == stage_id).order_by(Criterion.position)
            )
        ]
    for n, (criterion_id, photos) in enumerate(criteria):
        saved = judge.post(
            f"{sheet_url}/visit/{criterion_id}",
            data={"csrf_token": token, "mark": "observed", "note": f"Catatan lapangan {n + 1}."},
        )
        assert saved.status_code == 303
        for k in range(photos):
            response = judge.post(
                f"{sheet_url}/visit/{criterion_id}/photos",
                data={
                    "csrf_token": token,
                    "taken_at": _now_iso(),
                    "client_key": f"demo-foto-{n}-{k}-kunci",
                    "photo": (io.BytesIO(corpus.image("JPEG", (800, 600))), f"foto{k}.jpg"),
                    **NEAR,
                },
                headers={"Accept": "application/json"},
                content_type="multipart/form-data",
            )
            assert response.status_code == 201, response.get_data(as_text=True)
            assert response.get_json()["photo"]["distance_m"] < 150
    assert "2 foto (wajib 2)" in judge.get(sheet_url).get_data(as_text=True)
    with demo.app_context():
        version = db.session.scalar(
            select(ScoreSheet.version).where(ScoreSheet.assignment_id == assignment_id)
        )
    done = judge.post(
        f"{sheet_url}/finalise",
        data={
            "csrf_token": token,
            "version": version,
            "confirm": "y",
            **{f"value-{cid}": str(8 - n) for n, (cid, _p) in enumerate(criteria)},
        },
    )
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:500]
    visit_page = judge.get(visit_url).get_data(as_text=True)
    assert "Konfirmasi oleh KIM" in visit_page
    confirmed = judge.post(
        f"{visit_url}/confirm",
        data={"csrf_token": token, "name": "Hendra Saputra", "signature": _signature_png()},
    )
    assert confirmed.status_code == 303
    assert "Dikonfirmasi KIM" in judge.get("/").get_data(as_text=True)
    pdf = judge.get(f"{visit_url}/berita-acara.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    for expected in (
        "BERITA ACARA VISITASI",
        "Anugerah KIM Inovatif 2025",
        "KIM Teluk Pandan",
        "Jl. Poros Bontang",
        "Hendra Saputra",
        "Catatan lapangan 1.",
        "m dari lokasi KIM",
        "WITA",
    ):
        assert expected in text, expected
    assert "masih draf" not in text
    kim = _client(demo, TELUK_PANDAN)
    assert visit_url in kim.get("/schedule/").get_data(as_text=True)  # its Jadwal
    assert "Hendra Saputra" in kim.get(visit_url).get_data(as_text=True)
    assert kim.get(f"{visit_url}/berita-acara.pdf").status_code == 200
    with demo.app_context():
        sheet = db.session.scalar(
            select(ScoreSheet).where(ScoreSheet.assignment_id == assignment_id)
        )
        assert sheet.status == "final"
        assert db.session.scalar(
            select(func.count()).where(VisitPhoto.sheet_id == sheet.id)
        ) == sum(p for _c, p in criteria)
        assert db.session.scalar(
            select(func.count()).where(VisitCheck.sheet_id == sheet.id)
        ) == len(criteria)
        assert db.session.get(Visit, int(visit_url.rsplit("/", 1)[1])).confirmed_at is not None


def test_the_other_judges_home_has_no_visit_today(demo):
    judge = _client(demo, "juri3@demo.monev.id")
    assert "Kunjungan hari ini" not in judge.get("/").get_data(as_text=True)
    partner = _client(demo, JURI2)
    assert "Kunjungan hari ini" in partner.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("built_at", "planned"),
    [("2026-12-07T00:10:00", 10), ("2026-12-06T18:30:00", 2)],  # UTC, as utcnow() gives it
    ids=["08.10 WITA", "02.30 WITA"],
)
def test_the_visit_of_today_can_be_confirmed_whenever_the_demo_is_built(
    monkeypatch, built_at, planned
):
    """At 10.00 WITA, as planned; built before 07.00 WITA (a visit at 10.00 could not be
    confirmed yet), at the hour the demo is built."""
    from datetime import datetime

    moment = datetime.fromisoformat(built_at)
    monkeypatch.setattr(award, "utcnow", lambda: moment)
    today = to_local(moment, award.TZ).date()
    assert award._hour_of_today(today, 10) == planned
