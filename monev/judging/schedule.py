"""The presentation schedule of a stage: generated for every finalist, or slot by slot."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select

from monev.audit import services as audit
from monev.core.errors import ServiceError
from monev.core.timezones import to_utc
from monev.entries.models import Entry
from monev.events.models import Stage
from monev.extensions import db
from monev.judging import queries
from monev.judging.models import ScheduleSlot
from monev.notify import tell


def _check_room(stage: Stage, entry_id: int, starts: datetime, ends: datetime, room) -> None:
    for slot in db.session.scalars(select(ScheduleSlot).where(ScheduleSlot.stage_id == stage.id)):
        if slot.entry_id == entry_id or (slot.room or "") != (room or ""):
            continue
        if slot.starts_at < ends and starts < slot.ends_at:
            raise ServiceError(
                _(
                    "This time overlaps the slot of %(code)s in the same room.",
                    code=slot.entry.code,
                ),
                field="starts_at",
            )


def generate_schedule(
    stage: Stage, *, start: datetime, minutes: int, gap: int, room: str | None
) -> int:
    """Replace the stage's schedule with consecutive slots for every finalist, in code
    order, from ``start`` (the event's local time)."""
    if not (5 <= minutes <= 240) or not (0 <= gap <= 120):
        raise ServiceError(
            _("Use 5 to 240 minutes per slot and 0 to 120 between slots."), field="minutes"
        )
    entries = queries.judged_entries(stage.event_id)
    db.session.execute(delete(ScheduleSlot).where(ScheduleSlot.stage_id == stage.id))
    begin = to_utc(start, stage.event.timezone)
    room = (room or "").strip()[:120] or None
    for i, entry in enumerate(entries):
        starts = begin + timedelta(minutes=i * (minutes + gap))
        db.session.add(
            ScheduleSlot(
                stage_id=stage.id,
                entry_id=entry.id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=minutes),
                room=room,
            )
        )
    db.session.flush()
    audit.record(
        "schedule.generated",
        "stage",
        stage.id,
        {"start": start, "minutes": minutes, "gap": gap, "room": room, "slots": len(entries)},
    )
    for i, entry in enumerate(entries):
        tell.schedule_set(entry, stage, begin + timedelta(minutes=i * (minutes + gap)), room)
    return len(entries)


def save_slot(
    stage: Stage, *, entry_id: int, start: datetime | None, minutes: int | None, room: str | None
) -> ScheduleSlot | None:
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.event_id != stage.event_id:
        raise ServiceError(_("Choose an entry of this event."), status=404)
    slot = db.session.scalar(
        select(ScheduleSlot).where(
            ScheduleSlot.stage_id == stage.id, ScheduleSlot.entry_id == entry_id
        )
    )
    if start is None:
        if slot is not None:
            db.session.delete(slot)
            db.session.flush()
            audit.record("schedule.slot_removed", "stage", stage.id, {"entry": entry.code})
        return None
    if not minutes or not (5 <= minutes <= 240):
        raise ServiceError(_("Use 5 to 240 minutes per slot."), field="minutes")
    starts = to_utc(start, stage.event.timezone)
    ends = starts + timedelta(minutes=minutes)
    room = (room or "").strip()[:120] or None
    _check_room(stage, entry_id, starts, ends, room)
    if slot is None:
        slot = ScheduleSlot(stage_id=stage.id, entry_id=entry_id)
        db.session.add(slot)
    slot.starts_at, slot.ends_at, slot.room = starts, ends, room
    db.session.flush()
    audit.record(
        "schedule.slot_saved",
        "stage",
        stage.id,
        {"entry": entry.code, "start": start, "minutes": minutes, "room": room},
    )
    tell.schedule_set(entry, stage, starts, room)
    return slot
