"""Issued certificates and each event's certificate settings.

A certificate keeps a copy of what it says (holder, award, category) so that a later rename
does not change a document already printed. It is never deleted: it is revoked, and a
reissue points the old row at its replacement. At most one live (not revoked) certificate
exists per event, kind and subject (the entry or the judge), enforced by a partial unique
index on ``subject_key``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.core.models import IdMixin
from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db

KINDS = ("winner", "participant", "judge")
DEFAULT_NUMBER_PATTERN = "{seq:03d}/MONEV-KIM/{year}"


class Certificate(IdMixin, db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("event_id", "seq", name="uq_certificates_event_seq"),
        CheckConstraint("kind IN ('winner', 'participant', 'judge')", name="kind"),
        CheckConstraint(
            "(kind = 'judge' AND user_id IS NOT NULL AND entry_id IS NULL)"
            " OR (kind <> 'judge' AND entry_id IS NOT NULL AND user_id IS NULL)",
            name="subject",
        ),
        Index(
            "uq_certificates_live_subject",
            "event_id",
            "kind",
            "subject_key",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # "entry:<id>" or "judge:<user id>": the subject, for the one-live-certificate rule.
    subject_key: Mapped[str] = mapped_column(String(40))
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_detail: Mapped[str | None] = mapped_column(String(300))  # desa, kabupaten
    award: Mapped[str | None] = mapped_column(String(120))
    category_name: Mapped[str | None] = mapped_column(String(120))
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(80), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))

    event: Mapped[Event] = relationship()
    entry: Mapped[Entry | None] = relationship()
    replaced_by: Mapped[Certificate | None] = relationship(remote_side="Certificate.id")

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


class CertificateSettings(IdMixin, db.Model):
    """Wording, colours and signatories of an event's certificates (one row per event)."""

    __tablename__ = "certificate_settings"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    number_pattern: Mapped[str] = mapped_column(String(120), default=DEFAULT_NUMBER_PATTERN)
    place: Mapped[str | None] = mapped_column(String(120))  # where signed, e.g. "Samarinda"
    title: Mapped[str | None] = mapped_column(String(120))  # e.g. "PIAGAM PENGHARGAAN"
    winner_text: Mapped[str | None] = mapped_column(Text)
    participant_text: Mapped[str | None] = mapped_column(Text)
    judge_text: Mapped[str | None] = mapped_column(Text)
    primary_colour: Mapped[str] = mapped_column(String(7), default="#0b4f6c")
    accent_colour: Mapped[str] = mapped_column(String(7), default="#c9a227")
    text_colour: Mapped[str | None] = mapped_column(String(7))  # None: near-black
    # A full-page background image in storage (checked and re-encoded like the logo).
    background_key: Mapped[str | None] = mapped_column(String(300))
    # [{"name": ..., "title": ..., "nip": ..., "signature_key": ...}], left to right; the
    # signature image (optional) is a transparent PNG in storage.
    signatories: Mapped[list[dict]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
