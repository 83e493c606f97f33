from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monev.events.models import Event, Stage
from monev.extensions import db
from monev.rubrics.models import Aspect, Criterion
from monev.rubrics.validation import CriterionSpec, StageSpec


def criterion_keys(event_id: int) -> list[str]:
    return list(db.session.scalars(select(Criterion.key).where(Criterion.event_id == event_id)))


def aspects_by_stage(event: Event) -> dict[int, list[Aspect]]:
    """Every aspect of the event with its criteria, grouped by stage (two queries)."""
    aspects = db.session.scalars(
        select(Aspect)
        .join(Stage, Stage.id == Aspect.stage_id)
        .where(Stage.event_id == event.id)
        .options(selectinload(Aspect.criteria))
        .order_by(Stage.position, Aspect.position, Aspect.id)
    )
    grouped: dict[int, list[Aspect]] = {s.id: [] for s in event.stages}
    for aspect in aspects:
        grouped.setdefault(aspect.stage_id, []).append(aspect)
    return grouped


def criterion_spec(c: Criterion, aspect_name: str = "") -> CriterionSpec:
    return CriterionSpec(
        key=c.key,
        name=c.name,
        weight=c.weight,
        min_score=c.min_score,
        max_score=c.max_score,
        step=c.step,
        descriptors=tuple(c.descriptors or ()),
        aspect=aspect_name,
    )


def stage_specs(event: Event) -> list[StageSpec]:
    grouped = aspects_by_stage(event)
    specs = []
    for stage in event.stages:
        criteria = tuple(
            criterion_spec(c, a.name) for a in grouped.get(stage.id, []) for c in a.criteria
        )
        specs.append(StageSpec(stage.key, stage.name, stage.weight, criteria))
    return specs
