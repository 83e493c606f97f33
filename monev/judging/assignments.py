"""Assignments of judges to entries per stage: by hand, or the planner's plan previewed and
then applied (refused if anything changed in between)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from monev.audit import services as audit
from monev.auth.models import User
from monev.core.errors import ServiceError
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Stage
from monev.extensions import db
from monev.judging import queries, versions
from monev.judging.models import Assignment, EventJudge
from monev.judging.planning import EntryIn, ExistingIn, JudgeIn, Plan, plan_assignments
from monev.judging.sheets import lock_assignment, locked_sheet
from monev.notify import tell


def _judge_in(stage: Stage, judge_id: int) -> EventJudge:
    for member in queries.stage_panel(stage):
        if member.user_id == judge_id:
            return member
    raise ServiceError(_("Choose a judge of this stage's panel."), field="judge_id")


def refuse_until_selected(stage: Stage) -> None:
    """ServiceError (409) while a selection before ``stage`` is not confirmed: who may be
    assigned in it is not decided yet."""
    before = queries.selection_pending(stage)
    if before is not None:
        raise ServiceError(
            _(
                "Nobody can be assigned in %(stage)s yet: the selection after %(before)s "
                "decides who advances. Confirm that selection first.",
                stage=stage.name,
                before=before.name,
            ),
            status=409,
        )


def assign(stage: Stage, *, entry_id: int, judge_id: int) -> Assignment:
    """Assign by hand, under the same rules as the planner."""
    refuse_until_selected(stage)
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.event_id != stage.event_id or entry.nomination_status != "accepted":
        raise ServiceError(_("Choose a finalist entry of this event."), field="entry_id")
    if not standing.is_competing(entry):
        raise ServiceError(
            _(
                "Only an active, submitted entry can be assigned: %(code)s is %(standing)s.",
                code=entry.code,
                standing=standing.standing_of(entry).label,
            ),
            field="entry_id",
            status=409,
        )
    member = _judge_in(stage, judge_id)
    if member.home_district_id is not None and member.home_district_id == entry.kim.district_id:
        raise ServiceError(
            _("This judge comes from the entry's own kabupaten/kota and may not score it."),
            field="judge_id",
        )
    if queries.has_conflict(entry_id, judge_id):
        raise ServiceError(
            _("This judge has a conflict of interest with this entry."), field="judge_id"
        )
    exists = db.session.scalar(
        select(Assignment.id).where(
            Assignment.stage_id == stage.id,
            Assignment.entry_id == entry_id,
            Assignment.judge_id == judge_id,
        )
    )
    if exists is not None:
        raise ServiceError(_("This judge is already assigned to this entry."), field="judge_id")
    assignment = Assignment(stage_id=stage.id, entry_id=entry_id, judge_id=judge_id)
    db.session.add(assignment)
    versions.bump(stage.event_id, judge_id)
    db.session.flush()
    audit.record(
        "assignment.added",
        "assignment",
        assignment.id,
        {"stage": stage.key, "entry": entry.code, "judge": member.user.email, "by": "hand"},
    )
    tell.assigned(member.user, stage, 1, f"a{assignment.id}")
    return assignment


def unassign(assignment_id: int, stage: Stage) -> None:
    assignment = lock_assignment(assignment_id)
    if assignment is None or assignment.stage_id != stage.id:
        raise ServiceError(_("This assignment no longer exists."), status=404)
    sheet = locked_sheet(assignment.id)
    if sheet is not None and sheet.status == "final":
        raise ServiceError(
            _("The sheet is final: reopen it first if this assignment must go."), status=409
        )
    if assignment.dropped_at is not None:
        raise ServiceError(
            _(
                "The sheet of this assignment was dropped with a reason that the results "
                "state: restore it first if the assignment must go."
            ),
            status=409,
        )
    dropped = {}
    if sheet is not None:
        for criterion_id, score in queries.sheet_scores(sheet.id).items():
            dropped[str(criterion_id)] = [score.value, score.comment]
    details = {
        "stage": stage.key,
        "entry": assignment.entry.code,
        "judge": assignment.judge.email,
        "dropped_scores": dropped,
    }
    db.session.delete(assignment)
    versions.bump(stage.event_id, assignment.judge_id)
    db.session.flush()
    audit.record("assignment.removed", "assignment", assignment_id, details)


@dataclass
class StagePlan:
    plan: Plan
    entries: dict[int, Entry] = field(default_factory=dict)
    judges: dict[int, User] = field(default_factory=dict)
    assignment_ids: dict[tuple[int, int], int] = field(default_factory=dict)


def plan_stage(stage: Stage) -> StagePlan:
    """The automatic plan for a stage (nothing is written)."""
    entries = queries.judged_entries(stage.event_id)
    panel = queries.stage_panel(stage)
    assignments = queries.stage_assignments(stage.id)
    scored = queries.scored_assignment_ids(stage.id)
    plan = plan_assignments(
        [EntryIn(e.id, e.kim.district_id) for e in entries],
        [JudgeIn(j.user_id, j.home_district_id) for j in panel],
        stage.judges_per_entry,
        conflicts=queries.conflict_pairs(stage.event_id),
        existing=[ExistingIn(a.entry_id, a.judge_id, a.id in scored) for a in assignments],
    )
    judges = {j.user_id: j.user for j in panel} | {a.judge_id: a.judge for a in assignments}
    entry_map = {e.id: e for e in entries} | {a.entry_id: a.entry for a in assignments}
    return StagePlan(
        plan,
        entry_map,
        judges,
        {(a.entry_id, a.judge_id): a.id for a in assignments},
    )


def apply_plan(stage: Stage, fingerprint: str) -> Plan:
    """Apply the plan that was previewed; if anything changed since, refuse (the admin sees
    the new plan instead)."""
    refuse_until_selected(stage)
    # One planner at a time per stage (SQLite's write lock does this already).
    db.session.scalar(select(Stage.id).where(Stage.id == stage.id).with_for_update(key_share=True))
    current = plan_stage(stage)
    plan = current.plan
    if plan.fingerprint() != fingerprint:
        raise ServiceError(
            _("The assignments changed since this plan was made. Review the new plan."),
            status=409,
        )
    scored = queries.scored_assignment_ids(stage.id)
    for pair in sorted(plan.remove):
        assignment_id = current.assignment_ids[pair]
        if assignment_id in scored:  # pragma: no cover - the planner never releases these
            raise ServiceError(_("A scored assignment cannot be released."), status=409)
        assignment = lock_assignment(assignment_id)
        if assignment is not None:
            db.session.delete(assignment)
    for entry_id, judge_id in sorted(plan.add):
        db.session.add(Assignment(stage_id=stage.id, entry_id=entry_id, judge_id=judge_id))
    if plan.add or plan.remove:
        versions.bump(stage.event_id)
    db.session.flush()
    audit.record(
        "assignments.planned",
        "stage",
        stage.id,
        {
            "stage": stage.key,
            "added": [
                [current.entries[e].code, current.judges[j].email] for e, j in sorted(plan.add)
            ],
            "removed": [
                [current.entries[e].code, current.judges[j].email] for e, j in sorted(plan.remove)
            ],
            "shortfalls": [[current.entries[s.entry_id].code, s.planned] for s in plan.shortfalls],
        },
    )
    added: dict[int, int] = {}
    for _entry_id, judge_id in plan.add:
        added[judge_id] = added.get(judge_id, 0) + 1
    for judge_id, count in sorted(added.items()):
        tell.assigned(current.judges[judge_id], stage, count, f"plan:{fingerprint}")
    return plan
