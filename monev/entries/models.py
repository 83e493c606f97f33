from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.auth.models import User
from monev.core.models import CreatedMixin, IdMixin
from monev.directory.models import Kim
from monev.events.models import Category, Event
from monev.extensions import db
from monev.rubrics.models import Criterion

NOMINATION_STATUSES = ("nominated", "accepted", "rejected")
# An accepted entry's submission: nothing yet, being filled in, submitted (read-only), sent
# back by the organiser for fixes (editable until its personal deadline), verified.
SUBMISSION_STATUSES = ("not_started", "in_progress", "submitted", "returned", "verified")
ITEM_KINDS = ("file", "link")
# An entry's standing in the competition (see monev.entries.standing for the rules). Stored
# values; "returned" (sent back, waiting for fixes) is read from the submission status.
STANDINGS = ("active", "no_submission", "eliminated", "withdrawn", "not_selected")


class Entry(IdMixin, CreatedMixin, db.Model):
    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("event_id", "kim_id", name="uq_entries_event_kim"),
        UniqueConstraint("event_id", "code", name="uq_entries_event_code"),
        CheckConstraint(
            "nomination_status IN ('nominated', 'accepted', 'rejected')", name="nomination_status"
        ),
        CheckConstraint(
            "submission_status IN ('not_started', 'in_progress', 'submitted', 'returned', "
            "'verified')",
            name="submission_status",
        ),
        CheckConstraint(
            "standing IN ('active', 'no_submission', 'eliminated', 'withdrawn', 'not_selected')",
            name="standing",
        ),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kim_id: Mapped[int] = mapped_column(ForeignKey("kims.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # coded id shown to blind judges, e.g. "P-07"
    nomination_status: Mapped[str] = mapped_column(String(12), default="nominated")
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    nomination_note: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]

    # Submission (accepted entries only). Times are UTC.
    submission_status: Mapped[str] = mapped_column(
        String(12), default="not_started", server_default="not_started"
    )
    # The entry's own copy of the KIM profile, pre-filled from the directory; None until saved.
    profile: Mapped[dict | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime | None]
    returned_note: Mapped[str | None] = mapped_column(Text)
    returned_at: Mapped[datetime | None]
    personal_deadline: Mapped[datetime | None]  # set when sent back for fixes
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # Standing: set by rule (a deadline passed) or by the organiser with a reason category
    # (public) and a note (private). ``standing_stage_id``: the stage from which it applies
    # (None: from the first stage).
    standing: Mapped[str] = mapped_column(
        String(16), default="active", server_default="active", index=True
    )
    standing_reason: Mapped[str | None] = mapped_column(String(24))
    standing_note: Mapped[str | None] = mapped_column(Text)
    standing_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("stages.id", ondelete="SET NULL")
    )
    standing_changed_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship()
    kim: Mapped[Kim] = relationship()
    category: Mapped[Category] = relationship()
    nominated_by: Mapped[User | None] = relationship("User", foreign_keys=[nominated_by_id])
    verified_by: Mapped[User | None] = relationship("User", foreign_keys=[verified_by_id])


class Evidence(IdMixin, CreatedMixin, db.Model):
    """A file or a link of an entry: for a criterion, or the presentation (criterion NULL).

    Files are stored under a generated ``storage_key`` (never the uploaded name, which is kept
    for display only); ``sha256`` is of the stored bytes and unique within an entry, so the
    same file cannot be added twice.
    """

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("entry_id", "sha256", name="uq_evidence_entry_sha256"),
        CheckConstraint("kind IN ('file', 'link')", name="kind"),
        CheckConstraint(
            "(kind = 'file' AND storage_key IS NOT NULL AND sha256 IS NOT NULL AND url IS NULL)"
            " OR (kind = 'link' AND url IS NOT NULL AND storage_key IS NULL)",
            name="kind_fields",
        ),
        CheckConstraint("size IS NULL OR size >= 0", name="size"),
    )

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    # NULL: the presentation.
    criterion_id: Mapped[int | None] = mapped_column(
        ForeignKey("criteria.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(4))
    storage_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    original_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(1000))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    entry: Mapped[Entry] = relationship()
    criterion: Mapped[Criterion | None] = relationship()

    @property
    def is_image(self) -> bool:
        return (self.content_type or "").startswith("image/")

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"
