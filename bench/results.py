"""Results through the app, relative to baselines measured in the same run.

(a) An event of 2,000 entries (2 categories) × 5 judges × 25 criteria (stage "adm" 10
    criteria, 40 %; "pres" 15 criteria, 60 %) = 250,000 scores in a migrated SQLite
    database. Measured: ``monev.results.services.compute`` (every query that loads the
    event, building the engine inputs, the ranking and every fairness figure, with rank
    stability). Baseline: reading the 250,000 score rows with one query (the service's own
    score query, rows fetched). The query count is compared with a 200-entry event: it must
    not grow with the number of entries.
(b) A published category of 200 entries (5 judges × 25 criteria): its public results page
    against a trivial templated route (a page extending base.html), both served by the same
    waitress server in a subprocess, hit over keep-alive HTTP by 4 client threads for
    ``--seconds`` each (alternating rounds, best round kept).

Usage: .venv/bin/python bench/results.py [--repeat 3] [--seconds 4]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

JUDGES = 5
STAGES = (("adm", 40, 10), ("pres", 60, 15))
BIG, SMALL, PAGE = 2000, 200, 200


def make_app(db_path: Path, instance: Path):
    from monev import create_app

    os.environ["MONEV_INSTANCE_PATH"] = str(instance)
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}"})


def build_event(slug: str, n_entries: int, categories: tuple[str, ...], rng, status: str):
    """Insert a fully judged event with Core bulk inserts; returns its id."""
    from sqlalchemy import func, insert, select

    from monev.auth.models import User
    from monev.directory.models import Kim
    from monev.entries.models import Entry
    from monev.events.models import Category, Event, Stage
    from monev.extensions import db
    from monev.judging.models import Assignment, Score, ScoreSheet
    from monev.regions.models import District
    from monev.rubrics.models import Aspect, Criterion

    s = db.session
    event = Event(
        slug=slug,
        title=f"Bench {slug}",
        year=2024,
        organiser="Bench",
        status=status,
        aggregation="trimmed",
        normalize_judges=True,
        tie_breaks=["stage:pres", "criterion:pres00"],
    )
    s.add(event)
    s.flush()
    cats = [
        Category(event_id=event.id, key=k, name=f"KIM {k.title()}", position=i, score_bands=[])
        for i, k in enumerate(categories)
    ]
    s.add_all(cats)
    crits: dict[str, list[Criterion]] = {}
    for pos, (key, weight, n) in enumerate(STAGES):
        stage = Stage(event_id=event.id, key=key, name=key.title(), position=pos, weight=weight)
        s.add(stage)
        s.flush()
        aspect = Aspect(stage_id=stage.id, name=f"Aspek {key}")
        s.add(aspect)
        s.flush()
        crits[key] = []
        for c in range(n):
            crit = Criterion(
                event_id=event.id,
                stage_id=stage.id,
                aspect_id=aspect.id,
                key=f"{key}{c:02d}",
                name=f"Kriteria {key} {c}",
                weight=100 / n,
                min_score=1,
                max_score=4 if c % 2 else 10,
                step=1,
                position=c,
            )
            s.add(crit)
            crits[key].append(crit)
    districts = list(s.scalars(select(District.id).limit(10)))
    judges = [
        User(email=f"juri{j}.{slug}@bench", name=f"Juri {j}", role="judge", active=True)
        for j in range(JUDGES)
    ]
    s.add_all(judges)
    s.flush()
    first_kim = (s.scalar(select(func.max(Kim.id))) or 0) + 1
    s.execute(
        insert(Kim),
        [
            {"name": f"KIM {slug} {i}", "district_id": districts[i % 10], "search_text": ""}
            for i in range(n_entries)
        ],
    )
    first_entry = (s.scalar(select(func.max(Entry.id))) or 0) + 1
    s.execute(
        insert(Entry),
        [
            {
                "event_id": event.id,
                "kim_id": first_kim + i,
                "category_id": cats[i % len(cats)].id,
                "code": f"B-{i:04d}",
                "nomination_status": "accepted",
                "submission_status": "verified",  # only those take part in the ranking
            }
            for i in range(n_entries)
        ],
    )
    quality = [rng.random() for _ in range(n_entries)]
    bias = [rng.uniform(-1, 1) for _ in range(JUDGES)]
    assignments, sheets, scores = [], [], []
    aid = (s.scalar(select(func.max(Assignment.id))) or 0) + 1
    sid = (s.scalar(select(func.max(ScoreSheet.id))) or 0) + 1
    for stage_crits in crits.values():
        stage_id = stage_crits[0].stage_id
        for e in range(n_entries):
            for j, judge in enumerate(judges):
                assignments.append(
                    {
                        "id": aid,
                        "stage_id": stage_id,
                        "entry_id": first_entry + e,
                        "judge_id": judge.id,
                    }
                )
                sheets.append({"id": sid, "assignment_id": aid, "status": "final"})
                for c in stage_crits:
                    lo, hi = float(c.min_score), float(c.max_score)
                    span = hi - lo
                    v = lo + span * (quality[e] + bias[j] / 10) + rng.gauss(0, span / 6)
                    scores.append(
                        {"sheet_id": sid, "criterion_id": c.id, "value": min(hi, max(lo, round(v)))}
                    )
                aid += 1
                sid += 1
    s.execute(insert(Assignment), assignments)
    s.execute(insert(ScoreSheet), sheets)
    for i in range(0, len(scores), 50_000):
        s.execute(insert(Score), scores[i : i + 50_000])
    s.commit()
    return event.id, len(scores)


def best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def part_a(app, repeat: int) -> dict:
    from sqlalchemy import event as sa_event
    from sqlalchemy import select

    from monev.events import queries as event_queries
    from monev.extensions import db
    from monev.judging.models import Score
    from monev.results import queries, services
    from monev.results.computing import cache

    out = {}
    with app.app_context():
        ev = event_queries.get_by_slug("bench-big")
        small = event_queries.get_by_slug("bench-small")

        def read_joined():
            return len(db.session.execute(queries.score_rows_query(ev.id)).all())

        def read_plain():
            return len(
                db.session.execute(select(Score.sheet_id, Score.criterion_id, Score.value)).all()
            )

        def full():
            cache.clear()  # computed afresh (a second call would read the cache)
            db.session.expire_all()
            return services.compute(event_queries.get_by_slug("bench-big"))

        t_read, n = best(read_joined, repeat)
        t_plain, n_all = best(read_plain, repeat)
        t_full, computed = best(full, repeat)
        assert n == 250_000, n
        t_load, data = best(lambda: queries.load_event_data(ev), repeat)
        t_engine, _ = best(lambda: services.compute_from(data), repeat)

        counts = {}
        for name in ("bench-big", "bench-small"):
            statements: list[str] = []

            def count(_c, _cur, statement, *_a, statements=statements):
                statements.append(statement)

            sa_event.listen(db.engine, "before_cursor_execute", count)
            cache.clear()
            db.session.expire_all()
            services.compute(event_queries.get_by_slug(name))
            sa_event.remove(db.engine, "before_cursor_execute", count)
            counts[name] = len(statements)
        ranked = sum(1 for c in computed.results.categories.values() for r in c.rows if r.rank)
        out.update(
            scores=n,
            all_scores=n_all,
            entries=len(computed.data.entries),
            ranked=ranked,
            t_read=t_read,
            t_plain=t_plain,
            t_full=t_full,
            t_load=t_load,
            t_engine=t_engine,
            queries_big=counts["bench-big"],
            queries_small=counts["bench-small"],
            small_entries=len(services.compute(small).data.entries),
            alpha={k: f.alpha for k, f in computed.fairness.stages.items()},
        )
    return out


SERVER = """
import os, sys
sys.path.insert(0, {root!r})
os.environ["MONEV_INSTANCE_PATH"] = {instance!r}
from flask import Blueprint, render_template_string
from waitress import serve
from monev import create_app
from monev.core import access

app = create_app({{"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite:///{db}"}})
bp = Blueprint("bench", __name__)
access.blueprint_roles(bp)

@bp.route("/bench/trivial")
def trivial():
    return render_template_string(
        '{{% extends "base.html" %}}{{% block content %}}<h1>Halo</h1>{{% endblock %}}'
    )

app.register_blueprint(bp)
import logging
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
serve(app, host="127.0.0.1", port={port}, threads=4, _quiet=True)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _hammer(port: int, path: str, seconds: float, threads: int = 4) -> float:
    """Requests per second over ``seconds`` from ``threads`` keep-alive connections."""
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, (path, response.status, body[:300])
            done[i] += 1
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / (time.perf_counter() - started)


def part_b(db_path: Path, instance: Path, seconds: float, rounds: int) -> dict:
    port = _free_port()
    script = SERVER.format(root=str(ROOT), instance=str(instance), db=db_path, port=port)
    server = subprocess.Popen([sys.executable, "-c", script])
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        page = "/events/bench-page/results/desa"
        _hammer(port, page, 1)  # warm up
        _hammer(port, "/bench/trivial", 1)
        trivial, results = [], []
        for _ in range(rounds):
            trivial.append(_hammer(port, "/bench/trivial", seconds))
            results.append(_hammer(port, page, seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"trivial": max(trivial), "results": max(results)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(20261123)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_path, instance = folder / "bench.db", folder / "instance"
        app = make_app(db_path, instance)
        from flask_migrate import upgrade

        from monev.extensions import db

        t0 = time.perf_counter()
        with app.app_context():
            upgrade()
            build_event("bench-big", BIG, ("desa", "kelurahan"), rng, "results")
            build_event("bench-small", SMALL, ("desa", "kelurahan"), rng, "results")
            build_event("bench-page", PAGE, ("desa",), rng, "results")
            from monev.events import queries as event_queries
            from monev.results import services

            services.publish(event_queries.get_by_slug("bench-page"), reason=None, actor=None)
            db.session.commit()
        built = time.perf_counter() - t0

        a = part_a(app, args.repeat)
        with app.app_context():
            db.engine.dispose()
        b = part_b(db_path, instance, args.seconds, args.rounds)

    ratio_a = a["t_full"] / a["t_read"]
    ratio_b = b["results"] / b["trivial"]
    print(f"built 3 events in {built:.1f} s (SQLite, migrated schema)")
    print(
        f"(a) scores {a['scores']:,}  entries {a['entries']:,}  ranked {a['ranked']:,}  "
        f"judges {JUDGES}  criteria {sum(n for _k, _w, n in STAGES)}"
    )
    print(f"    baseline: read the 250,000 score rows, one query  {a['t_read'] * 1000:8.1f} ms")
    print(
        f"    (plain SELECT of all {a['all_scores']:,} score rows, no join "
        f"{a['t_plain'] * 1000:8.1f} ms)"
    )
    print(f"    load_event_data (all queries)                 {a['t_load'] * 1000:8.1f} ms")
    print(f"    engine: inputs, ranking, fairness            {a['t_engine'] * 1000:8.1f} ms")
    print(f"    services.compute (load + ranking + fairness)  {a['t_full'] * 1000:8.1f} ms")
    print(f"    ratio to reading the scores: {ratio_a:.2f}x  (budget 3x)")
    print(
        f"    queries: {a['queries_big']} for {a['entries']:,} entries, "
        f"{a['queries_small']} for {a['small_entries']} entries"
    )
    print("    alpha per stage: " + ", ".join(f"{k} {v:.3f}" for k, v in a["alpha"].items()))
    print(f"(b) trivial templated route        {b['trivial']:8.1f} req/s")
    print(f"    public results, 200 entries    {b['results']:8.1f} req/s")
    print(f"    ratio results / trivial: {ratio_b:.0%}  (budget at least 25 %)")
    ok = ratio_a <= 3 and a["queries_big"] == a["queries_small"] and ratio_b >= 0.25
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
