"""The automatic assignment planner on generated cases (hypothesis), checked against the
rules and against an independent brute-force oracle for the best achievable largest load."""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from monev.judging.planning import (
    EntryIn,
    ExistingIn,
    JudgeIn,
    is_eligible,
    plan_assignments,
)

DISTRICTS = st.one_of(st.none(), st.integers(min_value=1, max_value=4))


@st.composite
def situations(draw):
    n_entries = draw(st.integers(min_value=0, max_value=10))
    n_judges = draw(st.integers(min_value=0, max_value=7))
    entries = [EntryIn(i + 1, draw(DISTRICTS)) for i in range(n_entries)]
    judges = [JudgeIn(100 + i, draw(DISTRICTS)) for i in range(n_judges)]
    pairs = [(e.id, j.id) for e in entries for j in judges]
    conflicts = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    existing = []
    if pairs:
        for pair in draw(st.lists(st.sampled_from(pairs), unique=True)):
            existing.append(ExistingIn(pair[0], pair[1], draw(st.booleans())))
    k = draw(st.integers(min_value=0, max_value=4))
    return entries, judges, k, conflicts, existing


def _max_flow_ok(entries, judges, demand, candidates, capacity) -> bool:
    """Can every entry get ``demand[e]`` distinct candidates with judge j taking at most
    ``capacity[j]``? Edmonds-Karp on a small capacity table, independent of the planner."""
    if any(c < 0 for c in capacity.values()):
        return False
    cap: dict = {}

    def edge(u, v, c):
        cap.setdefault(u, {})[v] = cap.get(u, {}).get(v, 0) + c
        cap.setdefault(v, {}).setdefault(u, 0)

    for e in entries:
        edge("s", ("e", e.id), demand[e.id])
        for j in candidates[e.id]:
            edge(("e", e.id), ("j", j), 1)
    for j in judges:
        edge(("j", j.id), "t", capacity[j.id])
    flow, wanted = 0, sum(demand.values())
    while True:
        parent = {"s": None}
        queue = deque(["s"])
        while queue and "t" not in parent:
            u = queue.popleft()
            for v, c in cap.get(u, {}).items():
                if c > 0 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if "t" not in parent:
            return flow == wanted
        v = "t"
        while parent[v] is not None:
            u = parent[v]
            cap[u][v] -= 1
            cap[v][u] += 1
            v = u
        flow += 1


def _best_max_load(entries, judges, k, conflicts, existing) -> int:
    by_e = {e.id: e for e in entries}
    by_j = {j.id: j for j in judges}
    base = {j.id: 0 for j in judges}
    covered = {e.id: 0 for e in entries}
    locked = set()
    for ex in existing:
        if not ex.has_scores:
            continue
        locked.add((ex.entry_id, ex.judge_id))
        base[ex.judge_id] += 1
        if is_eligible(by_e[ex.entry_id], by_j[ex.judge_id], set(conflicts)):
            covered[ex.entry_id] += 1
    candidates = {
        e.id: [
            j.id for j in judges if (e.id, j.id) not in locked and is_eligible(e, j, set(conflicts))
        ]
        for e in entries
    }
    demand = {e.id: min(max(0, k - covered[e.id]), len(candidates[e.id])) for e in entries}
    low = max(base.values(), default=0)
    for cap in range(low, low + len(entries) + 1):
        if _max_flow_ok(entries, judges, demand, candidates, {j: cap - base[j] for j in base}):
            return cap
    raise AssertionError("no capacity works")


@settings(max_examples=300, deadline=None)
@given(situations())
def test_plan_follows_every_rule(case):
    entries, judges, k, conflicts, existing = case
    plan = plan_assignments(entries, judges, k, conflicts, existing)
    by_e = {e.id: e for e in entries}
    by_j = {j.id: j for j in judges}
    conflict_set = set(conflicts)

    # Assignments that already have scores are never dropped.
    scored = {(x.entry_id, x.judge_id) for x in existing if x.has_scores}
    assert scored <= plan.keep
    assert not (scored & plan.remove)
    # Only existing assignments are kept or removed; added ones are new.
    existing_pairs = {(x.entry_id, x.judge_id) for x in existing}
    assert plan.keep | plan.remove == existing_pairs | (plan.keep - existing_pairs)
    assert plan.keep <= existing_pairs
    assert plan.remove <= existing_pairs
    assert not (plan.add & existing_pairs)
    assert not (plan.keep & plan.remove)

    # Never a judge from the entry's district or with a conflict, except scored ones held.
    for e, j in plan.assigned - plan.held:
        assert is_eligible(by_e[e], by_j[j], conflict_set)
    assert plan.held <= scored

    # Every entry gets k judges, or as many eligible ones as exist; shortfalls say so.
    short = {s.entry_id: s for s in plan.shortfalls}
    for e in entries:
        counted = [p for p in plan.assigned - plan.held if p[0] == e.id]
        eligible = sum(1 for j in judges if is_eligible(e, j, conflict_set))
        if e.id in short:
            s = short[e.id]
            assert len(counted) == s.planned < k
            assert s.planned == eligible == s.eligible
            assert s.same_district + s.conflicted + s.eligible == len(judges)
        else:
            assert len(counted) >= k
            if len(counted) > k:  # only when scored assignments already exceed k
                assert all(p in scored for p in counted)

    # Loads: counted from the plan, and the largest is the best any plan could achieve.
    loads = {j.id: 0 for j in judges}
    for _e, j in plan.assigned:
        loads[j] += 1
    assert {j: n for j, n in plan.loads.items() if j in loads} == loads
    if judges:
        assert max(loads.values()) == _best_max_load(entries, judges, k, conflicts, existing)


@settings(max_examples=100, deadline=None)
@given(situations(), st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_input_order(case, rnd):
    entries, judges, k, conflicts, existing = case
    plan = plan_assignments(entries, judges, k, conflicts, existing)
    shuffled = [list(x) for x in (entries, judges, conflicts, existing)]
    for items in shuffled:
        rnd.shuffle(items)
    again = plan_assignments(shuffled[0], shuffled[1], k, shuffled[2], shuffled[3])
    assert (again.keep, again.add, again.remove) == (plan.keep, plan.add, plan.remove)
    assert again.fingerprint() == plan.fingerprint()


@settings(max_examples=100, deadline=None)
@given(situations())
def test_rerunning_an_applied_plan_changes_nothing(case):
    entries, judges, k, conflicts, existing = case
    plan = plan_assignments(entries, judges, k, conflicts, existing)
    scored = {(x.entry_id, x.judge_id) for x in existing if x.has_scores}
    after = [ExistingIn(e, j, (e, j) in scored) for e, j in plan.assigned]
    again = plan_assignments(entries, judges, k, conflicts, after)
    assert again.add == frozenset()
    assert again.remove == frozenset()


def test_unconstrained_plan_is_perfectly_even():
    entries = [EntryIn(i, 1) for i in range(1, 13)]
    judges = [JudgeIn(100 + i, 2) for i in range(6)]
    plan = plan_assignments(entries, judges, 3)
    assert plan.perfect
    assert sorted(plan.loads.values()) == [6] * 6
    assert len(plan.add) == 36


def test_impossible_plan_says_why_and_does_what_it_can():
    entries = [EntryIn(1, 7), EntryIn(2, 8)]
    judges = [JudgeIn(10, 7), JudgeIn(11, 7), JudgeIn(12, 8), JudgeIn(13, None)]
    plan = plan_assignments(entries, judges, 3, conflicts=[(1, 12)])
    assert not plan.perfect
    (short,) = plan.shortfalls
    assert short == plan.shortfalls[0]
    assert (short.entry_id, short.needed, short.planned) == (1, 3, 1)
    assert (short.eligible, short.same_district, short.conflicted) == (1, 2, 1)
    assert {p for p in plan.add if p[0] == 1} == {(1, 13)}
    assert {p for p in plan.add if p[0] == 2} == {(2, 10), (2, 11), (2, 13)}


def test_rerun_keeps_scored_assignments_and_holds_broken_ones():
    entries = [EntryIn(1, 5), EntryIn(2, 6)]
    judges = [JudgeIn(10, 5), JudgeIn(11, None), JudgeIn(12, None)]
    existing = [
        ExistingIn(1, 10, True),  # same district, but scored: held, not counted
        ExistingIn(2, 10, True),
        ExistingIn(2, 11, False),
    ]
    plan = plan_assignments(entries, judges, 2, existing=existing)
    assert plan.held == {(1, 10)}
    assert {(1, 10), (2, 10)} <= plan.keep
    assert {p for p in plan.assigned if p[0] == 1} - plan.held == {(1, 11), (1, 12)}
    assert len([p for p in plan.assigned if p[0] == 2]) == 2


def test_empty_panel_is_reported():
    plan = plan_assignments([EntryIn(1, 1)], [], 3)
    assert plan.no_panel
    assert not plan.perfect
