from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.core.models import IdMixin, TimestampMixin
from monev.core.timeutil import utcnow
from monev.extensions import db

STATUSES = (
    "draft",
    "nomination",
    "submission",
    "verification",
    "judging",
    "results",
    "published",
    "archived",
)
AGGREGATIONS = ("mean", "median", "trimmed")
# What a stage is: judged on score sheets at a desk or a presentation ("standard"), or by a
# team of judges on site at each KIM ("visit", a field visit; see monev.judging.visits).
STAGE_KINDS = ("standard", "visit")
DEFAULT_LADDER = ["Juara I", "Juara II", "Juara III", "Harapan I", "Harapan II", "Harapan III"]


class Event(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'nomination', 'submission', 'verification', 'judging', "
            "'results', 'published', 'archived')",
            name="status",
        ),
        CheckConstraint("aggregation IN ('mean', 'median', 'trimmed')", name="aggregation"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
    )

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int]
    organiser: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    logo_path: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Makassar")
    aggregation: Mapped[str] = mapped_column(String(10), default="mean")
    normalize_judges: Mapped[bool] = mapped_column(Boolean, default=False)
    # Judges see KIM names on their sheets, or only the entries' coded ids (blind judging).
    judges_see_names: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    tie_breaks: Mapped[list[str]] = mapped_column(JSON, default=list)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="event", order_by="Stage.position", cascade="all, delete-orphan"
    )
    categories: Mapped[list[Category]] = relationship(
        back_populates="event", order_by="Category.position", cascade="all, delete-orphan"
    )

    def status_index(self) -> int:
        return STATUSES.index(self.status)

    def at_least(self, status: str) -> bool:
        return self.status_index() >= STATUSES.index(status)


class Stage(IdMixin, db.Model):
    """A judged stage (e.g. Administrasi 40 %, Presentasi 60 %) with its time window."""

    __tablename__ = "stages"
    __table_args__ = (
        UniqueConstraint("event_id", "key", name="uq_stages_event_key"),
        UniqueConstraint("event_id", "name", name="uq_stages_event_name"),
        CheckConstraint("weight >= 0 AND weight <= 100", name="weight"),
        CheckConstraint(
            "closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at", name="window"
        ),
        CheckConstraint("kind IN ('standard', 'visit')", name="kind"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    opens_at: Mapped[datetime | None]  # UTC
    closes_at: Mapped[datetime | None]  # UTC
    judges_per_entry: Mapped[int] = mapped_column(default=3)
    kind: Mapped[str] = mapped_column(String(10), default="standard", server_default="standard")

    event: Mapped[Event] = relationship(back_populates="stages")

    @property
    def is_visit(self) -> bool:
        return self.kind == "visit"


class Category(IdMixin, db.Model):
    """A ranking category (e.g. KIM Desa, KIM Kelurahan) with its award ladder."""

    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("event_id", "key", name="uq_categories_event_key"),
        UniqueConstraint("event_id", "name", name="uq_categories_event_name"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    award_ladder: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_LADDER))
    # [{"min": 85, "label": "Unggul"}, ...], highest first
    score_bands: Mapped[list[dict]] = mapped_column(JSON, default=list)

    event: Mapped[Event] = relationship(back_populates="categories")


class DistrictQuota(IdMixin, db.Model):
    """How many finalists a kabupaten/kota may nominate for an event."""

    __tablename__ = "district_quotas"
    __table_args__ = (
        UniqueConstraint("event_id", "district_id", name="uq_district_quotas_event_district"),
        CheckConstraint("quota >= 0 AND quota <= 100", name="quota"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    quota: Mapped[int]


class StageSelection(db.Model):
    """How one category's entries advance after ``stage`` (a selection between stages, see
    ``monev.lifecycle.selection``): the rule, then (once confirmed) the frozen decisions
    ``[{"entry_id", "code", "advances", "why", "rank", "shared", "total"}]``.

    It lives beside the stages because both judging (the next stage's assignments wait for
    the confirmation) and the lifecycle (the rule, the list, the confirmation) read it."""

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
