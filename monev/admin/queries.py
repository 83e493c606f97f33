from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from monev.audit.models import AuditEntry
from monev.auth.models import User
from monev.core.search import contains
from monev.directory.models import Kim
from monev.extensions import db
from monev.regions.models import District


def dashboard_stats() -> dict:
    role_counts = dict(
        db.session.execute(select(User.role, func.count()).group_by(User.role)).all()
    )
    return {
        "kims": db.session.scalar(select(func.count(Kim.id))) or 0,
        "districts_with_kims": db.session.scalar(select(func.count(func.distinct(Kim.district_id))))
        or 0,
        "districts": db.session.scalar(select(func.count(District.id))) or 0,
        "roles": role_counts,
        "pending_invitations": db.session.scalar(
            select(func.count(User.id)).where(User.password_hash.is_(None), User.active.is_(True))
        )
        or 0,
        "audit_rows": db.session.scalar(select(func.count(AuditEntry.id))) or 0,
        "recent": list(
            db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(8))
        ),
    }


def users(q: str = "", role: str = "", limit: int = 500) -> list[User]:
    stmt = (
        select(User)
        .options(selectinload(User.district), selectinload(User.kim))
        .order_by(User.role, User.name)
        .limit(limit)
    )
    if role:
        stmt = stmt.where(User.role == role)
    if q:
        stmt = stmt.where(or_(contains(User.name, q), contains(User.email, q)))
    return list(db.session.scalars(stmt))
