"""Computing an event's live results: the scoring core applied to the event's data.

* :func:`compute` reads the event with a fixed number of queries (``queries.py``), builds
  the scoring core's inputs and returns the ranking and the fairness report.
* :func:`scores_digest` is the SHA-256 that proves which scores a version was made from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from flask_babel import gettext as _

from monev.events.models import DEFAULT_LADDER, Event
from monev.results import queries
from monev.results.queries import EventData
from monev.scoring import (
    CategoryDef,
    CriterionDef,
    EntryDef,
    EventDef,
    EventResults,
    FairnessReport,
    RankedRow,
    ScoringInputError,
    SheetInput,
    StageDef,
    compute_fairness,
    compute_results,
    prepare,
)


@dataclass
class Computed:
    """An event's live results. ``problem`` (translated) says why they could not be
    computed; then ``results`` and ``fairness`` are None."""

    data: EventData
    results: EventResults | None
    fairness: FairnessReport | None
    problem: str | None = None

    @property
    def event(self) -> Event:
        return self.data.event


# --- computing ----------------------------------------------------------------------------


def engine_inputs(
    data: EventData, *, tie_breaks: Iterable[str] | None = None
) -> tuple[EventDef, list[EntryDef], list[SheetInput]]:
    """The scoring core's inputs. Keys: stage and criterion codes, entry, judge (user) and
    category ids. Only final sheets carry values; drafts and missing sheets are left out.
    ``tie_breaks`` replaces the event's rules (None: the event's)."""
    event = data.event
    by_stage: dict[int, list] = {s.id: [] for s in data.stages}
    for c in data.criteria:
        by_stage.setdefault(c.stage_id, []).append(
            CriterionDef(c.key, c.aspect, c.weight, c.min, c.max)
        )
    stages = [StageDef(s.key, float(s.weight), by_stage[s.id]) for s in data.stages]
    categories = [
        CategoryDef(c.id, c.award_ladder or DEFAULT_LADDER, c.score_bands or ())
        for c in data.categories
    ]
    definition = EventDef(
        stages,
        aggregation=event.aggregation,
        normalize_judges=event.normalize_judges,
        tie_breaks=list(event.tie_breaks or () if tie_breaks is None else tie_breaks),
        categories=categories,
    )
    entries = [EntryDef(e.id, e.category_id) for e in data.entries]
    key_of = {c.id: c.key for c in data.criteria}
    stage_key = {s.id: s.key for s in data.stages}
    values = data.values
    sheets = [
        SheetInput(
            s.entry_id,
            s.judge_id,
            stage_key[s.stage_id],
            True,
            {key_of[cid]: v for cid, v in values.get(s.id, {}).items()},
        )
        for s in data.sheets
        if s.status == "final"
    ]
    return definition, entries, sheets


def compute(event: Event, *, fairness: bool = True) -> Computed:
    """The event's live ranking and fairness figures (admins only: never shown publicly)."""
    data = queries.load_event_data(event)
    return compute_from(data, fairness=fairness)


def compute_from(data: EventData, *, fairness: bool = True) -> Computed:
    try:
        prepared = prepare(*engine_inputs(data))
    except ScoringInputError as error:
        return Computed(data, None, None, _scoring_problem(data, error))
    results = compute_results(prepared)
    report = compute_fairness(prepared) if fairness else None
    return Computed(data, results, report)


def compute_stages(
    data: EventData, stage_ids: Collection[int], entry_ids: Collection[int]
) -> Computed:
    """The ranking of ``entry_ids`` over the stages ``stage_ids`` only (a selection between
    stages ranks on the stages completed so far), without fairness figures.

    The stages' weights are rescaled to sum to 100, so totals stay on the 0–100 scale a
    pass mark is written in; tie-break rules naming another stage, or a criterion of one,
    are left out (the others apply in their order). The ranking itself is the engine's."""
    stage_ids, entry_ids = set(stage_ids), set(entry_ids)
    part = replace(
        data,
        stages=[s for s in data.stages if s.id in stage_ids],
        criteria=[c for c in data.criteria if c.stage_id in stage_ids],
        entries=[e for e in data.entries if e.id in entry_ids],
        sheets=[s for s in data.sheets if s.stage_id in stage_ids and s.entry_id in entry_ids],
        special_awards=[],
    )
    known = {f"stage:{s.key}" for s in part.stages} | {f"criterion:{c.key}" for c in part.criteria}
    tie_breaks = [rule for rule in data.event.tie_breaks or () if rule in known]
    try:
        definition, entries, sheets = engine_inputs(part, tie_breaks=tie_breaks)
        total = sum(s.weight for s in definition.stages)
        stages = [
            StageDef(
                s.key,
                100.0 * s.weight / total if total else 100.0 / len(definition.stages),
                s.criteria,
            )
            for s in definition.stages
        ]
        prepared = prepare(replace(definition, stages=stages), entries, sheets)
    except ScoringInputError as error:
        return Computed(part, None, None, _scoring_problem(part, error))
    return Computed(part, compute_results(prepared), None)


def finalists_first(rows: Iterable[RankedRow], left_out: Collection) -> list[RankedRow]:
    """The engine's order, with the entries in ``left_out`` (not selected for a later stage)
    moved after all the others, in the order they had: they are listed, never ranked."""
    rows = list(rows)
    return [r for r in rows if r.entry not in left_out] + [r for r in rows if r.entry in left_out]


def _scoring_problem(data: EventData, error: ScoringInputError) -> str:
    if not data.stages:
        return _("The event has no stages yet.")
    if any(not any(c.stage_id == s.id for c in data.criteria) for s in data.stages):
        return _("Every stage needs criteria before results can be computed.")
    return _("The scores cannot be ranked: %(problem)s", problem=str(error))


def unfinished_sheets(data: EventData) -> int:
    """Assignments of accepted entries whose sheet is not final (draft or not started) and
    not dropped by the organiser (a dropped sheet is not waited for: it is not counted)."""
    return sum(1 for s in data.sheets if s.status not in ("final", "dropped"))


# --- digest -------------------------------------------------------------------------------


def digest_lines(data: EventData) -> list[str]:
    """One line per score on a final sheet, ``stage<TAB>entry code<TAB>judge id<TAB>
    criterion<TAB>value`` (the value with two decimals), sorted by code point."""
    entry_code = {e.id: e.code for e in data.entries}
    stage_key = {s.id: s.key for s in data.stages}
    key_of = {c.id: c.key for c in data.criteria}
    lines = []
    for sheet in data.sheets:
        if sheet.status != "final":
            continue
        prefix = f"{stage_key[sheet.stage_id]}\t{entry_code[sheet.entry_id]}\t{sheet.judge_id}\t"
        for cid, value in data.values.get(sheet.id, {}).items():
            lines.append(f"{prefix}{key_of[cid]}\t{value:.2f}")
    lines.sort()
    return lines


def scores_digest(lines: Iterable[str]) -> str:
    """SHA-256 (hex) of the digest lines, each ended by a newline, in UTF-8."""
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()
