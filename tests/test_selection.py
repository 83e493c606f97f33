"""Selection between stages (top N, pass mark, jury) on generated rankings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monev.scoring.selection import (
    AT_OR_ABOVE_MARK,
    BELOW_CUT,
    BELOW_MARK,
    CHOSEN_BY_JURY,
    NOT_CHOSEN_BY_JURY,
    NOT_RANKED,
    TIE_AT_CUT,
    WITHIN_TOP_N,
    Candidate,
    SelectionError,
    SelectionRule,
    select,
)


def ranked(totals: list[float | None]) -> list[Candidate]:
    """Competition ranking (1, 2, 2, 4) of the given totals; None is not ranked."""
    scored = [t for t in totals if t is not None]
    return [
        Candidate(f"E{i}", t, None if t is None else 1 + sum(o > t for o in scored))
        for i, t in enumerate(totals)
    ]


# Few distinct values, so that shared ranks (ties the tie-breaks could not break) are common.
totals_st = st.lists(st.one_of(st.none(), st.sampled_from([55.0, 60.0, 71.5, 80.0, 92.25])))


def test_top_three_with_a_tie_at_the_cut_line_advances_both():
    candidates = ranked([90.0, 85.0, 80.0, 80.0, 70.0])
    result = select(candidates, SelectionRule("top_n", count=3))
    assert [d.why for d in result.decisions] == [
        WITHIN_TOP_N,
        WITHIN_TOP_N,
        TIE_AT_CUT,
        TIE_AT_CUT,
        BELOW_CUT,
    ]
    assert result.advancing == ("E0", "E1", "E2", "E3")
    assert result.beyond_count == 1


def test_a_tie_inside_the_top_n_is_not_a_tie_at_the_cut():
    result = select(ranked([90.0, 90.0, 80.0, 70.0]), SelectionRule("top_n", count=3))
    assert [d.why for d in result.decisions] == [
        WITHIN_TOP_N,
        WITHIN_TOP_N,
        WITHIN_TOP_N,
        BELOW_CUT,
    ]
    assert result.beyond_count == 0


def test_unranked_entries_never_advance_under_any_rule():
    candidates = ranked([None, 90.0])
    for rule in (
        SelectionRule("top_n", count=5),
        SelectionRule("pass_mark", min_score=0),
        SelectionRule("jury", chosen=frozenset({"E1"}), reason="Presentasi terbaik"),
    ):
        assert select(candidates, rule).decisions[0].why == NOT_RANKED


def test_pass_mark_compares_at_the_ranking_precision():
    candidates = [Candidate("A", 59.9999999, 1), Candidate("B", 59.99, 2)]
    result = select(candidates, SelectionRule("pass_mark", min_score=60), decimals=6)
    assert [d.why for d in result.decisions] == [AT_OR_ABOVE_MARK, BELOW_MARK]


def test_jury_needs_a_reason_and_ranked_entries():
    with pytest.raises(SelectionError):
        SelectionRule("jury", chosen=frozenset({"E0"}), reason="  ")
    with pytest.raises(SelectionError):
        select(ranked([None]), SelectionRule("jury", chosen=frozenset({"E0"}), reason="x"))


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "top_n"},
        {"kind": "top_n", "count": 0},
        {"kind": "pass_mark"},
        {"kind": "pass_mark", "min_score": 101},
        {"kind": "lottery"},
    ],
)
def test_incomplete_rules_are_refused(rule):
    with pytest.raises(SelectionError):
        SelectionRule(**rule)


@given(totals_st, st.integers(min_value=1, max_value=8))
def test_top_n_properties(totals, count):
    candidates = ranked(totals)
    result = select(candidates, SelectionRule("top_n", count=count))
    advancing = {d.entry for d in result.decisions if d.advances}
    by_key = {c.entry: c for c in candidates}
    ranked_count = sum(c.rank is not None for c in candidates)
    # Never fewer than N when there are N ranked entries; more only through a shared rank.
    assert len(advancing) >= min(count, ranked_count)
    assert result.beyond_count == max(0, len(advancing) - count)
    assert all(by_key[e].rank <= count for e in advancing)
    # Closed upwards: whoever ranks at least as well as an advancing entry advances too.
    for entry in advancing:
        for other in candidates:
            if other.rank is not None and other.rank <= by_key[entry].rank:
                assert other.entry in advancing
    # Going past N happens exactly when the entries at the cut share their rank.
    if result.beyond_count:
        assert any(d.why == TIE_AT_CUT for d in result.decisions)


@given(totals_st, st.sampled_from([0.0, 55.0, 60.0, 80.0, 100.0]))
def test_pass_mark_properties(totals, mark):
    result = select(ranked(totals), SelectionRule("pass_mark", min_score=mark))
    for total, decision in zip(totals, result.decisions, strict=True):
        assert decision.advances == (total is not None and total >= mark)


@given(totals_st, st.data())
def test_jury_advances_exactly_the_chosen(totals, data):
    candidates = ranked(totals)
    eligible = [c.entry for c in candidates if c.rank is not None]
    chosen = (
        frozenset(data.draw(st.lists(st.sampled_from(eligible), unique=True)))
        if eligible
        else frozenset()
    )
    result = select(candidates, SelectionRule("jury", chosen=chosen, reason="Keputusan rapat juri"))
    assert set(result.advancing) == chosen
    assert {d.why for d in result.decisions if d.entry in eligible and not d.advances} <= {
        NOT_CHOSEN_BY_JURY
    }
    assert {d.why for d in result.decisions if d.advances} <= {CHOSEN_BY_JURY}
