"""Results day against the real server: the public pages under a crowd, as ratios to the
app's templated 404 page measured in the same run.

The bench migrates a fresh database (SQLite in a temporary instance folder, or the
PostgreSQL database given: its public schema is dropped), loads the demo (its 2024 results
are published and its certificates issued), starts the server on 127.0.0.1
(``flask --app monev serve``: waitress, one process per core, as ``make run`` serves;
``--server gunicorn``: gunicorn with the checkout's ``gunicorn.conf.py``), and loads one
URL at a time with
``--connections`` keep-alive connections (200) for ``--seconds`` each, every connection
sending its next request as soon as the answer arrives (a closed loop; asyncio, one thread,
only to 127.0.0.1). Anonymous visitors: no cookies, no ``If-None-Match`` (a full answer every
time, the hard case; a browser revalidating gets a 304).

URLs: the templated 404 page (the baseline), the public results page, the API's results,
``/verify/<code>`` and the event page. Targets (issue 14, part 4): the results page, the API
and ``/verify`` each serve at least 50 % of the 404 page's requests/s, with p99 at most 5x
their p50. The event page is printed, without a target. Exits 1 when a target is missed.

The client shares the machine's cores with the server (on the project's 2-core machine that
is part of what is measured), and the machine is shared: run it twice before believing a
miss.

Usage::

    .venv/bin/python bench/results_day.py [--seconds 10] [--connections 200]
        [--db sqlite] [--db postgresql://postgres@127.0.0.1:5432/monev_bench]
        [--server auto|gunicorn|flask] [--workers 4] [--threads 8]

``MONEV_BENCH_DATABASE_URL`` adds a PostgreSQL run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from common import HOST, Figure, Series, Server, migrate_empty  # bench/common.py

USER_AGENT = "monev-bench-results-day/1"
SLUG = "monev-kim-kaltim-2024"  # the demo's published event


# --- measuring -------------------------------------------------------------------------------


async def _visitor(port: int, path: str, deadline: float, series: Series) -> None:
    """One keep-alive connection sending GET ``path`` back to back until ``deadline``."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
        "Accept: text/html,application/json\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                series.add(None, "closed")
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
                continue
            lines = head.split(b"\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            body = await reader.readexactly(length) if length else b""
            series.add(time.perf_counter() - started, status, len(body))
            if headers.get(b"connection", b"").lower() == b"close":
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
    finally:
        writer.close()


def crowd(port: int, name: str, path: str, connections: int, seconds: float) -> Series:
    """``connections`` visitors on ``path`` for ``seconds`` (a closed loop)."""
    series = Series(name, path)

    async def run() -> None:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(_visitor(port, path, deadline, series) for _ in range(connections)))
        series.seconds = time.perf_counter() - started

    asyncio.run(run())
    return series


# --- the server ------------------------------------------------------------------------------


# --- the data --------------------------------------------------------------------------------


def prepare(uri: str, env: dict[str, str]) -> str:
    """Migrate an empty database and load the demo; the code of one of its certificates
    (signed with the server's secret key, as the server checks it)."""
    from monev import create_app

    app = create_app(
        {
            "ENV_NAME": "development",
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": env["MONEV_SECRET_KEY"],
        }
    )
    migrate_empty(app, uri, env)
    return load_demo(app)


def load_demo(app) -> str:
    """Load the demo into the app's migrated, empty database (its 2024 results published,
    certificates issued); the code of one certificate. ``bench/load.py``'s results mix
    calls this too."""
    from sqlalchemy import select

    from monev.certificates.models import Certificate
    from monev.core.database import write_intent
    from monev.demo import loader
    from monev.extensions import db

    with app.app_context():
        with write_intent():
            loader.load(app.config["DEMO_PASSWORD"])
        db.session.commit()
        code = db.session.scalar(
            select(Certificate.code).where(Certificate.revoked_at.is_(None)).limit(1)
        )
        db.engine.dispose()
    if code is None:
        raise SystemExit("the demo issued no certificate")
    return code


# --- the results-day mix -----------------------------------------------------------------------


def results_day(
    port: int, code: str, connections: int, seconds: float, label: str, warm_up: float = 2
) -> list[Figure]:
    """The crowd on each public URL in turn (``bench/load.py``'s results mix calls this while
    its admins work); the figures, with their targets."""
    urls = [
        ("404 page (baseline)", "/no-such-page"),
        ("public results page", f"/events/{SLUG}/results"),
        ("API results", f"/api/v1/events/{SLUG}/results"),
        ("/verify/<code>", f"/verify/{code}"),
        ("event page", f"/events/{SLUG}"),
    ]
    for _name, path in urls:  # warm-up, not measured: imports, pools, each worker's caches
        crowd(port, "warm-up", path, min(connections, 50), warm_up)
    measured = {}
    for name, path in urls:
        series = crowd(port, name, path, connections, seconds)
        measured[name] = series
        print(
            f"  {name:<22} {series.rate:8.1f} req/s  p50 {series.pct(0.5):7.1f} ms  "
            f"p99 {series.pct(0.99):7.1f} ms  {series.body_bytes / max(series.answered, 1):6.0f} "
            f"B/answer  {dict(sorted(series.statuses.items(), key=str))}",
            flush=True,
        )
    baseline = measured["404 page (baseline)"]
    expected = {"404 page (baseline)": 404}
    figures = []
    wrong = [
        f"{name}: {series.statuses}"
        for name, series in measured.items()
        if set(series.statuses) != {expected.get(name, 200)}
    ]
    for name in ("public results page", "API results", "/verify/<code>"):
        series = measured[name]
        figures.append(
            Figure(f"{name} req/s to the 404 page's", series.rate, baseline.rate, "/s", 0.5)
        )
        figures.append(
            Figure(f"{name} p99 to its p50", series.pct(0.99), series.pct(0.5), "ms", None, 5)
        )
    event = measured["event page"]
    figures.append(Figure("event page req/s to the 404 page's", event.rate, baseline.rate, "/s"))
    print(f"{label}: ratios")
    for figure in figures:
        print(figure.line())
    if wrong:
        print("  unexpected answers: " + "; ".join(wrong))
        figures.append(Figure("unexpected answers", len(wrong), 1, "", maximum_ratio=0))
    return figures


def run(uri_arg: str, args: argparse.Namespace) -> list[Figure]:
    label = "SQLite" if uri_arg == "sqlite" else "PostgreSQL"
    with tempfile.TemporaryDirectory(prefix="monev-results-day-") as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        uri = f"sqlite:///{instance}/monev.db" if uri_arg == "sqlite" else uri_arg
        env = {
            **os.environ,
            "MONEV_ENV": "development",
            "MONEV_INSTANCE_PATH": str(instance),
            "MONEV_SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": uri,
            "FLASK_DEBUG": "0",
            "MONEV_WEB_THREADS": str(args.threads),
        }
        os.environ["MONEV_INSTANCE_PATH"] = str(instance)
        started = time.perf_counter()
        code = prepare(uri, env)
        server = Server(
            args.server,
            env,
            threads=args.threads,
            workers=args.workers,
            health="/api/v1/openapi.json",
            quiet=False,
        )
        print(
            f"{label}: results day, {args.connections} keep-alive connections per URL for "
            f"{args.seconds:.0f} s each; {server.describe()}; demo loaded in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        server.start()
        try:
            return results_day(server.port, code, args.connections, args.seconds, label)
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", help="sqlite, or a postgresql:// URL")
    parser.add_argument("--seconds", type=float, default=10.0, help="per URL")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--server", choices=("auto", "gunicorn", "flask"), default="auto")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn processes (0: its own)")
    parser.add_argument("--threads", type=int, default=8, help="threads per server process")
    args = parser.parse_args()
    dbs = args.db or ["sqlite"]
    if os.environ.get("MONEV_BENCH_DATABASE_URL") and not args.db:
        dbs.append(os.environ["MONEV_BENCH_DATABASE_URL"])
    missed = []
    for uri in dbs:
        missed.extend(f for f in run(uri, args) if f.missed)
        print(flush=True)
    if missed:
        print("targets missed: " + "; ".join(f.label for f in missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
