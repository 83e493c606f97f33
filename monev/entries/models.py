from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.core.timeutil import utcnow
from monev.directory.models import Kim
from monev.events.models import Category, Event
from monev.extensions import db

if TYPE_CHECKING:
    from monev.auth.models import User

NOMINATION_STATUSES = ("nominated", "accepted", "rejected")


class Entry(db.Model):
    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("event_id", "kim_id", name="uq_entries_event_kim"),
        UniqueConstraint("event_id", "code", name="uq_entries_event_code"),
        CheckConstraint(
            "nomination_status IN ('nominated', 'accepted', 'rejected')", name="nomination_status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kim_id: Mapped[int] = mapped_column(ForeignKey("kims.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # coded id shown to blind judges, e.g. "P-07"
    nomination_status: Mapped[str] = mapped_column(String(12), default="nominated")
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    nomination_note: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship()
    kim: Mapped[Kim] = relationship()
    category: Mapped[Category] = relationship()
    nominated_by: Mapped[User | None] = relationship("User")
