"""Reading submissions: a KIM's own entry, the organiser's queue, a district's progress, and
who may read an evidence file. Lists are one query each, whatever their length."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import joinedload

from monev.auth.models import User
from monev.directory.models import Kim
from monev.entries.models import Entry, Evidence
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.regions.models import District
from monev.rubrics.models import Aspect, Criterion


def kim_entry(slug: str, kim_id: int | None) -> Entry | None:
    """The KIM's accepted entry in the event ``slug`` (anyone else's does not exist)."""
    if not kim_id:
        return None
    return db.session.scalar(
        select(Entry)
        .join(Event, Event.id == Entry.event_id)
        .options(
            joinedload(Entry.event),
            joinedload(Entry.kim).joinedload(Kim.village),
            joinedload(Entry.kim).joinedload(Kim.district),
            joinedload(Entry.category),
        )
        .where(
            Event.slug == slug,
            Event.status != "draft",
            Entry.kim_id == kim_id,
            Entry.nomination_status == "accepted",
        )
    )


def kim_entries(kim_id: int | None) -> list[Entry]:
    """The KIM's accepted entries, newest event first (its home page)."""
    if not kim_id:
        return []
    return list(
        db.session.scalars(
            select(Entry)
            .join(Event, Event.id == Entry.event_id)
            .options(joinedload(Entry.event))
            .where(
                Entry.kim_id == kim_id,
                Entry.nomination_status == "accepted",
                Event.status != "draft",
            )
            .order_by(Event.year.desc(), Event.id.desc())
        )
    )


def evidence_criteria(event_id: int) -> list[Criterion]:
    """The event's criteria that ask for evidence, in rubric order (one query)."""
    return list(
        db.session.scalars(
            select(Criterion)
            .join(Stage, Stage.id == Criterion.stage_id)
            .join(Aspect, Aspect.id == Criterion.aspect_id)
            .options(joinedload(Criterion.aspect), joinedload(Criterion.stage))
            .where(Criterion.event_id == event_id, Criterion.evidence != "none")
            .order_by(Stage.position, Stage.id, Aspect.position, Aspect.id, Criterion.position)
        )
    )


def items(entry_id: int) -> list[Evidence]:
    """Every file and link of the entry, oldest first."""
    return list(
        db.session.scalars(
            select(Evidence).where(Evidence.entry_id == entry_id).order_by(Evidence.id)
        )
    )


def items_by_slot(entry_items: list[Evidence]) -> dict[int | None, list[Evidence]]:
    grouped: dict[int | None, list[Evidence]] = {}
    for item in entry_items:
        grouped.setdefault(item.criterion_id, []).append(item)
    return grouped


def readable_evidence(evidence_id: int, user) -> Evidence | None:
    """The evidence if ``user`` may read its file: an admin, the KIM of its entry, or a judge
    assigned to its entry without a conflict of interest on it. Anyone else gets None (the
    file does not exist for them)."""
    from monev.judging.models import Assignment

    item = db.session.get(Evidence, evidence_id)
    if item is None or item.kind != "file":
        return None
    if user.role == "admin":
        return item
    if user.role == "kim":
        entry_kim = db.session.scalar(select(Entry.kim_id).where(Entry.id == item.entry_id))
        return item if user.kim_id and entry_kim == user.kim_id else None
    if user.role == "judge":
        from monev.judging.models import Conflict

        assigned = db.session.scalar(
            select(
                exists().where(Assignment.entry_id == item.entry_id, Assignment.judge_id == user.id)
                & ~exists().where(Conflict.entry_id == item.entry_id, Conflict.judge_id == user.id)
            )
        )
        return item if assigned else None
    return None


def kim_accounts(kim_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == "kim", User.kim_id == kim_id, User.active.is_(True))
            .order_by(User.email)
        )
    )


# --- the organiser's queue and the districts' progress -------------------------------------


@dataclass(frozen=True)
class EntryRow:
    entry: Entry
    files: int
    links: int


def _counts():
    return (
        select(
            Evidence.entry_id.label("entry_id"),
            func.sum(case((Evidence.kind == "file", 1), else_=0)).label("files"),
            func.sum(case((Evidence.kind == "link", 1), else_=0)).label("links"),
        )
        .group_by(Evidence.entry_id)
        .subquery()
    )


def _rows(stmt) -> list[EntryRow]:
    return [EntryRow(entry, int(files or 0), int(links or 0)) for entry, files, links in stmt]


def verification_queue(event_id: int, status: str | None = None) -> list[EntryRow]:
    """Accepted entries of the event with their evidence counts; submitted ones first (oldest
    submission first, the order they are checked in), then by code. One query."""
    counts = _counts()
    order = case((Entry.submission_status == "submitted", 0), else_=1)
    stmt = (
        select(Entry, counts.c.files, counts.c.links)
        .outerjoin(counts, counts.c.entry_id == Entry.id)
        .join(Kim, Kim.id == Entry.kim_id)
        .options(
            joinedload(Entry.kim).joinedload(Kim.district),
            joinedload(Entry.kim).joinedload(Kim.village),
            joinedload(Entry.category),
        )
        .where(Entry.event_id == event_id, Entry.nomination_status == "accepted")
        .order_by(order, Entry.submitted_at, Entry.code)
    )
    if status:
        stmt = stmt.where(Entry.submission_status == status)
    return _rows(db.session.execute(stmt).unique())


def status_counts(event_id: int) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Entry.submission_status, func.count(Entry.id))
            .where(Entry.event_id == event_id, Entry.nomination_status == "accepted")
            .group_by(Entry.submission_status)
        ).all()
    )


def district_progress(event_id: int, district_id: int) -> list[EntryRow]:
    """One district's accepted entries with their evidence counts, by code. One query."""
    counts = _counts()
    stmt = (
        select(Entry, counts.c.files, counts.c.links)
        .outerjoin(counts, counts.c.entry_id == Entry.id)
        .join(Kim, and_(Kim.id == Entry.kim_id, Kim.district_id == district_id))
        .options(joinedload(Entry.kim).joinedload(Kim.village), joinedload(Entry.category))
        .where(Entry.event_id == event_id, Entry.nomination_status == "accepted")
        .order_by(Entry.code)
    )
    return _rows(db.session.execute(stmt).unique())


def queue_entry(event_id: int, entry_id: int) -> Entry | None:
    return db.session.scalar(
        select(Entry)
        .options(
            joinedload(Entry.event),
            joinedload(Entry.kim).joinedload(Kim.district),
            joinedload(Entry.kim).joinedload(Kim.village),
            joinedload(Entry.category),
            joinedload(Entry.verified_by),
        )
        .where(
            Entry.id == entry_id,
            Entry.event_id == event_id,
            Entry.nomination_status == "accepted",
        )
    )


def district_name(district_id: int) -> str | None:
    return db.session.scalar(select(District.name).where(District.id == district_id))
