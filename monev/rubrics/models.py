from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.core.models import IdMixin
from monev.events.models import Stage
from monev.extensions import db

EVIDENCE_KINDS = ("none", "file", "link", "either")


class Aspect(IdMixin, db.Model):
    """A group of criteria within a stage (e.g. the ADINDA-P aspect "Akses")."""

    __tablename__ = "aspects"
    __table_args__ = (UniqueConstraint("stage_id", "name", name="uq_aspects_stage_name"),)

    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)

    stage: Mapped[Stage] = relationship()
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="aspect", order_by="Criterion.position", cascade="all, delete-orphan"
    )


# How many photos a criterion of a field visit may require (``Criterion.photos_required``).
PHOTOS_REQUIRED_MAX = 10


class Criterion(IdMixin, db.Model):
    __tablename__ = "criteria"
    __table_args__ = (
        UniqueConstraint("event_id", "key", name="uq_criteria_event_key"),
        UniqueConstraint("stage_id", "name", name="uq_criteria_stage_name"),
        CheckConstraint("weight > 0 AND weight <= 100", name="weight"),
        CheckConstraint("max_score > min_score", name="range"),
        CheckConstraint("step > 0", name="step"),
        CheckConstraint("evidence IN ('none', 'file', 'link', 'either')", name="evidence"),
        CheckConstraint("photos_required BETWEEN 0 AND 10", name="photos_required"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    aspect_id: Mapped[int] = mapped_column(ForeignKey("aspects.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    guidance: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    min_score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    max_score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    step: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    # [{"min": 1, "max": 2, "text": "Belum ada SK"}, ...]
    descriptors: Mapped[list[dict]] = mapped_column(JSON, default=list)
    evidence: Mapped[str] = mapped_column(String(10), default="none")
    evidence_hint: Mapped[str | None] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(default=0)
    # A criterion of a field visit stage may require photos taken on site (0 to 10).
    photos_required: Mapped[int] = mapped_column(default=0, server_default="0")

    aspect: Mapped[Aspect] = relationship(back_populates="criteria")
    stage: Mapped[Stage] = relationship()
