"""Conflicts of interest: declared by a judge on an assigned entry, or recorded by the
organiser. A conflict takes the lock of the judge's sheets for the entry
(:func:`monev.judging.sheets.lock_assignment`) so that no score slips in beside it."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from monev.audit import services as audit
from monev.auth.models import User
from monev.core.errors import ServiceError, require_confirmation
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from monev.judging import queries, versions
from monev.judging.models import Assignment, Conflict, Score, ScoreSheet
from monev.judging.sheets import clean_reason, lock_assignment


def conflict_consequences(assignment: Assignment) -> list[str]:
    """What declaring a conflict with the assignment's entry does, with the number of scores
    the judge already gave it (every stage: a conflict is with the entry)."""
    scored = db.session.scalar(
        select(func.count(Score.id))
        .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .where(
            Assignment.entry_id == assignment.entry_id,
            Assignment.judge_id == assignment.judge_id,
            Score.value.is_not(None),
        )
    )
    lines = [
        _(
            "The entry is withdrawn from you: you will no longer see its evidence and cannot "
            "score it, in any stage."
        )
    ]
    if scored:
        lines.append(
            ngettext(
                "The %(num)d score you already gave it stays stored, but you can no longer "
                "change it; the organiser decides what happens to it.",
                "The %(num)d scores you already gave it stay stored, but you can no longer "
                "change them; the organiser decides what happens to them.",
                scored,
            )
        )
    lines.append(
        _("Only the organiser can undo a declared conflict; they will assign another judge.")
    )
    return lines


def declare_conflict(
    assignment_id: int, judge: User, reason: str | None, *, confirmed: bool
) -> Conflict:
    """A judge declares a conflict of interest with an entry assigned to them, after its
    confirmation step (``confirmed``): the judge cannot undo it. From then on the judge
    cannot score it; the organiser sees it on the board and re-plans."""
    text = clean_reason(reason, required=True)
    assignment = lock_assignment(assignment_id)
    if assignment is None or assignment.judge_id != judge.id:
        raise ServiceError(_("This entry is not assigned to you."), status=404)
    if queries.has_conflict(assignment.entry_id, judge.id):
        raise ServiceError(_("You have already declared a conflict with this entry."), status=409)
    require_confirmation(confirmed)
    conflict = Conflict(
        entry_id=assignment.entry_id,
        judge_id=judge.id,
        source="judge",
        reason=text,
        declared_by_id=judge.id,
    )
    db.session.add(conflict)
    versions.bump_stage(assignment.stage_id, judge.id)
    db.session.flush()
    audit.record(
        "conflict.declared",
        "entry",
        assignment.entry_id,
        {"judge": judge.email, "reason": text, "source": "judge"},
    )
    return conflict


def add_conflict(event: Event, *, judge_id: int, entry_id: int, reason: str | None) -> Conflict:
    text = clean_reason(reason, required=False)
    if queries.event_judge(event.id, judge_id) is None:
        raise ServiceError(_("Choose a judge of this event's panel."), field="judge_id")
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.event_id != event.id:
        raise ServiceError(_("Choose an entry of this event."), field="entry_id")
    if queries.has_conflict(entry_id, judge_id):
        raise ServiceError(_("This conflict is already recorded."), field="entry_id")
    # Serialise with that judge's sheet writes for the entry.
    for (assignment_id,) in db.session.execute(
        select(Assignment.id).where(
            Assignment.entry_id == entry_id, Assignment.judge_id == judge_id
        )
    ):
        lock_assignment(assignment_id)
    conflict = Conflict(entry_id=entry_id, judge_id=judge_id, source="admin", reason=text)
    db.session.add(conflict)
    versions.bump(event.id, judge_id)
    db.session.flush()
    user = db.session.get(User, judge_id)
    audit.record(
        "conflict.recorded",
        "entry",
        entry_id,
        {"judge": user.email, "reason": text, "source": "admin"},
    )
    return conflict


def remove_conflict(event: Event, conflict: Conflict) -> None:
    details = {
        "judge": conflict.judge.email,
        "entry": conflict.entry.code,
        "source": conflict.source,
        "reason": conflict.reason,
    }
    entry_id = conflict.entry_id
    versions.bump(event.id, conflict.judge_id)
    db.session.delete(conflict)
    db.session.flush()
    audit.record("conflict.removed", "entry", entry_id, details)
