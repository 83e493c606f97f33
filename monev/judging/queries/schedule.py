"""Reading presentation schedules: a stage's slots, a judge's and a KIM's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import (
    Assignment,
    ScheduleSlot,
)
from monev.judging.queries.panel import (
    entry_label_for_judges,
)
from monev.rubrics.models import Criterion

# --- schedule -----------------------------------------------------------------------------


def stage_schedule(stage_id: int) -> dict[int, ScheduleSlot]:
    return {
        s.entry_id: s
        for s in db.session.scalars(select(ScheduleSlot).where(ScheduleSlot.stage_id == stage_id))
    }


@dataclass(frozen=True)
class SlotView:
    event: Event
    stage: Stage
    entry: Entry
    label: str
    starts_at: datetime
    ends_at: datetime
    room: str | None
    assignment_id: int | None = None


def judge_schedule(judge_id: int) -> list[SlotView]:
    rows = db.session.execute(
        select(ScheduleSlot, Assignment, Stage, Event)
        .join(
            Assignment,
            (Assignment.entry_id == ScheduleSlot.entry_id)
            & (Assignment.stage_id == ScheduleSlot.stage_id),
        )
        .join(Stage, Stage.id == ScheduleSlot.stage_id)
        .join(Event, Event.id == Stage.event_id)
        .where(Assignment.judge_id == judge_id)
        .options(joinedload(ScheduleSlot.entry).joinedload(Entry.kim))
        .order_by(ScheduleSlot.starts_at, ScheduleSlot.id)
    ).all()
    return [
        SlotView(
            event,
            stage,
            slot.entry,
            entry_label_for_judges(slot.entry, event),
            slot.starts_at,
            slot.ends_at,
            slot.room,
            assignment.id,
        )
        for slot, assignment, stage, event in rows
    ]


def kim_schedule(kim_id: int) -> list[SlotView]:
    rows = db.session.execute(
        select(ScheduleSlot, Stage, Event)
        .join(Entry, Entry.id == ScheduleSlot.entry_id)
        .join(Stage, Stage.id == ScheduleSlot.stage_id)
        .join(Event, Event.id == Stage.event_id)
        .where(Entry.kim_id == kim_id, Event.status != "draft")
        .options(joinedload(ScheduleSlot.entry).joinedload(Entry.kim))
        .order_by(ScheduleSlot.starts_at)
    ).all()
    return [
        SlotView(event, stage, slot.entry, slot.entry.code, slot.starts_at, slot.ends_at, slot.room)
        for slot, stage, event in rows
    ]


def criteria_by_id(stage_id: int) -> dict[int, Criterion]:
    return {
        c.id: c for c in db.session.scalars(select(Criterion).where(Criterion.stage_id == stage_id))
    }
