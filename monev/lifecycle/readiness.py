"""Is the event ready for its next phase? One service computes the checklist of every move.

Each problem is a :class:`Check`: a *block* is refused at the server whatever the form
says; a *warning* needs the organiser's explicit acknowledgement. Both name the page where
the problem is fixed, and carry numbers ("4 dari 5 entri belum mengirim"). The consequences
of the move (what it will do that cannot be undone by a click) are listed beside them, so
the confirmation page can state them before anything happens.

The checks read with a fixed number of aggregate queries, whatever the size of the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, func, select

from monev.core.timeutil import utcnow
from monev.entries import standing
from monev.entries.models import Entry
from monev.entries.workspace.services import format_when
from monev.events import services as event_services
from monev.events.models import Event, Stage, StageSelection
from monev.extensions import db
from monev.judging.models import Assignment, Conflict, PanelMember, ScoreSheet
from monev.results import services as result_services

BLOCK, WARN = "block", "warn"


@dataclass(frozen=True)
class Check:
    code: str  # stable, e.g. "entries_not_submitted": the acknowledgement names it
    level: str  # BLOCK or WARN
    message: str
    endpoint: str | None = None  # where it is fixed
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Readiness:
    target: str
    checks: tuple[Check, ...]
    consequences: tuple[str, ...] = ()

    @property
    def blocks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level == BLOCK)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level == WARN)

    def unacknowledged(self, acknowledged: set[str]) -> tuple[Check, ...]:
        return tuple(c for c in self.warnings if c.code not in acknowledged)


def readiness(event: Event, target: str, now: datetime | None = None) -> Readiness:
    now = now or utcnow()
    slug = {"slug": event.slug}
    checks = [
        Check("structure", BLOCK, problem, "events.detail", slug)
        for problem in event_services.readiness_problems(event, target)
    ]
    consequences: list[str] = []
    if target == "submission":
        _submission(event, checks, consequences, slug)
    elif target == "verification":
        _verification(event, now, checks, consequences, slug)
    elif target == "judging":
        _judging(event, now, checks, consequences, slug)
    elif target == "results":
        _results(event, checks, consequences, slug)
    elif target == "published":
        _publishing(event, checks, slug)
    return Readiness(target, tuple(checks), tuple(consequences))


def _count_by(column, *where) -> dict:
    rows = db.session.execute(select(column, func.count()).where(*where).group_by(column))
    return dict(rows.all())


def _submission(event, checks, consequences, slug) -> None:
    by_status = _count_by(Entry.nomination_status, Entry.event_id == event.id)
    undecided = by_status.get("nominated", 0)
    if undecided:
        checks.append(
            Check(
                "nominations_undecided",
                WARN,
                ngettext(
                    "%(num)d nomination is not decided yet: it cannot submit until accepted.",
                    "%(num)d nominations are not decided yet: they cannot submit until accepted.",
                    undecided,
                ),
                "nominations.admin_index",
                slug,
            )
        )
    accepted = by_status.get("accepted", 0)
    if not accepted:
        checks.append(
            Check(
                "no_finalists",
                BLOCK,
                _("No nomination has been accepted yet."),
                "nominations.admin_index",
                slug,
            )
        )
    consequences.append(
        ngettext(
            "%(num)d finalist can start uploading evidence.",
            "%(num)d finalists can start uploading evidence.",
            accepted,
        )
    )


def _verification(event, now, checks, consequences, slug) -> None:
    counts = _count_by(
        Entry.submission_status,
        Entry.event_id == event.id,
        Entry.nomination_status == "accepted",
        Entry.standing == standing.ACTIVE,
    )
    total = sum(counts.values())
    submitted = counts.get("submitted", 0) + counts.get("verified", 0)
    unsent = counts.get("not_started", 0) + counts.get("in_progress", 0)
    if unsent and not standing.submission_closed(event, now):
        stage = standing.first_stage(event)
        checks.append(
            Check(
                "entries_not_submitted",
                BLOCK,
                _(
                    "%(num)d of %(total)d entries have not submitted and the submission window "
                    "is open until %(when)s: wait until it closes.",
                    num=unsent,
                    total=total,
                    when=format_when(stage.closes_at, event) if stage and stage.closes_at else "-",
                ),
                "verification.queue",
                slug,
            )
        )
    elif unsent:
        consequences.append(
            ngettext(
                "%(num)d entry that never submitted will be marked 'did not submit' and not "
                "judged.",
                "%(num)d entries that never submitted will be marked 'did not submit' and not "
                "judged.",
                unsent,
            )
        )
    if not submitted:
        checks.append(
            Check(
                "nothing_submitted",
                BLOCK,
                _("No entry has been submitted."),
                "verification.queue",
                slug,
            )
        )
    consequences.append(
        ngettext(
            "%(num)d submitted entry goes to verification.",
            "%(num)d submitted entries go to verification.",
            submitted,
        )
    )


def _judged_stages(event: Event) -> tuple[list[Stage], list[Stage]]:
    """The stages whose panel and assignments are due now, and those that wait: every stage
    up to the first one whose selection is not confirmed is due; the stages after it are
    assigned once that selection is confirmed (monev.lifecycle.selection)."""
    stages = sorted(event.stages, key=lambda s: (s.position, s.id))
    pending = {
        stage_id
        for stage_id, confirmed in db.session.execute(
            select(StageSelection.stage_id, StageSelection.confirmed_at).where(
                StageSelection.stage_id.in_([s.id for s in stages])
            )
        )
        if confirmed is None
    }
    for index, stage in enumerate(stages):
        if stage.id in pending:
            return stages[: index + 1], stages[index + 1 :]
    return stages, []


def _selection_checks(event, checks) -> None:
    """A stage with a selection rule whose list is not confirmed blocks the results: the
    later stages' entries are not decided. Each check links to the stage's selection."""
    rows = db.session.execute(
        select(Stage.id, Stage.name)
        .join(StageSelection, StageSelection.stage_id == Stage.id)
        .where(Stage.event_id == event.id, StageSelection.confirmed_at.is_(None))
        .group_by(Stage.id, Stage.name, Stage.position)
        .order_by(Stage.position, Stage.id)
    ).all()
    for stage_id, name in rows:
        checks.append(
            Check(
                f"selection_unconfirmed:{stage_id}",
                BLOCK,
                _(
                    "The selection after %(stage)s is not confirmed: who advances to the next "
                    "stage is not decided yet.",
                    stage=name,
                ),
                "lifecycle.selection_page",
                {"slug": event.slug, "stage_id": stage_id},
            )
        )


def _judging(event, now, checks, consequences, slug) -> None:
    counts = _count_by(
        Entry.submission_status,
        Entry.event_id == event.id,
        Entry.nomination_status == "accepted",
        Entry.standing == standing.ACTIVE,
    )
    unverified = counts.get("submitted", 0)
    if unverified:
        checks.append(
            Check(
                "entries_unverified",
                BLOCK,
                ngettext(
                    "%(num)d submitted entry is not verified yet.",
                    "%(num)d submitted entries are not verified yet.",
                    unverified,
                ),
                "verification.queue",
                slug,
            )
        )
    waiting = db.session.scalar(
        select(func.count()).where(
            Entry.event_id == event.id,
            Entry.standing == standing.ACTIVE,
            Entry.submission_status == "returned",
            Entry.personal_deadline > now,
        )
    )
    if waiting:
        checks.append(
            Check(
                "entries_returned",
                BLOCK,
                ngettext(
                    "%(num)d entry is sent back and may still resubmit before its deadline.",
                    "%(num)d entries are sent back and may still resubmit before their deadline.",
                    waiting,
                ),
                "verification.queue",
                slug,
            )
        )
    competing_ids = select(Entry.id).where(Entry.event_id == event.id, standing.competing())
    n_competing = db.session.scalar(select(func.count()).select_from(competing_ids.subquery()))
    if not n_competing:
        checks.append(
            Check(
                "nothing_to_judge",
                BLOCK,
                _("No entry is verified for judging."),
                "verification.queue",
                slug,
            )
        )
    due, waiting = _judged_stages(event)
    for stage in due:
        _stage_panel_checks(event, stage, competing_ids, n_competing, checks)
    consequences.append(
        ngettext("%(num)d entry will be judged.", "%(num)d entries will be judged.", n_competing)
    )
    if waiting:
        consequences.append(
            _(
                "%(stages)s: judges are assigned once the selection after %(stage)s is confirmed.",
                stages=", ".join(s.name for s in waiting),
                stage=due[-1].name,
            )
        )


def _stage_panel_checks(event, stage, competing_ids, n_competing, checks) -> None:
    args = {"slug": event.slug, "stage_id": stage.id}
    panel = db.session.scalar(
        select(func.count()).select_from(PanelMember).where(PanelMember.stage_id == stage.id)
    )
    if not panel:
        checks.append(
            Check(
                f"no_panel:{stage.id}",
                BLOCK,
                _("Stage %(stage)s has no judges on its panel.", stage=stage.name),
                "judging.index",
                {"slug": event.slug},
            )
        )
        return
    per_entry = (
        select(Assignment.entry_id, func.count().label("n"))
        .where(Assignment.stage_id == stage.id, Assignment.entry_id.in_(competing_ids))
        .group_by(Assignment.entry_id)
        .subquery()
    )
    full = db.session.scalar(
        select(func.count()).select_from(per_entry).where(per_entry.c.n >= stage.judges_per_entry)
    )
    short = n_competing - (full or 0)
    if short:
        checks.append(
            Check(
                f"judges_missing:{stage.id}",
                BLOCK,
                _(
                    "Stage %(stage)s: %(num)d of %(total)d entries do not have their "
                    "%(k)d judges yet.",
                    stage=stage.name,
                    num=short,
                    total=n_competing,
                    k=stage.judges_per_entry,
                ),
                "judging.assignments",
                args,
            )
        )
    conflicted = db.session.scalar(
        select(func.count())
        .select_from(Assignment)
        .join(
            Conflict,
            and_(
                Conflict.entry_id == Assignment.entry_id, Conflict.judge_id == Assignment.judge_id
            ),
        )
        .where(Assignment.stage_id == stage.id)
    )
    if conflicted:
        checks.append(
            Check(
                f"conflicted_assignments:{stage.id}",
                BLOCK,
                ngettext(
                    "Stage %(stage)s: %(num)d assignment gives an entry to a judge who declared "
                    "a conflict.",
                    "Stage %(stage)s: %(num)d assignments give an entry to a judge who declared "
                    "a conflict.",
                    conflicted,
                    stage=stage.name,
                ),
                "judging.assignments",
                args,
            )
        )


def _results(event, checks, consequences, slug) -> None:
    """Every assigned sheet of a competing entry is final, or dropped by the organiser with
    a reason (a dropped sheet is not counted: it is neither open nor part of the total)."""
    _selection_checks(event, checks)
    due, _waiting = _judged_stages(event)
    opened = _after_selections(event, due)
    if opened:
        competing_ids = select(Entry.id).where(Entry.event_id == event.id, standing.competing())
        n_competing = db.session.scalar(select(func.count()).select_from(competing_ids.subquery()))
        for stage in opened:
            _stage_panel_checks(event, stage, competing_ids, n_competing, checks)
    sheets = db.session.execute(
        select(
            func.count(Assignment.id).filter(Assignment.dropped_at.is_(None)),
            func.count(ScoreSheet.id).filter(
                ScoreSheet.status == "final", Assignment.dropped_at.is_(None)
            ),
            func.count(Assignment.id).filter(Assignment.dropped_at.is_not(None)),
        )
        .select_from(Assignment)
        .join(Entry, Entry.id == Assignment.entry_id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Entry.event_id == event.id, standing.competing())
    ).one()
    total, final, dropped = sheets
    if total - final:
        checks.append(
            Check(
                "sheets_not_final",
                BLOCK,
                _(
                    "%(open)d of %(total)d score sheets are not final: judges are still "
                    "working. Moving to results would lock them out.",
                    open=total - final,
                    total=total,
                ),
                "judging.index",
                slug,
            )
        )
    if not total:
        checks.append(
            Check("no_sheets", BLOCK, _("No score sheet has been assigned."), "judging.index", slug)
        )
    consequences.append(
        _(
            "Judges can no longer change any of the %(total)d score sheets; the ranking is "
            "computed from them.",
            total=total,
        )
    )
    if dropped:
        consequences.append(
            ngettext(
                "%(num)d score sheet was dropped by the organisers and is not counted; the "
                "results and the Berita Acara state it with its reason.",
                "%(num)d score sheets were dropped by the organisers and are not counted; the "
                "results and the Berita Acara state them with their reasons.",
                dropped,
            )
        )


def _after_selections(event: Event, due: list[Stage]) -> list[Stage]:
    """Of the stages due now, those after a confirmed selection: their panel and
    assignments were not checked when judging opened (nobody could be assigned yet)."""
    confirmed = set(
        db.session.scalars(
            select(StageSelection.stage_id).where(
                StageSelection.stage_id.in_([s.id for s in due]),
                StageSelection.confirmed_at.is_not(None),
            )
        )
    )
    for index, stage in enumerate(due):
        if stage.id in confirmed:
            return due[index + 1 :]
    return []


def _publishing(event, checks, slug) -> None:
    """The publish service's own refusals, in its words and with where each is fixed: an
    open objection, a sheet neither final nor dropped, a fairness "Check:" not acknowledged
    with a note for the current scores (``fairness_unacknowledged``)."""
    computed = result_services.compute(event)
    for problem in result_services.publish_problems(event, computed):
        checks.append(
            Check(problem.code, BLOCK, problem.message, problem.endpoint, dict(problem.args))
        )
