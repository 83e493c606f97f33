"""Score sheets: autosave, whole-sheet save, finalise and reopen, and the one public way to
write scores (:func:`write_scores`), which the paper import uses too.

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
audit log. Every write that changes a sheet also counts one change of the event's judging
(:mod:`monev.judging.versions`, what the progress board is keyed by). Services flush; the
request commits once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from monev.audit import services as audit
from monev.auth.models import User
from monev.core import timezones
from monev.core.errors import ServiceError, require_confirmation
from monev.core.timeutil import utcnow
from monev.entries import standing
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import queries, versions
from monev.judging.messages import describe
from monev.judging.models import COMMENT_MAX, Assignment, Score, ScoreChange, ScoreSheet
from monev.judging.numbers import CriterionRule, ScoreRefused, check_score, parse_score
from monev.notify import tell
from monev.rubrics.validation import fmt
from monev.scoring import SheetTotal, sheet_total

# A field the request did not carry: what is stored stays (never read as "erase").
UNCHANGED: Any = object()
REASON_MAX = 1000
SOURCES = ("online", "paper")


class SheetRefused(ServiceError):
    """Several fields of a sheet were refused; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str], message: str | None = None, status: int = 422):
        super().__init__(
            message or _("Nothing was saved: correct the marked scores."), status=status
        )
        self.errors = errors


def format_moment(moment: datetime | None, tz: str) -> str:
    """A moment in the event's time zone as judges read it: "31 Jul 2026, 17.00 WITA"."""
    return timezones.format_moment(moment, tz) if moment else ""


def clean_reason(reason: str | None, *, required: bool, field: str = "reason") -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise ServiceError(_("Give a short reason."), field=field)
    if len(text) > REASON_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=REASON_MAX), field=field)
    return text or None


# --- locks --------------------------------------------------------------------------------


# The statements of every save, built once (building a statement with its loader options
# and its cache key each time cost more than running it), with the ids bound at each call.


@functools.cache
def _lock_assignment_statement():
    return (
        select(Assignment)
        .where(Assignment.id == bindparam("assignment_id"))
        .options(
            joinedload(Assignment.stage, innerjoin=True).joinedload(Stage.event, innerjoin=True),
            joinedload(Assignment.entry, innerjoin=True),
        )
        .with_for_update(key_share=True, of=Assignment)
        .execution_options(populate_existing=True)
    )


@functools.cache
def _locked_sheet_statement():
    return (
        select(ScoreSheet)
        .where(ScoreSheet.assignment_id == bindparam("assignment_id"))
        .options(joinedload(ScoreSheet.scores))
        .with_for_update(of=ScoreSheet)
        .execution_options(populate_existing=True)
    )


def lock_assignment(assignment_id: int) -> Assignment | None:
    """The assignment row, locked against other writers of its sheet, freshly read, with its
    stage, event and entry read in the same statement (what every writer checks next). Every
    write to a sheet (and a conflict or unassignment touching it) takes this lock first."""
    return db.session.scalar(_lock_assignment_statement(), {"assignment_id": assignment_id})


def locked_sheet(assignment_id: int) -> ScoreSheet | None:
    """The assignment's sheet row (None before its first score), locked and freshly read,
    with its scores (``sheet.scores``, in the same statement); take :func:`lock_assignment`
    first."""
    return (
        db.session.scalars(_locked_sheet_statement(), {"assignment_id": assignment_id})
        .unique()
        .first()
    )


# --- score sheets -------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveResult:
    sheet: ScoreSheet
    changed: int
    total: SheetTotal
    assignment: Assignment  # with its stage and event, as read under the lock


def _writable(
    assignment_id: int, judge: User, version: int | None
) -> tuple[Assignment, ScoreSheet | None]:
    """Lock, then check everything again under the lock (see the module's docstring)."""
    assignment = lock_assignment(assignment_id)
    if assignment is None or assignment.judge_id != judge.id:
        raise ServiceError(_("This entry is not assigned to you; nothing was saved."), status=404)
    stage, event = assignment.stage, assignment.stage.event  # read with the lock
    status, opens_at, closes_at, tz = event.status, stage.opens_at, stage.closes_at, event.timezone
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
                when=format_moment(opens_at, tz),
            ),
            status=409,
        )
    if closes_at is not None and now > closes_at:
        raise ServiceError(
            _(
                "The scoring deadline passed on %(when)s; nothing was saved.",
                when=format_moment(closes_at, tz),
            ),
            status=409,
        )
    if queries.has_conflict(assignment.entry_id, judge.id):
        raise ServiceError(
            _("You declared a conflict of interest with this entry, so you cannot score it."),
            status=403,
        )
    standing.refuse_unless_competing(assignment.entry)
    refuse_if_dropped(assignment)
    sheet = locked_sheet(assignment.id)
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


def closed_reason(assignment: Assignment, now: datetime) -> str | None:
    """Why the judge cannot score this sheet now (the event not judging, the stage's window
    not open, the sheet dropped, the entry no longer judged), or None. What pages show; the
    writes check again under the lock (:func:`_writable`)."""
    stage, event = assignment.stage, assignment.stage.event
    if event.status != "judging":
        return _("Scoring is closed: the event is not in its judging phase.")
    if stage.opens_at and now < stage.opens_at:
        return _(
            "Scoring for this stage opens on %(when)s.",
            when=format_moment(stage.opens_at, event.timezone),
        )
    if stage.closes_at and now > stage.closes_at:
        return _(
            "The scoring deadline passed on %(when)s.",
            when=format_moment(stage.closes_at, event.timezone),
        )
    if assignment.dropped_at is not None:
        return _("This sheet was dropped by the organisers.")
    if not standing.is_competing(assignment.entry):
        return _(
            "This entry is no longer judged: %(standing)s.",
            standing=standing.standing_of(assignment.entry).label,
        )
    return None


def refuse_if_dropped(assignment: Assignment) -> None:
    """A sheet the organiser dropped (:mod:`monev.judging.drops`) takes no more writes."""
    if assignment.dropped_at is not None:
        raise ServiceError(
            _("This sheet was dropped by the organisers; nothing was saved."), status=409
        )


def _rules(stage_id: int) -> list[CriterionRule]:
    """The stage's criteria as scoring rules, in the sheet's order (one query)."""
    return queries.stage_rules(stage_id)


def total_of(rules: list[CriterionRule], scores: Mapping[int, Score]) -> SheetTotal:
    """The sheet's total by the scoring core's one definition (``monev.scoring.sheet_total``)."""
    return sheet_total(rules, {cid: s.value for cid, s in scores.items()})


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    sheet: ScoreSheet
    changed: int  # how many criteria changed (each is one new sheet version)
    scores: dict[int, Score]  # the sheet's scores after the write, by criterion id


def write_scores(
    assignment: Assignment,
    sheet: ScoreSheet | None,
    values: Mapping[int, tuple[Decimal | None, str | None]],
    actor: User | None,
    *,
    source: str = "online",
) -> Written:
    """Write checked scores and comments to an assignment's sheet: the one way scores are
    written, online (autosave, whole sheet) and from paper.

    The caller holds the locks (:func:`lock_assignment`, then :func:`locked_sheet` gave
    ``sheet``, None when the assignment has no sheet yet: it is created, draft, with
    ``source``) and has checked the values (:func:`monev.judging.numbers.read_score`) and
    that the sheet may change. ``values`` maps criterion ids to (value, comment); a value
    of None clears the score. Criteria are written in id order; each that changes adds one
    to the sheet's version and a ``score_changes`` row naming ``actor`` and ``source``; a
    paper write marks the sheet as paper. A value or comment given as :data:`UNCHANGED` keeps
    what is stored (a request that did not carry the field changes nothing of it). A dropped
    sheet is refused whatever the caller checked. Flushes; does not commit."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    refuse_if_dropped(assignment)
    if sheet is None:
        sheet = _new_sheet(assignment, source)
    scores = {score.criterion_id: score for score in sheet.scores}  # read with the sheet
    changed = 0
    for criterion_id in sorted(values):
        value, comment = values[criterion_id]
        changed += _change(sheet, scores, criterion_id, value, comment, actor, source)
    if changed:
        versions.bump_stage(assignment.stage_id, assignment.judge_id)
    db.session.flush()
    return Written(sheet, changed, scores)


def _new_sheet(assignment: Assignment, source: str) -> ScoreSheet:
    sheet = ScoreSheet(assignment_id=assignment.id, status="draft", version=0, source=source)
    db.session.add(sheet)
    db.session.flush()
    return sheet


def _change(sheet: ScoreSheet, scores: dict, criterion_id: int, value, comment, actor, source):
    score = scores.get(criterion_id)
    old_value = score.value if score is not None else None
    old_comment = score.comment if score is not None else None
    value = old_value if value is UNCHANGED else value
    comment = old_comment if comment is UNCHANGED else comment
    if old_value == value and (old_comment or None) == (comment or None):
        return False
    if score is None:
        score = Score(criterion_id=criterion_id)
        sheet.scores.append(score)  # the sheet's collection stays what is stored
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


def finalise_sheet(
    sheet: ScoreSheet,
    assignment: Assignment,
    actor: User | None,
    totals: SheetTotal,
    *,
    confirmed: bool,
    source: str = "online",
) -> None:
    """Lock a complete sheet as final (the caller holds the locks and checked
    ``totals.complete``); one ``score_changes`` row and one audit record with the total.

    Irreversible for the judge, so the caller states that a confirmation step came first:
    the judge ticked :func:`finalise_consequences` online, or the organiser applied the
    paper import after its preview (``confirmed=True``). Refused otherwise."""
    require_confirmation(confirmed)
    now = utcnow()
    sheet.status = "final"
    sheet.finalised_at = now
    sheet.finalised_by_id = getattr(actor, "id", None)
    sheet.version += 1
    versions.bump_stage(assignment.stage_id, assignment.judge_id)
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


# --- online -------------------------------------------------------------------------------


def _clean_comment(comment: str | None, field: str):
    """The comment to store; :data:`UNCHANGED` when the request did not carry the field."""
    if comment is None:
        return UNCHANGED
    text = comment.strip()
    if len(text) > COMMENT_MAX:
        raise ScoreRefusedField(field, _("Use at most %(max)d characters.", max=COMMENT_MAX))
    return text or None


class ScoreRefusedField(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


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
        parsed = UNCHANGED if value is None else parse_score(value)
    except ScoreRefused as refusal:
        raise ServiceError(describe(refusal), field=field) from None
    try:
        text = _clean_comment(comment, f"comment-{criterion_id}")
    except ScoreRefusedField as refusal:
        raise ServiceError(refusal.message, field=refusal.field) from None
    assignment, sheet = _writable(assignment_id, judge, version)
    rules = _rules(assignment.stage_id)
    rule = next((r for r in rules if r.id == criterion_id), None)
    if rule is None:
        raise ServiceError(_("This criterion is not on this sheet."), status=404)
    if parsed is not None and parsed is not UNCHANGED:
        try:
            check_score(parsed, rule)
        except ScoreRefused as refusal:
            raise ServiceError(describe(refusal), field=field) from None
    written = write_scores(assignment, sheet, {criterion_id: (parsed, text)}, judge)
    return SaveResult(written.sheet, written.changed, total_of(rules, written.scores), assignment)


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
            parsed = UNCHANGED if value is None else parse_score(value)
            if parsed is not None and parsed is not UNCHANGED:
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
    confirmed: bool = False,
) -> SaveResult:
    """Save the whole sheet (the form without JavaScript, and the Finalise button): every
    criterion is checked first and nothing is saved if any is refused. ``finalise`` then
    requires the confirmation step (``confirmed``) and every criterion scored, and locks the
    sheet."""
    assignment, sheet = _writable(assignment_id, judge, version)
    if finalise:
        require_confirmation(confirmed)
    rules = _rules(assignment.stage_id)
    values, errors = _read_sheet_input(rules, raw)
    if errors:
        raise SheetRefused(errors)
    written = write_scores(assignment, sheet, values, judge)
    sheet = written.sheet
    totals = total_of(rules, written.scores)
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
        refuse_missing_photos(assignment, sheet)
        finalise_sheet(sheet, assignment, judge, totals, confirmed=confirmed)
    db.session.flush()
    return SaveResult(sheet, written.changed, totals, assignment)


def missing_photos_text(missing: list[queries.MissingPhotos]) -> str:
    """ "Akses informasi: 1 of 2 photos; Produksi konten: 0 of 1 photos"."""
    return "; ".join(
        _("%(name)s: %(have)d photo(s) (%(need)d required)", name=m.name, have=m.have, need=m.need)
        for m in missing
    )


def refuse_missing_photos(assignment: Assignment, sheet: ScoreSheet) -> None:
    """A field visit's sheet is final only with the photos its criteria require."""
    if assignment.stage.kind != "visit":
        return
    missing = queries.missing_photos(assignment.stage_id, sheet.id)
    if missing:
        raise SheetRefused(
            {
                f"photos-{m.criterion_id}": _(
                    "%(have)d photo(s) (%(need)d required).", have=m.have, need=m.need
                )
                for m in missing
            },
            _(
                "Finalise needs the photos the visit requires; missing: %(list)s.",
                list=missing_photos_text(missing),
            ),
        )


def finalise_consequences(totals: SheetTotal, scores: Mapping[int, Score]) -> list[str]:
    """What finalising a sheet does, with its numbers (the sheet as stored): the total, the
    criteria scored and those without a comment, and the lock."""
    commented = sum(1 for score in scores.values() if score.comment)
    without = max(totals.criteria - commented, 0)
    return [
        _("Final score: %(total)s of 100.", total=format_decimal(totals.total, "#,##0.00")),
        ngettext("%(num)d criterion scored.", "%(num)d criteria scored.", totals.scored),
        ngettext(
            "%(num)d criterion without a comment.",
            "%(num)d criteria without a comment.",
            without,
        )
        if without
        else _("Every criterion has a comment."),
        _(
            "Once final, the sheet is locked: you can no longer change it, and only the "
            "organiser can reopen it."
        ),
    ]


def reopen_sheet(sheet_id: int, event: Event, admin: User, reason: str | None) -> ScoreSheet:
    """Only the organiser reopens a final sheet, with a reason; logged twice (trail, audit)."""
    text = clean_reason(reason, required=True)
    sheet = queries.admin_sheet(sheet_id, event.id)
    if sheet is None:
        raise ServiceError(_("This score sheet does not exist."), status=404)
    lock_assignment(sheet.assignment_id)
    sheet = locked_sheet(sheet.assignment_id)
    if sheet is None or sheet.status != "final":
        raise ServiceError(_("This sheet is not final, so there is nothing to reopen."), status=409)
    # A sheet of an entry no longer judged (not selected, eliminated…) could never be saved
    # again, and its draft would block the results: it stays as it was finalised.
    standing.refuse_unless_competing(sheet.assignment.entry)
    now = utcnow()
    sheet.status = "draft"
    sheet.finalised_at = None
    sheet.reopened_at = now
    sheet.reopened_by_id = admin.id
    sheet.reopen_reason = text
    sheet.version += 1
    versions.bump_stage(sheet.assignment.stage_id, sheet.assignment.judge_id)
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
    assignment = sheet.assignment
    tell.sheet_reopened(
        assignment.judge,
        assignment.stage,
        queries.entry_label_for_judges(assignment.entry, event),
        text,
        f"{sheet.id}:{sheet.version}",
    )
    return sheet


def fmt_total(total: SheetTotal) -> str:
    return fmt(total.total)
