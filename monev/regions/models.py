from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.core.models import IdMixin
from monev.extensions import db


class Province(IdMixin, db.Model):
    __tablename__ = "provinces"

    code: Mapped[str] = mapped_column(String(2), unique=True)  # Kemendagri, e.g. "64"
    name: Mapped[str] = mapped_column(String(80), unique=True)

    districts: Mapped[list[District]] = relationship(
        back_populates="province", order_by="District.code"
    )


class District(IdMixin, db.Model):
    """A kabupaten or kota."""

    __tablename__ = "districts"
    __table_args__ = (CheckConstraint("kind IN ('kabupaten', 'kota')", name="kind"),)

    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), index=True)
    code: Mapped[str] = mapped_column(String(5), unique=True)  # e.g. "64.04"
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(80))  # without prefix, e.g. "Kutai Timur"

    province: Mapped[Province] = relationship(back_populates="districts")

    @property
    def label(self) -> str:
        return f"{'Kabupaten' if self.kind == 'kabupaten' else 'Kota'} {self.name}"

    @property
    def short_label(self) -> str:
        return f"{'Kab.' if self.kind == 'kabupaten' else 'Kota'} {self.name}"


class Kecamatan(IdMixin, db.Model):
    __tablename__ = "kecamatan"
    __table_args__ = (UniqueConstraint("district_id", "name", name="uq_kecamatan_district_name"),)

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))

    district: Mapped[District] = relationship()


class Village(IdMixin, db.Model):
    """A desa or kelurahan, entered freely under its kecamatan."""

    __tablename__ = "villages"
    __table_args__ = (
        UniqueConstraint("kecamatan_id", "name", name="uq_villages_kecamatan_name"),
        CheckConstraint("kind IN ('desa', 'kelurahan')", name="kind"),
    )

    kecamatan_id: Mapped[int] = mapped_column(ForeignKey("kecamatan.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(80))

    kecamatan: Mapped[Kecamatan] = relationship()

    @property
    def label(self) -> str:
        return f"{'Desa' if self.kind == 'desa' else 'Kelurahan'} {self.name}"
