from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monev.auth.models import User
from monev.extensions import db
from monev.notify.models import Notification

PAGE = 100


def latest(user: User, limit: int = PAGE) -> list[Notification]:
    """The person's notifications, newest first, with their deliveries (one query each)."""
    return db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .options(selectinload(Notification.deliveries))
        .order_by(Notification.id.desc())
        .limit(limit)
    ).all()


def own(user: User, notification_id: int) -> Notification | None:
    """One notification of ``user``; another person's is None, exactly like a missing one."""
    return db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )
