"""Judging rules: panels, conflicts of interest, assignments (by hand and planned), score
sheets (autosave, finalise, reopen), reminders and the presentation schedule.

Every write to a sheet takes the same path. It locks the assignment row first (PostgreSQL:
``SELECT … FOR NO KEY UPDATE``, then the sheet row ``FOR UPDATE``; SQLite ignores both, as the
request's ``BEGIN IMMEDIATE`` already holds the database's write lock) and then re-reads,
under that lock, everything that decides whether the change is allowed: the assignment still
exists and is this judge's, no conflict of interest, the event is judging, the stage's window
is open (the clock is read after the lock is granted), the sheet is not final, and the sheet
is at the version the judge last saw. Checks made by the view before the lock only choose
what to show; these are the ones that count.

Each changed score adds one to the sheet's version and one row to ``score_changes`` (old and
new value and comment, who, when, online or paper). Finalising and reopening are also in the
audit log. Services flush; the request commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import delete, select

from monev.audit import services as audit
from monev.auth import services as auth_services
from monev.auth.models import User
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local, to_utc
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import queries
from monev.judging.messages import describe
from monev.judging.models import (
    Assignment,
    Conflict,
    EventJudge,
    PanelMember,
    ScheduleSlot,
    Score,
    ScoreChange,
    ScoreSheet,
)
from monev.judging.numbers import (
    CriterionRule,
    ScoreRefused,
    SheetTotal,
    check_score,
    parse_score,
    sheet_total,
)
from monev.judging.planning import EntryIn, ExistingIn, JudgeIn, Plan, plan_assignments
from monev.mail import services as mail
from monev.regions.models import District
from monev.rubrics.validation import fmt

COMMENT_MAX = 4000
REASON_MAX = 1000


class SheetRefused(ServiceError):
    """Several fields of a sheet were refused; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str], message: str | None = None, status: int = 422):
        super().__init__(
            message or _("Nothing was saved: correct the marked scores."), status=status
        )
        self.errors = errors


def _when(moment: datetime | None, tz: str) -> str:
    local = to_local(moment, tz)
    return f"{local:%d-%m-%Y %H:%M} {tz_label(tz)}" if local else ""


# --- settings -----------------------------------------------------------------------------


def set_judges_see_names(event: Event, see_names: bool) -> None:
    if bool(event.judges_see_names) == bool(see_names):
        return
    event.judges_see_names = bool(see_names)
    audit.record(
        "judging.settings", "event", event.id, {"judges_see_names": [not see_names, see_names]}
    )


# --- panel --------------------------------------------------------------------------------


def _stage_ids(event: Event, stage_ids) -> set[int]:
    valid = {s.id for s in event.stages}
    chosen = {int(s) for s in stage_ids or ()}
    if chosen - valid:
        raise ServiceError(_("Choose stages of this event."), field="stages")
    return chosen


def _set_stages(event: Event, judge_id: int, chosen: set[int]) -> None:
    """Put the judge on exactly the chosen stages' panels. A stage still judged by the whole
    event panel (no members of its own) first gets today's whole panel as members."""
    panel = [j.user_id for j in queries.event_panel(event.id)]
    for stage in event.stages:
        members = set(
            db.session.scalars(select(PanelMember.judge_id).where(PanelMember.stage_id == stage.id))
        )
        if not members:
            for other in panel:
                if other != judge_id:
                    db.session.add(PanelMember(stage_id=stage.id, judge_id=other))
                    members.add(other)
        if stage.id in chosen and judge_id not in members:
            db.session.add(PanelMember(stage_id=stage.id, judge_id=judge_id))
        elif stage.id not in chosen and judge_id in members:
            db.session.execute(
                delete(PanelMember).where(
                    PanelMember.stage_id == stage.id, PanelMember.judge_id == judge_id
                )
            )
    db.session.flush()


def _check_district(district_id) -> int | None:
    if district_id in (None, "", 0):
        return None

    if db.session.get(District, int(district_id)) is None:
        raise ServiceError(_("Choose a kabupaten/kota from the list."), field="home_district_id")
    return int(district_id)


def add_judge(
    event: Event,
    *,
    email: str,
    name: str,
    institution: str | None,
    home_district_id: int | None,
    stage_ids,
) -> EventJudge:
    """Put a judge on the event's panel, inviting them when they have no account yet."""
    chosen = _stage_ids(event, stage_ids)
    home = _check_district(home_district_id)
    user = auth_services.user_by_email(auth_services.normalise_email(email))
    if user is None:
        user = auth_services.invite_user(
            email=email, name=name, role="judge", institution=institution
        )
    elif user.role != "judge":
        raise ServiceError(
            _("This e-mail address belongs to an account that is not a judge."), field="email"
        )
    if queries.event_judge(event.id, user.id) is not None:
        raise ServiceError(_("This judge is already on the panel."), field="email")
    if institution and not user.institution:
        user.institution = institution.strip()
    judge = EventJudge(event_id=event.id, user_id=user.id, home_district_id=home)
    db.session.add(judge)
    db.session.flush()
    _set_stages(event, user.id, chosen)
    audit.record(
        "judge.added",
        "event",
        event.id,
        {"judge": user.email, "home_district_id": home, "stages": sorted(chosen)},
    )
    return judge


def update_judge(event: Event, judge: EventJudge, *, home_district_id, stage_ids) -> None:
    chosen = _stage_ids(event, stage_ids)
    before = {
        "home_district_id": judge.home_district_id,
        "stages": sorted(queries.panel_stages(event).get(judge.user_id, set())),
    }
    judge.home_district_id = _check_district(home_district_id)
    _set_stages(event, judge.user_id, chosen)
    after = {"home_district_id": judge.home_district_id, "stages": sorted(chosen)}
    changes = audit.diff(before, after)
    if changes:
        audit.record("judge.updated", "event", event.id, {"judge": judge.user.email, **changes})


def remove_judge(event: Event, judge: EventJudge) -> None:
    stage_ids = [s.id for s in event.stages]
    assigned = db.session.scalar(
        select(Assignment.id)
        .where(Assignment.judge_id == judge.user_id, Assignment.stage_id.in_(stage_ids))
        .limit(1)
    )
    if assigned is not None:
        raise ServiceError(
            _("This judge still has assignments in this event; remove them first."), status=409
        )
    db.session.execute(
        delete(PanelMember).where(
            PanelMember.judge_id == judge.user_id, PanelMember.stage_id.in_(stage_ids)
        )
    )
    email = judge.user.email
    db.session.delete(judge)
    db.session.flush()
    audit.record("judge.removed", "event", event.id, {"judge": email})


# --- conflicts ----------------------------------------------------------------------------


def _clean_reason(reason: str | None, *, required: bool, field: str = "reason") -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise ServiceError(_("Give a short reason."), field=field)
    if len(text) > REASON_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=REASON_MAX), field=field)
    return text or None


def _lock_assignment(assignment_id: int) -> Assignment | None:
    """The assignment row, locked against other writers of its sheet, freshly read."""
    return db.session.scalar(
        select(Assignment)
        .where(Assignment.id == assignment_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def _locked_sheet(assignment_id: int) -> ScoreSheet | None:
    return db.session.scalar(
        select(ScoreSheet)
        .where(ScoreSheet.assignment_id == assignment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def declare_conflict(assignment_id: int, judge: User, reason: str | None) -> Conflict:
    """A judge declares a conflict of interest with an entry assigned to them. From then on
    the judge cannot score it; the organiser sees it on the board and re-plans."""
    text = _clean_reason(reason, required=True)
    assignment = _lock_assignment(assignment_id)
    if assignment is None or assignment.judge_id != judge.id:
        raise ServiceError(_("This entry is not assigned to you."), status=404)
    if queries.has_conflict(assignment.entry_id, judge.id):
        raise ServiceError(_("You have already declared a conflict with this entry."), status=409)
    conflict = Conflict(
        entry_id=assignment.entry_id,
        judge_id=judge.id,
        source="judge",
        reason=text,
        declared_by_id=judge.id,
    )
    db.session.add(conflict)
    db.session.flush()
    audit.record(
        "conflict.declared",
        "entry",
        assignment.entry_id,
        {"judge": judge.email, "reason": text, "source": "judge"},
    )
    return conflict


def add_conflict(event: Event, *, judge_id: int, entry_id: int, reason: str | None) -> Conflict:
    text = _clean_reason(reason, required=False)
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
        _lock_assignment(assignment_id)
    conflict = Conflict(entry_id=entry_id, judge_id=judge_id, source="admin", reason=text)
    db.session.add(conflict)
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
    db.session.delete(conflict)
    db.session.flush()
    audit.record("conflict.removed", "entry", entry_id, details)


# --- assignments --------------------------------------------------------------------------


def _judge_in(stage: Stage, judge_id: int) -> EventJudge:
    for member in queries.stage_panel(stage):
        if member.user_id == judge_id:
            return member
    raise ServiceError(_("Choose a judge of this stage's panel."), field="judge_id")


def assign(stage: Stage, *, entry_id: int, judge_id: int) -> Assignment:
    """Assign by hand, under the same rules as the planner."""
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.event_id != stage.event_id or entry.nomination_status != "accepted":
        raise ServiceError(_("Choose a finalist entry of this event."), field="entry_id")
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
    db.session.flush()
    audit.record(
        "assignment.added",
        "assignment",
        assignment.id,
        {"stage": stage.key, "entry": entry.code, "judge": member.user.email, "by": "hand"},
    )
    return assignment


def unassign(assignment_id: int, stage: Stage) -> None:
    assignment = _lock_assignment(assignment_id)
    if assignment is None or assignment.stage_id != stage.id:
        raise ServiceError(_("This assignment no longer exists."), status=404)
    sheet = _locked_sheet(assignment.id)
    if sheet is not None and sheet.status == "final":
        raise ServiceError(
            _("The sheet is final: reopen it first if this assignment must go."), status=409
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
        assignment = _lock_assignment(assignment_id)
        if assignment is not None:
            db.session.delete(assignment)
    for entry_id, judge_id in sorted(plan.add):
        db.session.add(Assignment(stage_id=stage.id, entry_id=entry_id, judge_id=judge_id))
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
    return plan


# --- score sheets -------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveResult:
    sheet: ScoreSheet
    changed: int
    total: SheetTotal


def _writable(
    assignment_id: int, judge: User, version: int | None
) -> tuple[Assignment, ScoreSheet | None]:
    """Lock, then check everything again under the lock (see the module's docstring)."""
    assignment = _lock_assignment(assignment_id)
    if assignment is None or assignment.judge_id != judge.id:
        raise ServiceError(_("This entry is not assigned to you; nothing was saved."), status=404)
    status, opens_at, closes_at, tz = db.session.execute(
        select(Event.status, Stage.opens_at, Stage.closes_at, Event.timezone)
        .join(Event, Event.id == Stage.event_id)
        .where(Stage.id == assignment.stage_id)
    ).one()
    if status != "judging":
        raise ServiceError(
            _("Scoring is closed: the event is not in its judging phase. Nothing was saved."),
            status=409,
        )
    now = utcnow()
    if opens_at is not None and now < opens_at:
        raise ServiceError(
            _(
                "Scoring for this stage opens on %(when)s; nothing was saved.",
                when=_when(opens_at, tz),
            ),
            status=409,
        )
    if closes_at is not None and now > closes_at:
        raise ServiceError(
            _(
                "The scoring deadline passed on %(when)s; nothing was saved.",
                when=_when(closes_at, tz),
            ),
            status=409,
        )
    if queries.has_conflict(assignment.entry_id, judge.id):
        raise ServiceError(
            _("You declared a conflict of interest with this entry, so you cannot score it."),
            status=403,
        )
    sheet = _locked_sheet(assignment.id)
    if sheet is not None and sheet.status == "final":
        raise ServiceError(
            _("This sheet is final and locked; only the organiser can reopen it."), status=409
        )
    current = sheet.version if sheet is not None else 0
    if version != current:
        raise ServiceError(
            _(
                "This sheet was changed in another tab or window since this page was loaded, "
                "so nothing was saved here. Reload the page to see the latest scores."
            ),
            status=409,
            field="version",
        )
    return assignment, sheet


def _rules(stage_id: int) -> tuple[list[CriterionRule], dict[int, object]]:
    aspects = queries.stage_criteria(stage_id)
    criteria = {c.id: c for a in aspects for c in a.criteria}
    return queries.criterion_rules(aspects), criteria


def _new_sheet(assignment: Assignment, source: str) -> ScoreSheet:
    sheet = ScoreSheet(assignment_id=assignment.id, status="draft", version=0, source=source)
    db.session.add(sheet)
    db.session.flush()
    return sheet


def _change(sheet: ScoreSheet, scores: dict, criterion_id: int, value, comment, actor, source):
    score = scores.get(criterion_id)
    old_value = score.value if score is not None else None
    old_comment = score.comment if score is not None else None
    if old_value == value and (old_comment or None) == (comment or None):
        return False
    if score is None:
        score = Score(sheet_id=sheet.id, criterion_id=criterion_id)
        db.session.add(score)
        scores[criterion_id] = score
    score.value = value
    score.comment = comment
    score.updated_at = utcnow()
    sheet.version += 1
    if source == "paper":
        sheet.source = "paper"
    db.session.add(
        ScoreChange(
            sheet_id=sheet.id,
            version=sheet.version,
            kind="score",
            criterion_id=criterion_id,
            old_value=old_value,
            new_value=value,
            old_comment=old_comment,
            new_comment=comment,
            source=source,
            actor_id=getattr(actor, "id", None),
        )
    )
    return True


def _clean_comment(comment: str | None, field: str) -> str | None:
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise ScoreRefusedField(field, _("Use at most %(max)d characters.", max=COMMENT_MAX))
    return text or None


class ScoreRefusedField(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _totals(rules, scores) -> SheetTotal:
    return sheet_total(rules, {cid: s.value for cid, s in scores.items()})


def save_score(
    assignment_id: int,
    judge: User,
    *,
    criterion_id: int,
    value: str | None,
    comment: str | None,
    version: int | None,
) -> SaveResult:
    """Autosave of one criterion (value and comment) on the judge's draft sheet."""
    field = f"value-{criterion_id}"
    try:
        parsed = parse_score(value)
    except ScoreRefused as refusal:
        raise ServiceError(describe(refusal), field=field) from None
    try:
        text = _clean_comment(comment, f"comment-{criterion_id}")
    except ScoreRefusedField as refusal:
        raise ServiceError(refusal.message, field=refusal.field) from None
    assignment, sheet = _writable(assignment_id, judge, version)
    rules, criteria = _rules(assignment.stage_id)
    if criterion_id not in criteria:
        raise ServiceError(_("This criterion is not on this sheet."), status=404)
    if parsed is not None:
        rule = next(r for r in rules if r.id == criterion_id)
        try:
            check_score(parsed, rule)
        except ScoreRefused as refusal:
            raise ServiceError(describe(refusal), field=field) from None
    if sheet is None:
        sheet = _new_sheet(assignment, "online")
    scores = queries.sheet_scores(sheet.id)
    changed = _change(sheet, scores, criterion_id, parsed, text, judge, "online")
    db.session.flush()
    return SaveResult(sheet, int(changed), _totals(rules, scores))


def _read_sheet_input(rules, raw: dict[int, tuple[str | None, str | None]]):
    """Parse and check every criterion of a submitted sheet; all problems at once."""
    errors: dict[str, str] = {}
    values: dict[int, tuple[Decimal | None, str | None]] = {}
    by_id = {r.id: r for r in rules}
    for criterion_id, (value, comment) in raw.items():
        rule = by_id.get(criterion_id)
        if rule is None:
            continue
        try:
            parsed = parse_score(value)
            if parsed is not None:
                check_score(parsed, rule)
        except ScoreRefused as refusal:
            errors[f"value-{criterion_id}"] = describe(refusal)
            continue
        try:
            text = _clean_comment(comment, f"comment-{criterion_id}")
        except ScoreRefusedField as refusal:
            errors[refusal.field] = refusal.message
            continue
        values[criterion_id] = (parsed, text)
    return values, errors


def save_sheet(
    assignment_id: int,
    judge: User,
    raw: dict[int, tuple[str | None, str | None]],
    *,
    version: int | None,
    finalise: bool = False,
) -> SaveResult:
    """Save the whole sheet (the form without JavaScript, and the Finalise button): every
    criterion is checked first and nothing is saved if any is refused. ``finalise`` then
    requires every criterion scored and locks the sheet."""
    assignment, sheet = _writable(assignment_id, judge, version)
    rules, _criteria = _rules(assignment.stage_id)
    values, errors = _read_sheet_input(rules, raw)
    if errors:
        raise SheetRefused(errors)
    if sheet is None:
        sheet = _new_sheet(assignment, "online")
    scores = queries.sheet_scores(sheet.id)
    changed = 0
    for criterion_id in sorted(values):
        parsed, text = values[criterion_id]
        changed += _change(sheet, scores, criterion_id, parsed, text, judge, "online")
    totals = _totals(rules, scores)
    if finalise:
        if not totals.complete:
            missing = {
                f"value-{cid}": _("Score this criterion before finalising.")
                for cid in totals.missing
            }
            raise SheetRefused(
                missing,
                _(
                    "Finalise needs a score for every criterion; %(n)d still missing.",
                    n=len(missing),
                ),
            )
        _finalise(sheet, assignment, judge, totals)
    db.session.flush()
    return SaveResult(sheet, changed, totals)


def _finalise(
    sheet: ScoreSheet, assignment: Assignment, actor, totals: SheetTotal, source="online"
):
    now = utcnow()
    sheet.status = "final"
    sheet.finalised_at = now
    sheet.finalised_by_id = getattr(actor, "id", None)
    sheet.version += 1
    db.session.add(
        ScoreChange(
            sheet_id=sheet.id,
            version=sheet.version,
            kind="final",
            source=source,
            actor_id=getattr(actor, "id", None),
        )
    )
    scores = queries.sheet_scores(sheet.id)
    audit.record(
        "sheet.finalised",
        "score_sheet",
        sheet.id,
        {
            "assignment_id": assignment.id,
            "entry_id": assignment.entry_id,
            "judge_id": assignment.judge_id,
            "stage_id": assignment.stage_id,
            "source": source,
            "total": totals.total,
            "scores": {str(cid): s.value for cid, s in sorted(scores.items())},
        },
        actor=actor,
    )


def reopen_sheet(sheet_id: int, event: Event, admin: User, reason: str | None) -> ScoreSheet:
    """Only the organiser reopens a final sheet, with a reason; logged twice (trail, audit)."""
    text = _clean_reason(reason, required=True)
    sheet = queries.admin_sheet(sheet_id, event.id)
    if sheet is None:
        raise ServiceError(_("This score sheet does not exist."), status=404)
    _lock_assignment(sheet.assignment_id)
    sheet = _locked_sheet(sheet.assignment_id)
    if sheet is None or sheet.status != "final":
        raise ServiceError(_("This sheet is not final, so there is nothing to reopen."), status=409)
    now = utcnow()
    sheet.status = "draft"
    sheet.finalised_at = None
    sheet.reopened_at = now
    sheet.reopened_by_id = admin.id
    sheet.reopen_reason = text
    sheet.version += 1
    db.session.add(
        ScoreChange(
            sheet_id=sheet.id,
            version=sheet.version,
            kind="reopen",
            note=text,
            source="online",
            actor_id=admin.id,
        )
    )
    db.session.flush()
    audit.record(
        "sheet.reopened",
        "score_sheet",
        sheet.id,
        {"assignment_id": sheet.assignment_id, "reason": text},
    )
    return sheet


# --- reminders ----------------------------------------------------------------------------


def send_reminders(stage: Stage) -> int:
    """E-mail every judge of the stage with sheets still to finalise; returns how many."""
    event = stage.event
    missing = queries.judges_missing_sheets(stage)
    for judge, entries in missing:
        if not judge.active:
            continue
        mail.send_template(
            judge.email,
            _("Reminder: score sheets to finalise for %(event)s", event=event.title),
            "mail/judging_reminder.txt",
            judge=judge,
            event=event,
            stage=stage,
            labels=[queries.entry_label_for_judges(e, event) for e in entries],
            deadline=_when(stage.closes_at, event.timezone) if stage.closes_at else None,
            link=auth_services.external_url("judge.index"),
        )
    audit.record(
        "judging.reminded",
        "stage",
        stage.id,
        {"judges": sorted(j.email for j, _e in missing if j.active)},
    )
    return sum(1 for j, _e in missing if j.active)


# --- schedule -----------------------------------------------------------------------------


def _check_room(stage: Stage, entry_id: int, starts: datetime, ends: datetime, room) -> None:
    for slot in db.session.scalars(select(ScheduleSlot).where(ScheduleSlot.stage_id == stage.id)):
        if slot.entry_id == entry_id or (slot.room or "") != (room or ""):
            continue
        if slot.starts_at < ends and starts < slot.ends_at:
            raise ServiceError(
                _(
                    "This time overlaps the slot of %(code)s in the same room.",
                    code=slot.entry.code,
                ),
                field="starts_at",
            )


def generate_schedule(
    stage: Stage, *, start: datetime, minutes: int, gap: int, room: str | None
) -> int:
    """Replace the stage's schedule with consecutive slots for every finalist, in code
    order, from ``start`` (the event's local time)."""
    if not (5 <= minutes <= 240) or not (0 <= gap <= 120):
        raise ServiceError(
            _("Use 5 to 240 minutes per slot and 0 to 120 between slots."), field="minutes"
        )
    entries = queries.judged_entries(stage.event_id)
    db.session.execute(delete(ScheduleSlot).where(ScheduleSlot.stage_id == stage.id))
    begin = to_utc(start, stage.event.timezone)
    room = (room or "").strip()[:120] or None
    for i, entry in enumerate(entries):
        starts = begin + timedelta(minutes=i * (minutes + gap))
        db.session.add(
            ScheduleSlot(
                stage_id=stage.id,
                entry_id=entry.id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=minutes),
                room=room,
            )
        )
    db.session.flush()
    audit.record(
        "schedule.generated",
        "stage",
        stage.id,
        {"start": start, "minutes": minutes, "gap": gap, "room": room, "slots": len(entries)},
    )
    return len(entries)


def save_slot(
    stage: Stage, *, entry_id: int, start: datetime | None, minutes: int | None, room: str | None
) -> ScheduleSlot | None:
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.event_id != stage.event_id:
        raise ServiceError(_("Choose an entry of this event."), status=404)
    slot = db.session.scalar(
        select(ScheduleSlot).where(
            ScheduleSlot.stage_id == stage.id, ScheduleSlot.entry_id == entry_id
        )
    )
    if start is None:
        if slot is not None:
            db.session.delete(slot)
            db.session.flush()
            audit.record("schedule.slot_removed", "stage", stage.id, {"entry": entry.code})
        return None
    if not minutes or not (5 <= minutes <= 240):
        raise ServiceError(_("Use 5 to 240 minutes per slot."), field="minutes")
    starts = to_utc(start, stage.event.timezone)
    ends = starts + timedelta(minutes=minutes)
    room = (room or "").strip()[:120] or None
    _check_room(stage, entry_id, starts, ends, room)
    if slot is None:
        slot = ScheduleSlot(stage_id=stage.id, entry_id=entry_id)
        db.session.add(slot)
    slot.starts_at, slot.ends_at, slot.room = starts, ends, room
    db.session.flush()
    audit.record(
        "schedule.slot_saved",
        "stage",
        stage.id,
        {"entry": entry.code, "start": start, "minutes": minutes, "room": room},
    )
    return slot


def fmt_total(total: SheetTotal) -> str:
    return fmt(total.total)
