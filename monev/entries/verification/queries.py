"""The organiser's verification queue and the districts' progress."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from monev.directory.models import Kim
from monev.entries.models import Entry, Evidence
from monev.extensions import db
from monev.regions.models import District


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
