"""Time the scoring core on a large synthetic event, relative to baselines in-process.

2,000 entries (2 categories) × 5 judges (a full panel in both stages) × 25 criteria
(stage "adm" 10 criteria, 40 %; stage "pres" 15 criteria, 60 %) = 250,000 scores.

Measured: grouping the 250,000 (entry, judge, stage, criterion, value) tuples into
SheetInputs, ``prepare``, ``compute_results`` and ``compute_fairness`` (with rank stability:
6 rankings). Baselines: merely iterating the 250,000 tuples, and reading the same rows from
an in-memory SQLite table with the standard library (``SELECT … ORDER BY``, all rows
fetched). Each timing is the best of ``--repeat`` runs.

Usage: .venv/bin/python bench/results_engine.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monev.scoring import (  # noqa: E402
    CategoryDef,
    CriterionDef,
    EntryDef,
    EventDef,
    SheetInput,
    StageDef,
    compute_fairness,
    compute_results,
    prepare,
)

N_ENTRIES = 2000
JUDGES = [f"judge{j}" for j in range(5)]
STAGE_SIZES = {"adm": (40, 10), "pres": (60, 15)}


def build_event(rng: random.Random):
    stages = []
    for key, (weight, n_criteria) in STAGE_SIZES.items():
        criteria = [
            CriterionDef(f"{key}{c:02d}", f"aspect{c % 4}", 100 / n_criteria, 1, 4 if c % 2 else 10)
            for c in range(n_criteria)
        ]
        stages.append(StageDef(key, weight, criteria))
    event = EventDef(
        stages,
        aggregation="trimmed",
        normalize_judges=True,
        tie_breaks=["stage:pres", "criterion:pres00"],
        categories=[
            CategoryDef(
                "desa", bands=[{"min": 85, "label": "Unggul"}, {"min": 70, "label": "Baik"}]
            ),
            CategoryDef("kelurahan"),
        ],
    )
    entries = [EntryDef(e, "desa" if e % 3 else "kelurahan") for e in range(N_ENTRIES)]
    quality = [rng.random() for _ in range(N_ENTRIES)]
    bias = {j: rng.uniform(-1, 1) for j in JUDGES}
    rows = []
    for stage in stages:
        for e in range(N_ENTRIES):
            for j in JUDGES:
                for c in stage.criteria:
                    span = c.max - c.min
                    v = c.min + span * (quality[e] + bias[j] / 10) + rng.gauss(0, span / 6)
                    rows.append((e, j, stage.key, c.key, float(min(c.max, max(c.min, round(v))))))
    return event, entries, rows


def to_sheets(rows):
    values: dict[tuple, dict] = {}
    for e, j, s, c, v in rows:
        key = (e, j, s)
        sheet = values.get(key)
        if sheet is None:
            sheet = values[key] = {}
        sheet[c] = v
    return [SheetInput(e, j, s, True, vals) for (e, j, s), vals in values.items()]


def best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(20261123)
    event, entries, rows = build_event(rng)

    def iterate():
        n = 0
        for _e, _j, _s, _c, _v in rows:
            n += 1
        return n

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE scores (entry INTEGER, judge TEXT, stage TEXT, crit TEXT, value REAL)")
    db.executemany("INSERT INTO scores VALUES (?, ?, ?, ?, ?)", rows)
    db.commit()

    def read_db():
        cur = db.execute(
            "SELECT entry, judge, stage, crit, value FROM scores ORDER BY entry, judge, stage"
        )
        return sum(1 for _ in cur)

    t_iter, n = best(iterate, args.repeat)
    t_db, n_db = best(read_db, args.repeat)
    assert n == n_db == 250_000, (n, n_db)

    t_sheets, sheets = best(lambda: to_sheets(rows), args.repeat)
    t_prepare, prepared = best(lambda: prepare(event, entries, sheets), args.repeat)
    t_results, results = best(lambda: compute_results(prepared), args.repeat)
    t_fair, report = best(lambda: compute_fairness(prepared), args.repeat)
    total = t_sheets + t_prepare + t_results + t_fair

    ranked = sum(1 for c in results.categories.values() for r in c.rows if r.rank)
    print(f"scores {n:,}  sheets {len(sheets):,}  entries {len(entries):,}  ranked {ranked:,}")
    print(f"baseline: iterate 250,000 tuples       {t_iter * 1000:8.1f} ms")
    print(f"baseline: read them from SQLite        {t_db * 1000:8.1f} ms")
    print(f"tuples -> SheetInputs                  {t_sheets * 1000:8.1f} ms")
    print(f"prepare (validate, index)              {t_prepare * 1000:8.1f} ms")
    print(f"compute_results (ranking)              {t_results * 1000:8.1f} ms")
    print(f"compute_fairness (+ 6 rankings)        {t_fair * 1000:8.1f} ms")
    print(f"full ranking + fairness                {total * 1000:8.1f} ms")
    print(f"ratio to iterating the tuples: {total / t_iter:.2f}x")
    print(f"ratio to reading them from SQLite: {total / t_db:.2f}x")
    for stage, f in report.stages.items():
        icc = f.icc["ICC(2,k)"]
        print(
            f"  stage {stage}: alpha {f.alpha:.3f}  ICC(2,k) {icc:.3f}  outliers {len(f.outliers)}"
        )
    moved = {str(loo.judge): len(loo.changes) for loo in report.rank_stability}
    print(f"  award places changed per judge left out: {moved}")


if __name__ == "__main__":
    main()
