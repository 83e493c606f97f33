"""Counting uses per key (a client's address and what it does) in fixed windows, in the
database: every worker process counts the same, as the sign-in throttling does
(monev.auth.services). Used where anonymous requests are costly: checking an uploaded PDF on
/verify (pyHanko's validation).

Each use is one upsert in a short transaction of its own, committed even when the request it
belongs to is refused and rolled back (a refused upload still cost the check)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Index, String, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.extensions import db

EPOCH = datetime(1970, 1, 1)
KEEP = timedelta(days=1)  # windows older than this are deleted


class RateCount(db.Model):
    """How many uses a key had in one window (started at ``window_start``, naive UTC)."""

    __tablename__ = "rate_counts"
    __table_args__ = (Index("ix_rate_counts_window_start", "window_start"),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


@dataclass(frozen=True)
class Limited:
    """Over the limit: the window ends in ``minutes`` (at least 1) / ``seconds``."""

    minutes: int
    seconds: int


def hit(
    key: str, *, limit: int, window_minutes: int, now: datetime | None = None
) -> Limited | None:
    """Count one use of ``key`` in the current window; Limited when it is beyond ``limit``
    (the use is counted all the same: hammering does not shorten the wait)."""
    now = now or utcnow()
    length = max(1, int(window_minutes)) * 60
    start = EPOCH + timedelta(seconds=(int((now - EPOCH).total_seconds()) // length) * length)
    bind = db.session.get_bind()
    insert = sqlite_insert if bind.dialect.name == "sqlite" else pg_insert
    upsert = insert(RateCount).values(key=key[:120], window_start=start, count=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=["key", "window_start"],
        set_={"count": upsert.excluded.count + RateCount.count},
    ).returning(RateCount.count)
    cleanup = delete(RateCount).where(RateCount.window_start < now - KEEP)
    if isinstance(bind, Engine):
        with write_intent(), bind.begin() as conn:
            count = conn.execute(upsert).scalar_one()
            conn.execute(cleanup)
    else:  # a connection an outer transaction holds (the test suite's)
        count = bind.execute(upsert).scalar_one()
        bind.execute(cleanup)
    if count <= limit:
        return None
    seconds = max(1, math.ceil((start + timedelta(seconds=length) - now).total_seconds()))
    return Limited(minutes=max(1, math.ceil(seconds / 60)), seconds=seconds)
