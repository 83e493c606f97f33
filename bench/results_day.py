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
import http.client
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # only this machine is ever loaded
USER_AGENT = "monev-bench-results-day/1"
SLUG = "monev-kim-kaltim-2024"  # the demo's published event


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    path: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    body_bytes: int = 0
    seconds: float = 0.0

    def pct(self, q: float) -> float:
        """The q-quantile in milliseconds (nearest rank), NaN when empty."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


@dataclass
class Figure:
    label: str
    value: float
    baseline: float
    unit: str
    minimum_ratio: float | None = None
    maximum_ratio: float | None = None

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    @property
    def missed(self) -> bool:
        if self.minimum_ratio is not None and not self.ratio >= self.minimum_ratio:
            return True
        return self.maximum_ratio is not None and not self.ratio <= self.maximum_ratio

    def line(self) -> str:
        target = ""
        if self.minimum_ratio is not None:
            target = f"  target >= {self.minimum_ratio:.2f}x"
        elif self.maximum_ratio is not None:
            target = f"  target <= {self.maximum_ratio:.2f}x"
        verdict = (" MISSED" if self.missed else " ok") if target else ""
        return (
            f"  {self.label:<38} {self.value:9.1f} {self.unit:<6} / {self.baseline:9.1f} "
            f"= {self.ratio:6.2f}x{target}{verdict}"
        )


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
                series.statuses["closed"] = series.statuses.get("closed", 0) + 1
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
            series.latencies.append(time.perf_counter() - started)
            series.statuses[status] = series.statuses.get(status, 0) + 1
            series.body_bytes += len(body)
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """The real server in a subprocess."""

    def __init__(self, kind: str, env: dict[str, str], workers: int, threads: int):
        if kind == "auto":  # what `make run` serves with: it measured better (RESULTS.md)
            kind = "flask"
        self.kind, self.env, self.workers, self.threads = kind, env, workers, threads
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        if self.kind == "gunicorn":
            config = ROOT / "gunicorn.conf.py"
            if config.exists():
                base = ["-c", str(config)]
            else:
                base = ["-k", "gthread", "--threads", str(self.threads), "monev:create_app()"]
            count = self.workers or (0 if config.exists() else 2 * (os.cpu_count() or 1))
            workers = ["--workers", str(count)] if count else []
            return [
                sys.executable,
                "-m",
                "gunicorn",
                *base,
                *workers,
                "--bind",
                f"{HOST}:{self.port}",
                "--access-logfile",
                "/dev/null",
            ]
        return [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "monev",
            "serve",
            "--port",
            str(self.port),
            "--threads",
            str(self.threads),
            *(["--processes", str(self.workers)] if self.workers else []),
        ]

    def describe(self) -> str:
        return " ".join(self.command()[2:]).replace(str(ROOT) + "/", "")

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=None
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped at start ({self.describe()})")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("the server did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the data --------------------------------------------------------------------------------


def prepare(uri: str, env: dict[str, str]) -> str:
    """Migrate an empty database and load the demo; the code of one of its certificates
    (signed with the server's secret key, as the server checks it)."""
    from sqlalchemy import text

    from monev import create_app
    from monev.extensions import db

    app = create_app(
        {
            "ENV_NAME": "development",
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": env["MONEV_SECRET_KEY"],
        }
    )
    if uri.startswith("postgresql"):
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            db.engine.dispose()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "monev", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
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
            f"p99 {series.pct(0.99):7.1f} ms  {series.body_bytes / max(series.count, 1):6.0f} "
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
        server = Server(args.server, env, args.workers, args.threads)
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
