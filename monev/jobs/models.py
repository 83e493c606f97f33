"""The background workers' heartbeats: one row per running ``flask --app monev worker``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from monev.extensions import db


class WorkerHeartbeat(db.Model):
    __tablename__ = "worker_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(200), unique=True)  # "<host>:<pid>"
    host: Mapped[str] = mapped_column(String(120))
    pid: Mapped[int]
    queue: Mapped[str] = mapped_column(String(80))  # HUEY_NAME
    workers: Mapped[int]
    worker_type: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)
