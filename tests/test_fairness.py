"""Fairness figures (monev.scoring.fairness) against published reference values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monev.scoring import (
    ICC_FORMS,
    MESSAGE_TEXTS,
    CategoryDef,
    CriterionDef,
    EntryDef,
    EventDef,
    FairnessOptions,
    SheetInput,
    StageDef,
    compute_fairness,
    icc_forms,
    krippendorff_alpha,
    prepare,
)

# Shrout & Fleiss (1979), Table 2: 6 targets × 4 judges.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]
# Their reported values (two decimals).
SHROUT_FLEISS_ICC = {
    "ICC(1,1)": 0.17,
    "ICC(2,1)": 0.29,
    "ICC(3,1)": 0.71,
    "ICC(1,k)": 0.44,
    "ICC(2,k)": 0.62,
    "ICC(3,k)": 0.91,
}

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders × 12 units.
N = None
KRIPPENDORFF = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


def event_with(lo, hi, **kw):
    return EventDef([StageDef("s", 100, [CriterionDef("q", "A", 100, lo, hi)])], **kw)


def prepared_from_matrix(matrix, lo, hi, *, by_column=False, **kw):
    """Sheets from a targets × judges matrix (or judges × units with by_column)."""
    if by_column:
        matrix = [list(col) for col in zip(*matrix, strict=True)]
    sheets = [
        SheetInput(f"E{t:02d}", f"J{j}", "s", True, {"q": v})
        for t, row in enumerate(matrix)
        for j, v in enumerate(row)
        if v is not None
    ]
    entries = [EntryDef(f"E{t:02d}", "cat") for t in range(len(matrix))]
    return prepare(event_with(lo, hi, **kw), entries, sheets)


def by_code(messages):
    return {m.code: m for m in messages}


# ------------------------------------------------------------------------ ICC


def test_icc_matches_shrout_and_fleiss_table():
    figures = icc_forms(SHROUT_FLEISS)
    assert (figures.n, figures.k) == (6, 4)
    for form, published in SHROUT_FLEISS_ICC.items():
        assert figures.values[form] == pytest.approx(published, abs=0.01), form
    # Their Table 3 mean squares: BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02.
    assert figures.mean_squares == pytest.approx(
        {"BMS": 11.24, "WMS": 6.26, "JMS": 32.49, "EMS": 1.02}, abs=0.01
    )
    two_way = figures.tests["two_way"]
    assert (two_way.f, two_way.df1, two_way.df2) == (pytest.approx(11.03, abs=0.01), 5, 15)
    assert two_way.p_value < 0.001
    assert figures.tests["one_way"].f == pytest.approx(11.24 / 6.26, abs=0.01)


def test_icc_through_the_engine_full_panel():
    # Scores 0–10 on one criterion of weight 100: sheet totals are 10 × the score, and the
    # ICCs are invariant to that linear change.
    report = compute_fairness(prepared_from_matrix(SHROUT_FLEISS, 0, 10))
    stage = report.stages["s"]
    assert stage.full_panel and stage.icc_unavailable is None
    assert (stage.entries, stage.judges, stage.sheets) == (6, 4, 24)
    for form, published in SHROUT_FLEISS_ICC.items():
        assert stage.icc[form] == pytest.approx(published, abs=0.01), form


def test_icc_not_computed_for_incomplete_panels():
    report = compute_fairness(prepared_from_matrix(KRIPPENDORFF, 1, 5, by_column=True))
    stage = report.stages["s"]
    assert not stage.full_panel
    assert stage.icc == dict.fromkeys(ICC_FORMS)
    assert stage.icc_unavailable == "incomplete_panel"
    assert stage.icc_tests == {}
    assert by_code(stage.messages)["icc_unavailable"].params["reason"] == "incomplete_panel"


def test_icc_needs_two_judges_and_two_entries():
    one_judge = compute_fairness(prepared_from_matrix([[5], [7]], 0, 10)).stages["s"]
    assert one_judge.icc_unavailable == "single_judge" and one_judge.icc["ICC(3,1)"] is None
    one_entry = compute_fairness(prepared_from_matrix([[5, 7]], 0, 10)).stages["s"]
    assert one_entry.icc_unavailable == "too_few_entries"
    flat = compute_fairness(prepared_from_matrix([[5, 5], [5, 5]], 0, 10)).stages["s"]
    assert flat.icc_unavailable == "no_variation" and flat.icc == dict.fromkeys(ICC_FORMS)


# ------------------------------------------------------------ Krippendorff's alpha


def test_krippendorff_alpha_matches_the_published_example():
    assert krippendorff_alpha(KRIPPENDORFF, "interval") == pytest.approx(0.849, abs=0.005)
    assert krippendorff_alpha(KRIPPENDORFF, "nominal") == pytest.approx(0.743, abs=0.005)
    as_nan = np.array([[np.nan if v is None else v for v in row] for row in KRIPPENDORFF])
    assert krippendorff_alpha(as_nan) == pytest.approx(0.849, abs=0.005)


def test_krippendorff_alpha_through_the_engine():
    # Values 1–5 normalised to 0–100: a linear change, alpha (interval) is unchanged.
    stage = compute_fairness(prepared_from_matrix(KRIPPENDORFF, 1, 5, by_column=True)).stages["s"]
    assert stage.alpha == pytest.approx(0.849, abs=0.005)
    assert stage.entries == 12  # unit 12 has one value: counted, but not pairable
    assert by_code(stage.messages)["agreement_good"].params["alpha"] == stage.alpha
    assert by_code(stage.messages)["single_judge_entries"].params["count"] == 1


def test_krippendorff_alpha_undefined():
    assert krippendorff_alpha([[1, 2, 3]]) is None  # a single coder: nothing pairable
    assert krippendorff_alpha([[1, None], [None, 2]]) is None
    assert krippendorff_alpha([[3, 3, 3], [3, 3, 3]]) is None  # no variation
    stage = compute_fairness(prepared_from_matrix([[5], [7]], 0, 10)).stages["s"]
    assert (stage.alpha, stage.alpha_unavailable) == (None, "too_few_values")
    assert by_code(stage.messages)["agreement_undefined"].params["reason"] == "too_few_values"


def test_agreement_messages_follow_the_thresholds():
    weak = compute_fairness(prepared_from_matrix(SHROUT_FLEISS, 0, 10)).stages["s"]
    assert weak.alpha < 0.667 and "agreement_weak" in by_code(weak.messages)
    prepared = prepared_from_matrix(KRIPPENDORFF, 1, 5, by_column=True)
    moderate = compute_fairness(prepared, FairnessOptions(alpha_good=0.9)).stages["s"]
    assert "agreement_moderate" in by_code(moderate.messages)
    assert by_code(moderate.messages)["agreement_moderate"].severity == "warning"


# ------------------------------------------------------- leniency and outliers


def lenient_panel():
    # J2 and J3 agree; J1 is 15 points above them on E1–E3 and 30 points above on E4.
    return prepared_from_matrix([[65, 50, 50], [75, 60, 60], [85, 70, 70], [90, 60, 60]], 0, 100)


def test_leniency_is_the_mean_deviation_from_the_co_judges():
    stage = compute_fairness(lenient_panel()).stages["s"]
    leniency = {j.judge: (j.leniency, j.compared, j.sheets) for j in stage.leniency}
    # J1: (15 + 15 + 15 + 30) / 4; J2: each entry total − mean(J1, J3), e.g. 50 − 57.5.
    assert leniency["J0"] == (pytest.approx(18.75), 4, 4)
    assert leniency["J1"] == (pytest.approx((-7.5 * 3 - 15) / 4), 4, 4)
    assert leniency["J2"] == leniency["J1"]
    lenient = [m for m in stage.messages if m.code == "lenient_judge"]
    assert [(m.params["judge"], m.params["entries"]) for m in lenient] == [("J0", 4)]
    assert lenient[0].params["leniency"] == pytest.approx(18.75)
    assert not [m for m in stage.messages if m.code == "harsh_judge"]


def test_harsh_judge_and_minimum_entries():
    prepared = prepared_from_matrix([[35, 50, 50], [45, 60, 60], [55, 70, 70]], 0, 100)
    stage = compute_fairness(prepared).stages["s"]
    harsh = by_code(stage.messages)["harsh_judge"]
    assert harsh.params["judge"] == "J0" and harsh.params["points"] == pytest.approx(15)
    fewer = compute_fairness(prepared, FairnessOptions(leniency_min_entries=4)).stages["s"]
    assert "harsh_judge" not in by_code(fewer.messages)


def test_outlier_sheets():
    stage = compute_fairness(lenient_panel()).stages["s"]
    # Only J1 on E4 is more than 15 points away (30); exactly 15 is not an outlier.
    assert [(o.entry, o.judge) for o in stage.outliers] == [("E03", "J0")]
    outlier = stage.outliers[0]
    assert (outlier.total, outlier.others_mean, outlier.deviation) == (90.0, 60.0, 30.0)
    totals = np.array([65, 50, 50, 75, 60, 60, 85, 70, 70, 90, 60, 60.0])
    assert outlier.deviation_sd == pytest.approx(30 / totals.std())
    assert by_code(stage.messages)["outlier_sheets"].params == {
        "stage": "s",
        "count": 1,
        "threshold": 15.0,
    }
    looser = compute_fairness(lenient_panel(), FairnessOptions(outlier_points=10)).stages["s"]
    assert len(looser.outliers) == 6  # J1's four sheets and J2/J3 on E4 (−15)
    assert abs(looser.outliers[0].deviation) == 30  # largest deviation first


def test_a_judge_sharing_no_entry_has_no_leniency():
    stage = compute_fairness(prepared_from_matrix([[50, N], [N, 70]], 0, 100)).stages["s"]
    assert [(j.judge, j.leniency, j.compared) for j in stage.leniency] == [
        ("J0", None, 0),
        ("J1", None, 0),
    ]
    assert stage.outliers == ()


# ------------------------------------------------------------- rank stability


def test_rank_stability_reports_award_places_that_change():
    # J0 loves A: A = (90 + 60 + 60)/3 = 70 beats B = 67; without J0, B (68) beats A (60).
    prepared = prepared_from_matrix([[90, 60, 60], [65, 68, 68], [50, 50, 50]], 0, 100)
    report = compute_fairness(prepared)
    changes = {loo.judge: loo.changes for loo in report.rank_stability}
    assert list(changes) == ["J0", "J1", "J2"]
    assert [(c.entry, c.rank_with, c.rank_without) for c in changes["J0"]] == [
        ("E00", 1, 2),
        ("E01", 2, 1),
    ]
    assert [(c.award_with, c.award_without) for c in changes["J0"]] == [
        ("Juara I", "Juara II"),
        ("Juara II", "Juara I"),
    ]
    assert changes["J1"] == changes["J2"] == ()
    unstable = [m for m in report.messages if m.code == "ranking_unstable"]
    assert [(m.params["judge"], m.params["changes"]) for m in unstable] == [("J0", 2)]


def test_rank_stability_only_counts_award_places():
    # The swap of E02/E03 happens at ranks 3–4, beyond a one-place ladder.
    matrix = [[90, 90], [80, 80], [70, 40], [60, 60]]
    prepared = prepare(
        event_with(0, 100, categories=[CategoryDef("cat", ["Winner"])]),
        [EntryDef(f"E{t:02d}", "cat") for t in range(4)],
        [
            SheetInput(f"E{t:02d}", f"J{j}", "s", True, {"q": v})
            for t, row in enumerate(matrix)
            for j, v in enumerate(row)
        ],
    )
    report = compute_fairness(prepared)
    assert all(loo.changes == () for loo in report.rank_stability)
    assert by_code(report.messages)["ranking_stable"].params == {"judges": 2}


def test_rank_stability_when_leaving_out_the_only_judge_of_an_entry():
    prepared = prepared_from_matrix([[80, N], [N, 70], [60, 60]], 0, 100)
    changes = {loo.judge: loo.changes for loo in compute_fairness(prepared).rank_stability}
    assert [(c.entry, c.rank_with, c.rank_without, c.award_without) for c in changes["J0"]] == [
        ("E00", 1, None, None),
        ("E01", 2, 1, "Juara I"),
        ("E02", 3, 2, "Juara II"),
    ]


def test_rank_stability_can_be_skipped():
    report = compute_fairness(lenient_panel(), FairnessOptions(rank_stability=False))
    assert report.rank_stability == ()
    assert not [m for m in report.messages if m.code.startswith("ranking_")]


# ------------------------------------------------------------------- messages


def test_every_message_has_an_english_default():
    reports = [
        compute_fairness(lenient_panel()),
        compute_fairness(prepared_from_matrix([[35, 50, 50], [45, 60, 60], [55, 70, 70]], 0, 100)),
        compute_fairness(prepared_from_matrix(KRIPPENDORFF, 1, 5, by_column=True)),
        compute_fairness(prepared_from_matrix(SHROUT_FLEISS, 0, 10)),
        compute_fairness(prepared_from_matrix([[5], [7]], 0, 10)),
        compute_fairness(prepared_from_matrix([[90, 60, 60], [65, 68, 68]], 0, 100)),
    ]
    seen = set()
    for report in reports:
        for message in report.messages:
            assert message.text and "{" not in message.text
            assert message.severity in {"info", "warning"}
            seen.add(message.code)
    assert {"agreement_moderate"} | seen == set(MESSAGE_TEXTS)
    assert by_code(reports[0].messages)["lenient_judge"].text == (
        "Stage s: judge J0 scores 18.8 points above the other judges on average (over 4 entries)."
    )


def test_fairness_is_computed_on_raw_totals_even_when_normalising():
    raw = compute_fairness(lenient_panel()).stages["s"]
    normalised = prepared_from_matrix(
        [[65, 50, 50], [75, 60, 60], [85, 70, 70], [90, 60, 60]], 0, 100, normalize_judges=True
    )
    assert compute_fairness(normalised).stages["s"].leniency == raw.leniency


def test_statistics_are_invariant_to_relabelling_and_linear_rescaling():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @hypothesis.given(
        st.lists(st.lists(st.integers(0, 10), min_size=3, max_size=3), min_size=3, max_size=8),
        st.floats(0.5, 4),
        st.floats(-20, 20),
        st.randoms(use_true_random=False),
    )
    def check(matrix, scale, shift, rng):
        x = np.array(matrix, dtype=float)
        perm = list(range(len(matrix)))
        rng.shuffle(perm)
        y = x[perm] * scale + shift
        a, b = icc_forms(x), icc_forms(y)
        for form in ICC_FORMS:
            if a.values[form] is None or b.values[form] is None:
                continue
            assert math.isclose(a.values[form], b.values[form], abs_tol=1e-9)
        alpha_a, alpha_b = krippendorff_alpha(x.T), krippendorff_alpha(y.T)
        assert (alpha_a is None) == (alpha_b is None)
        if alpha_a is not None:
            assert math.isclose(alpha_a, alpha_b, abs_tol=1e-9)

    check()
