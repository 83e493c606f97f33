"""The progress board of a 100 judges x 100 entries stage, before and after issue 14, in the
same process: closed-loop requests through the app (Flask's test client, no network), each
kind for ``--seconds``.

- *before*: the board as it was (its template of commit 652a10e, kept as
  bench/board_before.html, rendered with the old view's context): the whole grid of 10,000
  cells and the list of every sheet not final, each state's label translated per cell;
- *grid, rendered*: today's grid template, forced at this size (a board is a grid only up to
  20 judges and 30 entries), rendered on every request (the render cache emptied first);
- *summary, rendered*: what the board is at this size, rendered on every request;
- *poll, cached*: a poll whose version is rendered already (200, from the render cache);
- *poll, unchanged*: a poll with the current ETag (304, no body).

Every figure is a ratio to the *before* request. Translation calls are counted per request
(every ``gettext``/``ngettext`` of Flask-Babel, lazy strings included). Exits 1 when a poll
(cached or unchanged) costs more than 5 % of the old render, or the summary more than 25 %.

    .venv/bin/python bench/board.py [--seconds 5] [--judges 100] [--entries 100] [--db URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# templates/judging/_board.html before issue 14 (commit 652a10e), unchanged.
BEFORE = (ROOT / "bench" / "board_before.html").read_text()


class Translations:
    """Counts Flask-Babel's gettext and ngettext calls (lazy strings end in them too)."""

    def __init__(self):
        self.calls = 0

    def install(self) -> None:
        from flask_babel import Domain

        for name in ("gettext", "ngettext"):
            original = getattr(Domain, name)

            def counted(domain, *args, _original=original, **kwargs):
                self.calls += 1
                return _original(domain, *args, **kwargs)

            setattr(Domain, name, counted)


def add_before_route(app) -> None:
    """The board's request as it was: the old view's context and template, on a route of
    its own (the same blueprint, so the same access check and event loading)."""
    from flask import render_template_string

    from monev.core.forms import EmptyForm
    from monev.core.timeutil import utcnow
    from monev.core.timezones import label as tz_label
    from monev.core.timezones import to_local
    from monev.judging import queries
    from monev.judging.queries import progress
    from monev.judging.views.blueprints import stage_of

    def before(event, stage_id: int):
        stage = stage_of(event, stage_id)
        limits = progress.GRID_MAX_JUDGES, progress.GRID_MAX_ENTRIES
        progress.GRID_MAX_JUDGES = progress.GRID_MAX_ENTRIES = 10**9  # the grid, as it was
        try:
            board = queries.progress_board(stage)
        finally:
            progress.GRID_MAX_JUDGES, progress.GRID_MAX_ENTRIES = limits
        return render_template_string(
            BEFORE,
            event=event,
            stage=stage,
            board=board,
            post_form=EmptyForm(formdata=None),
            now=utcnow(),
            to_local=to_local,
            tz=tz_label(event.timezone),
        )

    app.view_functions["judging.bench_before"] = before
    app.url_map.add(
        app.url_rule_class(
            "/admin/events/<slug>/judging/stages/<int:stage_id>/bench-before",
            endpoint="judging.bench_before",
            methods=["GET"],
        )
    )


def sign_in(client, email: str) -> None:
    from flask import request
    from flask_login.utils import _create_identifier

    from monev.auth import services
    from monev.extensions import db

    app = client.application
    with app.test_request_context():
        user = services.user_by_email(email)
        token = services.start_session(user, request.remote_addr, request.user_agent.string)
        db.session.commit()
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"], sess["_id"] = token, True, identifier


def measure(client, url, seconds, counter, *, headers=None, before=None, expect=200):
    """Requests per second, ms per request, bytes and translation calls per request."""
    n, size, calls, spent = 0, 0, 0, 0.0
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop or n < 3:
        if before:
            before()
        counter.calls = 0
        t0 = time.perf_counter()
        response = client.get(url, headers=headers or {})
        spent += time.perf_counter() - t0
        assert response.status_code == expect, (url, response.status_code)
        n += 1
        size += len(response.data)
        calls += counter.calls
    return {"ms": spent / n * 1000, "kib": size / n / 1024, "calls": calls / n, "n": n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--judges", type=int, default=100)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--db", default="sqlite", help="sqlite or a postgresql:// URL")
    args = parser.parse_args()

    from load import make_app, prepare_judging

    with tempfile.TemporaryDirectory(prefix="monev-board-") as tmp:
        os.environ["MONEV_INSTANCE_PATH"] = tmp
        uri = f"sqlite:///{tmp}/monev.db" if args.db == "sqlite" else args.db
        app = make_app(uri, "bench-board-" + "0" * 32)
        from flask_migrate import upgrade
        from sqlalchemy import text

        from monev.extensions import db

        with app.app_context():
            if uri.startswith("postgresql"):
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
            import logging

            logging.disable(logging.INFO)
            upgrade(directory=str(ROOT / "migrations"))
            logging.disable(logging.NOTSET)
        plan = prepare_judging(app, args.judges, args.entries, 1, 20261214)
        add_before_route(app)
        from monev.judging.queries import progress
        from monev.judging.views.board import boards

        counter = Translations()
        counter.install()
        client = app.test_client()
        sign_in(client, plan.admins[0])
        base = f"/admin/events/{plan.slug}/judging/stages/{plan.stage_id}"
        hx = {"HX-Request": "true"}
        client.get(f"{base}/bench-before")  # warm up (imports, template compilation)
        client.get(f"{base}/progress", headers=hx)

        rows = {}
        rows["before: the whole grid, as it was"] = measure(
            client, f"{base}/bench-before", args.seconds, counter
        )
        limits = progress.GRID_MAX_JUDGES, progress.GRID_MAX_ENTRIES
        progress.GRID_MAX_JUDGES = progress.GRID_MAX_ENTRIES = 10**9
        rows["grid, rendered (forced)"] = measure(
            client, f"{base}/progress", args.seconds, counter, headers=hx, before=boards.clear
        )
        progress.GRID_MAX_JUDGES, progress.GRID_MAX_ENTRIES = limits
        boards.clear()
        rows["summary, rendered"] = measure(
            client, f"{base}/progress", args.seconds, counter, headers=hx, before=boards.clear
        )
        first = client.get(f"{base}/progress", headers=hx)
        rows["poll, cached (200)"] = measure(
            client, f"{base}/progress", args.seconds, counter, headers=hx
        )
        etag = {**hx, "If-None-Match": first.headers["ETag"]}
        rows["poll, unchanged (304)"] = measure(
            client, f"{base}/progress", args.seconds, counter, headers=etag, expect=304
        )
        with app.app_context():
            db.engine.dispose()

    label = "SQLite" if uri.startswith("sqlite") else "PostgreSQL"
    print(
        f"{label}: progress board of {args.judges} judges x {args.entries} entries, "
        f"closed loop through the app, {args.seconds:.0f} s each"
    )
    print(f"  {'request':<36} {'ms':>8} {'KiB':>8} {'gettext':>8} {'n':>5} {'ratio':>7}")
    base_ms = rows["before: the whole grid, as it was"]["ms"]
    for name, row in rows.items():
        print(
            f"  {name:<36} {row['ms']:8.1f} {row['kib']:8.0f} {row['calls']:8.0f} "
            f"{row['n']:5d} {row['ms'] / base_ms:6.3f}x"
        )
    targets = {
        "poll, cached (200)": 0.05,
        "poll, unchanged (304)": 0.05,
        "summary, rendered": 0.25,
    }
    missed = [n for n, limit in targets.items() if rows[n]["ms"] / base_ms > limit]
    for name, limit in targets.items():
        print(f"  target: {name} <= {limit:.2f}x the old render: {rows[name]['ms'] / base_ms:.3f}x")
    if missed:
        print("targets missed: " + ", ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
