"""An entry's standing in the competition, and the rules that change it.

DESIGN "The lifecycle is the rule": an accepted entry is ``active`` until one of these:

| standing        | how                                                       | set by       |
|-----------------|-----------------------------------------------------------|--------------|
| no_submission   | the submission window closed and the entry never submitted | rule         |
| returned        | sent back at verification, until its personal deadline    | verification |
| eliminated      | not fixed by its personal deadline                          | rule         |
| eliminated      | disqualified by the organiser, with a reason category       | admin        |
| withdrawn       | withdrawn by its operator, its KIM or the organiser          | person       |
| not_selected    | not selected by a stage's rule for the next stage            | selection    |

Rule changes are true the moment the deadline passes: :func:`standing_of` derives them at
every read, :func:`sweep` records them (with an audit row, once) from the periodic job and
before every phase move. Only :func:`competing` entries may be assigned, scored, ranked or
awarded; the reason *category* of the others is public, the organiser's note never is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from huey import crontab
from sqlalchemy import and_, select

from monev import jobs
from monev.audit import services as audit
from monev.core.database import write_intent
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.notify import tell

ACTIVE, NO_SUBMISSION, RETURNED = "active", "no_submission", "returned"
ELIMINATED, WITHDRAWN, NOT_SELECTED = "eliminated", "withdrawn", "not_selected"
TAKEN_PART = (ACTIVE, NOT_SELECTED)  # ranked with what they earned; the others are not judged

LABELS = {
    ACTIVE: _l("Active"),
    NO_SUBMISSION: _l("Did not submit"),
    RETURNED: _l("Sent back for fixes"),
    ELIMINATED: _l("Eliminated"),
    WITHDRAWN: _l("Withdrawn"),
    NOT_SELECTED: _l("Not selected"),
}
# Reason categories: public wording (never the organiser's private note).
REASONS = {
    "deadline_passed": _l("The submission window closed without a submission."),
    "not_fixed": _l("The requested fixes were not submitted before the deadline."),
    "rule_violation": _l("Disqualified for breaking the competition rules."),
    "false_information": _l("Disqualified for untrue data or evidence."),
    "ineligible": _l("Disqualified for not meeting the entry requirements."),
    "withdrawn": _l("Withdrawn from the competition."),
    "not_selected": _l("Not selected for the next stage."),
}
DISQUALIFY_REASONS = ("rule_violation", "false_information", "ineligible")
NOTE_MAX = 2000


@dataclass(frozen=True)
class Standing:
    code: str
    reason: str | None = None
    stage_id: int | None = None  # from which stage it applies (None: the first)
    stage_name: str | None = None  # that stage's name, for "did not advance to <stage>"

    @property
    def label(self) -> str:
        return str(LABELS[self.code])

    @property
    def reason_text(self) -> str | None:
        if self.code == NOT_SELECTED and self.stage_name:
            return _("Did not advance to the %(stage)s stage.", stage=self.stage_name)
        return str(REASONS[self.reason]) if self.reason in REASONS else None

    @property
    def competing(self) -> bool:
        return self.code == ACTIVE


def first_stage(event: Event) -> Stage | None:
    """The stage whose window is the submission window: the lowest position (then id)."""
    return min(event.stages, key=lambda s: (s.position, s.id), default=None)


def submission_closed(event: Event, now: datetime) -> bool:
    """Has the submission window of ``event`` closed (its time passed, or the phase moved on)?"""
    if event.at_least("verification"):
        return True
    stage = first_stage(event)
    return bool(stage and stage.closes_at and now >= stage.closes_at)


def due_by_rule(entry: Entry, now: datetime) -> Standing | None:
    """The standing a deadline has given ``entry`` that is not recorded yet, if any."""
    if entry.nomination_status != "accepted" or entry.standing != ACTIVE:
        return None
    status = entry.submission_status
    if status in ("not_started", "in_progress") and submission_closed(entry.event, now):
        return Standing(NO_SUBMISSION, "deadline_passed")
    if status == "returned" and entry.personal_deadline and now >= entry.personal_deadline:
        return Standing(ELIMINATED, "not_fixed")
    return None


def standing_of(entry: Entry, now: datetime | None = None) -> Standing:
    """The entry's standing now: what is recorded, or what a passed deadline made it."""
    due = due_by_rule(entry, now or utcnow())
    if due is not None:
        return due
    if entry.standing == ACTIVE and entry.submission_status == "returned":
        return Standing(RETURNED)
    stage_name = None
    if entry.standing == NOT_SELECTED and entry.standing_stage_id is not None:
        stage_name = next(
            (s.name for s in entry.event.stages if s.id == entry.standing_stage_id), None
        )
    return Standing(entry.standing, entry.standing_reason, entry.standing_stage_id, stage_name)


def is_competing(entry: Entry, now: datetime | None = None) -> bool:
    """May ``entry`` be assigned, scored or ranked now (the Python twin of :func:`competing`)?"""
    return (
        entry.nomination_status == "accepted"
        and entry.submission_status in ("submitted", "verified")
        and standing_of(entry, now).code == ACTIVE
    )


def refuse_unless_competing(entry: Entry) -> None:
    """ServiceError (409) naming the entry's standing when it is not in the judging."""
    if not is_competing(entry):
        now = standing_of(entry)
        raise ServiceError(
            _(
                "%(code)s is not judged: %(standing)s.",
                code=entry.code,
                standing=now.label if now.code != ACTIVE else _("not submitted"),
            ),
            status=409,
        )


NOT_JUDGED = (NO_SUBMISSION, ELIMINATED, WITHDRAWN)


def not_judged(entries) -> list[tuple[Entry, Standing]]:
    """The entries (of those given) that take no part in the judging, with their standing:
    the public "tidak dinilai" list shows the reason category, never the private note."""
    pairs = [(entry, standing_of(entry)) for entry in entries]
    return [(entry, now) for entry, now in pairs if now.code in NOT_JUDGED]


def competing():
    """SQL: the entries that may be assigned, scored and ranked now (accepted, submitted in
    time or verified, and still active)."""
    return and_(
        Entry.nomination_status == "accepted",
        Entry.standing == ACTIVE,
        Entry.submission_status.in_(("submitted", "verified")),
    )


def taken_part():
    """SQL: the entries that appear in the ranking (active, or not selected for a later
    stage and keeping what they earned)."""
    return and_(
        Entry.nomination_status == "accepted",
        Entry.standing.in_(TAKEN_PART),
        Entry.submission_status.in_(("submitted", "verified")),
    )


def _record(entry: Entry, new: Standing, *, note: str | None = None, actor=None) -> None:
    old = entry.standing
    entry.standing = new.code
    entry.standing_reason = new.reason
    entry.standing_note = note
    entry.standing_stage_id = new.stage_id
    entry.standing_changed_at = utcnow()
    changes = {"standing": [old, new.code], "reason": new.reason}
    if actor is None:
        changes["by"] = "rule"
    audit.record("entry.standing_changed", "entry", entry.id, changes, actor=actor)
    tell.standing_changed(
        entry,
        new.label,
        new.reason_text,
        f"{new.code}:{entry.standing_changed_at.isoformat()}",
        tell_kim=new.code != NOT_SELECTED,
    )


def sweep(event: Event, now: datetime | None = None) -> list[Entry]:
    """Record the standings that deadlines have given the event's entries; returns the
    entries changed (each changed once: a recorded standing is no longer active)."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(Entry)
        .where(
            Entry.event_id == event.id,
            Entry.nomination_status == "accepted",
            Entry.standing == ACTIVE,
            Entry.submission_status.in_(("not_started", "in_progress", "returned")),
        )
        .order_by(Entry.id)
        .with_for_update()
    ).all()
    changed = []
    for entry in rows:
        due = due_by_rule(entry, now)
        if due is not None:
            _record(entry, due)
            changed.append(entry)
    return changed


def pending_by_rule(event: Event, now: datetime | None = None) -> list[Entry]:
    """The entries a sweep would change now (for the confirmation of a phase move)."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(Entry).where(
            Entry.event_id == event.id,
            Entry.nomination_status == "accepted",
            Entry.standing == ACTIVE,
            Entry.submission_status.in_(("not_started", "in_progress", "returned")),
        )
    ).all()
    return [e for e in rows if due_by_rule(e, now) is not None]


def _clean_note(note: str | None, *, required: bool) -> str | None:
    note = (note or "").strip() or None
    if required and not note:
        raise ServiceError(_("Write the reason: it is kept in the audit log."), field="note")
    if note and len(note) > NOTE_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=NOTE_MAX), field="note")
    return note


def disqualify(actor, entry: Entry, reason: str, note: str | None) -> None:
    """The organiser eliminates ``entry`` with a public reason category and a private note."""
    if reason not in DISQUALIFY_REASONS:
        raise ServiceError(_("Choose the reason."), field="reason")
    note = _clean_note(note, required=True)
    if entry.standing in (ELIMINATED, WITHDRAWN):
        raise ServiceError(_("This entry is no longer in the competition."), status=409)
    _record(entry, Standing(ELIMINATED, reason), note=note, actor=actor)


def withdraw(actor, entry: Entry, note: str | None) -> None:
    """The entry leaves the competition at its own request (KIM, operator or organiser)."""
    note = _clean_note(note, required=False)
    if entry.standing in (ELIMINATED, WITHDRAWN):
        raise ServiceError(_("This entry is no longer in the competition."), status=409)
    if entry.event.at_least("published"):
        raise ServiceError(_("The results of this event are already published."), status=409)
    _record(entry, Standing(WITHDRAWN, "withdrawn"), note=note, actor=actor)


def reinstate(actor, entry: Entry, note: str | None) -> None:
    """The organiser undoes a disqualification or withdrawal (reason required, audited)."""
    note = _clean_note(note, required=True)
    if entry.standing not in (ELIMINATED, WITHDRAWN) or entry.standing_reason == "not_fixed":
        raise ServiceError(
            _("Only a disqualified or withdrawn entry can be reinstated."), status=409
        )
    if entry.event.at_least("published"):
        raise ServiceError(_("The results of this event are already published."), status=409)
    _record(entry, Standing(ACTIVE), note=note, actor=actor)


def not_selected(entry: Entry, next_stage: Stage, actor) -> None:
    """A confirmed selection left ``entry`` out of ``next_stage``."""
    _record(entry, Standing(NOT_SELECTED, "not_selected", next_stage.id), actor=actor)


def selection_undone(entry: Entry, next_stage: Stage, actor, note: str | None = None) -> bool:
    """The selection that left ``entry`` out of ``next_stage`` was undone: it is active
    again. False (nothing changes) when its standing has changed since (disqualified,
    withdrawn, or left out of another stage)."""
    if entry.standing != NOT_SELECTED or entry.standing_stage_id != next_stage.id:
        return False
    _record(entry, Standing(ACTIVE), note=note, actor=actor)
    return True


@jobs.periodic_task(crontab(minute="*"))
def sweep_open_events() -> None:
    """Every minute: record the standings that passed deadlines gave, in every event that
    takes or checks submissions (each in its own transaction)."""
    open_ids = db.session.scalars(
        select(Event.id).where(Event.status.in_(("submission", "verification")))
    ).all()
    db.session.rollback()  # end the read; each event is swept in a write transaction
    for event_id in open_ids:
        with write_intent():
            event = db.session.get(Event, event_id)
            if event is not None:
                sweep(event)
            db.session.commit()
