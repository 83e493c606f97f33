"""Computing an event's live results: the scoring core applied to the event's data.

* :func:`compute` reads the event with a fixed number of queries (``queries.py``), builds
  the scoring core's inputs and returns the ranking and the fairness report.
* :func:`scores_digest` is the SHA-256 that proves which scores a version was made from.

**Computed once per score version.** A large event (5,000 entries, 625,000 scores) takes
seconds to read and rank, and the admin results page, the exports, the objections and
publishing all start from :func:`compute`. The part that grows with the scores (entries,
sheets, values, the ranking and the fairness figures) is kept in this process (``cache``),
keyed by what it was computed from: the event's judging version
(:mod:`monev.judging.versions`, bumped in the same transaction by every change of a sheet,
an assignment, a drop or the panel, and by an entry's standing), the number of entries that
took part, and the event's rules read afresh on every call (aggregation, normalisation,
tie-breaks, stages, categories and criteria). A view then costs 5 small queries; the event,
its rubric and its special awards are always read from the database.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass, replace

from flask_babel import gettext as _

from monev.events.models import DEFAULT_LADDER, Event
from monev.judging import versions
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


class ResultsCache:
    """Computed results of the latest score versions, in this process (``size`` kept)."""

    def __init__(self, size: int = 4):
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple] = OrderedDict()
        self.computed = 0  # how many times results were computed (tests and benches read it)

    def get(self, key: Hashable) -> tuple | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: Hashable, value: tuple) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = ResultsCache()


def results_key(event: Event, criteria: list) -> tuple:
    """What the event's results are computed from, without reading its scores (2 queries)."""
    rules = (
        event.aggregation,
        bool(event.normalize_judges),
        tuple(event.tie_breaks or ()),
        tuple((s.id, s.key, float(s.weight), s.position) for s in event.stages),
        tuple((c.id, repr(c.award_ladder), repr(c.score_bands)) for c in event.categories),
        tuple(criteria),
    )
    return (
        event.id,
        versions.current(event.id).token,
        queries.entries_taken_part(event.id),
        hashlib.sha256(repr(rules).encode()).hexdigest(),
    )


def compute(event: Event, *, fairness: bool = True) -> Computed:
    """The event's live ranking and fairness figures (admins only: never shown publicly),
    computed once per score version (see the module's docstring)."""
    criteria = queries.load_criteria(event)
    key = results_key(event, criteria)
    kept = cache.get(key)
    if kept is not None and (kept[2] is not None or not fairness):
        scored, results, report = kept
    else:
        scored = kept[0] if kept is not None else queries.load_scored(event)
        data = _event_data(event, criteria, scored)
        computed = compute_from(data, fairness=fairness)
        cache.computed += 1
        if computed.problem is not None:  # translated: not kept
            return computed
        cache.put(key, (scored, computed.results, computed.fairness))
        return computed
    return Computed(_event_data(event, criteria, scored), results, report if fairness else None)


def _event_data(event: Event, criteria: list, scored: queries.Scored) -> EventData:
    return EventData(
        event=event,
        stages=list(event.stages),
        categories=list(event.categories),
        criteria=criteria,
        entries=scored.entries,
        judges=scored.judges,
        sheets=scored.sheets,
        values=scored.values,
        special_awards=queries.load_special_awards(event, {e.id for e in scored.entries}),
        drops=scored.drops,
        memo=scored.memo,
    )


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
        memo={},  # a part of the event: its own figures
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


def data_digest(data: EventData) -> tuple[str, int]:
    """The digest of the event's scores and how many scores it covers, made once per score
    version (kept with the computed results: 625,000 scores take about a second)."""
    found = data.memo.get("digest")
    if found is None:
        lines = digest_lines(data)
        found = data.memo["digest"] = (scores_digest(lines), len(lines))
    return found


def scores_digest(lines: Iterable[str]) -> str:
    """SHA-256 (hex) of the digest lines, each ended by a newline, in UTF-8."""
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()
