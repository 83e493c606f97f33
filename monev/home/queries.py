"""What the home pages read: each function is one query, whatever the number of events or
entries, so a home page's query count does not grow with the years a KIM has taken part."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from monev.auth.models import User
from monev.certificates.models import Certificate
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, ScheduleSlot, ScoreSheet, Visit
from monev.results.models import Objection, ProvisionalResult, PublishedResult


def kim_entries(kim_id: int | None) -> list[Entry]:
    """The KIM's entries (any nomination status) in announced events, newest event first,
    with their event and its stages."""
    if not kim_id:
        return []
    return list(
        db.session.scalars(
            select(Entry)
            .join(Event, Event.id == Entry.event_id)
            .options(joinedload(Entry.event).selectinload(Event.stages))
            .where(Entry.kim_id == kim_id, Event.status != "draft")
            .order_by(Event.year.desc(), Event.id.desc())
        )
    )


def district_entries(district_id: int | None) -> list[Entry]:
    """The entries of a district's KIMs in announced events, newest event first, with their
    KIM, event (and its stages) and category."""
    if not district_id:
        return []
    return list(
        db.session.scalars(
            select(Entry)
            .join(Event, Event.id == Entry.event_id)
            .join(Kim, Kim.id == Entry.kim_id)
            .options(
                joinedload(Entry.event).selectinload(Event.stages),
                joinedload(Entry.kim),
                joinedload(Entry.category),
            )
            .where(Kim.district_id == district_id, Event.status != "draft")
            .order_by(Event.year.desc(), Event.id.desc(), Entry.code)
        )
    )


def latest_snapshots(event_ids) -> dict[int, dict]:
    """The latest published snapshot of each of the events that has one (one query)."""
    ids = list(set(event_ids))
    if not ids:
        return {}
    newest = (
        select(PublishedResult.event_id, func.max(PublishedResult.version).label("version"))
        .where(PublishedResult.event_id.in_(ids))
        .group_by(PublishedResult.event_id)
        .subquery()
    )
    rows = db.session.execute(
        select(PublishedResult.event_id, PublishedResult.snapshot).join(
            newest,
            (newest.c.event_id == PublishedResult.event_id)
            & (newest.c.version == PublishedResult.version),
        )
    )
    return dict(rows.tuples().all())


def latest_provisionals(event_ids) -> dict[int, ProvisionalResult]:
    """The latest provisional result of each of the events that has one (one query)."""
    ids = list(set(event_ids))
    if not ids:
        return {}
    newest = (
        select(ProvisionalResult.event_id, func.max(ProvisionalResult.version).label("version"))
        .where(ProvisionalResult.event_id.in_(ids))
        .group_by(ProvisionalResult.event_id)
        .subquery()
    )
    rows = db.session.scalars(
        select(ProvisionalResult).join(
            newest,
            (newest.c.event_id == ProvisionalResult.event_id)
            & (newest.c.version == ProvisionalResult.version),
        )
    )
    return {p.event_id: p for p in rows}


def live_certificates(entry_ids) -> dict[int, Certificate]:
    """The live certificate of each of the entries that has one (one query)."""
    ids = list(set(entry_ids))
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Certificate)
        .where(Certificate.entry_id.in_(ids), Certificate.revoked_at.is_(None))
        .order_by(Certificate.issued_at)
    )
    return {c.entry_id: c for c in rows}


def next_slots(entry_ids) -> dict[int, ScheduleSlot]:
    """The first presentation slot of each of the entries that has one (one query)."""
    ids = list(set(entry_ids))
    if not ids:
        return {}
    slots: dict[int, ScheduleSlot] = {}
    for slot in db.session.scalars(
        select(ScheduleSlot)
        .where(ScheduleSlot.entry_id.in_(ids))
        .order_by(ScheduleSlot.starts_at.desc())
    ):
        slots[slot.entry_id] = slot  # the earliest wins
    return slots


def next_visits(entry_ids, since) -> dict[int, Visit]:
    """The field visit to show each of the entries (one query): the first one that starts
    after ``since`` and is not confirmed yet, else the last one its KIM confirmed."""
    ids = list(set(entry_ids))
    if not ids:
        return {}
    coming: dict[int, Visit] = {}
    confirmed: dict[int, Visit] = {}
    for visit in db.session.scalars(
        select(Visit)
        .join(Stage, Stage.id == Visit.stage_id)
        .where(
            Visit.entry_id.in_(ids),
            Stage.kind == "visit",
            or_(Visit.starts_at > since, Visit.confirmed_at.is_not(None)),
        )
        .order_by(Visit.starts_at.desc())
    ):
        if visit.confirmed_at is None:
            coming[visit.entry_id] = visit  # the earliest wins
        else:
            confirmed.setdefault(visit.entry_id, visit)  # the latest wins
    return confirmed | coming


def visit_teams(visits) -> dict[int, list[str]]:
    """The names of each visit's team (the judges assigned to its entry in its stage, not
    dropped), by visit id (one query)."""
    visits = list(visits)
    if not visits:
        return {}
    by_pair = {(v.stage_id, v.entry_id): v.id for v in visits}
    teams: dict[int, list[str]] = {v.id: [] for v in visits}
    for stage_id, entry_id, name in db.session.execute(
        select(Assignment.stage_id, Assignment.entry_id, User.name)
        .join(User, User.id == Assignment.judge_id)
        .where(
            Assignment.stage_id.in_({v.stage_id for v in visits}),
            Assignment.entry_id.in_({v.entry_id for v in visits}),
            Assignment.dropped_at.is_(None),
        )
        .order_by(User.name)
    ):
        visit_id = by_pair.get((stage_id, entry_id))
        if visit_id is not None:
            teams[visit_id].append(name)
    return teams


def objection_counts(entry_ids) -> dict[int, int]:
    """How many objections each entry filed (one query)."""
    ids = list(set(entry_ids))
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(Objection.entry_id, func.count(Objection.id))
            .where(Objection.entry_id.in_(ids))
            .group_by(Objection.entry_id)
        )
        .tuples()
        .all()
    )


# --- the organiser's cockpit ----------------------------------------------------------------


def active_events() -> list[Event]:
    """The events the organiser is running (not archived), newest first, with their stages."""
    return list(
        db.session.scalars(
            select(Event)
            .options(selectinload(Event.stages))
            .where(Event.status != "archived")
            .order_by(Event.year.desc(), Event.id.desc())
        )
    )


def entry_figures(event_id: int) -> dict[str, int]:
    """Nominated (proposed, all), accepted, submitted (or later) and verified entries of the
    event, in one query."""
    accepted = Entry.nomination_status == "accepted"
    row = db.session.execute(
        select(
            func.count(Entry.id),
            func.count(Entry.id).filter(accepted),
            func.count(Entry.id).filter(
                accepted, Entry.submission_status.in_(("submitted", "verified"))
            ),
            func.count(Entry.id).filter(accepted, Entry.submission_status == "verified"),
        ).where(Entry.event_id == event_id)
    ).one()
    return dict(zip(("nominated", "accepted", "submitted", "verified"), row, strict=True))


def sheet_figures(event_id: int) -> tuple[int, int]:
    """(final sheets, assignments) of the event's stages, in one query."""
    final, assigned = db.session.execute(
        select(
            func.count(ScoreSheet.id).filter(ScoreSheet.status == "final"),
            func.count(Assignment.id),
        )
        .select_from(Assignment)
        .join(Stage, Stage.id == Assignment.stage_id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Stage.event_id == event_id)
    ).one()
    return int(final or 0), int(assigned or 0)


def objection_figures(event_id: int) -> tuple[int, int]:
    """(open, all) objections to the event's provisional results, in one query."""
    open_count, total = db.session.execute(
        select(
            func.count(Objection.id).filter(Objection.status == "open"),
            func.count(Objection.id),
        ).where(Objection.event_id == event_id)
    ).one()
    return int(open_count or 0), int(total or 0)


def judge_visits_between(judge_id: int, start, end) -> list[tuple[Visit, int, str | None]]:
    """The field visits of the judge's teams (assignments not dropped) in events being
    judged, starting from ``start`` to ``end`` (UTC): each with the judge's assignment id
    and sheet status, by time (one query)."""
    rows = db.session.execute(
        select(Visit, Assignment.id, ScoreSheet.status)
        .join(
            Assignment,
            (Assignment.entry_id == Visit.entry_id) & (Assignment.stage_id == Visit.stage_id),
        )
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .join(Stage, Stage.id == Visit.stage_id)
        .join(Event, Event.id == Stage.event_id)
        .where(
            Assignment.judge_id == judge_id,
            Assignment.dropped_at.is_(None),
            Event.status == "judging",
            Stage.kind == "visit",
            Visit.starts_at >= start,
            Visit.starts_at < end,
        )
        .options(
            joinedload(Visit.stage).joinedload(Stage.event),
            joinedload(Visit.entry).joinedload(Entry.kim),
        )
        .order_by(Visit.starts_at, Visit.id)
    ).all()
    return [(visit, assignment_id, status) for visit, assignment_id, status in rows]
