"""The Berita Acara visitasi: the minutes of one field visit as a PDF, from plain values.

It states the event, the KIM, when (the event's time zone) and where (address and
coordinates) the visit took place, its team, every team judge's checklist (criterion, what
was observed, the note), the photos with their stamps and distances (their print copies), and the
KIM representative's confirmation (typed name, drawn signature). When a signing backend is
configured that needs no typed credentials (a PKCS#12 file or a PKCS#11 token), the PDF is
signed with it; otherwise it is served unsigned.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from monev.auth.models import User
from monev.core import geo
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.core.timezones import format_day, format_moment, format_time, label
from monev.extensions import db
from monev.judging import queries
from monev.judging.models import Assignment, ScoreSheet, Visit, VisitCheck
from monev.pdf.rendering import ASSET_SCHEME, data_uri, render_pdf
from monev.signing.backends import SigningError, backend_name, get_backend
from monev.storage import get_storage
from monev.storage.images import ensure_rendition, read_image

FONT_URL = ASSET_SCHEME + "fonts/noto-sans/"
REASON = "Berita Acara Visitasi"
MARK_TEXT = {"observed": "Terlihat", "partly": "Sebagian", "not_observed": "Tidak terlihat"}


def _thumbnail(key: str) -> str | None:
    """The print copy of a stored photo (800 px on the long side, made now and kept when a
    photo stored before renditions has none) as a data URI; None when the file is gone."""
    rendition = ensure_rendition(key, "print")
    if rendition is None:
        return None
    with get_storage().open(rendition) as fh:
        return data_uri(fh.read(), "image/jpeg")


def _signature(key: str | None) -> str | None:
    stored = read_image(key)
    return data_uri(stored[0], "image/png") if stored else None


# A confirmation that reached the server later than this (kept on a phone without a signal)
# says when it arrived too.
RECEIVED_LATE = timedelta(minutes=5)


def _span(stamps: list[datetime], tz: str) -> str:
    """When the photos were taken: "6 Des 2026, 10.12 WITA", or from the first to the last
    ("6 Des 2026, 10.12 sampai 11.40 WITA"; another day is written in full)."""
    if not stamps:
        return ""
    first, last = stamps[0], stamps[-1]
    if format_moment(first, tz) == format_moment(last, tz):
        return format_moment(first, tz)
    if format_day(first, tz) == format_day(last, tz):
        return (
            f"{format_moment(first, tz, with_zone=False)} sampai {format_time(last, tz)} "
            f"{label(tz)}"
        )
    return f"{format_moment(first, tz)} sampai {format_moment(last, tz)}"


def _received(visit: Visit, tz: str) -> str:
    """When an offline confirmation reached the server, if well after it was given."""
    if visit.confirmed_at is None or visit.confirm_received_at is None:
        return ""
    if visit.confirm_received_at - visit.confirmed_at <= RECEIVED_LATE:
        return ""
    return format_moment(visit.confirm_received_at, tz)


def minutes_context(visit: Visit) -> dict:
    """Everything the Berita Acara visitasi shows, as plain values."""
    stage, entry = visit.stage, visit.entry
    event = stage.event
    tz = event.timezone
    far_m = current_app.config.get("VISIT_PHOTO_FAR_M", geo.FAR_DEFAULT_M)
    aspects = queries.stage_criteria(stage.id)
    criteria = [c for a in aspects for c in a.criteria]
    names = {c.id: c.name for c in criteria}
    sheets = db.session.execute(
        select(User.id, User.name, ScoreSheet.id, ScoreSheet.status)
        .join(Assignment, Assignment.judge_id == User.id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(
            Assignment.stage_id == stage.id,
            Assignment.entry_id == entry.id,
            Assignment.dropped_at.is_(None),
        )
        .order_by(User.name, User.id)
    ).all()
    sheet_ids = [sheet_id for _u, _n, sheet_id, _s in sheets if sheet_id is not None]
    checks: dict[tuple[int, int], VisitCheck] = {
        (c.sheet_id, c.criterion_id): c
        for c in db.session.scalars(select(VisitCheck).where(VisitCheck.sheet_id.in_(sheet_ids)))
    }
    with force_locale("id"):
        judges = []
        for _user_id, name, sheet_id, status in sheets:
            rows = []
            for c in criteria:
                check = checks.get((sheet_id, c.id)) if sheet_id else None
                rows.append(
                    {
                        "criterion": c.name,
                        "mark": MARK_TEXT.get(check.mark, "—") if check else "belum diisi",
                        "note": (check.note or "") if check else "",
                        "filled": check is not None,
                    }
                )
            filled = sum(1 for c in criteria if sheet_id and (sheet_id, c.id) in checks)
            judges.append(
                {
                    "name": name,
                    "final": status == "final",
                    "filled": filled,
                    "missing": len(criteria) - filled,
                    "rows": rows,
                }
            )
        photos = []
        stamps = []
        for item in queries.visit_photos(stage.id, entry.id):
            photo = item.photo
            stamps.append(photo.taken_at)
            place = geo.photo_place(
                photo.distance_m,
                has_position=photo.latitude is not None,
                visit_located=visit.latitude is not None,
                far_m=far_m,
            )
            photos.append(
                {
                    "criterion": names.get(photo.criterion_id, ""),
                    "judge": item.judge,
                    "stamp": format_moment(photo.taken_at, tz),
                    "place": place.text,
                    "warning": place.warning or "",
                    "position": f"{photo.latitude}, {photo.longitude}"
                    if photo.latitude is not None
                    else "",
                    "src": _thumbnail(photo.storage_key),
                }
            )
        confirmed_by = (
            db.session.get(User, visit.confirmed_by_id) if visit.confirmed_by_id else None
        )
        return {
            "doc_title": f"Berita Acara Visitasi {entry.code}",
            "font_url": FONT_URL,
            "event_title": event.title,
            "organiser": event.organiser,
            "stage": stage.name,
            "code": entry.code,
            "kim": entry.kim.name,
            "district": entry.kim.district.name if entry.kim.district else "",
            "starts_at": format_moment(visit.starts_at, tz),
            "address": visit.address,
            "coordinates": f"{visit.latitude}, {visit.longitude}"
            if visit.latitude is not None
            else "",
            "judges": judges,
            "photos": photos,
            "representative": visit.representative_name or "",
            "signature": _signature(visit.representative_signature_key),
            "confirmed_at": format_moment(visit.confirmed_at, tz) if visit.confirmed_at else "",
            "received_at": _received(visit, tz),
            "photo_span": _span(sorted(stamps), tz),
            "confirmed_by": confirmed_by.name if confirmed_by else "",
            "made_at": format_moment(utcnow(), tz),
        }


def minutes_pdf(visit: Visit) -> bytes:
    """The PDF, signed when a backend that needs no typed credentials is configured."""
    context = minutes_context(visit)
    pdf = render_pdf("judging/berita_acara_visit.html", context)
    if not backend_name(current_app.config):
        return pdf
    using = get_backend(current_app.config)
    if using is None or using.needs_credentials:
        return pdf
    try:
        return using.sign(pdf, signer_name=context["organiser"], reason=REASON)
    except SigningError as exc:
        current_app.logger.warning("Signing the Berita Acara of visit %s failed: %s", visit.id, exc)
        raise ServiceError(
            _("The document could not be signed: %(error)s", error=str(exc)), status=502
        ) from exc
