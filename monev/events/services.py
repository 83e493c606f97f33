"""Event set-up rules: settings, stages, categories, quotas and status moves."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from monev.audit import services as audit
from monev.core.errors import ServiceError
from monev.entries.models import Entry
from monev.events.models import (
    AGGREGATIONS,
    DEFAULT_LADDER,
    STAGE_KINDS,
    STATUSES,
    Category,
    DistrictQuota,
    Event,
    Stage,
)
from monev.extensions import db
from monev.rubrics import queries as rubric_queries
from monev.rubrics.messages import describe
from monev.rubrics.validation import rubric_problems, tie_break_problems

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

# Moves an admin may make: forward one step, or back one step to fix something, up to results.
# Publication (results -> published) is done by publishing, which freezes the results.
TRANSITIONS = {
    "draft": ("nomination",),
    "nomination": ("submission", "draft"),
    "submission": ("verification", "nomination"),
    "verification": ("judging", "submission"),
    "judging": ("results", "verification"),
    "results": ("judging",),
    "published": ("archived",),
    "archived": (),
}


def event_snapshot(event: Event) -> dict:
    return {
        "slug": event.slug,
        "title": event.title,
        "year": event.year,
        "organiser": event.organiser,
        "description": event.description,
        "timezone": event.timezone,
        "aggregation": event.aggregation,
        "normalize_judges": event.normalize_judges,
        "tie_breaks": list(event.tie_breaks or []),
    }


def _check_slug(slug: str, exclude_id: int | None = None) -> None:
    if not SLUG_RE.match(slug or ""):
        raise ServiceError(
            _("Use lower-case letters, digits and dashes only, e.g. monev-kim-kaltim-2025."),
            field="slug",
        )
    stmt = select(Event.id).where(Event.slug == slug)
    if exclude_id:
        stmt = stmt.where(Event.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise ServiceError(_("Another event already uses this address."), field="slug")


def check_tie_breaks(event: Event, rules: list[str]) -> None:
    stage_keys = {s.key for s in event.stages}
    criterion_keys = set(rubric_queries.criterion_keys(event.id))
    problems = tie_break_problems(rules, stage_keys, criterion_keys)
    if problems:
        raise ServiceError(describe(problems[0]), field="tie_breaks")


def create_event(data: dict) -> Event:
    _check_slug(data["slug"])
    event = Event(
        slug=data["slug"],
        title=data["title"].strip(),
        year=data["year"],
        organiser=data["organiser"].strip(),
        description=(data.get("description") or "").strip() or None,
        timezone=data.get("timezone") or "Asia/Makassar",
        aggregation=data.get("aggregation") or "mean",
        normalize_judges=bool(data.get("normalize_judges")),
        tie_breaks=[],
        status="draft",
    )
    db.session.add(event)
    db.session.flush()
    audit.record("event.created", "event", event.id, event_snapshot(event))
    return event


def update_event(event: Event, data: dict) -> None:
    _check_slug(data["slug"], exclude_id=event.id)
    if data.get("aggregation") not in AGGREGATIONS:
        raise ServiceError(_("Choose how judges' scores are combined."), field="aggregation")
    rules = data.get("tie_breaks")
    if rules is not None:
        check_tie_breaks(event, rules)
    if event.at_least("judging") and (
        data["aggregation"] != event.aggregation
        or bool(data.get("normalize_judges")) != event.normalize_judges
    ):
        raise ServiceError(
            _("The scoring method cannot change once judging has started."), field="aggregation"
        )
    before = event_snapshot(event)
    event.slug = data["slug"]
    event.title = data["title"].strip()
    event.year = data["year"]
    event.organiser = data["organiser"].strip()
    event.description = (data.get("description") or "").strip() or None
    event.timezone = data.get("timezone") or event.timezone
    event.aggregation = data["aggregation"]
    event.normalize_judges = bool(data.get("normalize_judges"))
    if rules is not None:
        event.tie_breaks = rules
    changes = audit.diff(before, event_snapshot(event))
    if changes:
        audit.record("event.updated", "event", event.id, changes)


# --- stages and categories ----------------------------------------------------------------


def _require_structure_open(event: Event) -> None:
    if event.at_least("judging"):
        raise ServiceError(
            _(
                "Judging has started: stages, weights and criteria can no longer change, "
                "because existing scores would no longer mean the same."
            ),
            status=409,
        )


def _check_key(key: str, field: str = "key") -> None:
    if not KEY_RE.match(key or ""):
        raise ServiceError(
            _("Use a short code of lower-case letters, digits, - or _ (e.g. presentasi)."),
            field=field,
        )


def stage_snapshot(stage: Stage) -> dict:
    return {
        "key": stage.key,
        "name": stage.name,
        "weight": str(stage.weight),
        "opens_at": stage.opens_at,
        "closes_at": stage.closes_at,
        "judges_per_entry": stage.judges_per_entry,
        "kind": stage.kind,
    }


def save_stage(event: Event, stage: Stage | None, data: dict) -> Stage:
    _check_key(data["key"])
    weight = Decimal(str(data["weight"]))
    if not (Decimal(0) <= weight <= Decimal(100)):
        raise ServiceError(_("A stage weight lies between 0 and 100."), field="weight")
    if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
        raise ServiceError(_("The stage must close after it opens."), field="closes_at")
    for other in event.stages:
        if other is stage:
            continue
        if other.key == data["key"]:
            raise ServiceError(_("Another stage already uses this code."), field="key")
        if other.name.lower() == data["name"].strip().lower():
            raise ServiceError(_("Another stage already has this name."), field="name")
    structural = stage is None or stage.key != data["key"] or stage.weight != weight
    if structural:
        _require_structure_open(event)
    before = stage_snapshot(stage) if stage else {}
    if stage is None:
        stage = Stage(event=event, position=len(event.stages))
        db.session.add(stage)
    stage.key = data["key"]
    stage.name = data["name"].strip()
    stage.weight = weight
    stage.opens_at = data.get("opens_at")
    stage.closes_at = data.get("closes_at")
    stage.judges_per_entry = data.get("judges_per_entry") or stage.judges_per_entry or 3
    kind = data.get("kind") or stage.kind or "standard"
    if kind not in STAGE_KINDS:
        raise ServiceError(_("Choose the kind of stage."), field="kind")
    stage.kind = kind
    db.session.flush()
    changes = audit.diff(before, stage_snapshot(stage))
    if changes:
        audit.record("stage.saved", "stage", stage.id, changes)
    return stage


def delete_stage(event: Event, stage: Stage) -> None:
    _require_structure_open(event)
    audit.record("stage.deleted", "stage", stage.id, stage_snapshot(stage))
    event.stages.remove(stage)
    db.session.flush()


def parse_ladder(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_bands(text: str) -> list[dict]:
    """Lines like "85 Unggul" -> [{"min": 85.0, "label": "Unggul"}], highest first."""
    bands = []
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        head, _sep, label = line.partition(" ")
        try:
            minimum = float(head.replace(",", "."))
        except ValueError as exc:
            raise ServiceError(
                _(
                    'Line %(n)d: start with the lowest score of the band, e.g. "85 Unggul".',
                    n=number,
                ),
                field="score_bands",
            ) from exc
        if not (0 <= minimum <= 100) or not label.strip():
            raise ServiceError(
                _("Line %(n)d: a band needs a score from 0 to 100 and a name.", n=number),
                field="score_bands",
            )
        bands.append({"min": minimum, "label": label.strip()})
    return sorted(bands, key=lambda b: -b["min"])


def save_category(event: Event, category: Category | None, data: dict) -> Category:
    _check_key(data["key"])
    for other in event.categories:
        if other is category:
            continue
        if other.key == data["key"]:
            raise ServiceError(_("Another category already uses this code."), field="key")
        if other.name.lower() == data["name"].strip().lower():
            raise ServiceError(_("Another category already has this name."), field="name")
    ladder = parse_ladder(data.get("award_ladder") or "") or list(DEFAULT_LADDER)
    bands = parse_bands(data.get("score_bands") or "")
    before = {}
    if category is None:
        category = Category(event=event, position=len(event.categories))
        db.session.add(category)
    else:
        before = {
            "key": category.key,
            "name": category.name,
            "ladder": category.award_ladder,
            "bands": category.score_bands,
        }
    category.key = data["key"]
    category.name = data["name"].strip()
    category.award_ladder = ladder
    category.score_bands = bands
    db.session.flush()
    after = {"key": category.key, "name": category.name, "ladder": ladder, "bands": bands}
    changes = audit.diff(before, after)
    if changes:
        audit.record("category.saved", "category", category.id, changes)
    return category


def delete_category(event: Event, category: Category) -> None:
    used = db.session.scalar(select(func.count(Entry.id)).where(Entry.category_id == category.id))
    if used:
        raise ServiceError(
            _("This category has %(n)d entries; move them to another category first.", n=used),
            status=409,
        )
    audit.record("category.deleted", "category", category.id, {"name": category.name})
    event.categories.remove(category)
    db.session.flush()


def set_quotas(event: Event, quotas: dict[int, int]) -> None:
    existing = {
        q.district_id: q
        for q in db.session.scalars(select(DistrictQuota).where(DistrictQuota.event_id == event.id))
    }
    changes = {}
    for district_id, quota in quotas.items():
        if quota < 0 or quota > 100:
            raise ServiceError(_("A quota lies between 0 and 100."))
        row = existing.get(district_id)
        old = row.quota if row else 0
        if quota == old:
            continue
        if row is None:
            db.session.add(DistrictQuota(event_id=event.id, district_id=district_id, quota=quota))
        else:
            row.quota = quota
        changes[str(district_id)] = [old, quota]
    if changes:
        audit.record("event.quotas_set", "event", event.id, changes)


# --- status -------------------------------------------------------------------------------


def readiness_problems(event: Event, target: str) -> list[str]:
    """What must be fixed before the event may move to ``target`` (messages)."""
    problems = []
    if STATUSES.index(target) >= STATUSES.index("nomination"):
        if not event.categories:
            problems.append(_("Add at least one category (e.g. KIM Desa)."))
        if not event.stages:
            problems.append(_("Add the stages (e.g. Administrasi, Presentasi)."))
    if STATUSES.index(target) >= STATUSES.index("submission"):
        problems.extend(describe(p) for p in rubric_problems(rubric_queries.stage_specs(event)))
        missing = [s.name for s in event.stages if not (s.opens_at and s.closes_at)]
        if missing:
            problems.append(
                _("Set the opening and closing times of: %(stages)s.", stages=", ".join(missing))
            )
    return problems


def move_status(event: Event, target: str) -> None:
    if target not in TRANSITIONS.get(event.status, ()):
        raise ServiceError(
            _("The event cannot move from %(old)s to %(new)s.", old=event.status, new=target),
            status=409,
        )
    forward = STATUSES.index(target) > event.status_index()
    if forward:
        problems = readiness_problems(event, target)
        if problems:
            raise ServiceError(" ".join(problems), status=409)
    old = event.status
    event.status = target
    audit.record("event.status_changed", "event", event.id, {"status": [old, target]})
