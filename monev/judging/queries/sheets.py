"""Reading assignments, rubrics, sheets, their scores and the change trail."""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from monev.directory.models import Kim
from monev.entries.models import Entry, Evidence
from monev.events.models import Stage
from monev.extensions import db
from monev.judging.models import (
    Assignment,
    Score,
    ScoreChange,
    ScoreSheet,
)
from monev.judging.numbers import CriterionRule
from monev.rubrics.models import Aspect, Criterion

# --- assignments --------------------------------------------------------------------------


def stage_assignments(stage_id: int) -> list[Assignment]:
    return list(
        db.session.scalars(
            select(Assignment)
            .join(Entry, Entry.id == Assignment.entry_id)
            .where(Assignment.stage_id == stage_id)
            .options(
                joinedload(Assignment.judge),
                joinedload(Assignment.sheet),
                joinedload(Assignment.entry).joinedload(Entry.kim).joinedload(Kim.district),
            )
            .order_by(Entry.code, Assignment.judge_id)
        ).unique()
    )


def scored_assignment_ids(stage_id: int) -> set[int]:
    """Assignments of the stage whose sheet holds a score or a comment, or is final."""
    has_value = (
        select(Score.id)
        .where(
            Score.sheet_id == ScoreSheet.id,
            Score.value.is_not(None) | Score.comment.is_not(None),
        )
        .exists()
    )
    return set(
        db.session.scalars(
            select(Assignment.id)
            .join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
            .where(Assignment.stage_id == stage_id)
            .where((ScoreSheet.status == "final") | has_value)
        )
    )


def judge_assignment(judge_id: int, assignment_id: int) -> Assignment | None:
    """The judge's own assignment; another judge's does not exist for them."""
    return db.session.scalar(
        select(Assignment)
        .where(Assignment.id == assignment_id, Assignment.judge_id == judge_id)
        .options(
            joinedload(Assignment.stage).joinedload(Stage.event),
            joinedload(Assignment.entry).joinedload(Entry.kim),
            joinedload(Assignment.sheet),
        )
    )


def stage_criteria(stage_id: int) -> list[Aspect]:
    return list(
        db.session.scalars(
            select(Aspect)
            .where(Aspect.stage_id == stage_id)
            .options(selectinload(Aspect.criteria))
            .order_by(Aspect.position, Aspect.id)
        )
    )


def criterion_rules(aspects: list[Aspect]) -> list[CriterionRule]:
    return [
        CriterionRule(c.id, c.weight, c.min_score, c.max_score, c.step)
        for a in aspects
        for c in a.criteria
    ]


def stage_rules(stage_id: int) -> list[CriterionRule]:
    """:func:`criterion_rules` of :func:`stage_criteria` in one query of plain columns (what
    every save checks and totals with)."""
    rows = db.session.execute(_stage_rules_statement(), {"stage_id": stage_id})
    return [CriterionRule(*row) for row in rows]


@functools.cache
def _stage_rules_statement():
    """Built once (every save reads the rules)."""
    return (
        select(
            Criterion.id, Criterion.weight, Criterion.min_score, Criterion.max_score, Criterion.step
        )
        .join(Aspect, Aspect.id == Criterion.aspect_id)
        .where(Aspect.stage_id == bindparam("stage_id"))
        .order_by(Aspect.position, Aspect.id, Criterion.position, Criterion.id)
    )


def sheet_scores(sheet_id: int | None) -> dict[int, Score]:
    if sheet_id is None:
        return {}
    return {
        s.criterion_id: s
        for s in db.session.scalars(select(Score).where(Score.sheet_id == sheet_id))
    }


def evidence_for(entry: Entry) -> dict[int | None, list]:
    """The entry's evidence per criterion (None: the presentation)."""
    rows = db.session.scalars(
        select(Evidence).where(Evidence.entry_id == entry.id).order_by(Evidence.id)
    )
    grouped: dict[int | None, list] = {}
    for item in rows:
        grouped.setdefault(item.criterion_id, []).append(item)
    return grouped


# --- trail --------------------------------------------------------------------------------


def sheet_trail(sheet_id: int) -> list[ScoreChange]:
    return list(
        db.session.scalars(
            select(ScoreChange)
            .where(ScoreChange.sheet_id == sheet_id)
            .options(joinedload(ScoreChange.actor), joinedload(ScoreChange.criterion))
            .order_by(ScoreChange.version.desc())
        )
    )


def event_changes(event_id: int, page: int = 1, per_page: int = 50):
    stmt = (
        select(ScoreChange, Assignment)
        .join(ScoreSheet, ScoreSheet.id == ScoreChange.sheet_id)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(Entry.event_id == event_id)
        .options(
            joinedload(ScoreChange.actor),
            joinedload(ScoreChange.criterion),
            joinedload(Assignment.entry),
            joinedload(Assignment.judge),
            joinedload(Assignment.stage),
        )
        .order_by(ScoreChange.created_at.desc(), ScoreChange.id.desc())
    )
    total = db.session.scalar(
        select(func.count(ScoreChange.id))
        .join(ScoreSheet, ScoreSheet.id == ScoreChange.sheet_id)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(Entry.event_id == event_id)
    )
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total or 0


def admin_sheet(sheet_id: int, event_id: int) -> ScoreSheet | None:
    return db.session.scalar(
        select(ScoreSheet)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(ScoreSheet.id == sheet_id, Entry.event_id == event_id)
        .options(
            joinedload(ScoreSheet.assignment).joinedload(Assignment.judge),
            joinedload(ScoreSheet.assignment).joinedload(Assignment.stage),
            joinedload(ScoreSheet.assignment).joinedload(Assignment.entry).joinedload(Entry.kim),
        )
    )
