"""Field visits (a stage whose ``kind`` is ``"visit"``): the organiser's visit schedule (when
and where each entry is visited) and each judge's visit checklist.

The team of a visit is the judges assigned to the entry in the stage, so the panel,
conflicts, assignments and drops work as for any stage; the visit's scores are ordinary
sheet scores (:mod:`monev.judging.sheets`), so results, fairness, the lifecycle and the
publication count them unchanged. The checklist sits beside the scores on the judge's own
sheet and is written under the same lock and rules as a score.

Every checklist save carries a key chosen by the writer (``client_key``; made here when a
form sends none): a save that arrives again with the key already stored on the sheet is
acknowledged without being applied twice, which is what an offline phone's sync will need.

Photos taken on a visit (:func:`save_visit_photo`) follow the same rules and keys: each is
stamped with the device's time and, when the judge allows it, the device's position, and its
distance to the visit's coordinates is kept beside it. The stored file is re-encoded (its
EXIF, GPS included, is dropped); the position lives only in the photo's row.

Services flush; the request commits once.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from monev.audit import services as audit
from monev.auth.models import User
from monev.core import geo
from monev.core.errors import ServiceError, require_confirmation
from monev.core.timeutil import utcnow
from monev.core.timezones import to_local, to_utc
from monev.entries.models import Entry
from monev.events.models import Stage
from monev.extensions import db
from monev.judging import queries
from monev.judging.models import (
    VISIT_ADDRESS_MAX,
    VISIT_MARKS,
    VISIT_NAME_MAX,
    VISIT_NOTE_MAX,
    ScoreSheet,
    Visit,
    VisitCheck,
    VisitPhoto,
)
from monev.judging.sheets import _new_sheet, _writable, format_moment, lock_assignment
from monev.notify import tell
from monev.rubrics.models import Criterion
from monev.storage import get_storage
from monev.storage.images import forget, store_image, store_renditions

CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def require_visit_stage(stage: Stage) -> None:
    if stage.kind != "visit":
        raise ServiceError(_("This stage is not a field visit."), status=404)


def _coordinate(raw, low: int, high: int, field: str, message: str) -> Decimal | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise ServiceError(message, field=field) from None
    if not value.is_finite() or not (low <= value <= high):
        raise ServiceError(message, field=field)
    return value.quantize(Decimal("0.000001"))


def save_visit(
    stage: Stage,
    *,
    entry_id: int,
    start: datetime | None,
    address: str | None,
    latitude=None,
    longitude=None,
) -> Visit:
    """Plan or move the visit of an entry: ``start`` on the event's clock, the KIM's address
    and (optional, both or neither) map coordinates. The KIM is told when the visit is new
    or its time or place changed."""
    require_visit_stage(stage)
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.event_id != stage.event_id:
        raise ServiceError(_("Choose an entry of this event."), status=404)
    if start is None:
        raise ServiceError(_("Enter the date and time of the visit."), field="start")
    address = (address or "").strip()
    if not address:
        raise ServiceError(_("Enter the KIM's address."), field="address")
    if len(address) > VISIT_ADDRESS_MAX:
        raise ServiceError(
            _("Use at most %(max)d characters.", max=VISIT_ADDRESS_MAX), field="address"
        )
    lat, lon = _position(latitude, longitude)
    starts = to_utc(start, stage.event.timezone)
    visit = db.session.scalar(
        select(Visit).where(Visit.stage_id == stage.id, Visit.entry_id == entry.id)
    )
    told = visit is None or visit.starts_at != starts or visit.address != address
    if visit is None:
        visit = Visit(stage_id=stage.id, entry_id=entry.id)
        db.session.add(visit)
    visit.starts_at, visit.address = starts, address
    visit.latitude, visit.longitude = lat, lon
    visit.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "visit.saved",
        "stage",
        stage.id,
        {
            "entry": entry.code,
            "start": start,
            "address": address,
            "latitude": str(lat) if lat is not None else None,
            "longitude": str(lon) if lon is not None else None,
        },
    )
    if told:
        tell.visit_set(entry, stage, starts, address)
    return visit


@dataclass(frozen=True)
class CheckSaved:
    check: VisitCheck
    applied: bool  # False: the same key was saved before; acknowledged, nothing changed


def save_visit_check(
    assignment_id: int,
    judge: User,
    *,
    criterion_id: int,
    mark: str | None,
    note: str | None,
    client_key: str | None = None,
) -> CheckSaved:
    """Write one line of the judge's visit checklist, under the sheet's lock and rules."""
    assignment = lock_assignment(assignment_id)
    if assignment is None or assignment.judge_id != judge.id:
        raise ServiceError(_("This entry is not assigned to you; nothing was saved."), status=404)
    require_visit_stage(assignment.stage)
    key = (client_key or "").strip() or uuid.uuid4().hex
    if not CLIENT_KEY.match(key):
        raise ServiceError(_("This save carries an unreadable key; nothing was saved."))
    sheet = db.session.scalar(select(ScoreSheet).where(ScoreSheet.assignment_id == assignment.id))
    if sheet is not None:
        seen = db.session.scalar(
            select(VisitCheck).where(VisitCheck.sheet_id == sheet.id, VisitCheck.client_key == key)
        )
        if seen is not None:
            return CheckSaved(seen, applied=False)
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.stage_id != assignment.stage_id:
        raise ServiceError(_("This criterion is not on this sheet."), status=404)
    if mark not in VISIT_MARKS:
        raise ServiceError(_("Choose observed, partly observed or not observed."), field="mark")
    note = (note or "").strip() or None
    if note and len(note) > VISIT_NOTE_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=VISIT_NOTE_MAX), field="note")
    assignment, sheet = _writable(assignment.id, judge, sheet.version if sheet else 0)
    if sheet is None:
        sheet = _new_sheet(assignment, "online")
    check = db.session.scalar(
        select(VisitCheck).where(
            VisitCheck.sheet_id == sheet.id, VisitCheck.criterion_id == criterion.id
        )
    )
    if check is None:
        check = VisitCheck(sheet_id=sheet.id, criterion_id=criterion.id)
        db.session.add(check)
    check.mark, check.note, check.client_key = mark, note, key
    check.updated_at, check.updated_by_id = utcnow(), judge.id
    db.session.flush()
    return CheckSaved(check, applied=True)


# --- photos -------------------------------------------------------------------------------

PHOTO_PREFIX = "visit-photo"
PHOTO_BOX = (2048, 2048)  # stored photos are scaled down to fit: sharp enough, light to load
PHOTO_MAX_PIXELS = 100_000_000  # generous: a 108 MP phone camera's photo is still read
CLOCK_SLACK = timedelta(minutes=5)  # a device's clock may run this far ahead of the server's
BEFORE_VISIT = timedelta(days=2)  # photos may be taken this long before the visit starts
ACCURACY_MAX = 100_000


@dataclass(frozen=True)
class PhotoSaved:
    photo: VisitPhoto
    applied: bool  # False: the same key was saved before; acknowledged, nothing stored


def _device_time(raw: str | None) -> datetime | None:
    """A device's clock as the phone sends it (ISO 8601 with its offset) in naive UTC; None
    when it is missing or unreadable."""
    try:
        moment = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)


def _taken_at(raw: str | None, visit: Visit | None, tz: str) -> datetime:
    """The device's time of the photo (ISO 8601 with its offset) in naive UTC, checked
    against the server's clock and the visit's start."""
    if not (raw or "").strip():
        raise ServiceError(
            _("The photo carries no time; take it again from the score sheet."), field="taken_at"
        )
    taken = _device_time(raw)
    if taken is None:
        raise ServiceError(
            _("The photo's time is unreadable (expected e.g. 2026-12-06T10:15:00+08:00)."),
            field="taken_at",
        )
    if taken > utcnow() + CLOCK_SLACK:
        raise ServiceError(
            _(
                "The photo's time (%(when)s) is in the future: check the date and time of "
                "this device.",
                when=format_moment(taken, tz),
            ),
            field="taken_at",
        )
    if visit is not None and taken < visit.starts_at - BEFORE_VISIT:
        raise ServiceError(
            _(
                "The photo's time (%(when)s) is more than two days before the visit: check "
                "the date and time of this device.",
                when=format_moment(taken, tz),
            ),
            field="taken_at",
        )
    return taken


def _accuracy(raw) -> int | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not (0 <= value <= ACCURACY_MAX):
        raise ServiceError(
            _("The position's accuracy is a number of metres from 0 to 100000."),
            field="accuracy",
        )
    return int(value.to_integral_value())


def _position(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    lat = _coordinate(
        latitude, -90, 90, "latitude", _("The latitude is a number from -90 to 90, e.g. -0.5022.")
    )
    lon = _coordinate(
        longitude,
        -180,
        180,
        "longitude",
        _("The longitude is a number from -180 to 180, e.g. 117.1536."),
    )
    if (lat is None) != (lon is None):
        raise ServiceError(
            _("Enter both the latitude and the longitude, or neither."),
            field="longitude" if lon is None else "latitude",
        )
    return lat, lon


def _image_facts(key: str) -> tuple[int, int, int]:
    """Width, height and size in bytes of a stored image."""
    from PIL import Image

    storage = get_storage()
    with storage.open(key) as fh, Image.open(fh) as img:
        width, height = img.size
    return width, height, storage.size(key) or 0


def visit_of(assignment) -> Visit | None:
    return db.session.scalar(
        select(Visit).where(
            Visit.stage_id == assignment.stage_id, Visit.entry_id == assignment.entry_id
        )
    )


def save_visit_photo(
    assignment_id: int,
    judge: User,
    *,
    criterion_id: int,
    stream,
    taken_at: str | None,
    latitude=None,
    longitude=None,
    accuracy=None,
    client_key: str | None = None,
) -> PhotoSaved:
    """Store a photo the judge took on the visit for one criterion, under the sheet's lock
    and rules (own assignment, visit stage, judging open, sheet not final). A photo whose
    key is already on the sheet is acknowledged with the stored one; its file is not read
    again. Everything is checked before the file is read."""
    assignment = lock_assignment(assignment_id)
    if assignment is None or assignment.judge_id != judge.id:
        raise ServiceError(_("This entry is not assigned to you; nothing was saved."), status=404)
    require_visit_stage(assignment.stage)
    key = (client_key or "").strip() or uuid.uuid4().hex
    if not CLIENT_KEY.match(key):
        raise ServiceError(
            _("This save carries an unreadable key; nothing was saved."), field="client_key"
        )
    sheet = db.session.scalar(select(ScoreSheet).where(ScoreSheet.assignment_id == assignment.id))
    if sheet is not None:
        seen = db.session.scalar(
            select(VisitPhoto).where(VisitPhoto.sheet_id == sheet.id, VisitPhoto.client_key == key)
        )
        if seen is not None:
            return PhotoSaved(seen, applied=False)
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.stage_id != assignment.stage_id:
        raise ServiceError(_("This criterion is not on this sheet."), status=404)
    assignment, sheet = _writable(assignment.id, judge, sheet.version if sheet else 0)
    visit = visit_of(assignment)
    taken = _taken_at(taken_at, visit, assignment.stage.event.timezone)
    lat, lon = _position(latitude, longitude)
    accuracy_m = _accuracy(accuracy)
    if stream is None:
        raise ServiceError(_("Choose or take a photo."), field="photo")
    max_mb = current_app.config["MAX_UPLOAD_MB"]
    stored = store_image(
        stream,
        PHOTO_PREFIX,
        field="photo",
        max_bytes=max_mb * 1024 * 1024,
        max_pixels=PHOTO_MAX_PIXELS,
        fit=PHOTO_BOX,
    )
    store_renditions(stored)  # the small copy the pages show, the one the Berita Acara prints
    width, height, size = _image_facts(stored)
    if sheet is None:
        sheet = _new_sheet(assignment, "online")
    distance = None
    if lat is not None and visit is not None and visit.latitude is not None:
        distance = geo.distance_m(lat, lon, visit.latitude, visit.longitude)
    photo = VisitPhoto(
        sheet_id=sheet.id,
        criterion_id=criterion.id,
        storage_key=stored,
        width=width,
        height=height,
        bytes=size,
        taken_at=taken,
        received_at=utcnow(),
        latitude=lat,
        longitude=lon,
        accuracy_m=accuracy_m,
        distance_m=distance,
        client_key=key,
        uploaded_by_id=judge.id,
    )
    db.session.add(photo)
    db.session.flush()
    audit.record(
        "visit.photo_added",
        "score_sheet",
        sheet.id,
        {
            "photo": photo.id,
            "criterion": criterion.id,
            "taken_at": taken,
            "distance_m": distance,
            "key": stored,
        },
        actor=judge,
    )
    return PhotoSaved(photo, applied=True)


def delete_visit_photo(assignment_id: int, judge: User, photo_id: int, *, confirmed: bool) -> None:
    """The judge removes a photo from their draft sheet (after the confirmation step); the
    file goes once the change commits, unless another photo row holds the same image."""
    assignment = lock_assignment(assignment_id)
    if assignment is None or assignment.judge_id != judge.id:
        raise ServiceError(_("This entry is not assigned to you; nothing was saved."), status=404)
    require_visit_stage(assignment.stage)
    sheet = db.session.scalar(select(ScoreSheet).where(ScoreSheet.assignment_id == assignment.id))
    photo = db.session.get(VisitPhoto, photo_id)
    if sheet is None or photo is None or photo.sheet_id != sheet.id:
        raise ServiceError(_("This photo is not on your sheet."), status=404)
    require_confirmation(confirmed)
    _writable(assignment.id, judge, sheet.version)
    key = photo.storage_key
    db.session.delete(photo)
    db.session.flush()
    others = db.session.scalar(
        select(func.count()).select_from(VisitPhoto).where(VisitPhoto.storage_key == key)
    )
    if not others:
        forget(key, PHOTO_PREFIX, renditions=True)
    audit.record(
        "visit.photo_deleted",
        "score_sheet",
        sheet.id,
        {"photo": photo_id, "key": key},
        actor=judge,
    )


# --- the KIM representative's confirmation (Berita Acara visitasi) ------------------------

SIGNATURE_PREFIX = "visit-signature"
SIGNATURE_MAX_BYTES = 300 * 1024  # a drawn signature is some tens of KB
SIGNATURE_MAX_PIXELS = 4_000_000
PNG_DATA_URL = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _signature_png(data_url: str) -> bytes:
    """The PNG of a canvas' data URL, refused unless it is a real, non-blank PNG within the
    size limit."""
    bad = _("The drawn signature could not be read; clear it and draw it again.")
    if not data_url.startswith(PNG_DATA_URL):
        raise ServiceError(bad, field="signature")
    encoded = data_url[len(PNG_DATA_URL) :]
    if len(encoded) > SIGNATURE_MAX_BYTES * 4 // 3 + 4:
        raise ServiceError(
            _("The drawn signature is too large; clear it and draw it again."), field="signature"
        )
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError(bad, field="signature") from None
    if not content.startswith(PNG_MAGIC):
        raise ServiceError(bad, field="signature")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as img:
            if img.width * img.height > SIGNATURE_MAX_PIXELS:
                raise ServiceError(bad, field="signature")
            alpha = img.convert("RGBA").getchannel("A")
            blank = alpha.getbbox() is None
    except (UnidentifiedImageError, OSError, ValueError):
        raise ServiceError(bad, field="signature") from None
    if blank:
        raise ServiceError(
            _("The signature is empty: let the representative draw it, or use the typed name."),
            field="signature",
        )
    return content


# The representative may confirm this long before the planned start at the earliest (a team
# that arrives early), and never before the visit's day on the event's clock.
CONFIRM_BEFORE_START = timedelta(hours=3)


def confirm_opens_at(visit: Visit) -> datetime:
    """The first moment (UTC) the representative may confirm the visit: three hours before
    its planned start, but not before the start of the visit's day on the event's clock.
    What the KIM signs is that the visit took place, which it cannot have long before it was
    planned (moved earlier, the organiser changes the schedule first). Photos may be taken
    up to :data:`BEFORE_VISIT` earlier: a photo documents what was seen (the signboard on
    the way), and its own time is printed beside it."""
    tz = visit.stage.event.timezone
    local = to_local(visit.starts_at, tz)
    day = to_utc(local.replace(hour=0, minute=0, second=0, microsecond=0), tz)
    return max(day, visit.starts_at - CONFIRM_BEFORE_START)


def _confirmed_moment(raw: str | None, visit: Visit, now: datetime) -> datetime:
    """When the representative confirmed: now (online), or the phone's clock when it was
    given offline (``raw``, ISO 8601 with its offset), checked against the server's clock
    and the visit's planned start."""
    tz = visit.stage.event.timezone
    moment = now
    if raw is not None:
        moment = _device_time(raw)
        if moment is None:
            raise ServiceError(
                _(
                    "The time of the confirmation is unreadable (expected e.g. "
                    "2026-12-06T10:15:00+08:00)."
                ),
                field="confirmed_at",
            )
        if moment > now + CLOCK_SLACK:
            raise ServiceError(
                _(
                    "The time of the confirmation (%(when)s) is in the future: check the date "
                    "and time of this device.",
                    when=format_moment(moment, tz),
                ),
                field="confirmed_at",
            )
    if moment < confirm_opens_at(visit):
        raise ServiceError(
            _(
                "The visit is planned for %(when)s: the KIM's representative can confirm it "
                "from %(opens)s on (at most three hours before, on the visit's day), not at "
                "%(now)s.",
                when=format_moment(visit.starts_at, tz),
                opens=format_moment(confirm_opens_at(visit), tz),
                now=format_moment(moment, tz),
            ),
            status=409,
        )
    return moment


@dataclass(frozen=True)
class ConfirmSaved:
    visit: Visit
    applied: bool  # False: the same key confirmed it before; acknowledged, nothing changed


def confirm_visit(
    visit_id: int,
    judge: User,
    *,
    name: str | None,
    signature: str | None,
    typed_confirmation: bool,
    client_key: str | None = None,
    confirmed_at: str | None = None,
) -> ConfirmSaved:
    """The KIM's representative confirms the visit on a team judge's device: their name, and
    a drawn signature (a PNG data URL from the canvas) or, for those who cannot draw it, the
    ticked confirmation with the typed name. Once confirmed, the visit stays confirmed.

    Online the confirmation is given now; a phone that kept it offline sends the moment it
    was given (``confirmed_at``, the phone's clock) and its key (``client_key``): the same
    key again is acknowledged, not stored twice. Not long before the visit
    (:func:`confirm_opens_at`)."""
    visit = db.session.scalar(
        select(Visit)
        .where(Visit.id == visit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if visit is None or not queries.on_team(visit.stage_id, visit.entry_id, judge.id):
        raise ServiceError(_("This visit is not one of your team's."), status=404)
    key = None
    if client_key is not None:
        key = client_key.strip()
        if not CLIENT_KEY.match(key):
            raise ServiceError(_("This save carries an unreadable key; nothing was saved."))
        if visit.confirm_key == key:
            return ConfirmSaved(visit, applied=False)
    if visit.stage.event.status != "judging":
        raise ServiceError(
            _("Scoring is closed: the event is not in its judging phase. Nothing was saved."),
            status=409,
        )
    if visit.confirmed_at is not None:
        raise ServiceError(
            _("The KIM's representative has already confirmed this visit."), status=409
        )
    now = utcnow()
    moment = _confirmed_moment(confirmed_at, visit, now)
    clean = " ".join((name or "").split())
    if not clean:
        raise ServiceError(_("Enter the representative's full name."), field="name")
    if len(clean) > VISIT_NAME_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=VISIT_NAME_MAX), field="name")
    drawn = (signature or "").strip()
    if not drawn and not typed_confirmation:
        raise ServiceError(
            _(
                "Let the representative draw their signature, or tick that they confirm with "
                "their typed name."
            ),
            field="signature",
        )
    stored = None
    if drawn:
        png = _signature_png(drawn)
        stored = store_image(
            io.BytesIO(png),
            SIGNATURE_PREFIX,
            field="signature",
            max_bytes=SIGNATURE_MAX_BYTES,
            max_pixels=SIGNATURE_MAX_PIXELS,
        )
    visit.representative_name = clean
    visit.representative_signature_key = stored
    visit.confirmed_at = moment
    visit.confirm_received_at = now
    visit.confirm_key = key
    visit.confirmed_by_id = judge.id
    db.session.flush()
    audit.record(
        "visit.confirmed",
        "visit",
        visit.id,
        {
            "representative": clean,
            "drawn": stored is not None,
            "signature": stored,
            "confirmed_at": moment,
            "offline": confirmed_at is not None,
        },
        actor=judge,
    )
    return ConfirmSaved(visit, applied=True)
