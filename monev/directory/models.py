from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.core.models import IdMixin, TimestampMixin
from monev.extensions import db
from monev.regions.models import District, Kecamatan, Village


class Kim(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "kims"
    __table_args__ = (
        UniqueConstraint("district_id", "name", name="uq_kims_district_name"),
        CheckConstraint("members_count IS NULL OR members_count >= 0", name="members_count"),
    )

    name: Mapped[str] = mapped_column(String(120))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    kecamatan_id: Mapped[int | None] = mapped_column(ForeignKey("kecamatan.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))
    sk_number: Mapped[str | None] = mapped_column(String(120))
    sk_date: Mapped[date | None]
    chair_name: Mapped[str | None] = mapped_column(String(120))
    members_count: Mapped[int | None]
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))
    social_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    # Lower-cased "name desa kecamatan" for search that works the same on both databases.
    search_text: Mapped[str] = mapped_column(String(400), default="", index=True)

    district: Mapped[District] = relationship()
    kecamatan: Mapped[Kecamatan | None] = relationship()
    village: Mapped[Village | None] = relationship()

    def refresh_search_text(self) -> None:
        parts = [self.name]
        if self.village is not None:
            parts.append(self.village.name)
        if self.kecamatan is not None:
            parts.append(self.kecamatan.name)
        if self.chair_name:
            parts.append(self.chair_name)
        self.search_text = " ".join(parts).lower()
