"""Selection between stages: who of each category advances to the next stage.

A stage may end with a rule per category (:class:`~monev.events.models.StageSelection`):
the top N, a pass mark (the Komisi Informasi practice: 60), or the jury's choice with its
recorded reason. Then, once every sheet of the stage is final:

1. :func:`provisional` ranks each category over the stages up to and including this one
   (their weights rescaled to 100, through the results computing and the scoring engine,
   never a second ranking) and applies the rule (:func:`monev.scoring.selection.select`):
   each entry with its rank, total, decision and why. A tie the event's tie-break rules
   cannot break at the cut line advances every entry sharing the rank, and the list says so.
2. :func:`confirm` freezes those decisions into the rows, marks every entry that does not
   advance ``not_selected`` for the next stage (it keeps what it earned, is listed after the
   finalists and is never assigned, ranked or awarded again) and opens the next stage's
   assignments, which wait for this confirmation (``monev.judging``).
3. :func:`undo` reverses a confirmation while no sheet of a later stage exists yet.

Every change is audited. Services flush; the request commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from monev.audit import services as audit
from monev.auth.models import User
from monev.core.errors import ServiceError, require_confirmation
from monev.core.templating import number
from monev.core.timeutil import utcnow
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Category, Event, Stage, StageSelection
from monev.extensions import db
from monev.judging.models import Assignment, ScoreSheet
from monev.notify import tell
from monev.results import queries as result_queries
from monev.results.computing import compute_stages
from monev.scoring import selection as rules

REASON_MAX = 2000
KINDS = rules.SELECTION_KINDS
KIND_LABELS = {
    "top_n": _l("The top N of the ranking"),
    "pass_mark": _l("Every entry with at least the pass mark"),
    "jury": _l("The jury's choice, with its reason"),
}


# --- the stages around a selection -------------------------------------------------------


def ordered_stages(event: Event) -> list[Stage]:
    return sorted(event.stages, key=lambda s: (s.position, s.id))


def next_stage(stage: Stage) -> Stage | None:
    """The stage after ``stage`` (the one a selection is for), None for the last."""
    stages = ordered_stages(stage.event)
    index = stages.index(stage)
    return stages[index + 1] if index + 1 < len(stages) else None


def later_stages(stage: Stage) -> list[Stage]:
    stages = ordered_stages(stage.event)
    return stages[stages.index(stage) + 1 :]


def rules_of(stage: Stage) -> dict[int, StageSelection]:
    """The stage's rules by category id."""
    rows = db.session.scalars(select(StageSelection).where(StageSelection.stage_id == stage.id))
    return {row.category_id: row for row in rows}


def _confirmed(rows: Iterable[StageSelection]) -> bool:
    rows = list(rows)
    return bool(rows) and all(r.confirmed_at is not None for r in rows)


def _refuse_when_closed(stage: Stage) -> None:
    if stage.event.at_least("results"):
        raise ServiceError(
            _("The event is past judging: the selection between stages can no longer change."),
            status=409,
        )


# --- the rule -----------------------------------------------------------------------------


def set_rule(
    actor,
    stage: Stage,
    category: Category,
    *,
    kind: str | None,
    count: int | None = None,
    min_score=None,
    chosen_ids: Iterable[int] = (),
    reason: str | None = None,
) -> StageSelection | None:
    """Set, replace or (``kind`` empty) remove the rule of ``category`` after ``stage``.
    Refused once the stage's selection is confirmed."""
    if category.event_id != stage.event_id:
        raise ServiceError(_("Choose a category of this event."), status=404)
    _refuse_when_closed(stage)
    following = next_stage(stage)
    if following is None:
        raise ServiceError(
            _(
                "%(stage)s is the last stage: there is no stage after it to select for.",
                stage=stage.name,
            ),
            status=409,
        )
    existing = rules_of(stage)
    if any(r.confirmed_at is not None for r in existing.values()):
        raise ServiceError(
            _(
                "The selection after %(stage)s is confirmed: undo the confirmation before "
                "changing a rule.",
                stage=stage.name,
            ),
            status=409,
        )
    row = existing.get(category.id)
    kind = (kind or "").strip()
    if not kind:
        if row is not None:
            audit.record(
                "stage.selection_rule_removed",
                "stage",
                stage.id,
                {"stage": stage.key, "category": category.key, "kind": row.kind},
                actor=actor,
            )
            db.session.delete(row)
            db.session.flush()
        return None
    if kind not in KINDS:
        raise ServiceError(_("Choose how entries advance."), field="kind")
    values = _checked_rule(stage, category, kind, count, min_score, chosen_ids, reason)
    if row is None:
        row = StageSelection(stage_id=stage.id, category_id=category.id)
        db.session.add(row)
    row.kind = kind
    row.count = values["count"]
    row.min_score = values["min_score"]
    row.chosen_ids = values["chosen_ids"]
    row.reason = values["reason"]
    row.decisions = None
    db.session.flush()
    audit.record(
        "stage.selection_rule_set",
        "stage",
        stage.id,
        {
            "stage": stage.key,
            "category": category.key,
            "kind": kind,
            "count": values["count"],
            "min_score": None if values["min_score"] is None else str(values["min_score"]),
            "chosen": values["chosen_codes"],
            "reason": values["reason"],
        },
        actor=actor,
    )
    return row


def _checked_rule(stage, category, kind, count, min_score, chosen_ids, reason) -> dict:
    reason = (reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=REASON_MAX), field="reason")
    values = {
        "count": None,
        "min_score": None,
        "chosen_ids": [],
        "chosen_codes": [],
        "reason": None,
    }
    if kind == "top_n":
        if count is None or isinstance(count, bool) or int(count) < 1:
            raise ServiceError(
                _("Say how many entries advance: a whole number, at least 1."), field="count"
            )
        values["count"] = int(count)
    elif kind == "pass_mark":
        try:
            mark = Decimal(str(min_score)) if min_score not in (None, "") else None
        except InvalidOperation:
            mark = None
        if mark is None or not mark.is_finite() or not 0 <= mark <= 100:
            raise ServiceError(_("The pass mark is a score from 0 to 100."), field="min_score")
        if mark != mark.quantize(Decimal("0.01")):
            raise ServiceError(
                _("Write the pass mark with at most two decimals."), field="min_score"
            )
        values["min_score"] = mark
    else:
        try:
            ids = sorted({int(i) for i in chosen_ids or ()})
        except (TypeError, ValueError):
            raise ServiceError(
                _("Choose only entries of this category that are still in the competition."),
                field="chosen",
            ) from None
        if not ids:
            raise ServiceError(_("Choose the entries the jury selects."), field="chosen")
        entries = db.session.execute(
            select(Entry.id, Entry.code).where(
                Entry.id.in_(ids),
                Entry.event_id == stage.event_id,
                Entry.category_id == category.id,
                standing.competing(),
            )
        ).all()
        if len(entries) != len(ids):
            raise ServiceError(
                _("Choose only entries of this category that are still in the competition."),
                field="chosen",
            )
        if not reason:
            raise ServiceError(
                _("Record the jury's reason: it is kept with the decision."), field="reason"
            )
        values["chosen_ids"] = ids
        values["chosen_codes"] = sorted(code for _id, code in entries)
        values["reason"] = reason
    return values


def rule_text(row: StageSelection | None) -> str:
    """The rule in one sentence (the page, the confirmation and the list)."""
    if row is None:
        return _("No selection: every entry advances.")
    if row.kind == "top_n":
        return ngettext(
            "The top %(num)d entry advances.", "The top %(num)d entries advance.", row.count or 0
        )
    if row.kind == "pass_mark":
        return _(
            "Every entry with a total of at least %(mark)s advances.", mark=number(row.min_score)
        )
    return ngettext(
        "The jury chose %(num)d entry.", "The jury chose %(num)d entries.", len(row.chosen_ids)
    )


# --- the list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """One entry in a category's selection list."""

    entry_id: int
    code: str
    kim: str
    district: str
    rank: int | None
    shared: bool
    ranked_of: int
    total: float | None
    advances: bool
    why: str  # monev.scoring.selection's reason code
    explanation: str
    tie_break: str | None = None


@dataclass(frozen=True)
class CategoryList:
    category: Category
    rule: StageSelection
    rows: tuple[Listed, ...]
    beyond_count: int = 0
    problem: str | None = None
    decisions: tuple[dict, ...] = ()  # what a confirmation freezes

    @property
    def rule_text(self) -> str:
        return rule_text(self.rule)

    @property
    def advancing(self) -> int:
        return sum(1 for r in self.rows if r.advances)

    @property
    def left_out(self) -> int:
        return sum(1 for r in self.rows if not r.advances)

    @property
    def tie_note(self) -> str | None:
        """ "Seri di batas: 4 entri lolos untuk 3 tempat" when a tie at the cut line takes
        more entries on than the rule's count."""
        if not self.beyond_count:
            return None
        return _(
            "Tie at the cut line: %(advancing)d entries advance for %(count)d places (the "
            "event's tie-break rules could not separate them).",
            advancing=self.advancing,
            count=self.rule.count or 0,
        )


@dataclass(frozen=True)
class SelectionList:
    stage: Stage
    next_stage: Stage | None
    categories: tuple[CategoryList, ...]  # the categories with a rule, in event order
    without_rule: tuple[Category, ...]
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None
    blocks: tuple[str, ...] = ()  # why it cannot be listed or confirmed yet

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def advancing(self) -> int:
        return sum(c.advancing for c in self.categories)

    @property
    def left_out(self) -> int:
        return sum(c.left_out for c in self.categories)

    @property
    def problems(self) -> tuple[str, ...]:
        return self.blocks + tuple(c.problem for c in self.categories if c.problem)


def _explain(why: str, row: dict, rule: StageSelection, advancing: int) -> str:
    rank, of = row.get("rank"), row.get("ranked_of", 0)
    place = _("Rank %(rank)d of %(num)d", rank=rank, num=of) if rank else ""
    if why == rules.WITHIN_TOP_N:
        return _("%(place)s: within the top %(count)d.", place=place, count=rule.count)
    if why == rules.TIE_AT_CUT:
        return _(
            "%(place)s, tied at the cut line: %(advancing)d entries advance for %(count)d places.",
            place=place,
            advancing=advancing,
            count=rule.count,
        )
    if why == rules.BELOW_CUT:
        return _("%(place)s: below the top %(count)d.", place=place, count=rule.count)
    if why == rules.AT_OR_ABOVE_MARK:
        return _(
            "%(place)s: at or above the pass mark %(mark)s.",
            place=place,
            mark=number(rule.min_score),
        )
    if why == rules.BELOW_MARK:
        return _(
            "%(place)s: below the pass mark %(mark)s.", place=place, mark=number(rule.min_score)
        )
    if why == rules.CHOSEN_BY_JURY:
        return _("%(place)s: chosen by the jury.", place=place)
    if why == rules.NOT_CHOSEN_BY_JURY:
        return _("%(place)s: not chosen by the jury.", place=place)
    return _("Not ranked: it has no final score in every stage so far.")


def _listed(decisions: list[dict], rule: StageSelection) -> tuple[Listed, ...]:
    advancing = sum(1 for d in decisions if d["advances"])
    return tuple(
        Listed(
            entry_id=d["entry_id"],
            code=d["code"],
            kim=d.get("kim", ""),
            district=d.get("district", ""),
            rank=d.get("rank"),
            shared=bool(d.get("shared")),
            ranked_of=d.get("ranked_of", 0),
            total=d.get("total"),
            advances=d["advances"],
            why=d["why"],
            explanation=_explain(d["why"], d, rule, advancing),
            tie_break=d.get("tie_break"),
        )
        for d in decisions
    )


def open_work(stage: Stage) -> tuple[str, ...]:
    """Why the stage cannot be ranked for a selection yet: sheets of competing entries that
    are not final, and competing entries nobody was assigned to (two counting queries)."""
    competing = select(Entry.id).where(Entry.event_id == stage.event_id, standing.competing())
    total, final = db.session.execute(
        select(
            func.count(Assignment.id),
            func.count(ScoreSheet.id).filter(ScoreSheet.status == "final"),
        )
        .select_from(Assignment)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.stage_id == stage.id, Assignment.entry_id.in_(competing))
    ).one()
    unassigned = db.session.scalar(
        select(func.count())
        .select_from(Entry)
        .where(
            Entry.event_id == stage.event_id,
            standing.competing(),
            ~select(Assignment.id)
            .where(Assignment.stage_id == stage.id, Assignment.entry_id == Entry.id)
            .exists(),
        )
    )
    problems = []
    if total - final:
        problems.append(
            ngettext(
                "%(num)d of %(total)d assigned score sheets of %(stage)s is not final yet.",
                "%(num)d of %(total)d assigned score sheets of %(stage)s are not final yet.",
                total - final,
                total=total,
                stage=stage.name,
            )
        )
    if unassigned:
        problems.append(
            ngettext(
                "%(num)d entry still in the competition has no judge in %(stage)s.",
                "%(num)d entries still in the competition have no judge in %(stage)s.",
                unassigned,
                stage=stage.name,
            )
        )
    return tuple(problems)


def _decisions(stage: Stage, categories: list[Category], rows: dict[int, StageSelection]):
    """Per category with a rule: (decision dicts, beyond_count, problem)."""
    data = result_queries.load_event_data(stage.event)
    stages = ordered_stages(stage.event)
    through = {s.id for s in stages[: stages.index(stage) + 1]}
    entries = {e.id: e for e in data.entries if e.competing}
    computed = compute_stages(data, through, entries)
    out = {}
    for category in categories:
        rule = rows[category.id]
        if computed.results is None:
            out[category.id] = ([], 0, computed.problem)
            continue
        result = computed.results.categories.get(category.id)
        ranked = list(result.rows) if result else []
        ranked_of = sum(1 for r in ranked if r.rank is not None)
        try:
            chosen = rules.select(
                [rules.Candidate(r.entry, r.total, r.rank) for r in ranked],
                rules.SelectionRule(
                    rule.kind,
                    count=rule.count,
                    min_score=None if rule.min_score is None else float(rule.min_score),
                    chosen=frozenset(rule.chosen_ids or ()),
                    reason=rule.reason or "",
                ),
                decimals=computed.results.compare_decimals,
            )
        except rules.SelectionError:
            out[category.id] = (
                [],
                0,
                _(
                    "%(category)s: the jury chose an entry that is no longer ranked here; "
                    "choose again.",
                    category=category.name,
                ),
            )
            continue
        by_entry = {r.entry: r for r in ranked}
        decisions = []
        for d in chosen.decisions:
            r, e = by_entry[d.entry], entries[d.entry]
            decisions.append(
                {
                    "entry_id": e.id,
                    "code": e.code,
                    "kim": e.kim,
                    "district": e.district,
                    "rank": r.rank,
                    "shared": bool(r.shared and r.rank is not None),
                    "ranked_of": ranked_of,
                    "total": None if r.total is None else round(r.total, 4),
                    "advances": d.advances,
                    "why": d.why,
                    "tie_break": r.tie_break,
                }
            )
        out[category.id] = (decisions, chosen.beyond_count, None)
    return out


def selection_list(stage: Stage) -> SelectionList:
    """The stage's selection as the page shows it: the frozen decisions once confirmed,
    otherwise the provisional list (or, while sheets are open, why there is none yet)."""
    rows = rules_of(stage)
    categories = list(stage.event.categories)
    with_rule = [c for c in categories if c.id in rows]
    without = tuple(c for c in categories if c.id not in rows)
    following = next_stage(stage)
    if _confirmed(rows.values()):
        first = min(rows.values(), key=lambda r: r.confirmed_at)
        by = db.session.get(User, first.confirmed_by_id) if first.confirmed_by_id else None
        return SelectionList(
            stage,
            following,
            tuple(
                CategoryList(
                    c,
                    rows[c.id],
                    _listed(rows[c.id].decisions or [], rows[c.id]),
                    _beyond(rows[c.id]),
                )
                for c in with_rule
            ),
            without,
            confirmed_at=first.confirmed_at,
            confirmed_by=by.name if by else None,
        )
    if not with_rule:
        return SelectionList(stage, following, (), without)
    blocks = open_work(stage)
    if following is None:
        blocks += (
            _(
                "%(stage)s is the last stage: there is no stage after it to select for.",
                stage=stage.name,
            ),
        )
    if blocks:
        return SelectionList(
            stage,
            following,
            tuple(CategoryList(c, rows[c.id], ()) for c in with_rule),
            without,
            blocks=blocks,
        )
    decided = _decisions(stage, with_rule, rows)
    return SelectionList(
        stage,
        following,
        tuple(
            CategoryList(
                c,
                rows[c.id],
                _listed(decided[c.id][0], rows[c.id]),
                decided[c.id][1],
                decided[c.id][2],
                tuple(decided[c.id][0]),
            )
            for c in with_rule
        ),
        without,
    )


def _beyond(row: StageSelection) -> int:
    if row.kind != "top_n" or not row.decisions:
        return 0
    return max(0, sum(1 for d in row.decisions if d["advances"]) - (row.count or 0))


def provisional(stage: Stage) -> SelectionList:
    """The provisional list; refused (409, with the numbers) while a sheet of the stage is
    not final, an entry has no judge in it, or no category has a rule."""
    listed = selection_list(stage)
    if not listed.categories:
        raise ServiceError(
            _("No category has a selection rule after %(stage)s.", stage=stage.name), status=409
        )
    if listed.problems:
        raise ServiceError(" ".join(listed.problems), status=409)
    return listed


# --- confirmation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What :func:`confirm` will do, stated before it happens."""

    listed: SelectionList
    blocks: tuple[str, ...]
    consequences: tuple[str, ...]
    assignments_to_remove: int = 0


def _later_work(stage: Stage, entry_ids: set[int]) -> tuple[list[Assignment], int]:
    """Assignments in later stages of ``entry_ids``: those without a sheet (removed by the
    confirmation), and how many have a sheet (which refuses it)."""
    later = [s.id for s in later_stages(stage)]
    if not later or not entry_ids:
        return [], 0
    rows = db.session.execute(
        select(Assignment, ScoreSheet.id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.stage_id.in_(later), Assignment.entry_id.in_(entry_ids))
        .order_by(Assignment.id)
    ).all()
    bare = [a for a, sheet_id in rows if sheet_id is None]
    return bare, len(rows) - len(bare)


def preview_confirm(stage: Stage) -> Preview:
    listed = selection_list(stage)
    blocks = list(listed.problems)
    if listed.confirmed:
        blocks.append(_("This selection is already confirmed."))
    elif not listed.categories:
        blocks.append(_("No category has a selection rule after %(stage)s.", stage=stage.name))
    if stage.event.status != "judging":
        blocks.append(_("A selection is confirmed while the event is in the Judging phase."))
    if blocks or listed.next_stage is None:
        return Preview(listed, tuple(blocks), ())
    left_out = {r.entry_id for c in listed.categories for r in c.rows if not r.advances}
    bare, scored = _later_work(stage, left_out)
    if scored:
        blocks.append(
            ngettext(
                "%(num)d score sheet in a later stage belongs to an entry that would not "
                "advance: remove or reassign it first.",
                "%(num)d score sheets in later stages belong to entries that would not "
                "advance: remove or reassign them first.",
                scored,
            )
        )
    nxt = listed.next_stage.name
    consequences = [
        ngettext(
            "%(num)d entry advances to %(stage)s, %(left)d do not.",
            "%(num)d entries advance to %(stage)s, %(left)d do not.",
            listed.advancing,
            stage=nxt,
            left=listed.left_out,
        )
    ]
    for c in listed.categories:
        line = _(
            "%(category)s: %(advancing)d advance, %(left)d do not. %(rule)s",
            category=c.category.name,
            advancing=c.advancing,
            left=c.left_out,
            rule=c.rule_text,
        )
        consequences.append(f"{line} {c.tie_note}" if c.tie_note else line)
    if listed.without_rule:
        consequences.append(
            _(
                "Without a rule, every entry of %(categories)s advances.",
                categories=", ".join(c.name for c in listed.without_rule),
            )
        )
    if listed.left_out:
        consequences.append(
            ngettext(
                "The entry that does not advance becomes 'Not selected': it is not assigned in "
                "%(stage)s, keeps its scores so far and is listed after the finalists, "
                "without a rank.",
                "The %(num)d entries that do not advance become 'Not selected': they are not "
                "assigned in %(stage)s, keep their scores so far and are listed after the "
                "finalists, without a rank.",
                listed.left_out,
                stage=nxt,
            )
        )
    if bare:
        consequences.append(
            ngettext(
                "%(num)d judge assignment of an entry that does not advance is removed.",
                "%(num)d judge assignments of entries that do not advance are removed.",
                len(bare),
            )
        )
    consequences.append(
        _("Judges can then be assigned in %(stage)s to the entries that advance.", stage=nxt)
    )
    return Preview(listed, tuple(blocks), tuple(consequences), len(bare))


def confirm(actor, stage: Stage, *, confirmed: bool) -> SelectionList:
    """Freeze the provisional list: decisions into the rules' rows, ``not_selected`` for
    every entry that does not advance, the next stage's assignments opened. Audited."""
    require_confirmation(confirmed)
    _refuse_when_closed(stage)
    rows = rules_of(stage)
    if _confirmed(rows.values()):
        raise ServiceError(_("This selection is already confirmed."), status=409)
    # One confirmation at a time per stage (SQLite's write lock does this already).
    db.session.scalar(select(Stage.id).where(Stage.id == stage.id).with_for_update())
    check = preview_confirm(stage)
    if check.blocks:
        raise ServiceError(" ".join(check.blocks), status=409)
    listed, following = check.listed, check.listed.next_stage
    left_out = {r.entry_id for c in listed.categories for r in c.rows if not r.advances}
    bare, _scored = _later_work(stage, left_out)
    removed = []
    for assignment in bare:
        removed.append([assignment.entry.code, assignment.judge.email, assignment.stage.key])
        audit.record(
            "assignment.removed",
            "assignment",
            assignment.id,
            {
                "stage": assignment.stage.key,
                "entry": assignment.entry.code,
                "judge": assignment.judge.email,
                "why": "not_selected",
            },
            actor=actor,
        )
        db.session.delete(assignment)
    now = utcnow()
    for c in listed.categories:
        row = rows[c.category.id]
        row.decisions = [dict(d) for d in c.decisions]
        row.confirmed_at = now
        row.confirmed_by_id = getattr(actor, "id", None)
    listed_ids = {r.entry_id for c in listed.categories for r in c.rows}
    entries = db.session.scalars(
        select(Entry).where(Entry.id.in_(listed_ids)).order_by(Entry.code)
    ).all()
    for entry in entries:
        if entry.id in left_out:
            standing.not_selected(entry, following, actor)
        tell.selection(entry, following, entry.id not in left_out)  # after the commit
    entries = [e for e in entries if e.id in left_out]
    db.session.flush()
    audit.record(
        "stage.selection_confirmed",
        "stage",
        stage.id,
        {
            "stage": stage.key,
            "next_stage": following.key,
            "advancing": listed.advancing,
            "not_selected": listed.left_out,
            "categories": {
                c.category.key: {
                    "kind": c.rule.kind,
                    "advancing": c.advancing,
                    "not_selected": c.left_out,
                    "beyond_count": c.beyond_count,
                }
                for c in listed.categories
            },
            "not_selected_entries": [e.code for e in entries],
            "assignments_removed": removed,
        },
        actor=actor,
    )
    return selection_list(stage)


def undo_problems(stage: Stage) -> tuple[str, ...]:
    """Why a confirmed selection cannot be undone (empty: it can)."""
    problems = []
    if stage.event.at_least("results"):
        problems.append(
            _("The event is past judging: the selection between stages can no longer change.")
        )
    later = [s.id for s in later_stages(stage)]
    sheets = (
        db.session.scalar(
            select(func.count())
            .select_from(ScoreSheet)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .where(Assignment.stage_id.in_(later))
        )
        if later
        else 0
    )
    if sheets:
        problems.append(
            ngettext(
                "%(num)d score sheet exists in a later stage: judges have started, so the "
                "selection stays.",
                "%(num)d score sheets exist in later stages: judges have started, so the "
                "selection stays.",
                sheets,
            )
        )
    return tuple(problems)


def undo(actor, stage: Stage, note: str | None) -> int:
    """Reverse a confirmation while no sheet of a later stage exists: the entries it left
    out are active again (unless their standing changed since), the rules are provisional
    again and the next stage's assignments wait for a new confirmation. Returns how many
    entries are active again. Audited, with the reason."""
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Write the reason: it is kept in the audit log."), field="note")
    if len(note) > REASON_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=REASON_MAX), field="note")
    rows = rules_of(stage)
    if not _confirmed(rows.values()):
        raise ServiceError(_("This selection is not confirmed."), status=409)
    problems = undo_problems(stage)
    if problems:
        raise ServiceError(" ".join(problems), status=409)
    following = next_stage(stage)
    left_out = {
        d["entry_id"] for row in rows.values() for d in row.decisions or () if not d["advances"]
    }
    entries = db.session.scalars(
        select(Entry).where(Entry.id.in_(left_out)).order_by(Entry.code)
    ).all()
    restored = [
        e.code
        for e in entries
        if following is not None and standing.selection_undone(e, following, actor, note)
    ]
    for row in rows.values():
        row.decisions = None
        row.confirmed_at = None
        row.confirmed_by_id = None
    db.session.flush()
    audit.record(
        "stage.selection_undone",
        "stage",
        stage.id,
        {"stage": stage.key, "restored": restored, "reason": note},
        actor=actor,
    )
    return len(restored)
