"""Dropping a score sheet that is not final, with a reason (issue 12, "Transitions with
preconditions").

Results wait until every assigned sheet of a competing entry is final. When a judge cannot
finish (illness, a conflict found late, a sheet that will never come), the organiser may
*drop* that sheet instead, with a reason of at most :data:`DROP_REASON_MAX` characters:

- only an admin, only while the event is judging, only a sheet that is not final (a draft or
  one never started) of an entry that still competes;
- the drop is recorded on the assignment (who, when, why) and in the audit log
  (``sheet.dropped``); the judge is told once (``monev.notify``: in the app, and by e-mail
  or WhatsApp as they chose) after the change commits;
- from then on the judge can no longer write the sheet (:func:`monev.judging.sheets.
  write_scores` refuses), it leaves the judge's to-do, the progress board's missing count,
  reminders and the readiness check for results; the results, the Berita Acara and the
  fairness panel state it;
- while the event is still judging it can be undone (:func:`restore_sheet`, audited as
  ``sheet.restored``): the judge finds the sheet as they left it.

Services flush; the request commits once. The actor is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from monev.audit import services as audit
from monev.core.errors import ServiceError, require_confirmation
from monev.core.timeutil import utcnow
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import queries, versions
from monev.judging.models import DROP_REASON_MAX, Assignment, Score, ScoreSheet
from monev.judging.sheets import lock_assignment, locked_sheet
from monev.notify import tell

ADMIN = "admin"


@dataclass(frozen=True)
class DropPreview:
    """What dropping one sheet would do, with numbers, or why it cannot be dropped."""

    assignment: Assignment
    state: str  # "draft" (scores saved) or "empty" (never started)
    scored: int  # criteria with a value on the draft
    criteria: int  # criteria of the stage
    assigned: int  # judges assigned to the entry in this stage
    counted: int  # of them, whose sheets still count (not dropped), this one included
    problem: str | None  # why it cannot be dropped; None: it can

    @property
    def counted_after(self) -> int:
        return self.counted - 1


def assignment_of(event: Event, assignment_id: int) -> Assignment | None:
    """The assignment ``assignment_id`` if it belongs to a stage of ``event``, with its stage,
    entry, judge and sheet."""
    return db.session.scalar(
        select(Assignment)
        .join(Stage, Stage.id == Assignment.stage_id)
        .where(Assignment.id == assignment_id, Stage.event_id == event.id)
        .options(
            joinedload(Assignment.stage),
            joinedload(Assignment.entry).joinedload(Entry.kim),
            joinedload(Assignment.judge),
            joinedload(Assignment.sheet),
            joinedload(Assignment.dropped_by),
        )
    )


def _problem(event: Event, assignment: Assignment, sheet: ScoreSheet | None) -> str | None:
    if event.status != "judging":
        return _("A sheet can be dropped only while the event is in its judging phase.")
    if assignment.dropped_at is not None:
        return _("This sheet is already dropped.")
    if sheet is not None and sheet.status == "final":
        return _("This sheet is final and counts: only a sheet that is not final can be dropped.")
    if not standing.is_competing(assignment.entry):
        return _(
            "%(code)s is no longer judged (%(standing)s): its sheets do not count anyway.",
            code=assignment.entry.code,
            standing=standing.standing_of(assignment.entry).label,
        )
    return None


def preview(event: Event, assignment: Assignment) -> DropPreview:
    """The confirmation step's numbers: nothing changes."""
    sheet = assignment.sheet
    scored = 0
    if sheet is not None:
        scored = db.session.scalar(
            select(func.count(Score.id)).where(Score.sheet_id == sheet.id, Score.value.is_not(None))
        )
    criteria = sum(len(a.criteria) for a in queries.stage_criteria(assignment.stage_id))
    assigned, counted = db.session.execute(
        select(
            func.count(Assignment.id),
            func.count(Assignment.id).filter(Assignment.dropped_at.is_(None)),
        ).where(
            Assignment.stage_id == assignment.stage_id,
            Assignment.entry_id == assignment.entry_id,
        )
    ).one()
    return DropPreview(
        assignment=assignment,
        state="draft" if scored else "empty",
        scored=scored,
        criteria=criteria,
        assigned=assigned,
        counted=counted,
        problem=_problem(event, assignment, sheet),
    )


def clean_drop_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ServiceError(
            _("Give the reason for dropping this sheet: it is stated in the results."),
            field="reason",
        )
    if len(text) > DROP_REASON_MAX:
        raise ServiceError(
            _("Use at most %(max)d characters.", max=DROP_REASON_MAX), field="reason"
        )
    return text


def _refuse_unless_admin(actor) -> None:
    if getattr(actor, "role", None) != ADMIN:
        raise ServiceError(_("Only the organiser can drop or restore a sheet."), status=403)


def drop_sheet(
    event: Event, assignment_id: int, actor, reason: str | None, *, confirmed: bool
) -> Assignment:
    """Drop the sheet of ``assignment_id`` (a stage of ``event``) with ``reason``, after the
    confirmation step; or refuse with the reason why not."""
    _refuse_unless_admin(actor)
    if assignment_of(event, assignment_id) is None:
        raise ServiceError(_("This assignment does not exist."), status=404)
    assignment = lock_assignment(assignment_id)  # the judge's writes wait for this
    sheet = locked_sheet(assignment_id)
    problem = _problem(event, assignment, sheet)
    if problem:
        raise ServiceError(problem, status=409)
    text = clean_drop_reason(reason)
    require_confirmation(confirmed)
    before = preview(event, assignment)
    assignment.dropped_at = utcnow()
    assignment.dropped_by_id = actor.id
    assignment.drop_reason = text
    versions.bump(event.id, assignment.judge_id)
    db.session.flush()
    logged = audit.record(
        "sheet.dropped",
        "assignment",
        assignment.id,
        {
            "stage": assignment.stage.key,
            "entry": assignment.entry.code,
            "judge": assignment.judge.email,
            "sheet": before.state,
            "scored": before.scored,
            "reason": text,
            "judges_counted": before.counted_after,
            "judges_assigned": before.assigned,
        },
        actor=actor,
    )
    _tell_judge(event, assignment, logged, dropped=True)
    return assignment


def restore_sheet(event: Event, assignment_id: int, actor) -> Assignment:
    """Undo a drop while the event is still judging: the judge finds the sheet as it was."""
    _refuse_unless_admin(actor)
    if assignment_of(event, assignment_id) is None:
        raise ServiceError(_("This assignment does not exist."), status=404)
    assignment = lock_assignment(assignment_id)
    if assignment.dropped_at is None:
        raise ServiceError(_("This sheet is not dropped."), status=409)
    if event.status != "judging":
        raise ServiceError(
            _("A dropped sheet can be restored only while the event is in its judging phase."),
            status=409,
        )
    reason = assignment.drop_reason
    assignment.dropped_at = None
    assignment.dropped_by_id = None
    assignment.drop_reason = None
    versions.bump(event.id, assignment.judge_id)
    db.session.flush()
    logged = audit.record(
        "sheet.restored",
        "assignment",
        assignment.id,
        {
            "stage": assignment.stage.key,
            "entry": assignment.entry.code,
            "judge": assignment.judge.email,
            "reason_was": reason,
        },
        actor=actor,
    )
    _tell_judge(event, assignment, logged, dropped=False)
    return assignment


def _tell_judge(event: Event, assignment: Assignment, logged, *, dropped: bool) -> None:
    """The judge learns of it once (in the app, and by e-mail or WhatsApp as they chose),
    after the change commits."""
    tell.sheet_dropped(
        assignment.judge,
        assignment.stage,
        queries.entry_label_for_judges(assignment.entry, event),
        assignment.drop_reason,
        f"{assignment.id}:{logged.seq}",
        dropped=dropped,
    )
