"""Readiness: can this web process serve requests now? The database, the file storage and
the job queue, each probed cheaply (nothing written) and timed."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text

from monev import jobs
from monev.extensions import db
from monev.storage import get_storage


@dataclass
class Probe:
    name: str
    ok: bool
    ms: float
    error: str | None = None

    def as_dict(self) -> dict:
        found = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.error:
            found["error"] = self.error
        return found


def _database() -> None:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _storage() -> None:
    get_storage().ping()


def _queue() -> None:
    if not jobs.huey.immediate:
        jobs.queue_depth()


PARTS = (("database", _database), ("storage", _storage), ("queue", _queue))


def probe_all() -> list[Probe]:
    probes = []
    for name, fn in PARTS:
        started = time.perf_counter()
        try:
            fn()
        except Exception as exc:
            error = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
            probes.append(Probe(name, False, (time.perf_counter() - started) * 1000, error))
        else:
            probes.append(Probe(name, True, (time.perf_counter() - started) * 1000))
    return probes
