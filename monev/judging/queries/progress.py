"""Judging progress: a judge's own sheets to do, the organiser's board, and who is late."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from monev.auth.models import User
from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import (
    Assignment,
    Conflict,
    ScheduleSlot,
    Score,
    ScoreSheet,
)
from monev.judging.queries.panel import (
    conflict_pairs,
    entry_label_for_judges,
    judged_entries,
    stage_panel,
)

# --- progress -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingSheet:
    assignment_id: int
    code: str
    label: str
    state: str  # "empty" | "draft" | "conflict"
    starts_at: datetime | None  # presentation slot, if any


@dataclass(frozen=True)
class JudgeStageProgress:
    event: Event
    stage: Stage
    assigned: int
    final: int
    draft: int
    pending: tuple[PendingSheet, ...] = ()

    @property
    def missing(self) -> int:
        return self.assigned - self.final

    @property
    def next(self) -> PendingSheet | None:
        return next((p for p in self.pending if p.state != "conflict"), None)

    @property
    def open_now(self) -> bool:
        now = utcnow()
        return (
            self.event.status == "judging"
            and (self.stage.opens_at is None or self.stage.opens_at <= now)
            and (self.stage.closes_at is None or now <= self.stage.closes_at)
        )

    @property
    def time_left(self):
        if self.stage.closes_at is None:
            return None
        return self.stage.closes_at - utcnow()


def judge_progress(judge_id: int) -> list[JudgeStageProgress]:
    """The judge's own assignments per event and stage, with what is still to do (a sheet
    the organiser dropped is no longer the judge's to do).

    Two queries; only this judge's sheets are read: nothing about other judges."""
    rows = db.session.execute(
        select(
            Event,
            Stage,
            func.count(Assignment.id),
            func.sum(case((ScoreSheet.status == "final", 1), else_=0)),
            func.sum(case((ScoreSheet.status == "draft", 1), else_=0)),
        )
        .join(Stage, Stage.id == Assignment.stage_id)
        .join(Event, Event.id == Stage.event_id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.judge_id == judge_id, Assignment.dropped_at.is_(None))
        .group_by(Event.id, Stage.id)
        .order_by(Event.year.desc(), Stage.position)
    ).all()
    pending_rows = db.session.execute(
        select(Assignment, ScoreSheet.status, Conflict.id, ScheduleSlot.starts_at)
        .join(Entry, Entry.id == Assignment.entry_id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .outerjoin(
            Conflict,
            (Conflict.entry_id == Assignment.entry_id) & (Conflict.judge_id == judge_id),
        )
        .outerjoin(
            ScheduleSlot,
            (ScheduleSlot.entry_id == Assignment.entry_id)
            & (ScheduleSlot.stage_id == Assignment.stage_id),
        )
        .where(Assignment.judge_id == judge_id, Assignment.dropped_at.is_(None))
        .where((ScoreSheet.status.is_(None)) | (ScoreSheet.status != "final"))
        .options(joinedload(Assignment.entry).joinedload(Entry.kim))
        .order_by(ScheduleSlot.starts_at.is_(None), ScheduleSlot.starts_at, Entry.code)
    ).all()
    events = {event.id: event for event, *_rest in rows}
    pending: dict[int, list[PendingSheet]] = {}
    for assignment, status, conflict_id, starts_at in pending_rows:
        event = events.get(assignment.entry.event_id)
        if event is None:
            continue
        state = "conflict" if conflict_id else ("draft" if status == "draft" else "empty")
        pending.setdefault(assignment.stage_id, []).append(
            PendingSheet(
                assignment.id,
                assignment.entry.code,
                entry_label_for_judges(assignment.entry, event),
                state,
                starts_at,
            )
        )
    return [
        JudgeStageProgress(
            event,
            stage,
            assigned,
            int(final or 0),
            int(draft or 0),
            tuple(pending.get(stage.id, ())),
        )
        for event, stage, assigned, final, draft in rows
    ]


@dataclass(frozen=True)
class JudgeRow:
    id: int
    name: str
    email: str
    # entry id -> empty | draft | final | conflict | dropped | (absent: not assigned)
    cells: dict[int, str]
    sheet_ids: dict[int, int]
    missing: int


@dataclass(frozen=True)
class BoardSheet:
    """An assigned sheet of the board that is not final: to finish, or dropped."""

    assignment_id: int
    sheet_id: int | None
    judge: str
    entry: Entry
    state: str  # empty | draft | conflict | dropped
    drop_reason: str | None = None
    dropped_at: datetime | None = None


@dataclass
class Board:
    stage: Stage
    entries: list[Entry]
    judges: list[JudgeRow]
    counts: dict[str, int] = field(default_factory=dict)
    open_sheets: list[BoardSheet] = field(default_factory=list)  # not final, not dropped
    dropped: list[BoardSheet] = field(default_factory=list)


def progress_board(stage: Stage) -> Board:
    """Judges × entries of a stage with each cell's state, and the sheets that are not final
    (to finish, or dropped by the organiser); three queries in all."""
    entries = judged_entries(stage.event_id)
    rows = db.session.execute(
        select(
            Assignment.judge_id,
            Assignment.entry_id,
            ScoreSheet.id,
            ScoreSheet.status,
            select(func.count(Score.id))
            .where(Score.sheet_id == ScoreSheet.id, Score.value.is_not(None))
            .scalar_subquery(),
            Assignment.id,
            Assignment.dropped_at,
            Assignment.drop_reason,
        )
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.stage_id == stage.id)
    ).all()
    conflicts = conflict_pairs(stage.event_id)
    panel = {j.user_id: j.user for j in stage_panel(stage)}
    assigned_ids = {judge_id for judge_id, *_ in rows}
    missing_users = assigned_ids - set(panel)
    if missing_users:
        for user in db.session.scalars(select(User).where(User.id.in_(missing_users))):
            panel[user.id] = user
    cells: dict[int, dict[int, str]] = {j: {} for j in panel}
    sheets: dict[int, dict[int, int]] = {j: {} for j in panel}
    counts = {"empty": 0, "draft": 0, "final": 0, "conflict": 0, "dropped": 0}
    by_entry = {e.id: e for e in entries}
    unfinished: list[tuple] = []
    for judge_id, entry_id, sheet_id, status, n_scores, assignment_id, dropped_at, why in rows:
        if dropped_at is not None:
            state = "dropped"
        elif (entry_id, judge_id) in conflicts:
            state = "conflict"
        elif status == "final":
            state = "final"
        elif sheet_id is not None and (n_scores or 0) > 0:
            state = "draft"
        else:
            state = "empty"
        cells[judge_id][entry_id] = state
        if sheet_id is not None:
            sheets[judge_id][entry_id] = sheet_id
        counts[state] += 1
        if state != "final" and entry_id in by_entry:
            unfinished.append((judge_id, entry_id, assignment_id, sheet_id, state, why, dropped_at))
    for entry_id, judge_id in conflicts:
        if judge_id in cells and entry_id not in cells[judge_id]:
            cells[judge_id][entry_id] = "conflict"
            counts["conflict"] += 1
    listed = sorted(
        (
            BoardSheet(
                assignment_id,
                sheet_id,
                panel[judge_id].name,
                by_entry[entry_id],
                state,
                why,
                dropped_at,
            )
            for judge_id, entry_id, assignment_id, sheet_id, state, why, dropped_at in unfinished
        ),
        key=lambda s: (s.entry.code, s.judge, s.assignment_id),
    )
    judges = [
        JudgeRow(
            user.id,
            user.name,
            user.email,
            cells[user.id],
            sheets[user.id],
            sum(1 for s in cells[user.id].values() if s in ("empty", "draft")),
        )
        for user in sorted(panel.values(), key=lambda u: (u.name, u.id))
    ]
    return Board(
        stage,
        entries,
        judges,
        counts,
        [s for s in listed if s.state != "dropped"],
        [s for s in listed if s.state == "dropped"],
    )


def judges_missing_sheets(stage: Stage) -> list[tuple[User, list[Entry]]]:
    """Judges with assigned, unconflicted sheets of the stage that are not final yet (a
    dropped sheet is nobody's to finish)."""
    rows = db.session.execute(
        select(Assignment)
        .join(Entry, Entry.id == Assignment.entry_id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .outerjoin(
            Conflict,
            (Conflict.entry_id == Assignment.entry_id) & (Conflict.judge_id == Assignment.judge_id),
        )
        .where(
            Assignment.stage_id == stage.id,
            Conflict.id.is_(None),
            Assignment.dropped_at.is_(None),
        )
        .where((ScoreSheet.status.is_(None)) | (ScoreSheet.status != "final"))
        .options(joinedload(Assignment.judge), joinedload(Assignment.entry))
        .order_by(Assignment.judge_id, Entry.code)
    ).scalars()
    grouped: dict[int, tuple[User, list[Entry]]] = {}
    for a in rows:
        grouped.setdefault(a.judge_id, (a.judge, []))[1].append(a.entry)
    return list(grouped.values())
