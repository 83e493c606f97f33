from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monev.auth.models import User
from monev.core.models import CreatedMixin, IdMixin
from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.regions.models import District
from monev.rubrics.models import Criterion

CONFLICT_SOURCES = ("judge", "admin")
SHEET_SOURCES = ("online", "paper")
CHANGE_KINDS = ("score", "final", "reopen")
# What a judge saw of a criterion on a field visit.
VISIT_MARKS = ("observed", "partly", "not_observed")
VISIT_NOTE_MAX = 2000
VISIT_ADDRESS_MAX = 500
VISIT_NAME_MAX = 200


# The longest reason the organiser may give for dropping a sheet.
DROP_REASON_MAX = 2000

# The longest comment a judge may write on a criterion (online, on paper, in a package).
COMMENT_MAX = 4000


class EventJudge(IdMixin, db.Model):
    """A judge's place on an event's panel."""

    __tablename__ = "event_judges"
    __table_args__ = (UniqueConstraint("event_id", "user_id", name="uq_event_judges_event_user"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    home_district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()
    home_district: Mapped[District | None] = relationship()


class PanelMember(IdMixin, db.Model):
    """A judge on one stage's panel. A stage without members is judged by the whole event
    panel (every :class:`EventJudge`)."""

    __tablename__ = "stage_panel_members"
    __table_args__ = (
        UniqueConstraint("stage_id", "judge_id", name="uq_stage_panel_members_stage_judge"),
    )

    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class Conflict(IdMixin, CreatedMixin, db.Model):
    """A judge must not score an entry: declared by the judge or recorded by the organiser."""

    __tablename__ = "conflicts"
    __table_args__ = (
        UniqueConstraint("entry_id", "judge_id", name="uq_conflicts_entry_judge"),
        CheckConstraint("source IN ('judge', 'admin')", name="source"),
    )

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    entry: Mapped[Entry] = relationship()
    judge: Mapped[User] = relationship(foreign_keys=[judge_id])


class Assignment(IdMixin, CreatedMixin, db.Model):
    """A judge is to score an entry in a stage.

    The organiser may *drop* the sheet of an assignment that is not final (``dropped_at``,
    ``dropped_by_id``, ``drop_reason``; see :mod:`monev.judging.drops`): it is then not
    counted, its judge can no longer write it, and the drop is stated in the results and the
    Berita Acara."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint(
            "stage_id", "entry_id", "judge_id", name="uq_assignments_stage_entry_judge"
        ),
        CheckConstraint("(dropped_at IS NULL) = (drop_reason IS NULL)", name="drop_has_reason"),
    )

    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    dropped_at: Mapped[datetime | None]
    dropped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    drop_reason: Mapped[str | None] = mapped_column(Text)

    stage: Mapped[Stage] = relationship()
    entry: Mapped[Entry] = relationship()
    judge: Mapped[User] = relationship(foreign_keys=[judge_id])
    dropped_by: Mapped[User | None] = relationship(foreign_keys=[dropped_by_id])
    sheet: Mapped[ScoreSheet | None] = relationship(
        back_populates="assignment",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class ScoreSheet(IdMixin, db.Model):
    """One judge's scores for one entry in one stage; final sheets are locked.

    ``version`` grows by one with every change, so a tab that saves on top of an older
    version is told instead of overwriting what another tab saved."""

    __tablename__ = "score_sheets"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'final')", name="status"),
        CheckConstraint("source IN ('online', 'paper')", name="source"),
    )

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(10), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(String(10), default="online", server_default="online")
    finalised_at: Mapped[datetime | None]
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime | None]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="sheet")
    scores: Mapped[list[Score]] = relationship(back_populates="sheet", cascade="all, delete-orphan")


class Score(IdMixin, db.Model):
    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("sheet_id", "criterion_id", name="uq_scores_sheet_criterion"),
    )

    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"), index=True)
    value: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None]

    sheet: Mapped[ScoreSheet] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


class ScoreChange(IdMixin, CreatedMixin, db.Model):
    """The trail of a sheet: every saved score (old and new value and comment), every
    finalisation and reopening, with who, when, from where (online or paper) and the sheet
    version it produced. Written only by ``monev.judging.services``; never updated."""

    __tablename__ = "score_changes"
    __table_args__ = (
        CheckConstraint("kind IN ('score', 'final', 'reopen')", name="kind"),
        UniqueConstraint("sheet_id", "version", name="uq_score_changes_sheet_version"),
    )

    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    old_value: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    new_value: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    old_comment: Mapped[str | None] = mapped_column(Text)
    new_comment: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="online")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    actor: Mapped[User | None] = relationship()
    criterion: Mapped[Criterion | None] = relationship()


class SyncKey(IdMixin, CreatedMixin, db.Model):
    """A save sent by a phone that worked offline (``monev.judging.offline``), by the key the
    phone chose for it: a save that arrives again with a key stored here for its sheet is
    acknowledged without being applied twice (a checklist line keeps only its last key, so
    its keys are kept here too). ``version`` is the sheet's version after it."""

    __tablename__ = "sheet_sync_keys"
    __table_args__ = (
        UniqueConstraint("sheet_id", "client_key", name="uq_sheet_sync_keys_sheet_client_key"),
        CheckConstraint("kind IN ('score', 'check')", name="kind"),
    )

    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    client_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))  # a score or a checklist line
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    version: Mapped[int]


class ScheduleSlot(IdMixin, db.Model):
    """When an entry presents in a stage (presentation day), in UTC, and where."""

    __tablename__ = "schedule_slots"
    __table_args__ = (
        UniqueConstraint("stage_id", "entry_id", name="uq_schedule_slots_stage_entry"),
        CheckConstraint("ends_at > starts_at", name="order"),
    )

    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    room: Mapped[str | None] = mapped_column(String(120))

    entry: Mapped[Entry] = relationship()


class JudgingVersion(db.Model):
    """How often an event's judging has changed, counted per judge: what the organiser's
    progress board shows (a sheet written, finalised, reopened, dropped or restored; an
    assignment, conflict or panel change) adds one to ``n`` of the row of the event and the
    judge concerned (``judge_id`` 0: a change that concerns no one judge), in the same
    transaction as the change. See :mod:`monev.judging.versions`.

    One row per judge, not one per event, so that saves of different judges never wait for
    each other's row lock (PostgreSQL) to count their change. The event's version is the sum
    of its rows: it only grows, and every committed change makes it grow. ``judge_id`` has
    no foreign key: a row outlives its judge, so the sum never goes back."""

    __tablename__ = "judging_versions"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    judge_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime]


class Visit(IdMixin, db.Model):
    """A field visit of a visit stage (``Stage.kind == "visit"``) to one entry's KIM: when
    (UTC), where (the address and the map coordinates). The team is the judges assigned to
    the entry in the stage (:class:`Assignment`), so the panel, conflicts and assignments
    work as for any stage."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("stage_id", "entry_id", name="uq_visits_stage_entry"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude"),
    )

    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    address: Mapped[str] = mapped_column(Text)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The KIM's representative confirms the visit on a team judge's phone: a typed name and a
    # drawn signature (a PNG in the storage; None when they confirmed with the keyboard).
    # ``confirmed_at`` is when they confirmed (the phone's clock when it was given offline),
    # ``confirm_received_at`` when the server got it; ``confirm_key`` is the key the phone
    # chose for it, so that the same confirmation sent twice is stored once.
    representative_name: Mapped[str | None] = mapped_column(String(VISIT_NAME_MAX))
    representative_signature_key: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirm_received_at: Mapped[datetime | None]
    confirm_key: Mapped[str | None] = mapped_column(String(64))

    stage: Mapped[Stage] = relationship()
    entry: Mapped[Entry] = relationship()


class VisitCheck(IdMixin, db.Model):
    """One line of a judge's visit checklist, on the judge's own sheet: was the criterion
    observed on site (observed, partly, not observed), with a note.

    ``client_key`` is the key the writer chose for its last save (a phone working offline
    will make one per saved item): a save that comes again with the same key is
    acknowledged without being applied twice. Unique per sheet."""

    __tablename__ = "visit_checks"
    __table_args__ = (
        UniqueConstraint("sheet_id", "criterion_id", name="uq_visit_checks_sheet_criterion"),
        UniqueConstraint("sheet_id", "client_key", name="uq_visit_checks_sheet_client_key"),
        CheckConstraint("mark IN ('observed', 'partly', 'not_observed')", name="mark"),
    )

    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    mark: Mapped[str] = mapped_column(String(15))
    note: Mapped[str | None] = mapped_column(Text)
    client_key: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class VisitPhoto(IdMixin, db.Model):
    """A photo a judge took on a field visit for one criterion, on the judge's own sheet.

    ``taken_at`` is the device's clock (UTC), ``received_at`` the server's. The position
    (latitude, longitude, accuracy in metres) is what the device reported when the photo was
    taken; it lives only here, never in the stored file (re-encoded, its EXIF dropped).
    ``distance_m`` is the distance to the visit's coordinates when both are known, in whole
    metres. ``client_key`` makes a repeated upload (an offline phone's sync) harmless."""

    __tablename__ = "visit_photos"
    __table_args__ = (
        UniqueConstraint("sheet_id", "client_key", name="uq_visit_photos_sheet_client_key"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="position"),
    )

    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(200))
    width: Mapped[int]
    height: Mapped[int]
    bytes: Mapped[int]
    taken_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    accuracy_m: Mapped[int | None]
    distance_m: Mapped[int | None]
    client_key: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    criterion: Mapped[Criterion] = relationship()
