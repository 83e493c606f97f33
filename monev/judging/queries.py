from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, ScoreSheet


@dataclass(frozen=True)
class JudgeStageProgress:
    event: Event
    stage: Stage
    assigned: int
    final: int
    draft: int

    @property
    def missing(self) -> int:
        return self.assigned - self.final


def judge_progress(judge_id: int) -> list[JudgeStageProgress]:
    """The judge's own assignments per event and stage, counted in one query.

    Only this judge's sheets are counted: nothing about other judges is read."""
    rows = db.session.execute(
        select(
            Event,
            Stage,
            func.count(Assignment.id),
            func.sum(case((ScoreSheet.status == "final", 1), else_=0)),
            func.sum(case((ScoreSheet.status == "draft", 1), else_=0)),
        )
        .join(Stage, Stage.id == Assignment.stage_id)
        .join(Event, Event.id == Stage.event_id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.judge_id == judge_id)
        .group_by(Event.id, Stage.id)
        .order_by(Event.year.desc(), Stage.position)
    ).all()
    return [
        JudgeStageProgress(event, stage, assigned, int(final or 0), int(draft or 0))
        for event, stage, assigned, final, draft in rows
    ]
