"""A large event through the app (issue 14, part 5), each figure as a ratio to a baseline
measured in the same process.

An event of ``--entries`` entries (5,000 for the issue's figures; 1,000 by default, for
``make bench``) in 2 categories × 5 judges × 25 criteria over 2 stages (5,000 entries:
625,000 scores) in a migrated SQLite database (bulk inserts of ``bench/results.py``).

Measured, with targets (exit 1 on a miss):

- **compute**: ``monev.results.services.compute`` with nothing cached (every query, the
  ranking, every fairness figure) — the baseline of the next figures.
- **admin results page**, first view (computes) and second view (the same score version:
  must not compute again, and must not read the scores table); its HTML must stay under
  1 MB. Target: the second view at most 0.5x a compute.
- **publish**: the first version, from a cold cache (compute, snapshot with its digest,
  storing it, the audit entry), at most 2x a compute.
- **Excel recap** (``exports.recap_workbook``, from the computed results, as the view calls
  it), at most 2x the time openpyxl's write-only mode needs to write the same cells with no
  formatting (the recap's cells are read back from its file, untimed, and written again).

Usage::

    .venv/bin/python bench/large_event.py [--entries 5000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import results as results_bench  # noqa: E402  (bench/results.py: the bulk-insert builder)

SLUG = "bench-large"
ADMIN = "panitia@bench.monev.id"


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def check(label: str, value: float, baseline: float, unit: str, at_most: float | None) -> bool:
    ratio = value / baseline if baseline else float("inf")
    verdict = ""
    missed = at_most is not None and not ratio <= at_most
    if at_most is not None:
        verdict = f"  target <= {at_most:.2f}x {'MISSED' if missed else 'ok'}"
    print(
        f"  {label:<44} {value:10.1f} {unit:<3} / {baseline:10.1f} = {ratio:6.2f}x{verdict}",
        flush=True,
    )
    return missed


def build(app, entries: int) -> int:
    from flask_migrate import upgrade

    from monev.auth.models import User
    from monev.core.database import write_intent
    from monev.extensions import db

    with app.app_context():
        upgrade()
        with write_intent():
            _event_id, scores = results_bench.build_event(
                SLUG, entries, ("desa", "kelurahan"), random.Random(14), "results"
            )
            db.session.add(User(email=ADMIN, name="Panitia", role="admin", active=True))
            db.session.commit()
        db.engine.dispose()
    return scores


def signed_in_client(app):
    from flask import request
    from flask_login.utils import _create_identifier

    from monev.auth import services as auth
    from monev.extensions import db

    client = app.test_client()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        token = auth.start_session(auth.user_by_email(ADMIN), "127.0.0.1", "bench")
        db.session.commit()
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess.permanent = True
        sess["_user_id"] = token
        sess["_fresh"] = True
        sess["_id"] = identifier
    _ = request
    return client


def recap_cells(data: bytes) -> dict[str, list[list]]:
    """Every sheet's cell values of a workbook, row by row (untimed)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in wb}


def write_only(cells: dict[str, list[list]]) -> bytes:
    """The baseline: the same cells with openpyxl's write-only mode, no formatting."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, rows in cells.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dump", help="write the admin results page's HTML to this file")
    args = parser.parse_args()
    missed = []
    with tempfile.TemporaryDirectory(prefix="monev-large-") as tmp:
        instance = Path(tmp)
        os.environ["MONEV_INSTANCE_PATH"] = str(instance)
        from monev import create_app

        app = create_app(
            {
                "ENV_NAME": "testing",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'monev.db'}",
                "OUTBOX_DIR": str(instance / "outbox"),
                "STORAGE_DIR": str(instance / "files"),
                "HUEY_IMMEDIATE": False,
            }
        )
        t0 = time.perf_counter()
        scores = build(app, args.entries)
        print(
            f"large event: {args.entries:,} entries x 5 judges x 25 criteria = {scores:,} "
            f"scores (SQLite), built in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        missed += run(app, args)
    if missed:
        print("targets missed: " + "; ".join(missed))
        sys.exit(1)


def run(app, args) -> list[str]:
    from sqlalchemy import event as sa_event

    from monev.core.database import write_intent
    from monev.events import queries as event_queries
    from monev.extensions import db
    from monev.results import exports, services
    from monev.results.computing import cache

    missed = []
    url = f"/admin/events/{SLUG}/results/"
    with app.app_context():

        def cold_compute():
            cache.clear()
            db.session.expire_all()
            return services.compute(event_queries.get_by_slug(SLUG))

        t_compute, computed = best(cold_compute, args.repeat)
        if computed.results is None:
            raise SystemExit(f"the results could not be computed: {computed.problem}")
        print(
            f"  entries {len(computed.data.entries):,}, ranked "
            f"{sum(len(c.rows) for c in computed.results.categories.values()):,}"
        )
        print(f"  compute (nothing cached)                     {t_compute * 1000:10.1f} ms")

    client = signed_in_client(app)
    cache.clear()
    t0 = time.perf_counter()
    first = client.get(url)
    t_first = time.perf_counter() - t0
    assert first.status_code == 200, first.status_code
    statements: list[str] = []

    def count(_c, _cur, statement, *_a):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    computed_before = cache.computed
    sa_event.listen(engine, "before_cursor_execute", count)
    t_second, second = best(lambda: client.get(url), args.repeat)
    sa_event.remove(engine, "before_cursor_execute", count)
    assert second.status_code == 200
    size = len(second.get_data())
    if args.dump:
        Path(args.dump).write_bytes(second.get_data())
    recomputed = cache.computed - computed_before
    read_scores = sum("FROM scores" in s for s in statements)
    print(
        f"  admin results page: first view {t_first * 1000:.0f} ms, "
        f"{size / 1024:.0f} KiB of HTML; second view: recomputed {recomputed} times, "
        f"{len(statements) // args.repeat} queries, {read_scores} on the scores table"
    )
    missed += [
        "admin page second view"
        for bad in (
            check(
                "admin page, second view / compute", t_second * 1000, t_compute * 1000, "ms", 0.5
            ),
        )
        if bad
    ]
    if check("admin page HTML / 1 MB", size / 1e6, 1.0, "MB", 1.0):
        missed.append("admin page size")
    if recomputed or read_scores:
        missed.append("the cached view recomputed")

    with app.app_context():
        event = event_queries.get_by_slug(SLUG)
        with write_intent():
            services.acknowledge_all(event, "Diperiksa (bench).", actor=None)
            db.session.commit()
        cache.clear()
        db.session.expire_all()
        with write_intent():
            t0 = time.perf_counter()
            services.publish(event_queries.get_by_slug(SLUG), actor=None, confirmed=True)
            db.session.commit()
            t_publish = time.perf_counter() - t0
        if check("publish (cold) / compute", t_publish * 1000, t_compute * 1000, "ms", 2.0):
            missed.append("publish")

        computed = services.compute(event_queries.get_by_slug(SLUG), fairness=False)
        t_recap, recap = best(lambda: exports.recap_workbook(computed), args.repeat)
        cells = recap_cells(recap)
        t_plain, _plain = best(lambda: write_only(cells), args.repeat)
        n_cells = sum(len(r) for rows in cells.values() for r in rows)
        print(f"  Excel recap: {n_cells:,} cells, {len(recap) / 1e6:.1f} MB")
        if check("Excel recap / write-only same cells", t_recap * 1000, t_plain * 1000, "ms", 2.0):
            missed.append("Excel recap")
        db.engine.dispose()
    return missed


if __name__ == "__main__":
    main()
