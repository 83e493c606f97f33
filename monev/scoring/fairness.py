"""Fairness figures per stage, rank stability, and plain-language guidance codes.

All figures are computed on the judges' *raw* stage scores (sheet totals 0–100, before
any per-judge normalisation): they describe how the judges actually scored.

Per stage (over all categories, since one panel scores them all):

* ICC — the six intraclass correlations of Shrout & Fleiss (1979) from the two-way ANOVA
  mean squares, computed only when every entry scored in the stage has the same full
  panel of k ≥ 2 judges and there are at least 2 such entries; otherwise all six are None
  and ``icc_unavailable`` gives the reason code. With them, the F tests of Shrout &
  Fleiss (H0: ICC = 0): "one_way" F = BMS/WMS for ICC(1,·), "two_way" F = BMS/EMS for
  ICC(2,·) and ICC(3,·), with p-values from the F distribution (``scipy.special.fdtrc``).
* Krippendorff's alpha (interval metric), always: entries are units, judges coders,
  incomplete panels are fine. None when undefined (fewer than 2 pairable values, i.e. no
  entry with 2 judges, or no variation at all among the pairable values).
* Leniency of each judge: the mean, over the entries they share with at least one other
  judge, of (their total − the mean of the other judges' totals on that entry). Positive =
  lenient, negative = harsh. None when the judge shares no entry.
* Outlier sheets: a final sheet whose total differs from the mean of the other judges'
  totals on the same entry by more than ``outlier_points`` (default 15 points on the 0–100
  scale; a fixed number of points is easy to explain and does not depend on how spread
  the field is). ``deviation_sd`` gives the same deviation in pooled SDs of the stage.

Per event:

* Rank stability: for each judge, the whole ranking (every stage, with the event's own
  aggregation, normalisation and tie-breaks) is recomputed without that judge's sheets;
  reported are the entries whose rank changes where either rank is an award place of the
  category's ladder — as (category, entry, rank with all, rank without, awards). An entry
  that becomes incomplete without the judge has rank_without None.

Guidance is a tuple of :class:`Message` (code + params + severity) that the UI translates;
``Message.text`` is the English default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import fdtrc  # F survival function; lighter to import than scipy.stats

from monev.scoring.engine import PreparedEvent, award_for, rank_core
from monev.scoring.model import Key

ICC_FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")


@dataclass(frozen=True, slots=True)
class FairnessOptions:
    outlier_points: float = 15.0  # |total − co-judges' mean| above this flags a sheet
    leniency_points: float = 10.0  # |leniency| above this gives lenient/harsh_judge
    leniency_min_entries: int = 3  # … only for judges compared on at least this many
    alpha_good: float = 0.8  # alpha ≥ this: agreement_good
    alpha_acceptable: float = 0.667  # ≥ this: agreement_moderate; below: agreement_weak
    rank_stability: bool = True


# ------------------------------------------------------------------------ messages

MESSAGE_TEXTS: Mapping[str, str] = {
    "agreement_good": "Stage {stage}: judges agree well (Krippendorff's alpha {alpha:.3f}).",
    "agreement_moderate": (
        "Stage {stage}: judges agree only moderately (Krippendorff's alpha {alpha:.3f}, "
        "below {good}); conclusions from close scores are tentative."
    ),
    "agreement_weak": (
        "Stage {stage}: judges agree weakly (Krippendorff's alpha {alpha:.3f}, below "
        "{acceptable}); review the rubric guidance and the outlying sheets before publishing."
    ),
    "agreement_undefined": (
        "Stage {stage}: agreement cannot be measured ({reason}); at least two judges must "
        "score the same entries, and their scores must vary."
    ),
    "icc_unavailable": (
        "Stage {stage}: intraclass correlations need every entry scored by the same full "
        "panel of at least two judges ({reason}); Krippendorff's alpha is used instead."
    ),
    "single_judge_entries": (
        "Stage {stage}: {count} entries have a single final sheet, so no agreement or "
        "leniency can be measured for them."
    ),
    "lenient_judge": (
        "Stage {stage}: judge {judge} scores {leniency:.1f} points above the other judges "
        "on average (over {entries} entries)."
    ),
    "harsh_judge": (
        "Stage {stage}: judge {judge} scores {points:.1f} points below the other judges on "
        "average (over {entries} entries)."
    ),
    "outlier_sheets": (
        "Stage {stage}: {count} sheets differ from the other judges' mean on the same entry "
        "by more than {threshold:g} points."
    ),
    "ranking_unstable": (
        "Leaving judge {judge} out changes {changes} award places; check their sheets."
    ),
    "ranking_stable": ("Leaving out any one of the {judges} judges changes no award place."),
}


@dataclass(frozen=True, slots=True)
class Message:
    code: str
    severity: str  # "info" or "warning"
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The English default; the UI translates by ``code`` with ``params``."""
        return MESSAGE_TEXTS[self.code].format(**self.params)


# ------------------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class FTest:
    f: float
    df1: int
    df2: int
    p_value: float


@dataclass(frozen=True, slots=True)
class ICCFigures:
    """The six Shrout & Fleiss ICCs of an n targets × k judges matrix, with the ANOVA."""

    n: int
    k: int
    values: Mapping[str, float | None]  # keys ICC_FORMS
    mean_squares: Mapping[str, float]  # BMS, WMS, JMS, EMS
    tests: Mapping[str, FTest]  # "one_way", "two_way" (absent when F is undefined)


@dataclass(frozen=True, slots=True)
class JudgeLeniency:
    judge: Key
    sheets: int
    mean_total: float
    compared: int  # entries shared with at least one other judge
    leniency: float | None


@dataclass(frozen=True, slots=True)
class OutlierSheet:
    entry: Key
    judge: Key
    total: float
    others_mean: float
    deviation: float  # total − others_mean
    deviation_sd: float | None  # deviation / pooled SD of the stage's sheet totals


@dataclass(frozen=True, slots=True)
class StageFairness:
    stage: Key
    entries: int  # entries with at least one final sheet in the stage
    judges: int
    sheets: int
    full_panel: bool
    icc: Mapping[str, float | None]  # all six keys of ICC_FORMS, None when not computed
    icc_unavailable: str | None  # reason code when the ICCs are None
    icc_tests: Mapping[str, FTest]
    alpha: float | None
    alpha_unavailable: str | None  # "too_few_values" | "no_variation"
    leniency: tuple[JudgeLeniency, ...]
    outliers: tuple[OutlierSheet, ...]
    messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class RankChange:
    category: Key
    entry: Key
    rank_with: int | None
    rank_without: int | None
    award_with: str | None
    award_without: str | None


@dataclass(frozen=True, slots=True)
class LeaveOneOut:
    judge: Key
    changes: tuple[RankChange, ...]


@dataclass(frozen=True, slots=True)
class FairnessReport:
    stages: Mapping[Key, StageFairness]
    rank_stability: tuple[LeaveOneOut, ...]
    messages: tuple[Message, ...]  # every stage's messages, then the event's


def icc_forms(ratings: Sequence[Sequence[float]] | np.ndarray) -> ICCFigures:
    """Shrout & Fleiss (1979) ICCs of an n × k matrix (targets × judges), no missing cells.

    A form whose denominator is not positive (no variation) is None.
    """
    x = np.asarray(ratings, dtype=np.float64)
    n, k = x.shape
    if n < 2 or k < 2 or np.isnan(x).any():
        raise ValueError("need a complete matrix of at least 2 targets × 2 judges")
    grand = x.mean()
    ss_total = ((x - grand) ** 2).sum()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    bms = ss_rows / (n - 1)
    wms = (ss_total - ss_rows) / (n * (k - 1))
    jms = ss_cols / (k - 1)
    ems = max(ss_total - ss_rows - ss_cols, 0.0) / ((n - 1) * (k - 1))

    def ratio(num: float, den: float) -> float | None:
        return float(num / den) if den > 1e-12 * max(1.0, abs(num)) else None

    values = {
        "ICC(1,1)": ratio(bms - wms, bms + (k - 1) * wms),
        "ICC(2,1)": ratio(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n),
        "ICC(3,1)": ratio(bms - ems, bms + (k - 1) * ems),
        "ICC(1,k)": ratio(bms - wms, bms),
        "ICC(2,k)": ratio(bms - ems, bms + (jms - ems) / n),
        "ICC(3,k)": ratio(bms - ems, bms),
    }
    tests = {}
    for name, den, df2 in (("one_way", wms, n * (k - 1)), ("two_way", ems, (n - 1) * (k - 1))):
        if den > 0:
            f = bms / den
            tests[name] = FTest(float(f), n - 1, df2, float(fdtrc(n - 1, df2, f)))
    return ICCFigures(
        n=n,
        k=k,
        values=values,
        mean_squares={"BMS": float(bms), "WMS": float(wms), "JMS": float(jms), "EMS": float(ems)},
        tests=tests,
    )


def _alpha_grouped(values: np.ndarray, unit: np.ndarray, level: str) -> tuple[float | None, str]:
    """Krippendorff's alpha from (value, unit) pairs; returns (alpha, reason when None)."""
    if len(values) == 0:
        return None, "too_few_values"
    _, unit = np.unique(unit, return_inverse=True)
    m = np.bincount(unit)
    pairable = m[unit] >= 2
    values, unit = values[pairable], unit[pairable]
    n = len(values)
    if n < 2:
        return None, "too_few_values"
    m = np.bincount(unit)
    has = m >= 2
    if level == "interval":
        means = np.bincount(unit, weights=values) / np.maximum(m, 1)
        ss_unit = np.bincount(unit, weights=(values - means[unit]) ** 2)
        observed = (m[has] * ss_unit[has] / (m[has] - 1)).sum()  # = n·Do/2
        ss = ((values - values.mean()) ** 2).sum()
        expected = n * ss / (n - 1)  # = n·De/2
    elif level == "nominal":
        codes, code = np.unique(values, return_inverse=True)
        n_uc = np.bincount(unit * len(codes) + code, minlength=len(m) * len(codes))
        same = (n_uc.reshape(len(m), len(codes)) ** 2).sum(axis=1)
        observed = ((m[has] ** 2 - same[has]) / (m[has] - 1)).sum()  # = n·Do
        n_c = np.bincount(code)
        expected = (n * n - (n_c**2).sum()) / (n - 1)  # = n·De
    else:
        raise ValueError(f"unknown level {level!r}")
    if expected <= 1e-12:
        return None, "no_variation"
    return float(1.0 - observed / expected), ""


def krippendorff_alpha(
    reliability_data: Sequence[Sequence[float | None]] | np.ndarray, level: str = "interval"
) -> float | None:
    """Krippendorff's alpha of a coders × units matrix (None or NaN = missing value).

    ``level`` is "interval" or "nominal". None when undefined (fewer than 2 pairable
    values, or no variation among them).
    """
    x = np.array(
        [[np.nan if v is None else v for v in row] for row in reliability_data], dtype=np.float64
    )
    coder_unit = np.argwhere(~np.isnan(x))
    return _alpha_grouped(x[~np.isnan(x)], coder_unit[:, 1], level)[0]


# ------------------------------------------------------------------------- reports


def compute_fairness(p: PreparedEvent, options: FairnessOptions | None = None) -> FairnessReport:
    """Fairness figures for every stage, rank stability, and guidance messages."""
    opts = options or FairnessOptions()
    stages = {}
    messages: list[Message] = []
    for sd in p.stages:
        fairness = _stage_fairness(p, sd, opts)
        stages[sd.stage.key] = fairness
        messages.extend(fairness.messages)

    stability: list[LeaveOneOut] = []
    if opts.rank_stability and len(p.judge_keys) >= 2:
        stability = _rank_stability(p)
        for loo in stability:
            if loo.changes:
                messages.append(
                    Message(
                        "ranking_unstable",
                        "warning",
                        {"judge": loo.judge, "changes": len(loo.changes)},
                    )
                )
        if not any(loo.changes for loo in stability):
            messages.append(Message("ranking_stable", "info", {"judges": len(p.judge_keys)}))
    return FairnessReport(stages=stages, rank_stability=tuple(stability), messages=tuple(messages))


def _stage_fairness(p: PreparedEvent, sd, opts: FairnessOptions) -> StageFairness:
    key = sd.stage.key
    entry, judge, totals = sd.entry, sd.judge, sd.totals
    n_e, n_j = len(p.entry_keys), len(p.judge_keys)
    counts = np.bincount(entry, minlength=n_e)
    scored = counts > 0
    judges_in_stage = np.unique(judge)
    k = len(judges_in_stage)
    messages: list[Message] = []

    # ICC: the same full panel of k >= 2 judges on every scored entry (sheets are unique
    # per entry and judge, so "count == k" means "all k judges").
    icc = dict.fromkeys(ICC_FORMS)
    icc_tests: dict[str, FTest] = {}
    full_panel = bool(scored.any()) and k >= 2 and bool((counts[scored] == k).all())
    if not scored.any():
        icc_unavailable = "no_sheets"
    elif k < 2:
        icc_unavailable = "single_judge"
    elif not full_panel:
        icc_unavailable = "incomplete_panel"
    elif scored.sum() < 2:
        icc_unavailable = "too_few_entries"
    else:
        figures = icc_forms(totals.reshape(-1, k))  # sheets are in (entry, judge) order
        icc, icc_tests = dict(figures.values), dict(figures.tests)
        icc_unavailable = "no_variation" if all(v is None for v in icc.values()) else None
    if icc_unavailable and icc_unavailable != "no_sheets":
        messages.append(
            Message("icc_unavailable", "info", {"stage": key, "reason": icc_unavailable})
        )

    alpha, reason = _alpha_grouped(totals, entry, "interval")
    alpha_unavailable = None if alpha is not None else reason
    if len(totals):
        if alpha is None:
            messages.append(
                Message("agreement_undefined", "warning", {"stage": key, "reason": reason})
            )
        elif alpha < opts.alpha_acceptable:
            messages.append(
                Message(
                    "agreement_weak",
                    "warning",
                    {"stage": key, "alpha": alpha, "acceptable": opts.alpha_acceptable},
                )
            )
        elif alpha < opts.alpha_good:
            messages.append(
                Message(
                    "agreement_moderate",
                    "warning",
                    {"stage": key, "alpha": alpha, "good": opts.alpha_good},
                )
            )
        else:
            messages.append(Message("agreement_good", "info", {"stage": key, "alpha": alpha}))
    single = int((counts == 1).sum())
    if single and len(totals):
        messages.append(Message("single_judge_entries", "info", {"stage": key, "count": single}))

    # Leniency: deviation of each sheet from the mean of the co-judges' sheets.
    sums = np.bincount(entry, weights=totals, minlength=n_e)
    shared = counts[entry] >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        others = (sums[entry] - totals) / (counts[entry] - 1)
    deviation = np.where(shared, totals - others, 0.0)
    n_sheets = np.bincount(judge, minlength=n_j)
    compared = np.bincount(judge, weights=shared, minlength=n_j).astype(np.int64)
    dev_sum = np.bincount(judge, weights=deviation, minlength=n_j)
    mean_total = np.bincount(judge, weights=totals, minlength=n_j) / np.maximum(n_sheets, 1)
    leniency = []
    for j in judges_in_stage.tolist():
        value = float(dev_sum[j] / compared[j]) if compared[j] else None
        leniency.append(
            JudgeLeniency(
                judge=p.judge_keys[j],
                sheets=int(n_sheets[j]),
                mean_total=float(mean_total[j]),
                compared=int(compared[j]),
                leniency=value,
            )
        )
        if value is not None and compared[j] >= opts.leniency_min_entries:
            params = {"stage": key, "judge": p.judge_keys[j], "entries": int(compared[j])}
            if value > opts.leniency_points:
                messages.append(Message("lenient_judge", "warning", {**params, "leniency": value}))
            elif value < -opts.leniency_points:
                messages.append(
                    Message(
                        "harsh_judge", "warning", {**params, "leniency": value, "points": -value}
                    )
                )

    # Outlier sheets.
    pooled_sd = float(totals.std()) if len(totals) else 0.0
    flagged = np.flatnonzero(shared & (np.abs(deviation) > opts.outlier_points))
    flagged = flagged[np.lexsort((flagged, -np.abs(deviation[flagged])))]
    outliers = tuple(
        OutlierSheet(
            entry=p.entry_keys[entry[i]],
            judge=p.judge_keys[judge[i]],
            total=float(totals[i]),
            others_mean=float(others[i]),
            deviation=float(deviation[i]),
            deviation_sd=float(deviation[i] / pooled_sd) if pooled_sd > 0 else None,
        )
        for i in flagged.tolist()
    )
    if outliers:
        messages.append(
            Message(
                "outlier_sheets",
                "warning",
                {"stage": key, "count": len(outliers), "threshold": opts.outlier_points},
            )
        )

    return StageFairness(
        stage=key,
        entries=int(scored.sum()),
        judges=k,
        sheets=len(totals),
        full_panel=full_panel,
        icc=icc,
        icc_unavailable=icc_unavailable,
        icc_tests=icc_tests,
        alpha=alpha,
        alpha_unavailable=alpha_unavailable,
        leniency=tuple(leniency),
        outliers=outliers,
        messages=tuple(messages),
    )


def _rank_stability(p: PreparedEvent) -> list[LeaveOneOut]:
    base = rank_core(p)
    out = []
    for j, judge_key in enumerate(p.judge_keys):
        core = rank_core(p, drop_judge=j)
        changes = []
        for (cat, members), order in zip(p.categories, base.order, strict=True):
            ladder = cat.award_ladder
            moved = members[base.rank[members] != core.rank[members]]
            # Only award places matter: either rank on the ladder (rank 0 = unranked).
            with_rank, without_rank = base.rank[moved], core.rank[moved]
            on_ladder = ((with_rank > 0) & (with_rank <= len(ladder))) | (
                (without_rank > 0) & (without_rank <= len(ladder))
            )
            position = {e: i for i, e in enumerate(order.tolist())}
            for e in sorted(moved[on_ladder].tolist(), key=position.__getitem__):
                rw, ro = int(base.rank[e]), int(core.rank[e])
                changes.append(
                    RankChange(
                        category=cat.key,
                        entry=p.entry_keys[e],
                        rank_with=rw or None,
                        rank_without=ro or None,
                        award_with=award_for(rw, ladder),
                        award_without=award_for(ro, ladder),
                    )
                )
        out.append(LeaveOneOut(judge_key, tuple(changes)))
    return out
