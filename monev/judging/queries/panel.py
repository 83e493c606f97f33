"""Reading the panel, conflicts of interest, the judged entries and how judges see them."""

from __future__ import annotations

import functools

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import joinedload

from monev.auth.models import User
from monev.directory.models import Kim
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Event, Stage, StageSelection
from monev.extensions import db
from monev.judging.models import (
    Conflict,
    EventJudge,
    PanelMember,
)

# --- labels -------------------------------------------------------------------------------


def entry_label_for_judges(entry: Entry, event: Event) -> str:
    """What a judge sees of an entry: its KIM's name, or only its coded id (blind)."""
    if event.judges_see_names:
        return f"{entry.code} · {entry.kim.name}"
    return entry.code


# --- panel and conflicts ------------------------------------------------------------------


def event_panel(event_id: int) -> list[EventJudge]:
    return list(
        db.session.scalars(
            select(EventJudge)
            .join(User, User.id == EventJudge.user_id)
            .where(EventJudge.event_id == event_id)
            .options(joinedload(EventJudge.user), joinedload(EventJudge.home_district))
            .order_by(User.name, User.id)
        )
    )


def event_judge(event_id: int, user_id: int) -> EventJudge | None:
    return db.session.scalar(
        select(EventJudge).where(EventJudge.event_id == event_id, EventJudge.user_id == user_id)
    )


def panel_stages(event: Event) -> dict[int, set[int]]:
    """judge id -> ids of the stages whose panel they sit on (a stage without explicit
    members is judged by the whole event panel)."""
    judge_ids = list(
        db.session.scalars(select(EventJudge.user_id).where(EventJudge.event_id == event.id))
    )
    stage_ids = [s.id for s in event.stages]
    explicit: dict[int, set[int]] = {}
    if stage_ids:
        for stage_id, judge_id in db.session.execute(
            select(PanelMember.stage_id, PanelMember.judge_id).where(
                PanelMember.stage_id.in_(stage_ids)
            )
        ):
            explicit.setdefault(stage_id, set()).add(judge_id)
    result = {j: set() for j in judge_ids}
    for stage_id in stage_ids:
        members = explicit.get(stage_id)
        for j in judge_ids:
            if members is None or j in members:
                result[j].add(stage_id)
    return result


def stage_panel(stage: Stage) -> list[EventJudge]:
    members = set(
        db.session.scalars(select(PanelMember.judge_id).where(PanelMember.stage_id == stage.id))
    )
    panel = event_panel(stage.event_id)
    if not members:
        return panel
    return [j for j in panel if j.user_id in members]


def event_conflicts(event_id: int) -> list[Conflict]:
    return list(
        db.session.scalars(
            select(Conflict)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.event_id == event_id)
            .options(
                joinedload(Conflict.entry).joinedload(Entry.kim).joinedload(Kim.district),
                joinedload(Conflict.judge),
            )
            .order_by(Entry.code, Conflict.judge_id)
        )
    )


def conflict_pairs(event_id: int) -> set[tuple[int, int]]:
    return set(
        db.session.execute(
            select(Conflict.entry_id, Conflict.judge_id)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.event_id == event_id)
        ).all()
    )


@functools.cache
def _conflict_statement():
    """Built once (every save checks it)."""
    return select(Conflict.id).where(
        Conflict.entry_id == bindparam("entry_id"), Conflict.judge_id == bindparam("judge_id")
    )


def has_conflict(entry_id: int, judge_id: int) -> bool:
    found = db.session.scalar(_conflict_statement(), {"entry_id": entry_id, "judge_id": judge_id})
    return found is not None


def judged_entries(event_id: int) -> list[Entry]:
    """The entries that are judged: competing finalists (accepted, submitted, active), in code
    order, with KIM and district."""
    return list(
        db.session.scalars(
            select(Entry)
            .where(Entry.event_id == event_id, standing.competing())
            .options(joinedload(Entry.kim).joinedload(Kim.district))
            .order_by(Entry.code)
        )
    )


def selection_pending(stage: Stage) -> Stage | None:
    """The earliest stage before ``stage`` whose selection (who advances) is not confirmed
    yet: until it is, nobody is assigned in ``stage`` or any stage after it."""
    return db.session.scalar(
        select(Stage)
        .join(StageSelection, StageSelection.stage_id == Stage.id)
        .where(
            Stage.event_id == stage.event_id,
            StageSelection.confirmed_at.is_(None),
            or_(
                Stage.position < stage.position,
                and_(Stage.position == stage.position, Stage.id < stage.id),
            ),
        )
        .order_by(Stage.position, Stage.id)
        .limit(1)
    )
