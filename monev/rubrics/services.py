"""Building a rubric: aspects and criteria per stage, ordering, copying, locking.

Edits that would change what existing scores mean (weights, score ranges, steps, codes,
adding or removing criteria) are refused once judging has started or any score exists.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from monev.audit import services as audit
from monev.core.errors import ServiceError
from monev.events.models import Event, Stage
from monev.events.services import KEY_RE
from monev.extensions import db
from monev.judging.models import Score
from monev.rubrics.messages import describe
from monev.rubrics.models import EVIDENCE_KINDS, PHOTOS_REQUIRED_MAX, Aspect, Criterion
from monev.rubrics.queries import aspects_by_stage
from monev.rubrics.validation import CriterionSpec, criterion_problems, to_decimal

STRUCTURAL = ("key", "weight", "min_score", "max_score", "step")


def scores_exist(criterion_ids: list[int]) -> bool:
    if not criterion_ids:
        return False
    stmt = select(func.count(Score.id)).where(
        Score.criterion_id.in_(criterion_ids), Score.value.is_not(None)
    )
    return bool(db.session.scalar(stmt))


def structure_locked_reason(event: Event, criterion_ids: list[int] | None = None) -> str | None:
    if event.at_least("judging"):
        return _(
            "Judging has started: weights, score ranges and criteria can no longer change, "
            "because existing scores would no longer mean the same. Wording can still be "
            "improved."
        )
    if criterion_ids and scores_exist(criterion_ids):
        return _("This criterion already has scores; its weight and range can no longer change.")
    return None


def _require_open(event: Event, criterion_ids: list[int] | None = None) -> None:
    reason = structure_locked_reason(event, criterion_ids)
    if reason:
        raise ServiceError(reason, status=409)


# --- aspects ------------------------------------------------------------------------------


def save_aspect(stage: Stage, aspect: Aspect | None, name: str) -> Aspect:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_("Give the aspect a name."), field="name")
    if len(name) > 120:
        raise ServiceError(_("Use at most %(max)d characters.", max=120), field="name")
    clash = db.session.scalar(
        select(Aspect.id).where(
            Aspect.stage_id == stage.id,
            func.lower(Aspect.name) == name.lower(),
            Aspect.id != (aspect.id if aspect else -1),
        )
    )
    if clash:
        raise ServiceError(_("This stage already has an aspect with this name."), field="name")
    if aspect is None:
        _require_open(stage.event)
        position = db.session.scalar(
            select(func.coalesce(func.max(Aspect.position), -1) + 1).where(
                Aspect.stage_id == stage.id
            )
        )
        aspect = Aspect(stage_id=stage.id, name=name, position=position)
        db.session.add(aspect)
        db.session.flush()
        audit.record("rubric.aspect_added", "aspect", aspect.id, {"stage": stage.key, "name": name})
    elif aspect.name != name:
        audit.record("rubric.aspect_renamed", "aspect", aspect.id, {"name": [aspect.name, name]})
        aspect.name = name
    return aspect


def delete_aspect(aspect: Aspect) -> None:
    _require_open(aspect.stage.event, [c.id for c in aspect.criteria])
    audit.record(
        "rubric.aspect_deleted",
        "aspect",
        aspect.id,
        {"name": aspect.name, "criteria": [c.key for c in aspect.criteria]},
    )
    db.session.delete(aspect)
    db.session.flush()


# --- criteria -----------------------------------------------------------------------------


def criterion_snapshot(c: Criterion) -> dict:
    return {
        "key": c.key,
        "name": c.name,
        "guidance": c.guidance,
        "weight": str(c.weight),
        "min_score": str(c.min_score),
        "max_score": str(c.max_score),
        "step": str(c.step),
        "descriptors": c.descriptors,
        "evidence": c.evidence,
        "evidence_hint": c.evidence_hint,
        "photos_required": c.photos_required or 0,
    }


def parse_descriptors(text: str) -> list[dict]:
    """Lines like "1-2: Belum ada SK" -> [{"min": "1", "max": "2", "text": "Belum ada SK"}]."""
    result = []
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        head, sep, body = line.partition(":")
        low, dash, high = head.replace("–", "-").partition("-")
        low_d, high_d = to_decimal(low), to_decimal(high if dash else low)
        if not sep or low_d is None or high_d is None or not body.strip():
            raise ServiceError(
                _('Line %(n)d: write a level as "1-2: description".', n=number),
                field="descriptors",
            )
        result.append({"min": str(low_d), "max": str(high_d), "text": body.strip()})
    return result


def descriptors_text(descriptors: list[dict]) -> str:
    def show(value):
        d = to_decimal(value)
        return format(d.normalize(), "f") if d is not None else str(value)

    lines = []
    for d in descriptors or []:
        low, high = show(d.get("min")), show(d.get("max"))
        lines.append(
            f"{low}-{high}: {d.get('text', '')}" if low != high else f"{low}: {d.get('text', '')}"
        )
    return "\n".join(lines)


def _numbers(data: dict) -> dict[str, Decimal]:
    values = {}
    for field in ("weight", "min_score", "max_score", "step"):
        value = to_decimal(data.get(field))
        if value is None:
            raise ServiceError(_("Enter a number, e.g. 2,5."), field=field)
        values[field] = value
    return values


def _photos_required(stage, raw) -> int | None:
    """How many photos a field visit's criterion requires (0 to 10); None: the form did not
    ask (a criterion of another kind of stage keeps what it has)."""
    if stage.kind != "visit" or raw is None:
        return None
    text = str(raw).strip() or "0"
    if not text.isdigit() or not 0 <= int(text) <= PHOTOS_REQUIRED_MAX:
        raise ServiceError(
            _("Enter a whole number from 0 to %(max)d.", max=PHOTOS_REQUIRED_MAX),
            field="photos_required",
        )
    return int(text)


def save_criterion(aspect: Aspect, criterion: Criterion | None, data: dict) -> Criterion:
    """Create or update a criterion; ``data`` holds form values (strings allowed)."""
    event = aspect.stage.event
    key = (data.get("key") or "").strip().lower()
    if not KEY_RE.match(key):
        raise ServiceError(
            _("Use a short code of lower-case letters, digits, - or _ (e.g. c3)."), field="key"
        )
    name = " ".join((data.get("name") or "").split())
    numbers = _numbers(data)
    descriptors = (
        data["descriptors"]
        if isinstance(data.get("descriptors"), list)
        else parse_descriptors(data.get("descriptors") or "")
    )
    evidence = data.get("evidence") or "none"
    if evidence not in EVIDENCE_KINDS:
        raise ServiceError(_("Choose which evidence the KIM must give."), field="evidence")
    photos = _photos_required(aspect.stage, data.get("photos_required"))
    spec = CriterionSpec(
        key=key,
        name=name,
        weight=numbers["weight"],
        min_score=numbers["min_score"],
        max_score=numbers["max_score"],
        step=numbers["step"],
        descriptors=tuple(descriptors),
    )
    problems = criterion_problems(spec, "criterion")
    if problems:
        field = problems[0].path.split(".")[1] if "." in problems[0].path else None
        field = {"min": "min_score", "max": "max_score"}.get(field, field)
        if field and field.startswith("descriptors"):
            field = "descriptors"
        raise ServiceError(describe(problems[0]), field=field)
    key_clash = db.session.scalar(
        select(Criterion.id).where(
            Criterion.event_id == event.id,
            Criterion.key == key,
            Criterion.id != (criterion.id if criterion else -1),
        )
    )
    if key_clash:
        raise ServiceError(
            _("Another criterion of this event already uses this code."), field="key"
        )
    name_clash = db.session.scalar(
        select(Criterion.id).where(
            Criterion.stage_id == aspect.stage_id,
            func.lower(Criterion.name) == name.lower(),
            Criterion.id != (criterion.id if criterion else -1),
        )
    )
    if name_clash:
        raise ServiceError(
            _("Another criterion of this stage already has this name."), field="name"
        )

    if criterion is None:
        _require_open(event)
        position = db.session.scalar(
            select(func.coalesce(func.max(Criterion.position), -1) + 1).where(
                Criterion.aspect_id == aspect.id
            )
        )
        criterion = Criterion(
            event_id=event.id, stage_id=aspect.stage_id, aspect_id=aspect.id, position=position
        )
        db.session.add(criterion)
        before = {}
    else:
        before = criterion_snapshot(criterion)
        changed_structure = [
            f for f in STRUCTURAL if (key if f == "key" else numbers[f]) != getattr(criterion, f)
        ]
        if changed_structure:
            _require_open(event, [criterion.id])
    criterion.key = key
    criterion.name = name
    criterion.guidance = (data.get("guidance") or "").strip() or None
    criterion.weight = numbers["weight"]
    criterion.min_score = numbers["min_score"]
    criterion.max_score = numbers["max_score"]
    criterion.step = numbers["step"]
    criterion.descriptors = descriptors
    criterion.evidence = evidence
    criterion.evidence_hint = (data.get("evidence_hint") or "").strip() or None
    if photos is not None:
        criterion.photos_required = photos
    db.session.flush()
    changes = audit.diff(before, criterion_snapshot(criterion))
    if changes:
        action = "rubric.criterion_added" if not before else "rubric.criterion_updated"
        audit.record(action, "criterion", criterion.id, changes)
    return criterion


def delete_criterion(criterion: Criterion) -> None:
    _require_open(criterion.stage.event, [criterion.id])
    audit.record(
        "rubric.criterion_deleted", "criterion", criterion.id, criterion_snapshot(criterion)
    )
    db.session.delete(criterion)
    db.session.flush()


def move(item, direction: int) -> None:
    """Swap an aspect or criterion with its neighbour (-1 up, +1 down). Order is wording,
    not structure, so it is allowed at any time."""
    model = type(item)
    parent = "stage_id" if model is Aspect else "aspect_id"
    siblings = list(
        db.session.scalars(
            select(model)
            .where(getattr(model, parent) == getattr(item, parent))
            .order_by(model.position, model.id)
        )
    )
    index = siblings.index(item)
    other = index + direction
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings):
        sibling.position = position
    db.session.flush()


def copy_rubric(source: Event, target: Event) -> int:
    """Copy aspects and criteria stage by stage (matched by stage code) into an empty target."""
    _require_open(target)
    if db.session.scalar(select(func.count(Criterion.id)).where(Criterion.event_id == target.id)):
        raise ServiceError(
            _("This event already has criteria. Copying works into an empty rubric only."),
            status=409,
        )

    target_stages = {s.key: s for s in target.stages}
    source_aspects = aspects_by_stage(source)
    copied = 0
    unmatched = []
    for stage in source.stages:
        dest = target_stages.get(stage.key)
        if dest is None:
            unmatched.append(stage.name)
            continue
        for a_pos, aspect in enumerate(source_aspects.get(stage.id, [])):
            new_aspect = Aspect(stage_id=dest.id, name=aspect.name, position=a_pos)
            db.session.add(new_aspect)
            db.session.flush()
            for c in aspect.criteria:
                db.session.add(
                    Criterion(
                        event_id=target.id,
                        stage_id=dest.id,
                        aspect_id=new_aspect.id,
                        key=c.key,
                        name=c.name,
                        guidance=c.guidance,
                        weight=c.weight,
                        min_score=c.min_score,
                        max_score=c.max_score,
                        step=c.step,
                        descriptors=list(c.descriptors or []),
                        evidence=c.evidence,
                        evidence_hint=c.evidence_hint,
                        position=c.position,
                        photos_required=c.photos_required if dest.kind == "visit" else 0,
                    )
                )
                copied += 1
    if unmatched and not copied:
        raise ServiceError(
            _(
                "No stage of %(event)s matches a stage code of this event (%(stages)s).",
                event=source.title,
                stages=", ".join(unmatched),
            ),
            status=409,
        )
    db.session.flush()
    audit.record("rubric.copied", "event", target.id, {"from": source.slug, "criteria": copied})
    return copied
