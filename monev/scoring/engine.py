"""The scoring engine: sheets in, ranked categories out (see the package docstring).

Everything is computed in float64 with numpy over arrays built once in :func:`prepare`;
the sheets are put in a canonical order (stage, entry, judge) there, so every figure is
bit-for-bit the same whatever order the caller passed the rows in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from monev.scoring.model import (
    CategoryDef,
    CategoryResult,
    EntryDef,
    EventDef,
    EventResults,
    JudgeNormalisation,
    JudgeScore,
    Key,
    RankedRow,
    ScoringInputError,
    SheetInput,
    StageDef,
    StageScore,
)
from monev.scoring.totals import normalised_scores, sheet_totals

#: Totals and tie-break values are compared after rounding to this many decimals …
COMPARE_DECIMALS = 4
#: … having first been snapped to this many, so that two float computations of the same
#: true value (which differ by ~1e-13) can never fall on opposite sides of a rounding edge.
SNAP_DECIMALS = 9
#: A judge whose sheet totals in a stage spread less than this (SD, points) is not rescaled.
MIN_JUDGE_SD = 1e-9


def quantise(values: np.ndarray) -> np.ndarray:
    """The comparison key of totals: snapped to 1e-9, then rounded to 4 decimals."""
    return np.round(np.round(values, SNAP_DECIMALS), COMPARE_DECIMALS)


# ------------------------------------------------------------------- prepared input


@dataclass(frozen=True, slots=True, eq=False)
class StageData:
    """One stage's final sheets as arrays, in (entry, judge) order."""

    stage: StageDef
    criterion_keys: tuple[Key, ...]
    aspects: tuple[str, ...]
    #: (n_criteria × n_aspects): criterion weight / 100 in its aspect's column.
    aspect_matrix: np.ndarray
    entry: np.ndarray  # int, per sheet: entry index
    judge: np.ndarray  # int, per sheet: judge index
    norm: np.ndarray  # (n_sheets × n_criteria) normalised scores 0–100
    totals: np.ndarray  # per sheet: the judge's stage score 0–100


@dataclass(frozen=True, slots=True, eq=False)
class PreparedEvent:
    """Validated, indexed input; build it with :func:`prepare`, pass it to
    :func:`compute_results` and :func:`monev.scoring.fairness.compute_fairness`."""

    event: EventDef
    entry_keys: tuple[Key, ...]  # sorted; entry index = position
    entry_category: tuple[Key, ...]
    judge_keys: tuple[Key, ...]  # sorted; judge index = position
    stages: tuple[StageData, ...]
    #: (category definition, sorted entry indices), in output order.
    categories: tuple[tuple[CategoryDef, np.ndarray], ...]
    #: per tie-break rule: ("stage", stage index, -1) or ("criterion", stage index, column).
    tie_breaks: tuple[tuple[str, int, int], ...]


def _sheet_name(stage: Key, entry: Key, judge: Key) -> str:
    return f"final sheet (stage={stage!r}, entry={entry!r}, judge={judge!r})"


def prepare(
    event: EventDef, entries: Iterable[EntryDef], sheets: Iterable[SheetInput]
) -> PreparedEvent:
    """Validate and index the input once. Draft sheets are skipped without any check.

    Raises :class:`ScoringInputError` for: duplicate entry keys; a final sheet naming an
    unknown stage or entry; two final sheets of one judge for one entry in one stage; a
    final sheet lacking a value (missing key or None), with a key that is not a criterion
    of its stage, or with a value outside the criterion's ``[min, max]``.
    """
    entries = list(entries)
    entry_keys = sorted(e.key for e in entries)
    if len(set(entry_keys)) != len(entry_keys):
        raise ScoringInputError("entry keys must be unique")
    entry_index = {k: i for i, k in enumerate(entry_keys)}
    category_of = {e.key: e.category for e in entries}
    entry_category = tuple(category_of[k] for k in entry_keys)

    stage_index = {s.key: i for i, s in enumerate(event.stages)}
    crit_keys = [tuple(c.key for c in s.criteria) for s in event.stages]
    rows: list[list[list]] = [[] for _ in event.stages]
    ents: list[list[int]] = [[] for _ in event.stages]
    juds: list[list[int]] = [[] for _ in event.stages]
    judge_ids: dict[Key, int] = {}

    for sheet in sheets:
        if not sheet.final:
            continue
        si = stage_index.get(sheet.stage)
        ei = entry_index.get(sheet.entry)
        if si is None or ei is None:
            what = "stage" if si is None else "entry"
            raise ScoringInputError(
                f"{_sheet_name(sheet.stage, sheet.entry, sheet.judge)} names an unknown {what}"
            )
        ji = judge_ids.get(sheet.judge)
        if ji is None:
            ji = judge_ids[sheet.judge] = len(judge_ids)
        values = sheet.values
        try:
            rows[si].append([values[k] for k in crit_keys[si]])
        except KeyError as exc:
            raise ScoringInputError(
                f"{_sheet_name(sheet.stage, sheet.entry, sheet.judge)} has no value for "
                f"criterion {exc.args[0]!r}"
            ) from None
        if len(values) != len(crit_keys[si]):
            extra = sorted(set(values) - set(crit_keys[si]), key=repr)
            raise ScoringInputError(
                f"{_sheet_name(sheet.stage, sheet.entry, sheet.judge)} has values for "
                f"unknown criteria {extra!r}"
            )
        ents[si].append(ei)
        juds[si].append(ji)

    judge_keys = tuple(sorted(judge_ids))
    remap = np.empty(len(judge_ids), dtype=np.int64)
    for new, key in enumerate(judge_keys):
        remap[judge_ids[key]] = new

    stages = tuple(
        _stage_data(
            stage, crit_keys[si], rows[si], ents[si], juds[si], remap, entry_keys, judge_keys
        )
        for si, stage in enumerate(event.stages)
    )

    categories = _categories(event, entry_category)
    tie_breaks = []
    stage_by_name = {str(s.key): i for i, s in enumerate(event.stages)}
    crit_by_name = {
        str(k): (si, ci) for si, keys in enumerate(crit_keys) for ci, k in enumerate(keys)
    }
    for rule in event.tie_breaks:
        kind, _, name = rule.partition(":")
        if kind == "stage":
            tie_breaks.append(("stage", stage_by_name[name], -1))
        else:
            tie_breaks.append(("criterion", *crit_by_name[name]))

    return PreparedEvent(
        event=event,
        entry_keys=tuple(entry_keys),
        entry_category=entry_category,
        judge_keys=judge_keys,
        stages=stages,
        categories=categories,
        tie_breaks=tuple(tie_breaks),
    )


def _stage_data(stage, keys, rows, ents, juds, remap, entry_keys, judge_keys) -> StageData:
    n_c = len(keys)
    entry = np.asarray(ents, dtype=np.int64)
    judge = remap[np.asarray(juds, dtype=np.int64)] if juds else np.zeros(0, dtype=np.int64)
    try:
        values = np.array(rows, dtype=np.float64).reshape(len(rows), n_c)
    except (TypeError, ValueError) as exc:
        raise ScoringInputError(f"stage {stage.key!r}: a score is not a number ({exc})") from None

    order = np.lexsort((judge, entry))
    entry, judge, values = entry[order], judge[order], values[order]
    if len(entry) > 1:
        same = (entry[1:] == entry[:-1]) & (judge[1:] == judge[:-1])
        if same.any():
            i = int(np.argmax(same))
            raise ScoringInputError(
                f"two {_sheet_name(stage.key, entry_keys[entry[i]], judge_keys[judge[i]])}s"
            )

    lo = np.array([c.min for c in stage.criteria])
    hi = np.array([c.max for c in stage.criteria])
    missing = np.isnan(values)
    bad = missing | ~np.isfinite(values) | (values < lo) | (values > hi)
    if bad.any():
        i, c = (int(x) for x in np.argwhere(bad)[0])
        problem = "has no value" if missing[i, c] else "has a value out of range"
        raise ScoringInputError(
            f"{_sheet_name(stage.key, entry_keys[entry[i]], judge_keys[judge[i]])} {problem} "
            f"for criterion {keys[c]!r}"
        )

    norm = normalised_scores(values, lo, hi)
    weights = np.array([c.weight for c in stage.criteria])
    aspects = tuple(dict.fromkeys(c.aspect for c in stage.criteria))
    aspect_matrix = np.zeros((n_c, len(aspects)))
    for ci, c in enumerate(stage.criteria):
        aspect_matrix[ci, aspects.index(c.aspect)] = c.weight / 100.0
    totals = sheet_totals(norm, weights)
    return StageData(stage, tuple(keys), aspects, aspect_matrix, entry, judge, norm, totals)


def _categories(event: EventDef, entry_category: tuple[Key, ...]):
    defined = {c.key: c for c in event.categories}
    members: dict[Key, list[int]] = {}
    for i, cat in enumerate(entry_category):
        members.setdefault(cat, []).append(i)
    order = [c.key for c in event.categories]
    order += sorted(k for k in members if k not in defined)
    return tuple(
        (defined.get(k) or CategoryDef(k), np.asarray(members.get(k, []), dtype=np.int64))
        for k in order
    )


# ----------------------------------------------------------------- the numeric core


def group_mean(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean per group (NaN for a group without values)."""
    counts = np.bincount(groups, minlength=n_groups)
    sums = np.bincount(groups, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def normalise_judges(totals: np.ndarray, judge: np.ndarray, n_judges: int):
    """Per-judge z-scores rescaled to the pooled mean and SD of all ``totals``.

    Population SDs (ddof = 0) throughout. A judge with fewer than 2 sheets, or whose
    totals do not spread (SD < 1e-9), cannot be standardised: their totals are left
    unchanged (not shifted, not rescaled). Returns (adjusted, counts, means, sds, scaled).
    """
    counts = np.bincount(judge, minlength=n_judges)
    safe = np.maximum(counts, 1)
    means = np.bincount(judge, weights=totals, minlength=n_judges) / safe
    dev = totals - means[judge]
    sds = np.sqrt(np.bincount(judge, weights=dev * dev, minlength=n_judges) / safe)
    scaled = (counts >= 2) & (sds >= MIN_JUDGE_SD)
    if len(totals) == 0:
        return totals.copy(), counts, means, sds, scaled
    pooled_mean, pooled_sd = totals.mean(), totals.std()
    factor = np.where(scaled, pooled_sd / np.where(scaled, sds, 1.0), 1.0)
    adjusted = np.where(scaled[judge], pooled_mean + dev * factor[judge], totals)
    return adjusted, counts, means, sds, scaled


def aggregate(values: np.ndarray, entry: np.ndarray, n_entries: int, method: str) -> np.ndarray:
    """Each entry's stage score from its judges' scores (NaN when it has none).

    ``values`` must be ordered by entry (as :func:`prepare` orders sheets). "median" of an
    even number of judges is the mean of the two middle scores; "trimmed" drops one highest
    and one lowest score when there are at least 4 judges, else it is the plain mean.
    """
    counts = np.bincount(entry, minlength=n_entries)
    sums = np.bincount(entry, weights=values, minlength=n_entries)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    if method == "mean" or len(values) == 0:
        return mean
    # Sort each entry's scores (entries stay grouped, in order).
    ordered = values[np.lexsort((values, entry))]
    starts = np.cumsum(counts) - counts
    if method == "median":
        out = np.full(n_entries, np.nan)
        has = counts > 0
        lo = starts[has] + (counts[has] - 1) // 2
        hi = starts[has] + counts[has] // 2
        out[has] = (ordered[lo] + ordered[hi]) / 2.0
        return out
    big = counts >= 4
    out = mean.copy()
    first, last = starts[big], starts[big] + counts[big] - 1
    out[big] = (sums[big] - ordered[first] - ordered[last]) / (counts[big] - 2)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class RankCore:
    """One ranking as arrays over entry indices."""

    stage_scores: np.ndarray  # (n_entries × n_stages), NaN = no final sheet
    adjusted: tuple[np.ndarray, ...]  # per stage, per sheet (the kept sheets)
    kept: tuple[np.ndarray | None, ...]  # per stage: sheet mask, None = all
    totals: np.ndarray  # NaN when the entry has no stage at all
    complete: np.ndarray  # bool
    rank: np.ndarray  # int, 0 = unranked (incomplete)
    shared: np.ndarray  # bool
    tie_break: np.ndarray  # int rule index that separated the row from the one above, -1
    order: tuple[np.ndarray, ...]  # per category: entry indices in display order
    normalisation: tuple[tuple, ...]  # per stage: normalise_judges() extras, or ()


def rank_core(p: PreparedEvent, drop_judge: int | None = None) -> RankCore:
    """Stage scores, totals and ranks; ``drop_judge`` leaves one judge's sheets out."""
    ev = p.event
    n_e = len(p.entry_keys)
    n_j = len(p.judge_keys)
    stage_scores = np.full((n_e, len(p.stages)), np.nan)
    adjusted, kept, normalisation = [], [], []
    for si, sd in enumerate(p.stages):
        mask = None if drop_judge is None else sd.judge != drop_judge
        entry = sd.entry if mask is None else sd.entry[mask]
        judge = sd.judge if mask is None else sd.judge[mask]
        totals = sd.totals if mask is None else sd.totals[mask]
        if ev.normalize_judges:
            adj, *extra = normalise_judges(totals, judge, n_j)
            normalisation.append(tuple(extra))
        else:
            adj = totals
            normalisation.append(())
        adjusted.append(adj)
        kept.append(mask)
        stage_scores[:, si] = aggregate(adj, entry, n_e, ev.aggregation)

    present = ~np.isnan(stage_scores)
    complete = present.all(axis=1)
    weights = np.array([s.weight for s in ev.stages]) / 100.0
    totals = np.where(present.any(axis=1), np.nansum(stage_scores * weights, axis=1), np.nan)

    # Comparison keys: quantised total, then each tie-break value (higher wins).
    keys = [quantise(totals)]
    for kind, si, ci in p.tie_breaks:
        if kind == "stage":
            keys.append(quantise(stage_scores[:, si]))
        else:
            sd, mask = p.stages[si], kept[si]
            col = sd.norm[:, ci] if mask is None else sd.norm[mask, ci]
            entry = sd.entry if mask is None else sd.entry[mask]
            keys.append(quantise(group_mean(col, entry, n_e)))
    key_matrix = np.column_stack(keys)

    rank = np.zeros(n_e, dtype=np.int64)
    shared = np.zeros(n_e, dtype=bool)
    tie_break = np.full(n_e, -1, dtype=np.int64)
    orders = []
    for _cat, members in p.categories:
        done = members[complete[members]]
        # lexsort: last key is primary; entry index (= key order) breaks full ties.
        by = [done] + [-key_matrix[done, i] for i in range(key_matrix.shape[1] - 1, -1, -1)]
        done = done[np.lexsort(by)] if len(done) else done
        if len(done):
            km = key_matrix[done]
            differs = np.ones((len(done), km.shape[1]), dtype=bool)
            differs[1:] = km[1:] != km[:-1]
            new_group = differs.any(axis=1)
            pos = np.arange(len(done))
            rank[done] = np.maximum.accumulate(np.where(new_group, pos, 0)) + 1
            group_size = np.bincount(rank[done] - 1, minlength=len(done))
            shared[done] = group_size[rank[done] - 1] > 1
            first_diff = np.argmax(differs, axis=1)
            by_rule = new_group & (first_diff > 0)
            by_rule[0] = False
            tie_break[done[by_rule]] = first_diff[by_rule] - 1
        rest = members[~complete[members]]
        partial = np.where(np.isnan(totals[rest]), -np.inf, quantise(totals[rest]))
        rest = rest[np.lexsort((rest, -partial))] if len(rest) else rest
        orders.append(np.concatenate([done, rest]))

    return RankCore(
        stage_scores=stage_scores,
        adjusted=tuple(adjusted),
        kept=tuple(kept),
        totals=totals,
        complete=complete,
        rank=rank,
        shared=shared,
        tie_break=tie_break,
        order=tuple(orders),
        normalisation=tuple(normalisation),
    )


def award_for(rank: int, ladder: tuple[str, ...]) -> str | None:
    """The award of a rank: competition ranking means entries sharing rank r all get the
    award of place r and the places they fill after it are skipped (1, 1, 3 → Juara I,
    Juara I, Juara III)."""
    return ladder[rank - 1] if 0 < rank <= len(ladder) else None


def band_for(total_key: float, category: CategoryDef) -> str | None:
    for band in category.bands:
        if total_key >= band.min:
            return band.label
    return None


# ------------------------------------------------------------------------- results


def compute_results(p: PreparedEvent) -> EventResults:
    """Rank every category of the event."""
    core = rank_core(p)
    n_e = len(p.entry_keys)
    stage_keys = [s.key for s in p.event.stages]

    # Per stage, per entry: StageScore.
    per_stage: list[list[StageScore | None]] = []
    empty = StageScore(score=None)
    for si, sd in enumerate(p.stages):
        counts = np.bincount(sd.entry, minlength=n_e)
        crit_means = np.full((n_e, len(sd.criterion_keys)), np.nan)
        for ci in range(len(sd.criterion_keys)):
            crit_means[:, ci] = np.bincount(sd.entry, weights=sd.norm[:, ci], minlength=n_e)
        has = counts > 0
        crit_means[has] /= counts[has, None]
        aspect_means = crit_means @ sd.aspect_matrix
        scores = core.stage_scores[:, si].tolist()
        crit_rows, aspect_rows = crit_means.tolist(), aspect_means.tolist()
        judges: list[list[JudgeScore]] = [[] for _ in range(n_e)]
        for e, j, raw, adj in zip(
            sd.entry.tolist(),
            sd.judge.tolist(),
            sd.totals.tolist(),
            core.adjusted[si].tolist(),
            strict=True,
        ):
            judges[e].append(JudgeScore(p.judge_keys[j], raw, adj))
        out: list[StageScore | None] = []
        for e in range(n_e):
            if not has[e]:
                out.append(empty)
                continue
            out.append(
                StageScore(
                    score=scores[e],
                    judges=tuple(judges[e]),
                    aspects=dict(zip(sd.aspects, aspect_rows[e], strict=True)),
                    criteria=dict(zip(sd.criterion_keys, crit_rows[e], strict=True)),
                )
            )
        per_stage.append(out)

    totals = core.totals.tolist()
    total_keys = quantise(core.totals).tolist()
    missing_mask = np.isnan(core.stage_scores)
    categories = {}
    for (cat, _members), order in zip(p.categories, core.order, strict=True):
        rows = []
        for e in order.tolist():
            complete = bool(core.complete[e])
            rank = int(core.rank[e])
            tb = int(core.tie_break[e])
            rows.append(
                RankedRow(
                    entry=p.entry_keys[e],
                    category=cat.key,
                    total=None if np.isnan(totals[e]) else totals[e],
                    rank=rank if complete else None,
                    shared=bool(core.shared[e]),
                    award=award_for(rank, cat.award_ladder) if complete else None,
                    band=band_for(total_keys[e], cat) if complete else None,
                    incomplete=not complete,
                    missing_stages=tuple(
                        k for k, m in zip(stage_keys, missing_mask[e], strict=True) if m
                    ),
                    stages={k: per_stage[si][e] for si, k in enumerate(stage_keys)},
                    tie_break=p.event.tie_breaks[tb] if tb >= 0 else None,
                )
            )
        categories[cat.key] = CategoryResult(cat.key, tuple(rows))

    normalisation = {}
    if p.event.normalize_judges:
        for si, sd in enumerate(p.stages):
            counts, means, sds, scaled = core.normalisation[si]
            normalisation[sd.stage.key] = tuple(
                JudgeNormalisation(
                    p.judge_keys[j], int(counts[j]), float(means[j]), float(sds[j]), bool(scaled[j])
                )
                for j in np.flatnonzero(counts).tolist()
            )
    return EventResults(
        categories=categories, compare_decimals=COMPARE_DECIMALS, normalisation=normalisation
    )
