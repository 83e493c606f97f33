from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from monev.extensions import db
from monev.regions.models import District, Kecamatan, Province, Village


def districts(province_code: str | None = None) -> list[District]:
    stmt = select(District).options(joinedload(District.province)).order_by(District.code)
    if province_code:
        stmt = stmt.join(Province).where(Province.code == province_code)
    return list(db.session.scalars(stmt))


def district_by_code_or_name(value: str) -> District | None:
    value = (value or "").strip()
    stmt = select(District).where(
        (District.code == value) | (func.lower(District.name) == value.lower())
    )
    return db.session.scalars(stmt).first()


def district_places(district_id: int) -> list[tuple[Kecamatan, list[Village]]]:
    kecamatan = list(
        db.session.scalars(
            select(Kecamatan).where(Kecamatan.district_id == district_id).order_by(Kecamatan.name)
        )
    )
    villages = db.session.scalars(
        select(Village)
        .where(Village.kecamatan_id.in_([k.id for k in kecamatan]))
        .order_by(Village.name)
    )
    by_kec: dict[int, list[Village]] = {k.id: [] for k in kecamatan}
    for village in villages:
        by_kec[village.kecamatan_id].append(village)
    return [(k, by_kec[k.id]) for k in kecamatan]


def get_or_create_kecamatan(district_id: int, name: str) -> Kecamatan:
    name = " ".join(name.split())
    existing = db.session.scalar(
        select(Kecamatan).where(
            Kecamatan.district_id == district_id, func.lower(Kecamatan.name) == name.lower()
        )
    )
    if existing:
        return existing
    kec = Kecamatan(district_id=district_id, name=name)
    db.session.add(kec)
    db.session.flush()
    return kec


def get_or_create_village(kecamatan: Kecamatan, kind: str, name: str) -> Village:
    name = " ".join(name.split())
    existing = db.session.scalar(
        select(Village).where(
            Village.kecamatan_id == kecamatan.id, func.lower(Village.name) == name.lower()
        )
    )
    if existing:
        existing.kind = kind
        return existing
    village = Village(kecamatan_id=kecamatan.id, kind=kind, name=name)
    db.session.add(village)
    db.session.flush()
    return village
