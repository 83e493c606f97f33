"""Reading judging data. Judges' reads are always filtered by the judge: a judge's query never
selects another judge's sheet, score, comment or count (blind judging)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from monev.auth.models import User
from monev.core.timeutil import utcnow
from monev.directory.models import Kim
from monev.entries.models import Entry, Evidence
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import (
    Assignment,
    Conflict,
    EventJudge,
    PanelMember,
    ScheduleSlot,
    Score,
    ScoreChange,
    ScoreSheet,
)
from monev.judging.numbers import CriterionRule
from monev.rubrics.models import Aspect, Criterion

# --- labels -------------------------------------------------------------------------------


def entry_label_for_judges(entry: Entry, event: Event) -> str:
    """What a judge sees of an entry: its KIM's name, or only its coded id (blind)."""
    if event.judges_see_names:
        return f"{entry.code} · {entry.kim.name}"
    return entry.code


# --- panel and conflicts ------------------------------------------------------------------


def event_panel(event_id: int) -> list[EventJudge]:
    return list(
        db.session.scalars(
            select(EventJudge)
            .join(User, User.id == EventJudge.user_id)
            .where(EventJudge.event_id == event_id)
            .options(joinedload(EventJudge.user), joinedload(EventJudge.home_district))
            .order_by(User.name, User.id)
        )
    )


def event_judge(event_id: int, user_id: int) -> EventJudge | None:
    return db.session.scalar(
        select(EventJudge).where(EventJudge.event_id == event_id, EventJudge.user_id == user_id)
    )


def panel_stages(event: Event) -> dict[int, set[int]]:
    """judge id -> ids of the stages whose panel they sit on (a stage without explicit
    members is judged by the whole event panel)."""
    judge_ids = list(
        db.session.scalars(select(EventJudge.user_id).where(EventJudge.event_id == event.id))
    )
    stage_ids = [s.id for s in event.stages]
    explicit: dict[int, set[int]] = {}
    if stage_ids:
        for stage_id, judge_id in db.session.execute(
            select(PanelMember.stage_id, PanelMember.judge_id).where(
                PanelMember.stage_id.in_(stage_ids)
            )
        ):
            explicit.setdefault(stage_id, set()).add(judge_id)
    result = {j: set() for j in judge_ids}
    for stage_id in stage_ids:
        members = explicit.get(stage_id)
        for j in judge_ids:
            if members is None or j in members:
                result[j].add(stage_id)
    return result


def stage_panel(stage: Stage) -> list[EventJudge]:
    members = set(
        db.session.scalars(select(PanelMember.judge_id).where(PanelMember.stage_id == stage.id))
    )
    panel = event_panel(stage.event_id)
    if not members:
        return panel
    return [j for j in panel if j.user_id in members]


def event_conflicts(event_id: int) -> list[Conflict]:
    return list(
        db.session.scalars(
            select(Conflict)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.event_id == event_id)
            .options(
                joinedload(Conflict.entry).joinedload(Entry.kim).joinedload(Kim.district),
                joinedload(Conflict.judge),
            )
            .order_by(Entry.code, Conflict.judge_id)
        )
    )


def conflict_pairs(event_id: int) -> set[tuple[int, int]]:
    return set(
        db.session.execute(
            select(Conflict.entry_id, Conflict.judge_id)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.event_id == event_id)
        ).all()
    )


def has_conflict(entry_id: int, judge_id: int) -> bool:
    return (
        db.session.scalar(
            select(Conflict.id).where(Conflict.entry_id == entry_id, Conflict.judge_id == judge_id)
        )
        is not None
    )


def judged_entries(event_id: int) -> list[Entry]:
    """The entries that are judged: accepted finalists, in code order, with KIM and district."""
    return list(
        db.session.scalars(
            select(Entry)
            .where(Entry.event_id == event_id, Entry.nomination_status == "accepted")
            .options(joinedload(Entry.kim).joinedload(Kim.district))
            .order_by(Entry.code)
        )
    )


# --- assignments --------------------------------------------------------------------------


def stage_assignments(stage_id: int) -> list[Assignment]:
    return list(
        db.session.scalars(
            select(Assignment)
            .join(Entry, Entry.id == Assignment.entry_id)
            .where(Assignment.stage_id == stage_id)
            .options(
                joinedload(Assignment.judge),
                joinedload(Assignment.sheet),
                joinedload(Assignment.entry).joinedload(Entry.kim).joinedload(Kim.district),
            )
            .order_by(Entry.code, Assignment.judge_id)
        ).unique()
    )


def scored_assignment_ids(stage_id: int) -> set[int]:
    """Assignments of the stage whose sheet holds a score or a comment, or is final."""
    has_value = (
        select(Score.id)
        .where(
            Score.sheet_id == ScoreSheet.id,
            Score.value.is_not(None) | Score.comment.is_not(None),
        )
        .exists()
    )
    return set(
        db.session.scalars(
            select(Assignment.id)
            .join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
            .where(Assignment.stage_id == stage_id)
            .where((ScoreSheet.status == "final") | has_value)
        )
    )


def judge_assignment(judge_id: int, assignment_id: int) -> Assignment | None:
    """The judge's own assignment; another judge's does not exist for them."""
    return db.session.scalar(
        select(Assignment)
        .where(Assignment.id == assignment_id, Assignment.judge_id == judge_id)
        .options(
            joinedload(Assignment.stage).joinedload(Stage.event),
            joinedload(Assignment.entry).joinedload(Entry.kim),
            joinedload(Assignment.sheet),
        )
    )


def stage_criteria(stage_id: int) -> list[Aspect]:
    return list(
        db.session.scalars(
            select(Aspect)
            .where(Aspect.stage_id == stage_id)
            .options(selectinload(Aspect.criteria))
            .order_by(Aspect.position, Aspect.id)
        )
    )


def criterion_rules(aspects: list[Aspect]) -> list[CriterionRule]:
    return [
        CriterionRule(c.id, c.weight, c.min_score, c.max_score, c.step)
        for a in aspects
        for c in a.criteria
    ]


def sheet_scores(sheet_id: int | None) -> dict[int, Score]:
    if sheet_id is None:
        return {}
    return {
        s.criterion_id: s
        for s in db.session.scalars(select(Score).where(Score.sheet_id == sheet_id))
    }


def evidence_for(entry: Entry) -> dict[int | None, list]:
    """The entry's evidence per criterion (None: the presentation)."""
    rows = db.session.scalars(
        select(Evidence).where(Evidence.entry_id == entry.id).order_by(Evidence.id)
    )
    grouped: dict[int | None, list] = {}
    for item in rows:
        grouped.setdefault(item.criterion_id, []).append(item)
    return grouped


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
    """The judge's own assignments per event and stage, with what is still to do.

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
        .where(Assignment.judge_id == judge_id)
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
        .where(Assignment.judge_id == judge_id)
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
    cells: dict[int, str]  # entry id -> empty | draft | final | conflict | (absent: not assigned)
    sheet_ids: dict[int, int]
    missing: int


@dataclass
class Board:
    stage: Stage
    entries: list[Entry]
    judges: list[JudgeRow]
    counts: dict[str, int] = field(default_factory=dict)


def progress_board(stage: Stage) -> Board:
    """Judges × entries of a stage with each cell's state; three queries in all."""
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
    counts = {"empty": 0, "draft": 0, "final": 0, "conflict": 0}
    for judge_id, entry_id, sheet_id, status, n_scores in rows:
        if (entry_id, judge_id) in conflicts:
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
    for entry_id, judge_id in conflicts:
        if judge_id in cells and entry_id not in cells[judge_id]:
            cells[judge_id][entry_id] = "conflict"
            counts["conflict"] += 1
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
    return Board(stage, entries, judges, counts)


def judges_missing_sheets(stage: Stage) -> list[tuple[User, list[Entry]]]:
    """Judges with assigned, unconflicted sheets of the stage that are not final yet."""
    rows = db.session.execute(
        select(Assignment)
        .join(Entry, Entry.id == Assignment.entry_id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .outerjoin(
            Conflict,
            (Conflict.entry_id == Assignment.entry_id) & (Conflict.judge_id == Assignment.judge_id),
        )
        .where(Assignment.stage_id == stage.id, Conflict.id.is_(None))
        .where((ScoreSheet.status.is_(None)) | (ScoreSheet.status != "final"))
        .options(joinedload(Assignment.judge), joinedload(Assignment.entry))
        .order_by(Assignment.judge_id, Entry.code)
    ).scalars()
    grouped: dict[int, tuple[User, list[Entry]]] = {}
    for a in rows:
        grouped.setdefault(a.judge_id, (a.judge, []))[1].append(a.entry)
    return list(grouped.values())


# --- trail --------------------------------------------------------------------------------


def sheet_trail(sheet_id: int) -> list[ScoreChange]:
    return list(
        db.session.scalars(
            select(ScoreChange)
            .where(ScoreChange.sheet_id == sheet_id)
            .options(joinedload(ScoreChange.actor), joinedload(ScoreChange.criterion))
            .order_by(ScoreChange.version.desc())
        )
    )


def event_changes(event_id: int, page: int = 1, per_page: int = 50):
    stmt = (
        select(ScoreChange, Assignment)
        .join(ScoreSheet, ScoreSheet.id == ScoreChange.sheet_id)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(Entry.event_id == event_id)
        .options(
            joinedload(ScoreChange.actor),
            joinedload(ScoreChange.criterion),
            joinedload(Assignment.entry),
            joinedload(Assignment.judge),
            joinedload(Assignment.stage),
        )
        .order_by(ScoreChange.created_at.desc(), ScoreChange.id.desc())
    )
    total = db.session.scalar(
        select(func.count(ScoreChange.id))
        .join(ScoreSheet, ScoreSheet.id == ScoreChange.sheet_id)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(Entry.event_id == event_id)
    )
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total or 0


def admin_sheet(sheet_id: int, event_id: int) -> ScoreSheet | None:
    return db.session.scalar(
        select(ScoreSheet)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(ScoreSheet.id == sheet_id, Entry.event_id == event_id)
        .options(
            joinedload(ScoreSheet.assignment).joinedload(Assignment.judge),
            joinedload(ScoreSheet.assignment).joinedload(Assignment.stage),
            joinedload(ScoreSheet.assignment).joinedload(Assignment.entry).joinedload(Entry.kim),
        )
    )


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
