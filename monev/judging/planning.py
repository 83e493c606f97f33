"""Automatic assignment of judges to entries: a pure function over plain data.

Rules (DESIGN.md "Judge"):

- every entry gets ``judges_per_entry`` judges of the stage's panel;
- never a judge whose home district is the entry's district, nor one with a conflict of
  interest on the entry (declared by the judge or recorded by the organiser);
- the load is balanced across judges: the plan minimises the sum of squared loads, which for
  this kind of assignment also minimises the largest load (no judge gets more entries than
  the best possible plan would give anyone);
- re-running keeps every assignment that already has scores. Existing assignments without
  scores are kept where that costs no balance; the others are released.

When a perfect plan is impossible the planner still returns the best plan it can make
(every entry gets as many eligible judges as exist, up to the number asked) and says why,
entry by entry, with the counts of judges ruled out by district and by conflict.

The method is a min-cost max-flow (successive shortest paths with a queue-based
Bellman-Ford): source → entry (capacity = judges still needed), entry → eligible judge
(capacity 1; cost 0 for an existing assignment, 1 for a new one), judge → sink as parallel
unit edges whose costs grow with the judge's load (convex, so loads stay even). Load costs
are scaled to dominate the small preference for existing assignments. Inputs are sorted
first, so the same situation always gives the same plan.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

Pair = tuple[int, int]  # (entry_id, judge_id)


@dataclass(frozen=True)
class EntryIn:
    id: int
    district_id: int | None


@dataclass(frozen=True)
class JudgeIn:
    id: int
    home_district_id: int | None


@dataclass(frozen=True)
class ExistingIn:
    entry_id: int
    judge_id: int
    has_scores: bool


@dataclass(frozen=True)
class Shortfall:
    """An entry that cannot get the number of judges asked for."""

    entry_id: int
    needed: int
    planned: int
    eligible: int  # judges of the panel who may score it (already assigned ones included)
    same_district: int  # judges ruled out because they come from the entry's district
    conflicted: int  # judges ruled out by a conflict of interest


@dataclass(frozen=True)
class Plan:
    judges_per_entry: int
    keep: frozenset[Pair]  # existing assignments kept (scored ones and reused ones)
    add: frozenset[Pair]
    remove: frozenset[Pair]  # existing assignments without scores that are released
    held: frozenset[Pair]  # scored assignments that break a rule: kept, not counted
    loads: dict[int, int] = field(default_factory=dict)  # judge -> entries after the plan
    shortfalls: tuple[Shortfall, ...] = ()
    no_panel: bool = False

    @property
    def perfect(self) -> bool:
        return not self.shortfalls and not self.held and not self.no_panel

    @property
    def assigned(self) -> frozenset[Pair]:
        return self.keep | self.add

    @property
    def changes(self) -> bool:
        return bool(self.add or self.remove)

    def fingerprint(self) -> str:
        """Identifies the changes, so what is applied is exactly what was previewed."""
        text = "add:" + ";".join(f"{e},{j}" for e, j in sorted(self.add))
        text += "|remove:" + ";".join(f"{e},{j}" for e, j in sorted(self.remove))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def is_eligible(entry: EntryIn, judge: JudgeIn, conflicts: frozenset[Pair] | set[Pair]) -> bool:
    if (entry.id, judge.id) in conflicts:
        return False
    return not (
        entry.district_id is not None
        and judge.home_district_id is not None
        and entry.district_id == judge.home_district_id
    )


def plan_assignments(
    entries: Iterable[EntryIn],
    judges: Iterable[JudgeIn],
    judges_per_entry: int,
    conflicts: Iterable[Pair] = (),
    existing: Iterable[ExistingIn] = (),
) -> Plan:
    entries = sorted(set(entries), key=lambda e: e.id)
    judges = sorted(set(judges), key=lambda j: j.id)
    conflict_set = frozenset(conflicts)
    k = max(0, int(judges_per_entry))
    judge_by_id = {j.id: j for j in judges}
    entry_by_id = {e.id: e for e in entries}

    scored: set[Pair] = set()
    reusable: set[Pair] = set()
    released: set[Pair] = set()
    held: set[Pair] = set()
    for ex in sorted(set(existing), key=lambda x: (x.entry_id, x.judge_id, x.has_scores)):
        pair = (ex.entry_id, ex.judge_id)
        entry, judge = entry_by_id.get(ex.entry_id), judge_by_id.get(ex.judge_id)
        ok = entry is not None and judge is not None and is_eligible(entry, judge, conflict_set)
        if ex.has_scores:
            (scored if ok else held).add(pair)
        elif ok:
            reusable.add(pair)
        else:
            released.add(pair)
    reusable -= scored
    released -= scored | held

    base_load = {j.id: 0 for j in judges}
    covered = {e.id: 0 for e in entries}
    for e, j in scored:
        base_load[j] = base_load.get(j, 0) + 1
        if e in covered:
            covered[e] += 1
    for _e, j in held:  # held assignments do not count for the entry, but are work
        base_load[j] = base_load.get(j, 0) + 1

    need = {e.id: max(0, k - covered[e.id]) for e in entries}
    candidates = {
        e.id: [
            j.id
            for j in judges
            if (e.id, j.id) not in scored
            and (e.id, j.id) not in held
            and is_eligible(e, j, conflict_set)
        ]
        for e in entries
    }
    chosen = _min_cost_flow(entries, judges, need, candidates, reusable, base_load)

    keep = frozenset(scored | held | (reusable & chosen))
    add = frozenset(chosen - reusable)
    remove = frozenset(released | (reusable - chosen))
    loads = dict(base_load)
    for _e, j in chosen:
        loads[j] = loads.get(j, 0) + 1

    shortfalls = []
    for e in entries:
        planned = covered[e.id] + sum(1 for (ce, _j) in chosen if ce == e.id)
        if planned < k:
            same = sum(
                1
                for j in judges
                if e.district_id is not None
                and j.home_district_id == e.district_id
                and (e.id, j.id) not in conflict_set
            )
            conflicted = sum(1 for j in judges if (e.id, j.id) in conflict_set)
            eligible = sum(1 for j in judges if is_eligible(e, j, conflict_set))
            shortfalls.append(Shortfall(e.id, k, planned, eligible, same, conflicted))
    return Plan(
        judges_per_entry=k,
        keep=keep,
        add=add,
        remove=remove,
        held=frozenset(held),
        loads=loads,
        shortfalls=tuple(shortfalls),
        no_panel=not judges and bool(entries) and k > 0,
    )


class _Graph:
    __slots__ = ("to", "cap", "cost", "adj")

    def __init__(self, n: int):
        self.to: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []
        self.adj: list[list[int]] = [[] for _ in range(n)]

    def add(self, u: int, v: int, cap: int, cost: int) -> int:
        self.adj[u].append(len(self.to))
        self.to.append(v)
        self.cap.append(cap)
        self.cost.append(cost)
        self.adj[v].append(len(self.to))
        self.to.append(u)
        self.cap.append(0)
        self.cost.append(-cost)
        return len(self.to) - 2


def _min_cost_flow(entries, judges, need, candidates, reusable, base_load) -> set[Pair]:
    demand = sum(need.values())
    if demand == 0 or not judges:
        return set()
    n_e, n_j = len(entries), len(judges)
    source, sink = 0, 1 + n_e + n_j
    graph = _Graph(sink + 1)
    e_node = {e.id: 1 + i for i, e in enumerate(entries)}
    j_node = {j.id: 1 + n_e + i for i, j in enumerate(judges)}
    scale = demand + 1  # one more unit of load always outweighs every reuse preference
    pair_edges: dict[int, Pair] = {}
    per_judge = {j.id: 0 for j in judges}
    for e in entries:
        if need[e.id] == 0:
            continue
        graph.add(source, e_node[e.id], need[e.id], 0)
        for jid in candidates[e.id]:
            cost = 0 if (e.id, jid) in reusable else 1
            pair_edges[graph.add(e_node[e.id], j_node[jid], 1, cost)] = (e.id, jid)
            per_judge[jid] += 1
    for j in judges:
        start = base_load.get(j.id, 0)
        for unit in range(per_judge[j.id]):
            load = start + unit  # the load before this unit: marginal cost of (load+1)^2
            graph.add(j_node[j.id], sink, 1, scale * (2 * load + 1))

    n = sink + 1
    while True:
        dist = [None] * n
        prev_edge = [-1] * n
        in_queue = [False] * n
        dist[source] = 0
        queue = deque([source])
        while queue:
            u = queue.popleft()
            in_queue[u] = False
            du = dist[u]
            for ei in graph.adj[u]:
                if graph.cap[ei] <= 0:
                    continue
                v = graph.to[ei]
                nd = du + graph.cost[ei]
                if dist[v] is None or nd < dist[v]:
                    dist[v] = nd
                    prev_edge[v] = ei
                    if not in_queue[v]:
                        in_queue[v] = True
                        queue.append(v)
        if dist[sink] is None:
            break
        # Augment one unit (every path holds a unit-capacity edge).
        v = sink
        while v != source:
            ei = prev_edge[v]
            graph.cap[ei] -= 1
            graph.cap[ei ^ 1] += 1
            v = graph.to[ei ^ 1]

    return {pair for ei, pair in pair_edges.items() if graph.cap[ei] == 0}
