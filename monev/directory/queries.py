from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from monev.core.search import contains
from monev.directory.models import Kim
from monev.extensions import db
from monev.regions.models import District, Province

PAGE_SIZE = 50


@dataclass(frozen=True)
class KimPage:
    items: list[Kim]
    total: int
    page: int
    pages: int


def _with_places(stmt):
    return stmt.options(
        joinedload(Kim.district), joinedload(Kim.kecamatan), joinedload(Kim.village)
    )


def search_kims(q: str = "", district_id: int | None = None, page: int = 1) -> KimPage:
    """One page of KIMs; two queries whatever the page size (count + rows)."""
    conditions = []
    if district_id:
        conditions.append(Kim.district_id == district_id)
    if q:
        conditions.append(contains(Kim.search_text, q))
    total = db.session.scalar(select(func.count(Kim.id)).where(*conditions)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    stmt = (
        _with_places(select(Kim))
        .join(District, District.id == Kim.district_id)
        .where(*conditions)
        .order_by(District.code, Kim.name)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return KimPage(list(db.session.scalars(stmt)), total, page, pages)


def all_kims() -> list[Kim]:
    stmt = select(Kim).options(joinedload(Kim.district)).order_by(Kim.name)
    return list(db.session.scalars(stmt))


def get_kim(kim_id: int) -> Kim | None:
    return db.session.scalar(_with_places(select(Kim)).where(Kim.id == kim_id))


def district_summary(district_id: int) -> dict:
    kims = list(
        db.session.scalars(
            _with_places(select(Kim)).where(Kim.district_id == district_id).order_by(Kim.name)
        )
    )
    district = db.session.get(District, district_id)
    return {"district": district, "kims": kims}


def provinces_with_counts() -> list[tuple[Province, list[tuple[District, int]]]]:
    """Every province with its districts and the number of KIMs in each (two queries)."""
    counts = dict(
        db.session.execute(select(Kim.district_id, func.count()).group_by(Kim.district_id)).all()
    )
    provinces = db.session.scalars(
        select(Province).options(selectinload(Province.districts)).order_by(Province.code)
    )
    return [(p, [(d, counts.get(d.id, 0)) for d in p.districts]) for p in provinces]
