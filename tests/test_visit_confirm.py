"""The KIM representative's confirmation of a field visit (issue 17): given on a team judge's
phone without a signal and sent through the sync (once per key, the online confirmation's
rules and refusals), not before the visit's day, stated with its real times in the Berita
Acara visitasi, and shown on the KIM's home afterwards."""

from __future__ import annotations

import html
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.extensions import db
from tests.conftest import t
from tests.judging_setup import csrf_token, sign_in
from tests.pdf import pdf_text
from tests.test_visit_photos import _post as _post_photo
from tests.test_visit_photos import _signature_png, _visit_id, tj
from tests.test_visit_photos import judge as judge  # noqa: F401  (fixture)
from tests.test_visit_photos import setup as setup  # noqa: F401  (fixture)
from tests.test_visits import _kim_login

WITA = zoneinfo.ZoneInfo("Asia/Makassar")


def _iso(moment: datetime) -> str:
    """A naive UTC moment as the phone writes it: ISO 8601 in WITA with its offset."""
    return moment.replace(tzinfo=UTC).astimezone(WITA).replace(microsecond=0).isoformat()


def _confirm(client, assignment_id, *, key="konfirmasi-0001", when=None, **data):
    body = {
        "kind": "confirm",
        "client_key": key,
        "name": "Siti Aminah",
        "signature": _signature_png(),
        "typed": False,
        "confirmed_at": _iso(when or utcnow()),
    } | data
    return client.post(
        f"/judge/sheets/{assignment_id}/sync",
        json=body,
        headers={"X-CSRFToken": client.token, "Accept": "application/json"},
    )


def _visit(app):
    from monev.judging.models import Visit

    with app.app_context():
        visit = db.session.scalars(select(Visit).order_by(Visit.id)).first()
        db.session.expunge(visit)
        return visit


def _confirmations(app) -> int:
    from monev.audit.models import AuditEntry

    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "visit.confirmed")
        )


def _move_visit(app, starts_at: datetime) -> None:
    from monev.judging.models import Visit

    with app.app_context(), write_intent():
        db.session.scalars(select(Visit).order_by(Visit.id)).first().starts_at = starts_at
        db.session.commit()


def _client(app, email):
    client = app.test_client()
    client.token = sign_in(client, email)
    return client


def test_a_confirmation_kept_offline_is_stored_once_and_acknowledged(app, judge, setup):
    a = setup.assignment(0, 0)
    given = utcnow() - timedelta(minutes=40)  # given in the village, sent on the way back
    first = _confirm(judge, a, when=given)
    assert first.status_code == 201, first.get_json()
    answer = first.get_json()
    assert answer["ok"] and answer["applied"] and answer["stored"]["done"]
    assert answer["stored"]["name"] == "Siti Aminah"
    again = _confirm(judge, a, when=given)  # the answer was lost: sent once more
    assert again.status_code == 200 and again.get_json()["applied"] is False
    assert _confirmations(app) == 1
    visit = _visit(app)
    assert visit.representative_name == "Siti Aminah"
    assert visit.representative_signature_key.startswith("visit-signature-")
    assert visit.confirmed_at == given.replace(microsecond=0)
    assert visit.confirm_received_at > visit.confirmed_at
    assert visit.confirmed_by_id == setup.judges[0]["id"]
    # another phone (the co-judge's), another key: refused in plain Indonesian
    other = _client(app, setup.judges[1]["email"])
    refused = _confirm(other, setup.assignment(0, 1), key="konfirmasi-0002", typed=True)
    assert refused.status_code == 409
    assert refused.get_json()["message"] == tj(
        app, "The KIM's representative has already confirmed this visit."
    )
    assert _confirmations(app) == 1


@pytest.mark.parametrize(
    ("data", "status", "field", "msgid"),
    [
        ({"name": "  "}, 422, "name", "Enter the representative's full name."),
        (
            {"signature": "", "typed": False},
            422,
            "signature",
            "Let the representative draw their signature, or tick that they confirm with "
            "their typed name.",
        ),
        (
            {"signature": "data:image/png;base64,bm90IGEgcG5n"},
            422,
            "signature",
            "The drawn signature could not be read; clear it and draw it again.",
        ),
        (
            {"signature": _signature_png(blank=True)},
            422,
            "signature",
            "The signature is empty: let the representative draw it, or use the typed name.",
        ),
        (
            {"confirmed_at": "kemarin sore"},
            422,
            "confirmed_at",
            "The time of the confirmation is unreadable (expected e.g. 2026-12-06T10:15:00+08:00).",
        ),
        ({"client_key": "x"}, 422, None, "This save carries an unreadable key; nothing was saved."),
    ],
    ids=["no-name", "nothing-drawn", "not-png", "blank", "bad-time", "bad-key"],
)
def test_the_sync_refuses_what_the_online_form_refuses(
    app, judge, setup, data, status, field, msgid
):
    response = _confirm(judge, setup.assignment(0, 0), **data)
    assert response.status_code == status
    answer = response.get_json()
    assert answer["ok"] is False and answer["field"] == field
    assert answer["message"] == tj(app, msgid)
    assert _visit(app).confirmed_at is None and _confirmations(app) == 0


def test_a_typed_confirmation_goes_through_the_sync_too(app, judge, setup):
    response = _confirm(
        judge, setup.assignment(0, 0), signature="", typed=True, name="Budi  Santoso"
    )
    assert response.status_code == 201
    visit = _visit(app)
    assert (visit.representative_name, visit.representative_signature_key) == ("Budi Santoso", None)


def test_a_phone_clock_in_the_future_is_refused(app, judge, setup):
    response = _confirm(judge, setup.assignment(0, 0), when=utcnow() + timedelta(hours=3))
    assert response.status_code == 422 and response.get_json()["field"] == "confirmed_at"
    assert _visit(app).confirmed_at is None


def test_only_the_teams_judges_sync_a_confirmation(app, judge, setup):
    # judge 3 is on no team of entry 1: the first entry's sheet is not theirs
    outsider = _client(app, setup.judges[2]["email"])
    assert _confirm(outsider, setup.assignment(0, 0)).status_code == 404
    # their own sheet of another entry has no visit planned
    assert _confirm(outsider, setup.assignment(1, 2)).status_code == 404
    assert _visit(app).confirmed_at is None
    admin = _client(app, setup.admin_email)
    assert _confirm(admin, setup.assignment(0, 0)).status_code == 403
    kim = _kim_login(app, setup, 0)
    kim.token = csrf_token(kim)
    assert _confirm(kim, setup.assignment(0, 0)).status_code == 403
    assert _visit(app).confirmed_at is None and _confirmations(app) == 0


def test_a_closed_event_refuses_the_confirmation(app, judge, setup):
    from monev.events.models import Event

    with app.app_context(), write_intent():
        db.session.scalar(select(Event)).status = "results"
        db.session.commit()
    response = _confirm(judge, setup.assignment(0, 0))
    assert response.status_code == 409
    assert response.get_json()["message"] == tj(
        app, "Scoring is closed: the event is not in its judging phase. Nothing was saved."
    )


# --- the time rule: not long before the visit (event's time zone) ------------------------


def _wita_day_start(moment: datetime) -> datetime:
    local = moment.replace(tzinfo=UTC).astimezone(WITA)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(UTC).replace(tzinfo=None)


def _refused_early(app, judge, setup, starts: datetime, opens: datetime) -> None:
    _move_visit(app, starts)
    vid = _visit_id(app, setup)
    told = tj(
        app,
        "The KIM's representative can confirm the visit from %(when)s: on the visit's day, at "
        "most three hours before its planned start.",
        when=_moment(app, opens),
    )
    page = html.unescape(judge.get(f"/schedule/visits/{vid}/confirm").get_data(as_text=True))
    assert told in page
    assert told in html.unescape(judge.get(f"/schedule/visits/{vid}").get_data(as_text=True))
    online = judge.post(
        f"/schedule/visits/{vid}/confirm",
        data={"csrf_token": judge.token, "name": "Siti Aminah", "typed": "y"},
    )
    assert online.status_code == 409
    refusal = tj(
        app,
        "The visit is planned for %(when)s: the KIM's representative can confirm it from "
        "%(opens)s on (at most three hours before, on the visit's day), not at %(now)s.",
        when=_moment(app, starts),
        opens=_moment(app, opens),
        now="@",
    ).split("@")[0]
    assert refusal in html.unescape(online.get_data(as_text=True))
    assert 'value="Siti Aminah"' in online.get_data(as_text=True)
    offline = _confirm(judge, setup.assignment(0, 0))
    assert offline.status_code == 409
    assert offline.get_json()["message"].startswith(refusal)
    assert _visit(app).confirmed_at is None and _confirmations(app) == 0


def test_confirming_eight_hours_before_the_visit_is_refused(app, judge, setup):
    starts = utcnow().replace(second=0, microsecond=0) + timedelta(hours=8)
    opens = max(_wita_day_start(starts), starts - timedelta(hours=3))
    _refused_early(app, judge, setup, starts, opens)


def test_confirming_before_the_visits_day_is_refused(app, judge, setup):
    opens = _wita_day_start(utcnow()) + timedelta(days=1)  # tomorrow, 00.00 WITA
    _refused_early(app, judge, setup, opens + timedelta(hours=1), opens)  # a 01.00 visit


def test_a_team_that_arrives_early_may_confirm(app, judge, setup):
    now = utcnow()
    starts = now + timedelta(hours=2, minutes=50)
    if _wita_day_start(starts) > now:  # past midnight in WITA: the visit's day not begun
        starts = now + timedelta(minutes=1)
    _move_visit(app, starts)
    done = judge.post(
        f"/schedule/visits/{_visit_id(app, setup)}/confirm",
        data={"csrf_token": judge.token, "name": "Siti Aminah", "typed": "y"},
    )
    assert done.status_code == 303


def _moment(app, utc: datetime) -> str:
    from flask_babel import force_locale

    from monev.core.timezones import format_moment

    with app.test_request_context(), force_locale("id"):
        return format_moment(utc, "Asia/Makassar")


# --- the Berita Acara visitasi ------------------------------------------------------------


def test_the_berita_acara_states_the_real_times_and_what_is_missing(app, judge, setup):
    from monev.auth.models import User
    from monev.judging.models import Visit

    with app.app_context(), write_intent():
        db.session.get(User, setup.judges[0]["id"]).name = "Dr. Ani Lestari, M.Si."
        visit = db.session.scalars(select(Visit)).first()
        planned = visit.starts_at
        db.session.commit()
    a = setup.assignment(0, 0)
    judge.post(
        f"/judge/sheets/{a}/visit/{setup.criteria[0]}",
        data={"csrf_token": judge.token, "mark": "observed", "note": "Papan informasi ada."},
    )
    first, last = utcnow() - timedelta(minutes=50), utcnow() - timedelta(minutes=20)
    assert _post_photo(judge, setup, taken_at=_iso(first)).status_code == 201
    assert (
        _post_photo(judge, setup, taken_at=_iso(last), client_key="foto-kunci-0002").status_code
        == 201
    )
    given = utcnow() - timedelta(minutes=15)
    assert _confirm(judge, a, when=given, signature="", typed=True).status_code == 201
    kim = _kim_login(app, setup, 0)
    pdf = kim.get(f"/schedule/visits/{_visit_id(app, setup)}/berita-acara.pdf").data
    _look(pdf, "ba-times")
    text = pdf_text(pdf)
    assert f"dijadwalkan pada {_moment(app, planned)}" in text
    cells = text.replace(" ", "")  # table cells run together in the PDF's text
    assert f"Jadwal{_moment(app, planned)}".replace(" ", "") in cells
    span = _span(app, first, last)
    assert f"foto dokumentasi diambil {span}" in text
    assert f"DikonfirmasiKIM{_moment(app, given)}".replace(" ", "") in cells
    assert f"mengonfirmasi kunjungan pada {_moment(app, given)}" in text
    assert "Konfirmasi diberikan tanpa sinyal dan diterima server pada" in text
    assert "di hadapan Dr. Ani Lestari, M.Si., dengan nama yang diketik" in text
    assert ".." not in text
    # the co-judge sent nothing: said plainly, no row of dashes
    assert "Juri Uji 2 (lembar nilai belum final)" in text
    assert (
        "Juri Uji 2 belum mengisi atau belum mengirim daftar periksa pengamatan ke server." in text
    )
    assert "1 dari 2 kriteria belum diisi." in text
    assert "— —" not in text


def _look(pdf: bytes, name: str) -> None:
    """The PDF's pages as PNG in $MONEV_SHOTS_DIR when it is set (to look at)."""
    import os

    folder = os.environ.get("MONEV_SHOTS_DIR")
    if folder:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(pdf)
        for i, page in enumerate(doc):
            page.render(scale=1.3).to_pil().save(f"{folder}/{name}-{i + 1}.png")
        doc.close()


def _span(app, first: datetime, last: datetime) -> str:
    from flask_babel import force_locale

    from monev.core.timezones import format_day, format_moment, format_time

    with app.test_request_context(), force_locale("id"):
        if format_day(first, "Asia/Makassar") == format_day(last, "Asia/Makassar"):
            return (
                f"{format_moment(first, 'Asia/Makassar', with_zone=False)} sampai "
                f"{format_time(last, 'Asia/Makassar')} WITA"
            )
        return (
            f"{format_moment(first, 'Asia/Makassar')} sampai {format_moment(last, 'Asia/Makassar')}"
        )


def test_a_name_ending_in_a_full_stop_gets_no_second_one(app, judge, setup):
    from monev.auth.models import User

    with app.app_context(), write_intent():
        db.session.get(User, setup.judges[0]["id"]).name = "Ir. Budi Hartono, M.Si."
        db.session.commit()
    vid = _visit_id(app, setup)
    judge.post(
        f"/schedule/visits/{vid}/confirm",
        data={"csrf_token": judge.token, "name": "Siti Aminah", "signature": _signature_png()},
    )
    text = pdf_text(judge.get(f"/schedule/visits/{vid}/berita-acara.pdf").data)
    assert "di hadapan Ir. Budi Hartono, M.Si. " in text
    assert "M.Si.." not in text
    assert "diterima server" not in text  # confirmed online: no delay to state


# --- the KIM's home ----------------------------------------------------------------------


def test_the_kims_home_says_the_visit_took_place_and_links_the_berita_acara(app, judge, setup):
    kim = _kim_login(app, setup, 0)
    vid = _visit_id(app, setup)
    before = kim.get("/").get_data(as_text=True)
    assert "Siapkan kunjungan lapangan" in before
    assert f"/schedule/visits/{vid}/berita-acara.pdf" not in before
    assert _confirm(judge, setup.assignment(0, 0)).status_code == 201
    home = kim.get("/").get_data(as_text=True)
    assert "Siapkan kunjungan lapangan" not in home
    assert (
        t(
            app,
            "The field visit took place: confirmed on %(when)s",
            when=_moment(app, _visit(app).confirmed_at),
        )
        in home
    )
    assert f'href="/schedule/visits/{vid}/berita-acara.pdf"' in home
    assert kim.get(f"/schedule/visits/{vid}/berita-acara.pdf").status_code == 200
    # still there the next morning (the visit started more than twelve hours before)
    _move_visit(app, utcnow() - timedelta(days=1))
    assert t(app, "Download the Berita Acara visitasi (PDF)") in kim.get("/").get_data(as_text=True)
