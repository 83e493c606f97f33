"""Signed copies of the official documents: made once when the admin signs (the SK: when
it is marked final), kept per published version, and served instead of the unsigned render."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monev.core.models import IdMixin
from monev.core.timeutil import utcnow
from monev.extensions import db

KINDS = ("berita-acara", "sk", "rapor")


class SignedDocument(IdMixin, db.Model):
    __tablename__ = "signed_documents"
    __table_args__ = (
        UniqueConstraint("published_id", "kind", "entry_id", name="uq_signed_documents_doc"),
        CheckConstraint("kind IN ('berita-acara', 'sk', 'rapor')", name="kind"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    published_id: Mapped[int] = mapped_column(
        ForeignKey("published_results.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(300))
    signer: Mapped[str] = mapped_column(String(500))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
