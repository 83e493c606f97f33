"""Pure scoring core: rankings, awards, bands and fairness figures (DESIGN.md "Scoring
semantics"; STYLE.md item 4). Imports nothing from Flask, SQLAlchemy or the rest of monev;
plain frozen dataclasses in, plain frozen dataclasses out, no I/O.

Usage::

    from monev.scoring import (CriterionDef, StageDef, CategoryDef, EventDef, EntryDef,
                               SheetInput, prepare, compute_results, compute_fairness)

    event = EventDef(
        stages=[StageDef("adm", 40, [CriterionDef("c1", "Akses", 60, 1, 4), ...]), ...],
        aggregation="mean",            # "mean" | "median" | "trimmed"
        normalize_judges=False,
        tie_breaks=["stage:pres", "criterion:c1"],
        categories=[CategoryDef("desa", bands=[{"min": 85, "label": "Unggul"}])],
    )
    prepared = prepare(event, entries, sheets)   # validates; raises ScoringInputError
    results = compute_results(prepared)          # EventResults
    report = compute_fairness(prepared)          # FairnessReport

Inputs (``model.py``): ``CriterionDef(key, aspect, weight, min, max)``,
``StageDef(key, weight, criteria)``, ``CategoryDef(key, award_ladder, bands)``,
``EventDef(stages, aggregation, normalize_judges, tie_breaks, categories)``,
``EntryDef(key, category)``, ``SheetInput(entry, judge, stage, final, values)``.
Numbers may be ``Decimal``; everything is computed in float64 and the caller rounds for
display (2 decimals is plenty).

Outputs: ``EventResults.categories[cat].rows`` — ``RankedRow(entry, category, total, rank,
shared, award, band, incomplete, missing_stages, stages, tie_break)`` where
``stages[stage_key]`` is ``StageScore(score, judges, aspects, criteria)`` with each judge's
raw and adjusted sheet total (``JudgeScore``), each aspect's weighted contribution and each
criterion's mean normalised score. ``FairnessReport`` (see ``fairness.py``): per stage
``StageFairness`` (six ICCs, Krippendorff's alpha, leniency, outlier sheets, messages),
``rank_stability`` (per judge left out, the award places that change) and ``messages``
(codes + params; ``Message.text`` is the English default).

A judge's sheet total has one definition, ``totals.sheet_total`` (exact decimals, what the
judge sees, 2 decimals); the engine uses its vectorised float form ``totals.sheet_totals``.

Semantics (the decisions behind the numbers):

* Normalised criterion score: ``100 * (v - min) / (max - min)``. A judge's stage score for
  an entry: Σ criterion weight × normalised score / 100 (0–100 when weights sum to 100).
* Only final sheets count; drafts are skipped without validation.
* Entry stage score: aggregate of its judges' stage scores — "mean"; "median" (mean of the
  two middle scores for an even count); "trimmed" (drop one highest and one lowest when
  there are ≥ 4 judges, else the plain mean).
* ``normalize_judges``: within a stage, each judge's sheet totals are standardised by that
  judge's own mean and SD and rescaled to the pooled mean and SD of all the stage's sheet
  totals (population SDs). A judge with fewer than 2 sheets in the stage or with no spread
  (SD < 1e-9) cannot be standardised and keeps their raw totals (neither shifted nor
  rescaled); ``EventResults.normalisation`` shows which judges were rescaled. Adjusted
  scores may leave 0–100; they are not clipped (clipping would reorder entries). Aspect and
  criterion figures stay raw.
* Final total: Σ stage weight × stage score / 100. An entry without final sheets in one or
  more stages is *incomplete*: ``incomplete=True``, ``missing_stages`` lists them, its
  ``total`` is the partial sum over the stages it has (None if none), and it is listed after
  all complete entries of its category (by partial total, then key) with no rank, award or
  band. (In a shortlisting event, entries that did not reach a later stage are exactly
  these.)
* Ranking per category, higher first: totals, then each tie-break rule in order
  ("stage:KEY": higher stage score; "criterion:KEY": higher mean normalised score on that
  criterion over the entry's final sheets). Values are compared after snapping to 9
  decimals and rounding to 4 (``COMPARE_DECIMALS``), so float noise never decides a rank.
  Still equal → the same rank, ``shared=True``, competition ranking (1, 1, 3); rows that
  share a rank are listed by entry key. ``tie_break`` names the rule that separated a row
  from the row above when their totals were equal.
* Awards by rank from the category's ladder (default Juara I–III, Harapan I–III): entries
  sharing rank r all get the award of place r, and the places they fill after it are
  skipped (ranks 1, 1, 3 → Juara I, Juara I, Juara III). A rank beyond the ladder: none.
* Bands: the first band (highest ``min`` first) whose ``min`` ≤ the compared total.
"""

from monev.scoring.engine import (
    COMPARE_DECIMALS,
    PreparedEvent,
    compute_results,
    prepare,
)
from monev.scoring.fairness import (
    ICC_FORMS,
    MESSAGE_TEXTS,
    FairnessOptions,
    FairnessReport,
    LeaveOneOut,
    Message,
    OutlierSheet,
    RankChange,
    StageFairness,
    compute_fairness,
    icc_forms,
    krippendorff_alpha,
)
from monev.scoring.model import (
    AGGREGATIONS,
    DEFAULT_AWARD_LADDER,
    Band,
    CategoryDef,
    CategoryResult,
    CriterionDef,
    EntryDef,
    EventDef,
    EventResults,
    JudgeNormalisation,
    JudgeScore,
    RankedRow,
    ScoringInputError,
    SheetInput,
    StageDef,
    StageScore,
)
from monev.scoring.totals import TOTAL_DECIMALS, Scale, SheetTotal, sheet_total, sheet_totals

__all__ = [
    "AGGREGATIONS",
    "COMPARE_DECIMALS",
    "DEFAULT_AWARD_LADDER",
    "ICC_FORMS",
    "MESSAGE_TEXTS",
    "Band",
    "CategoryDef",
    "CategoryResult",
    "CriterionDef",
    "EntryDef",
    "EventDef",
    "EventResults",
    "FairnessOptions",
    "FairnessReport",
    "JudgeNormalisation",
    "JudgeScore",
    "LeaveOneOut",
    "Message",
    "OutlierSheet",
    "PreparedEvent",
    "RankChange",
    "RankedRow",
    "Scale",
    "ScoringInputError",
    "SheetInput",
    "SheetTotal",
    "StageDef",
    "StageFairness",
    "StageScore",
    "TOTAL_DECIMALS",
    "compute_fairness",
    "compute_results",
    "icc_forms",
    "krippendorff_alpha",
    "prepare",
    "sheet_total",
    "sheet_totals",
]
