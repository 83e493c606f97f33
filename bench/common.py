"""What the load benches share (``bench/load.py``, ``bench/results_day.py``, ``bench/judging.py``):
a series of latencies, a printed figure with its target, a free port, the real server in a
subprocess and an empty migrated database. Not a bench itself (``make bench`` skips it).

A script in ``bench/`` imports it as ``common`` (Python puts the script's folder first on
``sys.path``); importing it puts the project's root there too, for ``monev``.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # only this machine is ever loaded


# --- measuring -----------------------------------------------------------------------------


def pct(seconds: list[float], q: float) -> float:
    """The q-quantile of ``seconds`` in milliseconds (nearest rank), NaN when empty."""
    if not seconds:
        return float("nan")
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class Series:
    """Latencies (seconds), statuses and bytes of one kind of request; thread-safe adds.
    An error without an answer counts a status and no latency."""

    name: str
    path: str = ""
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    body_bytes: int = 0
    seconds: float = 0.0  # the window the series was measured in, when known
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, seconds: float | None, status: int | str, size: int = 0) -> None:
        with self._lock:
            if seconds is not None:
                self.latencies.append(seconds)
            self.statuses[status] += 1
            self.body_bytes += size

    def pct(self, q: float) -> float:
        """The q-quantile in milliseconds (nearest rank), NaN when empty."""
        return pct(self.latencies, q)

    @property
    def count(self) -> int:
        """Requests sent: answered or failed."""
        return sum(self.statuses.values())

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Answers per second over :attr:`seconds`."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0


@dataclass
class Figure:
    """One printed result as a ratio to its baseline, and its target if it has one."""

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


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """The real server in a subprocess: ``flask --app monev serve`` (``kind="auto"`` or
    ``"flask"``: waitress, one process per core unless ``workers`` says) or gunicorn with
    gunicorn.conf.py (``workers``: its processes, 0: the file's). Ready once ``health``
    answers."""

    def __init__(
        self,
        kind: str,
        env: dict[str, str],
        *,
        threads: int,
        workers: int = 0,
        health: str = "/healthz",
        quiet: bool = True,
    ):
        if kind == "auto":  # what `make run` serves with: it measured better (RESULTS.md)
            kind = "flask"
        self.kind, self.env, self.threads, self.workers = kind, env, threads, workers
        self.health, self.quiet = health, quiet
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def gunicorn_available() -> bool:
        return (ROOT / "gunicorn.conf.py").exists() and shutil.which(
            "gunicorn", path=str(Path(sys.executable).parent)
        ) is not None

    def command(self) -> list[str]:
        if self.kind == "gunicorn":
            config = ROOT / "gunicorn.conf.py"
            if config.exists():
                base = ["-c", str(config)]
            else:
                base = ["-k", "gthread", "--threads", str(self.threads), "monev:create_app()"]
            count = self.workers or (0 if config.exists() else 2)
            return [
                sys.executable,
                "-m",
                "gunicorn",
                *base,
                *(["--workers", str(count)] if count else []),
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
        if self.kind == "gunicorn":
            workers = f" --workers {self.workers}" if self.workers else ""
            return f"gunicorn -c gunicorn.conf.py{workers}"
        processes = f" --processes {self.workers}" if self.workers else ""
        return f"flask --app monev serve --threads {self.threads}{processes} (waitress)"

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return  # already serving (an earlier part of the run started it)
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if self.quiet else None,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped at start ({self.describe()})")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", self.health)
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


# --- the database --------------------------------------------------------------------------


def migrate_empty(app, uri: str, env: dict[str, str]) -> None:
    """An empty database at the newest schema: ``flask db upgrade``, as an operator runs it.
    A PostgreSQL database is emptied first (its public schema is dropped)."""
    from sqlalchemy import text

    from monev.extensions import db

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
