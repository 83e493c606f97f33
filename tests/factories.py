"""The one event factory of the tests.

``make_event`` builds an event with its stages, categories and rubric (one aspect per stage)
through the services the organiser's forms call, so the rows, their checks and their audit
trail are the ones the app makes. Call it inside an app context; it flushes, the caller
commits. Everything else (KIMs, entries, judges, sheets) stays with the test that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from monev.events import services as event_services
from monev.events.models import Category, Event, Stage
from monev.extensions import db
from monev.rubrics import services as rubric_services
from monev.rubrics.models import Criterion

Number = int | str | Decimal


@dataclass(frozen=True)
class CriterionPlan:
    key: str
    name: str
    weight: Number
    min_score: Number = 1
    max_score: Number = 10
    step: Number = 1
    evidence: str = "none"  # none, file, link or either
    descriptors: str = ""  # "1-4: Belum ada\n5-10: Ada"
    guidance: str | None = None
    evidence_hint: str | None = None


@dataclass(frozen=True)
class StagePlan:
    key: str
    name: str
    weight: Number
    aspect: str | None = None  # the rubric's one aspect of this stage (None: no rubric)
    criteria: tuple[CriterionPlan, ...] = ()
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    judges_per_entry: int | None = None


@dataclass
class BuiltEvent:
    event: Event
    stages: dict[str, Stage] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    criteria: dict[str, Criterion] = field(default_factory=dict)


DESA = (("desa", "KIM Desa"),)
DESA_AND_KELURAHAN = (("desa", "KIM Desa"), ("kelurahan", "KIM Kelurahan"))
# Event settings create_event takes; any other keyword is set on the event afterwards.
_CREATE_KEYS = ("description", "timezone", "aggregation", "normalize_judges")


def make_event(
    slug: str,
    *,
    title: str | None = None,
    year: int = 2026,
    organiser: str = "Diskominfo",
    stages: tuple[StagePlan, ...] | list[StagePlan] = (),
    categories: tuple[tuple[str, str], ...] = DESA,
    status: str = "draft",
    **settings,
) -> BuiltEvent:
    """An event in ``status`` with ``stages`` (each with its aspect and criteria) and
    ``categories`` ((key, name) pairs). ``settings``: ``aggregation``, ``normalize_judges``,
    ``description``, ``timezone``, and any event column (``tie_breaks``,
    ``judges_see_names``...), set once the rubric is built."""
    data = {k: settings.pop(k) for k in _CREATE_KEYS if k in settings}
    event = event_services.create_event(
        {
            "slug": slug,
            "title": title or f"Monev KIM Uji {slug}",
            "year": year,
            "organiser": organiser,
            **data,
        }
    )
    built = BuiltEvent(event)
    for spec in stages:
        built.stages[spec.key] = event_services.save_stage(
            event,
            None,
            {
                "key": spec.key,
                "name": spec.name,
                "weight": Decimal(str(spec.weight)),
                "opens_at": spec.opens_at,
                "closes_at": spec.closes_at,
                "judges_per_entry": spec.judges_per_entry,
            },
        )
    for key, name in categories:
        built.categories[key] = event_services.save_category(
            event, None, {"key": key, "name": name}
        )
    db.session.flush()
    for spec in stages:
        if spec.aspect is None:
            continue
        aspect = rubric_services.save_aspect(built.stages[spec.key], None, spec.aspect)
        for c in spec.criteria:
            built.criteria[c.key] = rubric_services.save_criterion(
                aspect,
                None,
                {
                    "key": c.key,
                    "name": c.name,
                    "weight": str(c.weight),
                    "min_score": str(c.min_score),
                    "max_score": str(c.max_score),
                    "step": str(c.step),
                    "descriptors": c.descriptors,
                    "evidence": c.evidence,
                    "guidance": c.guidance,
                    "evidence_hint": c.evidence_hint,
                },
            )
    event.status = status
    for name, value in settings.items():
        if not hasattr(Event, name):
            raise TypeError(f"make_event: Event has no {name!r}")
        setattr(event, name, value)
    db.session.flush()
    return built
