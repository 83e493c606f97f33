"""Reading nominations: per district for operators, per event for the organiser."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from monev.auth.models import User
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events.models import DistrictQuota, Event
from monev.extensions import db
from monev.regions.models import District

# Nominations that take a place in the district's quota: all but the rejected ones.
COUNTED = ("nominated", "accepted")


def quota_for(event_id: int, district_id: int) -> int | None:
    """The district's quota, or None when the organiser has not set one."""
    return db.session.scalar(
        select(DistrictQuota.quota).where(
            DistrictQuota.event_id == event_id, DistrictQuota.district_id == district_id
        )
    )


def used_places(event_id: int, district_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Entry.id))
            .join(Kim, Kim.id == Entry.kim_id)
            .where(
                Entry.event_id == event_id,
                Kim.district_id == district_id,
                Entry.nomination_status.in_(COUNTED),
            )
        )
        or 0
    )


def _with_details(stmt):
    return stmt.options(
        joinedload(Entry.kim).joinedload(Kim.village),
        joinedload(Entry.kim).joinedload(Kim.district),
        joinedload(Entry.category),
    )


def district_entries(event_id: int, district_id: int) -> list[Entry]:
    """One district's nominations for an event, in code order (one query)."""
    stmt = (
        _with_details(select(Entry))
        .join(Kim, Kim.id == Entry.kim_id)
        .where(Entry.event_id == event_id, Kim.district_id == district_id)
        .order_by(Entry.code)
    )
    return list(db.session.scalars(stmt))


def district_entry(event_id: int, district_id: int, entry_id: int) -> Entry | None:
    """An entry of this event and district; another district's entry does not exist here."""
    return db.session.scalar(
        select(Entry)
        .join(Kim, Kim.id == Entry.kim_id)
        .where(Entry.id == entry_id, Entry.event_id == event_id, Kim.district_id == district_id)
    )


def event_entry(event_id: int, entry_id: int) -> Entry | None:
    return db.session.scalar(
        _with_details(select(Entry)).where(Entry.id == entry_id, Entry.event_id == event_id)
    )


def nominable_kims(event_id: int, district_id: int) -> list[Kim]:
    """The district's KIMs not yet nominated for this event."""
    taken = select(Entry.kim_id).where(Entry.event_id == event_id)
    stmt = (
        select(Kim)
        .options(joinedload(Kim.village))
        .where(Kim.district_id == district_id, Kim.id.not_in(taken))
        .order_by(Kim.name)
    )
    return list(db.session.scalars(stmt))


def event_entries(event_id: int, district_id: int | None = None, status: str | None = None):
    """The organiser's list, filtered, ordered by district then code (one query)."""
    stmt = (
        _with_details(select(Entry))
        .options(joinedload(Entry.nominated_by))
        .join(Kim, Kim.id == Entry.kim_id)
        .join(District, District.id == Kim.district_id)
        .where(Entry.event_id == event_id)
        .order_by(District.code, Entry.code)
    )
    if district_id:
        stmt = stmt.where(Kim.district_id == district_id)
    if status:
        stmt = stmt.where(Entry.nomination_status == status)
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class DistrictRow:
    district: District
    quota: int | None
    nominated: int
    accepted: int
    rejected: int

    @property
    def used(self) -> int:
        return self.nominated + self.accepted

    @property
    def over_quota(self) -> bool:
        return self.used > (self.quota or 0)


def district_rows(event_id: int) -> list[DistrictRow]:
    """Every district with a quota or a nomination for the event, with its counts.

    Three queries whatever the number of districts: quotas, counts (one GROUP BY), districts.
    """
    quotas = dict(
        db.session.execute(
            select(DistrictQuota.district_id, DistrictQuota.quota).where(
                DistrictQuota.event_id == event_id
            )
        ).all()
    )
    counts: dict[int, dict[str, int]] = {}
    for district_id, status, n in db.session.execute(
        select(Kim.district_id, Entry.nomination_status, func.count(Entry.id))
        .join(Kim, Kim.id == Entry.kim_id)
        .where(Entry.event_id == event_id)
        .group_by(Kim.district_id, Entry.nomination_status)
    ):
        counts.setdefault(district_id, {})[status] = n
    ids = set(quotas) | set(counts)
    if not ids:
        return []
    districts = db.session.scalars(
        select(District).where(District.id.in_(ids)).order_by(District.code)
    )
    rows = []
    for district in districts:
        c = counts.get(district.id, {})
        rows.append(
            DistrictRow(
                district=district,
                quota=quotas.get(district.id),
                nominated=c.get("nominated", 0),
                accepted=c.get("accepted", 0),
                rejected=c.get("rejected", 0),
            )
        )
    return rows


def quota_values(event_id: int) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(DistrictQuota.district_id, DistrictQuota.quota).where(
                DistrictQuota.event_id == event_id
            )
        ).all()
    )


@dataclass(frozen=True)
class OpenEvent:
    event: Event
    quota: int | None
    used: int


def open_for_district(district_id: int) -> list[OpenEvent]:
    """Events taking nominations, with this district's quota and places used (3 queries)."""
    events = list(
        db.session.scalars(
            select(Event)
            .where(Event.status == "nomination")
            .order_by(Event.year.desc(), Event.title)
        )
    )
    if not events:
        return []
    ids = [e.id for e in events]
    quotas = dict(
        db.session.execute(
            select(DistrictQuota.event_id, DistrictQuota.quota).where(
                DistrictQuota.event_id.in_(ids), DistrictQuota.district_id == district_id
            )
        ).all()
    )
    used = dict(
        db.session.execute(
            select(Entry.event_id, func.count(Entry.id))
            .join(Kim, Kim.id == Entry.kim_id)
            .where(
                Entry.event_id.in_(ids),
                Kim.district_id == district_id,
                Entry.nomination_status.in_(COUNTED),
            )
            .group_by(Entry.event_id)
        ).all()
    )
    return [OpenEvent(e, quotas.get(e.id), used.get(e.id, 0)) for e in events]


def district_operators(district_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == "operator", User.district_id == district_id, User.active.is_(True))
            .order_by(User.email)
        )
    )


def has_kim_account(kim_id: int) -> bool:
    return (
        db.session.scalar(select(User.id).where(User.role == "kim", User.kim_id == kim_id).limit(1))
        is not None
    )
