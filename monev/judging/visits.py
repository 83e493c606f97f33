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

Services flush; the request commits once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from monev.audit import services as audit
from monev.auth.models import User
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.core.timezones import to_utc
from monev.entries.models import Entry
from monev.events.models import Stage
from monev.extensions import db
from monev.judging.models import (
    VISIT_ADDRESS_MAX,
    VISIT_MARKS,
    VISIT_NOTE_MAX,
    ScoreSheet,
    Visit,
    VisitCheck,
)
from monev.judging.sheets import _new_sheet, _writable, lock_assignment
from monev.notify import tell
from monev.rubrics.models import Criterion

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
