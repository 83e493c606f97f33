"""Reading field visits: a visit stage's schedule and board, one visit with its team, the
visits of a KIM, a judge's checklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from monev.auth.models import User
from monev.directory.models import Kim
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, ScoreSheet, Visit, VisitCheck, VisitPhoto
from monev.rubrics.models import Criterion

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
    # the required photos the team has taken: per judge and criterion at most the number
    # required (extra photos of one judge never stand in for another's missing ones)
    photos: int = 0
    photos_required: int = 0  # the criteria's required photos, for every judge of the team
    photos_taken: int = 0  # every photo the team took


def visit_board(stage: Stage, entries: list[Entry], now: datetime) -> list[BoardRow]:
    """Every judged entry of the stage with its visit, state and photos (taken, required),
    by district then code (five queries)."""
    visits = stage_visits(stage.id)
    photos = photos_met(stage.id)
    per_judge = photos_required(stage.id)
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
                photos.get(entry.id, (0, 0))[1],
                per_judge * len(members),
                photos.get(entry.id, (0, 0))[0],
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


def _judge_visits_select(judge_id: int, *columns):
    """``columns`` of the visits of the judge's teams (assignments not dropped) in announced
    events, joined to the judge's assignment."""
    return (
        select(*columns)
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
    )


def judge_visit_rows(judge_id: int) -> list[tuple[Visit, Assignment]]:
    """The visits of the judge's teams, by time, each with the judge's assignment and its
    sheet, the stage, the event, the entry and its KIM loaded (one query)."""
    return list(
        db.session.execute(
            _judge_visits_select(judge_id, Visit, Assignment)
            .options(
                joinedload(Visit.stage).joinedload(Stage.event),
                joinedload(Visit.entry).joinedload(Entry.kim),
                joinedload(Assignment.sheet),
            )
            .order_by(Visit.starts_at, Visit.id)
        ).all()
    )


def judge_visits(judge_id: int) -> list[Visit]:
    """The visits of the judge's teams (assignments not dropped) in announced events, by
    time."""
    return [visit for visit, _assignment in judge_visit_rows(judge_id)]


def judge_has_visits(judge_id: int) -> bool:
    """Whether the judge's teams have any visit in an announced event (one cheap query)."""
    return bool(db.session.scalar(select(_judge_visits_select(judge_id, Visit.id).exists())))


def sheet_checks(sheet_id: int | None) -> dict[int, VisitCheck]:
    """A sheet's checklist by criterion id."""
    if sheet_id is None:
        return {}
    return {
        c.criterion_id: c
        for c in db.session.scalars(select(VisitCheck).where(VisitCheck.sheet_id == sheet_id))
    }


def sheet_photos(sheet_id: int | None) -> dict[int, list[VisitPhoto]]:
    """A sheet's visit photos by criterion id, in the order they were taken."""
    if sheet_id is None:
        return {}
    out: dict[int, list[VisitPhoto]] = {}
    for photo in db.session.scalars(
        select(VisitPhoto)
        .where(VisitPhoto.sheet_id == sheet_id)
        .order_by(VisitPhoto.taken_at, VisitPhoto.id)
    ):
        out.setdefault(photo.criterion_id, []).append(photo)
    return out


@dataclass(frozen=True)
class MissingPhotos:
    criterion_id: int
    name: str
    have: int
    need: int


def missing_photos(stage_id: int, sheet_id: int | None) -> list[MissingPhotos]:
    """The stage's criteria that require photos and have fewer on the sheet, in rubric
    order (one query)."""
    counts = (
        select(VisitPhoto.criterion_id, func.count().label("n"))
        .where(VisitPhoto.sheet_id == (sheet_id if sheet_id is not None else -1))
        .group_by(VisitPhoto.criterion_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Criterion.id, Criterion.name, func.coalesce(counts.c.n, 0), Criterion.photos_required
        )
        .outerjoin(counts, counts.c.criterion_id == Criterion.id)
        .where(Criterion.stage_id == stage_id, Criterion.photos_required > 0)
        .order_by(Criterion.position, Criterion.id)
    ).all()
    return [MissingPhotos(cid, name, have, need) for cid, name, have, need in rows if have < need]


@dataclass(frozen=True)
class PhotoOfVisit:
    photo: VisitPhoto
    judge: str
    sheet_status: str


def visit_photos(stage_id: int, entry_id: int) -> list[PhotoOfVisit]:
    """Every photo of a visit's team (sheets of assignments not dropped), by criterion and
    time, with the judge who took it (one query)."""
    rows = db.session.execute(
        select(VisitPhoto, User.name, ScoreSheet.status)
        .join(ScoreSheet, ScoreSheet.id == VisitPhoto.sheet_id)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .join(User, User.id == Assignment.judge_id)
        .where(
            Assignment.stage_id == stage_id,
            Assignment.entry_id == entry_id,
            Assignment.dropped_at.is_(None),
        )
        .order_by(VisitPhoto.criterion_id, VisitPhoto.taken_at, VisitPhoto.id)
    ).all()
    return [PhotoOfVisit(photo, name, status) for photo, name, status in rows]


@dataclass(frozen=True)
class LocatedPhoto:
    """Where a stored photo belongs: its visit's stage and entry, and its sheet's judge."""

    photo: VisitPhoto
    stage_id: int
    entry_id: int
    judge_id: int


def locate_photo(photo_id: int) -> LocatedPhoto | None:
    row = db.session.execute(
        select(VisitPhoto, Assignment.stage_id, Assignment.entry_id, Assignment.judge_id)
        .join(ScoreSheet, ScoreSheet.id == VisitPhoto.sheet_id)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .where(VisitPhoto.id == photo_id)
    ).first()
    return LocatedPhoto(*row) if row else None


def photos_met(stage_id: int) -> dict[int, tuple[int, int]]:
    """The photos each entry's visit team took in the stage (assignments not dropped), by
    entry id: (taken, met), met counting per judge's sheet and per criterion at most the
    criterion's required number, summed, so one judge's extra photos never stand in for
    another's missing ones (one query)."""
    taken = (
        select(
            VisitPhoto.sheet_id.label("sheet_id"),
            VisitPhoto.criterion_id.label("criterion_id"),
            func.count().label("n"),
        )
        .group_by(VisitPhoto.sheet_id, VisitPhoto.criterion_id)
        .subquery()
    )
    met = case((taken.c.n < Criterion.photos_required, taken.c.n), else_=Criterion.photos_required)
    return {
        entry_id: (int(n or 0), int(m or 0))
        for entry_id, n, m in db.session.execute(
            select(Assignment.entry_id, func.sum(taken.c.n), func.sum(met))
            .join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
            .join(taken, taken.c.sheet_id == ScoreSheet.id)
            .join(Criterion, Criterion.id == taken.c.criterion_id)
            .where(Assignment.stage_id == stage_id, Assignment.dropped_at.is_(None))
            .group_by(Assignment.entry_id)
        ).all()
    }


def photos_required(stage_id: int) -> int:
    """How many photos one judge's sheet of the stage must carry (the criteria's sum)."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Criterion.photos_required), 0)).where(
                Criterion.stage_id == stage_id
            )
        )
        or 0
    )


def entry_visit_checks(entry_id: int) -> dict[tuple[int, int], VisitCheck]:
    """The visit checklists of every sheet of the entry, by (sheet id, criterion id)
    (one query)."""
    return {
        (c.sheet_id, c.criterion_id): c
        for c in db.session.scalars(
            select(VisitCheck)
            .join(ScoreSheet, ScoreSheet.id == VisitCheck.sheet_id)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .where(Assignment.entry_id == entry_id)
        )
    }


def criteria_photos_required(stage_ids: list[int]) -> dict[int, int]:
    """The photos each criterion of the stages requires on a visit, by criterion id, for
    the criteria that require some (one query, none without stages)."""
    if not stage_ids:
        return {}
    return dict(
        db.session.execute(
            select(Criterion.id, Criterion.photos_required).where(
                Criterion.stage_id.in_(stage_ids), Criterion.photos_required > 0
            )
        ).all()
    )


def entry_visits(entry_id: int) -> dict[int, Visit]:
    """An entry's visits by stage id."""
    return {
        v.stage_id: v for v in db.session.scalars(select(Visit).where(Visit.entry_id == entry_id))
    }


def visit_candidates(event_id: int) -> list[Entry]:
    """The entries a visit may be planned for: accepted finalists still active, submitted or
    not yet (a visit may be planned while the KIMs submit), in code order, with KIM and
    district."""
    return list(
        db.session.scalars(
            select(Entry)
            .where(
                Entry.event_id == event_id,
                Entry.nomination_status == "accepted",
                Entry.standing == standing.ACTIVE,
            )
            .options(joinedload(Entry.kim).joinedload(Kim.district))
            .order_by(Entry.code)
        )
    )
