"""Heartbeats of the background workers, so the app can tell whether any is running.

A worker (``flask --app monev worker``) writes its row every ``WORKER_HEARTBEAT_SECONDS``
from a thread of its main process and deletes it when it stops; a worker killed outright
leaves its row behind, with a heartbeat that grows old. A worker counts as alive while its
last heartbeat is younger than four intervals. Rows older than a day are removed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, select

from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.jobs.models import WorkerHeartbeat

log = logging.getLogger(__name__)
FORGET_AFTER = timedelta(days=1)


def interval(config=None) -> int:
    config = config if config is not None else current_app.config
    return max(1, int(config.get("WORKER_HEARTBEAT_SECONDS") or 15))


def alive_cutoff(config=None) -> datetime:
    return utcnow() - timedelta(seconds=4 * interval(config))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def beat(ident: str, queue: str, workers: int, worker_type: str, started: datetime) -> None:
    """Write this worker's heartbeat (in a transaction of its own)."""
    now = utcnow()
    db.session.rollback()
    with write_intent():
        row = db.session.scalar(select(WorkerHeartbeat).where(WorkerHeartbeat.worker == ident))
        if row is None:
            host, _sep, pid = ident.rpartition(":")
            row = WorkerHeartbeat(
                worker=ident,
                host=host[:120],
                pid=int(pid) if pid.isdigit() else 0,
                queue=queue[:80],
                workers=workers,
                worker_type=worker_type,
                started_at=started,
            )
            db.session.add(row)
        row.beat_at = now
        db.session.execute(
            delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_AFTER)
        )
        db.session.commit()


def forget(ident: str) -> None:
    db.session.rollback()
    with write_intent():
        db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker == ident))
        db.session.commit()


def recent() -> list[WorkerHeartbeat]:
    """Every worker seen in the last day, the latest heartbeat first."""
    return list(
        db.session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()))
    )


def alive(queue: str | None = None) -> list[WorkerHeartbeat]:
    """The workers whose heartbeat is recent (of ``queue``, default the app's)."""
    queue = queue or current_app.config.get("HUEY_NAME") or "monev"
    return list(
        db.session.scalars(
            select(WorkerHeartbeat).where(
                WorkerHeartbeat.queue == queue, WorkerHeartbeat.beat_at >= alive_cutoff()
            )
        )
    )


def is_alive(row: WorkerHeartbeat) -> bool:
    return row.beat_at >= alive_cutoff()


class Heartbeat:
    """The thread that keeps one worker's row fresh while ``with`` lasts."""

    def __init__(self, app: Flask, workers: int, worker_type: str):
        self.app = app
        self.ident = worker_id()
        self.workers = workers
        self.worker_type = worker_type
        self.queue = app.config.get("HUEY_NAME") or "monev"
        self.started = utcnow()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monev-heartbeat", daemon=True)

    def _beat(self) -> None:
        try:
            with self.app.app_context():
                beat(self.ident, self.queue, self.workers, self.worker_type, self.started)
        except Exception:  # the database is away: the next beat tries again
            log.exception("Could not record the worker heartbeat")

    def _run(self) -> None:
        seconds = interval(self.app.config)
        while not self._stop.wait(seconds):
            self._beat()

    def __enter__(self) -> Heartbeat:
        self._beat()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        try:
            with self.app.app_context():
                forget(self.ident)
        except Exception:
            log.exception("Could not remove the worker heartbeat")
