from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events.models import Event, Stage, StageSelection
from monev.extensions import db
from monev.regions.models import District


def all_events() -> list[Event]:
    return list(db.session.scalars(select(Event).order_by(Event.year.desc(), Event.title)))


def get_by_slug(slug: str) -> Event | None:
    return db.session.scalar(
        select(Event)
        .where(Event.slug == slug)
        .options(selectinload(Event.stages), selectinload(Event.categories))
    )


def selection_states(event_id: int) -> dict[int, tuple[int, bool]]:
    """Per stage with a selection rule: (how many categories have one, whether the stage's
    selection is confirmed)."""
    rows = db.session.execute(
        select(StageSelection.stage_id, func.count(), func.count(StageSelection.confirmed_at))
        .join(Stage, Stage.id == StageSelection.stage_id)
        .where(Stage.event_id == event_id)
        .group_by(StageSelection.stage_id)
    )
    return {stage_id: (n, confirmed == n) for stage_id, n, confirmed in rows}


def entry_counts(event_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Entry.nomination_status, func.count())
        .where(Entry.event_id == event_id)
        .group_by(Entry.nomination_status)
    ).all()
    return dict(rows)


def finalists_by_district(event_id: int) -> list[tuple[str, list[Entry]]]:
    """Accepted entries grouped by kabupaten/kota, for the public event page."""

    entries = db.session.scalars(
        select(Entry)
        .join(Kim, Kim.id == Entry.kim_id)
        .join(District, District.id == Kim.district_id)
        .where(Entry.event_id == event_id, Entry.nomination_status == "accepted")
        .options(
            joinedload(Entry.kim).joinedload(Kim.district),
            joinedload(Entry.kim).joinedload(Kim.village),
            joinedload(Entry.category),
        )
        .order_by(District.code, Kim.name)
    )
    grouped: dict[str, list[Entry]] = {}
    for entry in entries:
        grouped.setdefault(entry.kim.district.label, []).append(entry)
    return list(grouped.items())
