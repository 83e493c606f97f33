"""The trust roots the organiser uploads: a signed PDF is "trusted" when its signer's
certificate chains to one of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from monev.core.models import IdMixin
from monev.core.timeutil import utcnow
from monev.extensions import db


class TrustRoot(IdMixin, db.Model):
    __tablename__ = "signing_trust_roots"

    subject: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the DER
    der: Mapped[bytes] = mapped_column(LargeBinary)
    not_after: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
