"""Published results: one frozen, versioned snapshot per publication.

A row is never changed or deleted (the migration installs triggers that refuse it): a
correction (*ralat*) is a new version with its reason, and the old one stays readable.
The public page and the API read only ``snapshot``; they never recompute.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.auth.models import User
from monev.core.models import CreatedMixin, IdMixin
from monev.events.models import Event
from monev.extensions import db


class PublishedResult(IdMixin, CreatedMixin, db.Model):
    __tablename__ = "published_results"
    __table_args__ = (
        UniqueConstraint("event_id", "version", name="uq_published_results_event_version"),
        CheckConstraint("version >= 1", name="version"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    version: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Why this version was published; required for every correction after the first.
    reason: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of every final score (see services.scores_digest), hex.
    digest: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict] = mapped_column(JSON)
    # The fairness checks ("Periksa") the organiser acknowledged before this version, each
    # {"key", "text", "note", "by", "at"}: kept for the organisers, never shown publicly.
    acknowledgements: Mapped[list | None] = mapped_column(JSON, deferred=True)

    event: Mapped[Event] = relationship()
    created_by: Mapped[User | None] = relationship("User")


OBJECTION_STATUSES = ("open", "rejected", "accepted")


class ProvisionalResult(IdMixin, CreatedMixin, db.Model):
    """Provisional results announced to the finalists before publication, with the end of
    the objection window (*masa sanggah*). Frozen like a published version."""

    __tablename__ = "provisional_results"
    __table_args__ = (
        UniqueConstraint("event_id", "version", name="uq_provisional_results_event_version"),
        CheckConstraint("version >= 1", name="version"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    version: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    objections_close_at: Mapped[datetime]  # UTC
    digest: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict] = mapped_column(JSON)


class Objection(IdMixin, CreatedMixin, db.Model):
    """A finalist's objection (*sanggahan*) to provisional results, and its resolution."""

    __tablename__ = "objections"
    __table_args__ = (CheckConstraint("status IN ('open', 'rejected', 'accepted')", name="status"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    provisional_id: Mapped[int] = mapped_column(ForeignKey("provisional_results.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10), default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    reopened_sheets: Mapped[int] = mapped_column(default=0)


class SpecialAward(IdMixin, CreatedMixin, db.Model):
    """A special award (*penghargaan khusus*, e.g. "KIM Terinovatif") given by the jury to
    one entry, with the jury's recorded justification."""

    __tablename__ = "special_awards"
    __table_args__ = (UniqueConstraint("event_id", "title", name="uq_special_awards_event_title"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    justification: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class FairnessAcknowledgement(IdMixin, CreatedMixin, db.Model):
    """The organiser's note on one "Check:" (warning) of the fairness panel, for one set of
    scores: ``key`` names the message (code, stage, judge), ``digest`` the scores it was
    read on (:func:`monev.results.computing.scores_digest`). When the scores change, the
    digest does and the check must be acknowledged again before publishing."""

    __tablename__ = "fairness_acknowledgements"
    __table_args__ = (
        UniqueConstraint(
            "event_id", "key", "digest", name="uq_fairness_acknowledgements_event_key_digest"
        ),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)  # the check as it was shown
    note: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship("User")
