"""Judging progress: a judge's own sheets to do, the organiser's board, and who is late."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, exists, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import joinedload

from monev.auth.models import User
from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import (
    Assignment,
    Conflict,
    EventJudge,
    PanelMember,
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

# A judge's stage, as the judge reads it: not open yet, open (until its deadline), closed
# with sheets still missing, or done (every sheet final, or the results are out).
NOT_OPEN, OPEN, CLOSED, DONE = "not_open", "open", "closed", "done"


def stage_state(event: Event, stage: Stage, missing: int, now: datetime) -> str:
    """Where a judge's work on ``stage`` stands at ``now`` (see the constants above)."""
    if event.at_least("results") or (missing == 0 and event.at_least("judging")):
        return DONE
    if event.status != "judging" or (stage.opens_at is not None and now < stage.opens_at):
        return NOT_OPEN
    if stage.closes_at is not None and now > stage.closes_at:
        return CLOSED
    return OPEN


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

    def state(self, now: datetime | None = None) -> str:
        return stage_state(self.event, self.stage, self.missing, now or utcnow())

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


# Before judging, a stage whose panel the judge sits on is theirs even without entries yet:
# the home page says when scoring opens ("judging scheduled ahead").
BEFORE_JUDGING = ("draft", "nomination", "submission", "verification")


def _panel_stages_ahead(judge_id: int, seen: set[int]) -> list[tuple[Event, Stage]]:
    """Stages of events not yet judging whose panel includes the judge (a stage without
    members of its own is judged by the whole event panel), not in ``seen``."""
    own_member = exists().where(PanelMember.stage_id == Stage.id, PanelMember.judge_id == judge_id)
    any_member = exists().where(PanelMember.stage_id == Stage.id)
    rows = db.session.execute(
        select(Event, Stage)
        .join(Stage, Stage.event_id == Event.id)
        .join(EventJudge, EventJudge.event_id == Event.id)
        .where(
            EventJudge.user_id == judge_id,
            Event.status.in_(BEFORE_JUDGING),
            or_(own_member, ~any_member),
        )
        .order_by(Event.year.desc(), Stage.position)
    ).all()
    return [(event, stage) for event, stage in rows if stage.id not in seen]


def judge_progress(judge_id: int) -> list[JudgeStageProgress]:
    """The judge's own assignments per event and stage, with what is still to do (a sheet
    the organiser dropped is no longer the judge's to do); before judging, also the stages
    whose panel the judge sits on without entries yet (none assigned).

    Three queries; only this judge's sheets are read: nothing about other judges."""
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
    ahead = [
        JudgeStageProgress(event, stage, 0, 0, 0)
        for event, stage in _panel_stages_ahead(judge_id, {stage.id for _e, stage, *_r in rows})
    ]
    return ahead + [
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


# --- the organiser's progress board ----------------------------------------------------------

# The board is a grid of judges x entries up to this size; above it (more than fits a
# screen), it becomes a summary per judge and per entry, each with a page of its own.
GRID_MAX_JUDGES = 20
GRID_MAX_ENTRIES = 30
STATES = ("final", "draft", "empty", "conflict", "dropped")
TO_DO = ("empty", "draft")  # what a judge still has to finish


def _counts() -> dict[str, int]:
    return dict.fromkeys(STATES, 0)


@dataclass(frozen=True)
class Cell:
    """An assigned sheet of the board (or a conflict without an assignment)."""

    judge_id: int
    entry_id: int
    state: str  # empty | draft | final | conflict | dropped
    assignment_id: int | None = None
    sheet_id: int | None = None
    drop_reason: str | None = None
    dropped_at: datetime | None = None


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
class JudgeRow:
    id: int
    name: str
    email: str
    counts: dict[str, int] = field(default_factory=_counts)
    assigned: int = 0
    # grid only: entry id -> state (absent: not assigned), entry id -> sheet id
    cells: dict[int, str] = field(default_factory=dict)
    sheet_ids: dict[int, int] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        return sum(self.counts[s] for s in TO_DO)


@dataclass
class EntryRow:
    entry: Entry
    counts: dict[str, int] = field(default_factory=_counts)
    assigned: int = 0

    @property
    def missing(self) -> int:
        return sum(self.counts[s] for s in TO_DO)


@dataclass
class Board:
    stage: Stage
    entries: list[Entry]
    judges: list[JudgeRow]
    counts: dict[str, int] = field(default_factory=dict)
    open_sheets: list[BoardSheet] = field(default_factory=list)  # grid only: not final
    dropped: list[BoardSheet] = field(default_factory=list)
    summary: bool = False  # too large for a grid: per judge and per entry instead
    entry_rows: list[EntryRow] = field(default_factory=list)  # summary only

    @property
    def open_count(self) -> int:
        return self.counts["empty"] + self.counts["draft"] + self.counts["conflict"]


def _cell_rows(stage: Stage, *where):
    """(judge, entry, sheet id, sheet status, has a score, assignment id, dropped at, drop
    reason) of the stage's assignments, filtered by ``where``; one query."""
    has_score = (
        select(Score.id).where(Score.sheet_id == ScoreSheet.id, Score.value.is_not(None)).exists()
    )
    return db.session.execute(
        select(
            Assignment.judge_id,
            Assignment.entry_id,
            ScoreSheet.id,
            ScoreSheet.status,
            has_score,
            Assignment.id,
            Assignment.dropped_at,
            Assignment.drop_reason,
        )
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.stage_id == stage.id, *where)
    ).all()


def _cells(rows, conflicts: set[tuple[int, int]]) -> list[Cell]:
    """The state of each assigned sheet; a declared conflict wins over the sheet's state
    (but not over a drop)."""
    out = []
    for judge_id, entry_id, sheet_id, status, scored, assignment_id, dropped_at, why in rows:
        if dropped_at is not None:
            state = "dropped"
        elif (entry_id, judge_id) in conflicts:
            state = "conflict"
        elif status == "final":
            state = "final"
        elif sheet_id is not None and scored:
            state = "draft"
        else:
            state = "empty"
        out.append(Cell(judge_id, entry_id, state, assignment_id, sheet_id, why, dropped_at))
    return out


def _panel_users(
    stage: Stage, assigned_ids: set[int], panel: dict[int, User] | None = None
) -> dict[int, User]:
    """The stage's panel (``panel`` when already read), and anyone assigned in it who has
    left the panel since."""
    panel = dict(panel) if panel is not None else {j.user_id: j.user for j in stage_panel(stage)}
    missing = assigned_ids - set(panel)
    if missing:
        for user in db.session.scalars(select(User).where(User.id.in_(missing))):
            panel[user.id] = user
    return panel


def progress_board(stage: Stage) -> Board:
    """Judges x entries of a stage with each cell's state, the counts per judge and per
    entry, and the sheets that are not final (to finish, or dropped); a summary (counts per
    judge and per entry, the most missing first) when the grid is larger than
    ``GRID_MAX_JUDGES`` x ``GRID_MAX_ENTRIES``. The same queries whatever the size; a
    summary is counted by the database (:func:`_summary_board`), not cell by cell."""
    entries = judged_entries(stage.event_id)
    conflicts = conflict_pairs(stage.event_id)
    panel_members = {j.user_id: j.user for j in stage_panel(stage)}
    if len(panel_members) > GRID_MAX_JUDGES or len(entries) > GRID_MAX_ENTRIES:
        return _summary_board(stage, entries, conflicts, panel_members)
    cells = _cells(_cell_rows(stage), conflicts)
    panel = _panel_users(stage, {c.judge_id for c in cells}, panel_members)
    by_entry = {e.id: e for e in entries}
    summary = len(panel) > GRID_MAX_JUDGES or len(entries) > GRID_MAX_ENTRIES
    judges = {
        user.id: JudgeRow(user.id, user.name, user.email)
        for user in sorted(panel.values(), key=lambda u: (u.name, u.id))
    }
    entry_rows = {e.id: EntryRow(e) for e in entries}
    counts = _counts()
    assigned_pairs = set()
    unfinished: list[Cell] = []
    for cell in cells:
        assigned_pairs.add((cell.entry_id, cell.judge_id))
        counts[cell.state] += 1
        row = judges[cell.judge_id]
        row.counts[cell.state] += 1
        row.assigned += 1
        if cell.entry_id in entry_rows:
            entry_rows[cell.entry_id].counts[cell.state] += 1
            entry_rows[cell.entry_id].assigned += 1
        if not summary:
            row.cells[cell.entry_id] = cell.state
            if cell.sheet_id is not None:
                row.sheet_ids[cell.entry_id] = cell.sheet_id
        # Listed below the grid: every sheet not final (in a summary only the dropped ones;
        # the others are on each judge's and entry's page).
        listed = cell.state == "dropped" or (cell.state != "final" and not summary)
        if listed and cell.entry_id in by_entry:
            unfinished.append(cell)
    for entry_id, judge_id in conflicts:  # declared before any assignment
        if judge_id in judges and (entry_id, judge_id) not in assigned_pairs:
            counts["conflict"] += 1
            judges[judge_id].counts["conflict"] += 1
            if entry_id in entry_rows:
                entry_rows[entry_id].counts["conflict"] += 1
            if not summary:
                judges[judge_id].cells[entry_id] = "conflict"
    listed = sorted(
        (
            BoardSheet(
                c.assignment_id,
                c.sheet_id,
                panel[c.judge_id].name,
                by_entry[c.entry_id],
                c.state,
                c.drop_reason,
                c.dropped_at,
            )
            for c in unfinished
        ),
        key=lambda s: (s.entry.code, s.judge, s.assignment_id),
    )
    judge_rows = list(judges.values())
    rows = list(entry_rows.values())
    if summary:  # the worst first: most sheets missing, then conflicts
        judge_rows.sort(key=lambda j: (-j.missing, -j.counts["conflict"], j.name, j.id))
        rows.sort(key=lambda r: (-r.missing, -r.counts["conflict"], r.entry.code))
    return Board(
        stage,
        entries,
        judge_rows,
        counts,
        [s for s in listed if s.state != "dropped"],
        [s for s in listed if s.state == "dropped"],
        summary,
        rows,
    )


def _state_counts(stage: Stage):
    """(judge id, entry id, state, sheets) of the stage, counted by the database: the same
    states as :func:`_cells`, grouped per judge and per entry. One statement: the cells are
    a CTE used twice, which PostgreSQL and SQLite (3.35+) compute once."""
    has_score = (
        select(Score.id).where(Score.sheet_id == ScoreSheet.id, Score.value.is_not(None)).exists()
    )
    state = case(
        (Assignment.dropped_at.is_not(None), "dropped"),
        (Conflict.id.is_not(None), "conflict"),
        (ScoreSheet.status == "final", "final"),
        (and_(ScoreSheet.id.is_not(None), has_score), "draft"),
        else_="empty",
    )
    cells = (
        select(Assignment.judge_id, Assignment.entry_id, state.label("state"))
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .outerjoin(
            Conflict,
            (Conflict.entry_id == Assignment.entry_id) & (Conflict.judge_id == Assignment.judge_id),
        )
        .where(Assignment.stage_id == stage.id)
        .cte("cells")
    )
    per_judge = select(
        literal("judge").label("side"), cells.c.judge_id.label("id"), cells.c.state, func.count()
    ).group_by(cells.c.judge_id, cells.c.state)
    per_entry = select(
        literal("entry").label("side"), cells.c.entry_id.label("id"), cells.c.state, func.count()
    ).group_by(cells.c.entry_id, cells.c.state)
    counted: dict[str, list[tuple[int, str, int]]] = {"judge": [], "entry": []}
    for side, key, cell_state, n in db.session.execute(union_all(per_judge, per_entry)):
        counted[side].append((key, cell_state, n))
    return counted["judge"], counted["entry"]


def _summary_board(
    stage: Stage,
    entries: list[Entry],
    conflicts: set[tuple[int, int]],
    panel_members: dict[int, User],
) -> Board:
    """The board of a stage larger than a screen: counts per judge and per entry from the
    database, the most missing first, and the dropped sheets; nothing per cell."""
    per_judge, per_entry = _state_counts(stage)
    panel = _panel_users(stage, {judge_id for judge_id, _s, _n in per_judge}, panel_members)
    judges = {u.id: JudgeRow(u.id, u.name, u.email) for u in panel.values()}
    rows = {e.id: EntryRow(e) for e in entries}
    counts = _counts()
    for judge_id, state, n in per_judge:
        counts[state] += n
        judges[judge_id].counts[state] += n
        judges[judge_id].assigned += n
    for entry_id, state, n in per_entry:
        if entry_id in rows:
            rows[entry_id].counts[state] += n
            rows[entry_id].assigned += n
    assigned = set(  # the conflicts that are also assignments (counted above)
        db.session.execute(
            select(Assignment.entry_id, Assignment.judge_id).where(
                Assignment.stage_id == stage.id,
                tuple_(Assignment.entry_id, Assignment.judge_id).in_(sorted(conflicts)),
            )
        ).all()
    )
    for entry_id, judge_id in conflicts - assigned:  # declared before any assignment
        if judge_id in judges:
            counts["conflict"] += 1
            judges[judge_id].counts["conflict"] += 1
            if entry_id in rows:
                rows[entry_id].counts["conflict"] += 1
    by_entry = {e.id: e for e in entries}
    dropped = sorted(
        (
            BoardSheet(
                c.assignment_id,
                c.sheet_id,
                panel[c.judge_id].name,
                by_entry[c.entry_id],
                c.state,
                c.drop_reason,
                c.dropped_at,
            )
            for c in _cells(_cell_rows(stage, Assignment.dropped_at.is_not(None)), set())
            if c.entry_id in by_entry
        ),
        key=lambda s: (s.entry.code, s.judge, s.assignment_id),
    )
    judge_rows = sorted(
        judges.values(), key=lambda j: (-j.missing, -j.counts["conflict"], j.name, j.id)
    )
    entry_rows = sorted(
        rows.values(), key=lambda r: (-r.missing, -r.counts["conflict"], r.entry.code)
    )
    return Board(stage, entries, judge_rows, counts, [], dropped, True, entry_rows)


@dataclass
class DrillDown:
    """One judge's sheets of a stage (or one entry's), for the board's drill-down pages."""

    stage: Stage
    sheets: list[BoardSheet]
    counts: dict[str, int]


def _drill_down(stage: Stage, cells: list[Cell], judges: dict[int, User], entries) -> DrillDown:
    counts = _counts()
    sheets = []
    for c in cells:
        if c.entry_id not in entries or c.judge_id not in judges:
            continue
        counts[c.state] += 1
        sheets.append(
            BoardSheet(
                c.assignment_id or 0,
                c.sheet_id,
                judges[c.judge_id].name,
                entries[c.entry_id],
                c.state,
                c.drop_reason,
                c.dropped_at,
            )
        )
    order = {state: i for i, state in enumerate(("draft", "empty", "conflict", "dropped"))}
    sheets.sort(key=lambda s: (order.get(s.state, 9), s.entry.code, s.judge))
    return DrillDown(stage, sheets, counts)


def judge_board(stage: Stage, judge_id: int) -> DrillDown:
    """A judge's sheets of the stage, the unfinished first (their entries' codes and names),
    with conflicts declared before any assignment; three queries."""
    entries = {e.id: e for e in judged_entries(stage.event_id)}
    conflicts = {(e, j) for e, j in conflict_pairs(stage.event_id) if j == judge_id}
    cells = _cells(_cell_rows(stage, Assignment.judge_id == judge_id), conflicts)
    assigned = {c.entry_id for c in cells}
    cells += [Cell(judge_id, e, "conflict") for e, _j in conflicts if e not in assigned]
    judge = db.session.get(User, judge_id)
    return _drill_down(stage, cells, {judge_id: judge} if judge else {}, entries)


def entry_board(stage: Stage, entry: Entry) -> DrillDown:
    """An entry's sheets of the stage, one per judge, the unfinished first; three queries."""
    conflicts = {(e, j) for e, j in conflict_pairs(stage.event_id) if e == entry.id}
    cells = _cells(_cell_rows(stage, Assignment.entry_id == entry.id), conflicts)
    panel = _panel_users(stage, {c.judge_id for c in cells})
    assigned = {c.judge_id for c in cells}
    cells += [Cell(j, entry.id, "conflict") for _e, j in conflicts if j not in assigned]
    return _drill_down(stage, cells, panel, {entry.id: entry})


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
