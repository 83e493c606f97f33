"""The version of an event's judging: what the organiser's progress board is keyed by.

Every service that changes what the board shows counts the change here, in the same
transaction (:func:`bump`, :func:`bump_stage`): a sheet written (autosave, whole sheet, paper
import), finalised or reopened; a sheet dropped or restored; an assignment added, removed or
planned; a conflict of interest declared or removed; a judge added to, changed on or removed
from the panel. The board then answers a poll with ``304 Not Modified`` from one cheap query
(:func:`current`) instead of reading every sheet, and renders once per version.

The count is one row per (event, judge) of ``judging_versions``, incremented with an upsert
(``INSERT … ON CONFLICT DO UPDATE SET n = n + 1``). On PostgreSQL the upsert locks that row
until the transaction commits; as the row is the judge's own, saves of different judges do
not wait for each other (a judge's own saves already do: each locks its assignment). On
SQLite every write transaction already holds the database's write lock (``BEGIN IMMEDIATE``),
so one more statement in it serialises nothing new.

What the board shows also changes when an entry's standing changes (disqualified, withdrawn,
not selected: :mod:`monev.entries.standing`, which is below this package); :func:`current`
reads the event's latest standing change with the count, so such a change is seen too.
Names edited elsewhere (a KIM's, a judge's) appear at the board's next change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, bindparam, func, select, text

from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.extensions import db
from monev.judging.models import JudgingVersion

EVERYONE = 0  # the judge_id of a change that concerns no one judge (a planned assignment)


@dataclass(frozen=True)
class Version:
    """An event's judging version: ``n`` only grows; ``changed_at`` is the latest change the
    board shows (a counted change or an entry's standing), None before the first."""

    n: int
    changed_at: datetime | None

    @property
    def token(self) -> str:
        stamp = self.changed_at.isoformat() if self.changed_at else "-"
        return f"{self.n}.{stamp}"


def current(event_id: int) -> Version:
    """The event's version, in one query over the event's rows of ``judging_versions`` (one
    per judge) and its entries' latest standing change."""
    standing_changed = (
        select(func.max(Entry.standing_changed_at))
        .where(Entry.event_id == event_id)
        .scalar_subquery()
    )
    n, changed_at, standing_at = db.session.execute(
        select(
            func.coalesce(func.sum(JudgingVersion.n), 0),
            func.max(JudgingVersion.changed_at),
            standing_changed,
        ).where(JudgingVersion.event_id == event_id)
    ).one()
    latest = max((t for t in (changed_at, standing_at) if t is not None), default=None)
    return Version(int(n), latest)


# One statement, the same on SQLite (3.24+) and PostgreSQL: a textual statement, as it runs
# with every save (a Core insert compiled per call cost about three times as much).
_BUMP = """
INSERT INTO judging_versions (event_id, judge_id, n, changed_at)
SELECT {event}, :judge_id, 1, :now {source}
ON CONFLICT (event_id, judge_id)
DO UPDATE SET n = judging_versions.n + 1, changed_at = excluded.changed_at
"""
_BUMP_EVENT = text(_BUMP.format(event=":event_id", source="WHERE 1 = 1")).bindparams(
    bindparam("now", type_=DateTime)
)
_BUMP_STAGE = text(
    _BUMP.format(event="event_id", source="FROM stages WHERE id = :stage_id")
).bindparams(bindparam("now", type_=DateTime))


def bump(event_id: int, judge_id: int | None = None) -> None:
    """Count one change of the event's judging that concerns ``judge_id`` (None: no one judge)."""
    db.session.execute(
        _BUMP_EVENT, {"event_id": event_id, "judge_id": judge_id or EVERYONE, "now": utcnow()}
    )


def bump_stage(stage_id: int, judge_id: int | None = None) -> None:
    """:func:`bump` for the event of ``stage_id``, without loading the stage."""
    db.session.execute(
        _BUMP_STAGE, {"stage_id": stage_id, "judge_id": judge_id or EVERYONE, "now": utcnow()}
    )
