"""A sheet's total has one definition (``monev.scoring.sheet_total``): what the judge sees on
their sheet, and, in its vectorised float form, what the ranking engine uses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monev.judging.numbers import CriterionRule
from monev.scoring import (
    CriterionDef,
    EntryDef,
    EventDef,
    Scale,
    SheetInput,
    StageDef,
    prepare,
    sheet_total,
)

D = Decimal


def test_total_is_the_weighted_sum_of_normalised_scores():
    scales = [Scale("c1", D(60), D(1), D(10)), Scale("c2", D(40), D(0), D(1000))]
    # 8.5 on 1–10 is 83.33…; × 60 % = 50. 250 on 0–1000 is 25; × 40 % = 10.
    total = sheet_total(scales, {"c1": D("8.5"), "c2": D(250)})
    assert total.total == D("60.00")
    assert total.exact == D("60.00000000000000000000000000")
    assert (total.scored, total.criteria, total.missing, total.complete) == (2, 2, (), True)


def test_unscored_criteria_add_nothing_and_are_listed():
    scales = [Scale("a", D(50), D(0), D(4)), Scale("b", D(50), D(0), D(4))]
    total = sheet_total(scales, {"a": D(3), "b": None})
    assert total.total == D("37.50")
    assert (total.scored, total.missing, total.complete) == (1, ("b",), False)
    assert sheet_total(scales, {}).total == D("0.00")


def test_total_is_shown_with_two_decimals_rounded_half_to_even():
    # 1 on 0–8 with weight 1: exactly 0.125 → 0.12; weight 3: 0.375 → 0.38.
    assert sheet_total([Scale("a", D(1), D(0), D(8))], {"a": D(1)}).total == D("0.12")
    assert sheet_total([Scale("a", D(3), D(0), D(8))], {"a": D(1)}).total == D("0.38")


def test_judgings_criterion_rule_is_a_scale():
    rules = [CriterionRule(7, D(100), D(1), D(5), D("0.5"))]
    assert sheet_total(rules, {7: D("3.5")}).total == D("62.50")


def _engine_total(scales, values) -> float:
    """The engine's own per-sheet total for one final sheet."""
    stage = StageDef("s", 100, [CriterionDef(s.key, "A", s.weight, s.min, s.max) for s in scales])
    prepared = prepare(
        EventDef([stage]), [EntryDef("e", "c")], [SheetInput("e", "j", "s", True, values)]
    )
    (total,) = prepared.stages[0].totals.tolist()
    return total


def test_engine_totals_equal_the_sheet_total_on_generated_rubrics():
    """On generated rubrics (decimal bounds, steps and weights) and scores on their steps,
    the engine's float total equals the exact total to 1e-9, and shows the same 2-decimal
    figure unless the exact total lies on a rounding half (within 1e-7 of x.xx5), where a
    binary float cannot tell which way to round and the exact form decides."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    steps = [D("0.01"), D("0.1"), D("0.25"), D("0.5"), D(1), D(5)]

    @st.composite
    def criterion(draw, key):
        step = draw(st.sampled_from(steps))
        low = draw(st.integers(-20, 20)) * step
        span = draw(st.integers(1, 400)) * step
        weight = D(draw(st.integers(0, 10_000))) / 100
        value = low + draw(st.integers(0, int(span / step))) * step
        return Scale(key, weight, low, low + span), value

    @st.composite
    def sheets(draw):
        n = draw(st.integers(1, 8))
        drawn = [draw(criterion(f"c{i}")) for i in range(n)]
        return [s for s, _v in drawn], {s.key: v for s, v in drawn}

    @hypothesis.settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @hypothesis.given(sheets())
    def check(case):
        scales, values = case
        exact = sheet_total(scales, values)
        engine = _engine_total(scales, values)
        assert abs(D(repr(engine)) - exact.exact) <= D("1e-9")
        on_a_half = abs((exact.exact * 100) % 1 - D("0.5")) <= D("1e-7")
        if not on_a_half:
            assert D(repr(engine)).quantize(D("0.01")) == exact.total

    check()
