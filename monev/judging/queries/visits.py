"""Reading field visits: a visit stage's schedule and board, one visit with its team, the
visits of a KIM, a judge's checklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from monev.auth.models import User
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, ScoreSheet, Visit, VisitCheck

# A visit not fully synced (every sheet of its team final) this long after it started is late.
LATE_AFTER = timedelta(hours=24)

PLANNED, IN_PROGRESS, SYNCED, LATE, UNPLANNED = (
    "planned",
    "in_progress",
    "synced",
    "late",
    "unplanned",
)


def stage_visits(stage_id: int) -> dict[int, Visit]:
    """The stage's visits by entry id."""
    return {
        v.entry_id: v for v in db.session.scalars(select(Visit).where(Visit.stage_id == stage_id))
    }


def get_visit(visit_id: int) -> Visit | None:
    return db.session.scalar(
        select(Visit)
        .where(Visit.id == visit_id)
        .options(
            joinedload(Visit.stage).joinedload(Stage.event),
            joinedload(Visit.entry).joinedload(Entry.kim),
        )
    )


def team(stage_id: int, entry_id: int) -> list[User]:
    """The judges who visit the entry: its assignments in the stage (not dropped), by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(Assignment, Assignment.judge_id == User.id)
            .where(
                Assignment.stage_id == stage_id,
                Assignment.entry_id == entry_id,
                Assignment.dropped_at.is_(None),
            )
            .order_by(User.name, User.id)
        )
    )


def on_team(stage_id: int, entry_id: int, judge_id: int) -> bool:
    return any(u.id == judge_id for u in team(stage_id, entry_id))


def visit_state(starts_at: datetime | None, sheets: list[str | None], now: datetime) -> str:
    """planned (not started), in progress, synced (every sheet of the team final) or late
    (not synced 24 h after it started). ``sheets`` holds each team member's sheet status."""
    if starts_at is None:
        return UNPLANNED
    if sheets and all(s == "final" for s in sheets):
        return SYNCED
    if now >= starts_at + LATE_AFTER:
        return LATE
    if now < starts_at:
        return PLANNED
    return IN_PROGRESS


@dataclass(frozen=True)
class BoardRow:
    entry: Entry
    district: str
    visit: Visit | None
    team: list[str]
    final: int
    state: str


def visit_board(stage: Stage, entries: list[Entry], now: datetime) -> list[BoardRow]:
    """Every judged entry of the stage with its visit and state, by district then code
    (three queries)."""
    visits = stage_visits(stage.id)
    rows = db.session.execute(
        select(Assignment.entry_id, User.name, ScoreSheet.status)
        .join(User, User.id == Assignment.judge_id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.stage_id == stage.id, Assignment.dropped_at.is_(None))
        .order_by(User.name)
    ).all()
    teams: dict[int, list[tuple[str, str | None]]] = {}
    for entry_id, name, status in rows:
        teams.setdefault(entry_id, []).append((name, status))
    board = []
    for entry in entries:
        members = teams.get(entry.id, [])
        visit = visits.get(entry.id)
        statuses = [s for _n, s in members]
        board.append(
            BoardRow(
                entry,
                entry.kim.district.name,
                visit,
                [n for n, _s in members],
                sum(1 for s in statuses if s == "final"),
                visit_state(visit.starts_at if visit else None, statuses, now),
            )
        )
    return sorted(board, key=lambda r: (r.district, r.entry.code))


def kim_visits(kim_id: int | None) -> dict[int, Visit]:
    """The next visit of each of the KIM's entries in announced events, by entry id."""
    if not kim_id:
        return {}
    out: dict[int, Visit] = {}
    for visit in db.session.scalars(
        select(Visit)
        .join(Entry, Entry.id == Visit.entry_id)
        .join(Stage, Stage.id == Visit.stage_id)
        .join(Event, Event.id == Stage.event_id)
        .where(Entry.kim_id == kim_id, Event.status != "draft", Stage.kind == "visit")
        .options(joinedload(Visit.stage).joinedload(Stage.event))
        .order_by(Visit.starts_at.desc())
    ):
        out[visit.entry_id] = visit  # the earliest wins
    return out


def judge_visits(judge_id: int) -> list[Visit]:
    """The visits of the judge's teams (assignments not dropped) in announced events, by
    time."""
    return list(
        db.session.scalars(
            select(Visit)
            .join(
                Assignment,
                (Assignment.entry_id == Visit.entry_id) & (Assignment.stage_id == Visit.stage_id),
            )
            .join(Stage, Stage.id == Visit.stage_id)
            .join(Event, Event.id == Stage.event_id)
            .where(
                Assignment.judge_id == judge_id,
                Assignment.dropped_at.is_(None),
                Event.status != "draft",
                Stage.kind == "visit",
            )
            .options(
                joinedload(Visit.stage).joinedload(Stage.event),
                joinedload(Visit.entry).joinedload(Entry.kim),
            )
            .order_by(Visit.starts_at, Visit.id)
        ).unique()
    )


def sheet_checks(sheet_id: int | None) -> dict[int, VisitCheck]:
    """A sheet's checklist by criterion id."""
    if sheet_id is None:
        return {}
    return {
        c.criterion_id: c
        for c in db.session.scalars(select(VisitCheck).where(VisitCheck.sheet_id == sheet_id))
    }
