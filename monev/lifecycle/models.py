from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.core.timeutil import utcnow
from monev.events.models import Category, Stage
from monev.extensions import db


class StageSelection(db.Model):
    """How one category's entries advance after ``stage``: the rule, then (once confirmed)
    the frozen decisions ``[{"entry_id", "advances", "why", "rank", "total"}]``."""

    __tablename__ = "stage_selections"
    __table_args__ = (
        UniqueConstraint("stage_id", "category_id", name="uq_stage_selections_stage_id"),
        CheckConstraint("kind IN ('top_n', 'pass_mark', 'jury')", name="kind"),
        CheckConstraint("count IS NULL OR count >= 1", name="count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    count: Mapped[int | None]
    min_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    reason: Mapped[str | None] = mapped_column(Text)
    chosen_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    decisions: Mapped[list[dict] | None] = mapped_column(JSON)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    stage: Mapped[Stage] = relationship()
    category: Mapped[Category] = relationship()
