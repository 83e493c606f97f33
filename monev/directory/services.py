"""Creating and editing KIM records, with the district rule for operators."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from monev.audit import services as audit
from monev.core.access import ADMIN, KIM, OPERATOR
from monev.core.errors import ServiceError
from monev.directory.models import Kim
from monev.extensions import db
from monev.regions import queries as regions
from monev.regions.models import District

FIELDS = (
    "name",
    "sk_number",
    "sk_date",
    "chair_name",
    "members_count",
    "phone",
    "email",
    "website",
    "description",
)


def can_manage(user, kim: Kim) -> bool:
    if user.role == ADMIN:
        return True
    if user.role == OPERATOR:
        return kim.district_id == user.district_id
    if user.role == KIM:
        return kim.id == user.kim_id
    return False


def snapshot(kim: Kim) -> dict:
    data = {field: getattr(kim, field) for field in FIELDS}
    data["district_id"] = kim.district_id
    data["kecamatan"] = kim.kecamatan.name if kim.kecamatan else None
    data["village"] = kim.village.label if kim.village else None
    data["social_links"] = list(kim.social_links or [])
    return data


def _clean(data: dict) -> dict:
    cleaned = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = " ".join(value.split()) if key not in {"description"} else value.strip()
            value = value or None
        cleaned[key] = value
    if cleaned.get("email"):
        cleaned["email"] = cleaned["email"].lower()
    links = data.get("social_links") or ""
    if isinstance(links, str):
        links = [line.strip() for line in links.splitlines() if line.strip()]
    cleaned["social_links"] = links
    return cleaned


def _check_district(user, district_id: int) -> District:
    district = db.session.get(District, district_id) if district_id else None
    if district is None:
        raise ServiceError(_("Choose the kabupaten/kota."), field="district_id")
    if user.role == OPERATOR and district.id != user.district_id:
        raise ServiceError(
            _("You can only manage KIMs of your own kabupaten/kota."),
            field="district_id",
            status=403,
        )
    return district


def _check_unique_name(district_id: int, name: str, exclude_id: int | None = None) -> None:
    stmt = select(Kim.id).where(
        Kim.district_id == district_id, func.lower(Kim.name) == name.lower()
    )
    if exclude_id:
        stmt = stmt.where(Kim.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise ServiceError(
            _("A KIM with this name already exists in this kabupaten/kota."), field="name"
        )


def _apply(kim: Kim, data: dict) -> None:
    for field in FIELDS:
        setattr(kim, field, data.get(field))
    kim.social_links = data["social_links"]
    kecamatan = regions.get_or_create_kecamatan(kim.district_id, data["kecamatan"])
    kim.kecamatan = kecamatan
    kim.village = regions.get_or_create_village(kecamatan, data["village_kind"], data["village"])
    kim.refresh_search_text()


def create_kim(user, data: dict) -> Kim:
    if user.role not in (ADMIN, OPERATOR):
        raise ServiceError(_("Your account cannot add KIMs."), status=403)
    data = _clean(data)
    district = _check_district(user, data.get("district_id"))
    _check_unique_name(district.id, data["name"])
    kim = Kim(district_id=district.id, name=data["name"])
    db.session.add(kim)
    _apply(kim, data)
    db.session.flush()
    audit.record("kim.created", "kim", kim.id, snapshot(kim))
    return kim


def update_kim(user, kim: Kim, data: dict) -> Kim:
    if not can_manage(user, kim):
        raise ServiceError(_("You cannot change this KIM."), status=403)
    data = _clean(data)
    if user.role == ADMIN:
        district = _check_district(user, data.get("district_id"))
        kim.district_id = district.id
    _check_unique_name(kim.district_id, data["name"], exclude_id=kim.id)
    before = snapshot(kim)
    _apply(kim, data)
    db.session.flush()
    changes = audit.diff(before, snapshot(kim))
    if changes:
        audit.record("kim.updated", "kim", kim.id, changes)
    return kim
