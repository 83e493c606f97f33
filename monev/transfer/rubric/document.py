"""The rubric as a document: its fields, reading and checking it (JSON paths), writing it."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from monev.core.documents import (
    Reader,
)
from monev.events.models import Event, Stage
from monev.events.services import KEY_RE
from monev.extensions import db
from monev.rubrics.messages import describe
from monev.rubrics.models import EVIDENCE_KINDS, PHOTOS_REQUIRED_MAX, Aspect, Criterion
from monev.rubrics.validation import (
    CriterionSpec,
    StageSpec,
    rubric_problems,
)

RUBRIC_FORMAT = "monev-rubric/1"
SHEET = "Rubrik"
COLUMNS = (
    "stage",
    "aspect",
    "key",
    "name",
    "weight",
    "min",
    "max",
    "step",
    "evidence",
    "evidence_hint",
    "guidance",
    "descriptors",
    "photos",
)
REQUIRED_COLUMNS = COLUMNS[:8]
NUMBER_COLUMNS = ("weight", "min", "max", "step")
MAX_ROWS = 2000
ITEM_KEYS = ("stage", "aspect", "criteria")
CRITERION_REQUIRED = ("key", "name", "weight", "min", "max", "step")
CRITERION_OPTIONAL = ("guidance", "descriptors", "evidence", "evidence_hint", "photos")
# Sums and completeness are event-level rules; an import may check fewer of them.
SUM_RULES = frozenset({"stage_weights_sum", "criteria_weights_sum", "stage_empty", "no_stages"})
_SUM_LEVEL = frozenset({"criteria_weights_sum", "stage_empty"})


def plain_number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


@dataclass
class CriterionRow:
    path: str
    key: str | None
    name: str | None
    guidance: str | None
    weight: Decimal | None
    min_score: Decimal | None
    max_score: Decimal | None
    step: Decimal | None
    descriptors: list[dict]
    evidence: str
    evidence_hint: str | None
    photos: int = 0  # photos a field visit's judge must take (ignored on other stages)

    @property
    def complete(self) -> bool:
        """Every value the rules need could be read."""
        return None not in (
            self.key,
            self.name,
            self.weight,
            self.min_score,
            self.max_score,
            self.step,
        )

    def spec(self, aspect: str) -> CriterionSpec:
        return CriterionSpec(
            key=self.key,
            name=self.name,
            weight=self.weight,
            min_score=self.min_score,
            max_score=self.max_score,
            step=self.step,
            descriptors=tuple(self.descriptors),
            aspect=aspect,
        )


@dataclass
class AspectRow:
    path: str
    stage: str | None
    name: str | None
    criteria: list[CriterionRow] = field(default_factory=list)


@dataclass(frozen=True)
class StageRef:
    """A stage the rubric is checked against: its code, name, weight and where it is named."""

    key: str
    name: str
    weight: Decimal | None
    path: str


def read_rubric(reader: Reader, items, stage_keys: Collection[str]) -> list[AspectRow]:
    """Aspects and criteria from ``[(path, item), …]``; types and references checked."""
    aspects = []
    seen_aspects: dict[tuple[str, str], str] = {}
    for path, value in items:
        item = reader.object(value, path, required=ITEM_KEYS)
        if item is None:
            continue
        stage = reader.text(item, "stage", path, max_len=40)
        if stage is not None and stage not in stage_keys:
            reader.problem(f"{path}.stage", _("No stage has the code %(key)s.", key=stage))
            stage = None
        name = reader.text(item, "aspect", path, max_len=120)
        if stage is not None and name is not None:
            marker = (stage, name.lower())
            if marker in seen_aspects:
                reader.problem(
                    f"{path}.aspect", _("This stage already has an aspect with this name.")
                )
            seen_aspects.setdefault(marker, path)
        aspect = AspectRow(path, stage, name)
        for c_path, c_value in reader.items(item, "criteria", path):
            row = _read_criterion(reader, c_path, c_value)
            if row is not None:
                aspect.criteria.append(row)
        aspects.append(aspect)
    return aspects


def _read_criterion(reader: Reader, path: str, value) -> CriterionRow | None:
    obj = reader.object(value, path, required=CRITERION_REQUIRED, optional=CRITERION_OPTIONAL)
    if obj is None:
        return None
    key = reader.text(obj, "key", path, max_len=40)
    if key is not None and not KEY_RE.match(key):
        reader.problem(
            f"{path}.key", _("Use a short code of lower-case letters, digits, - or _ (e.g. c3).")
        )
        key = None
    return CriterionRow(
        path=path,
        key=key,
        name=reader.text(obj, "name", path, max_len=200),
        guidance=reader.text(obj, "guidance", path, max_len=5000, nullable=True),
        weight=reader.number(obj, "weight", path),
        min_score=reader.number(obj, "min", path),
        max_score=reader.number(obj, "max", path),
        step=reader.number(obj, "step", path),
        descriptors=_read_descriptors(reader, obj, path),
        evidence=reader.choice(obj, "evidence", path, EVIDENCE_KINDS, default="none") or "none",
        evidence_hint=reader.text(obj, "evidence_hint", path, max_len=300, nullable=True),
        photos=reader.integer(obj, "photos", path, low=0, high=PHOTOS_REQUIRED_MAX, default=0) or 0,
    )


def _read_descriptors(reader: Reader, obj: dict, path: str) -> list[dict]:
    result = []
    for d_path, value in reader.items(obj, "descriptors", path):
        d = reader.object(value, d_path, required=("min", "max", "text"))
        if d is None:
            continue
        low, high = reader.number(d, "min", d_path), reader.number(d, "max", d_path)
        text = reader.text(d, "text", d_path, max_len=1000)
        if low is not None and high is not None and text is not None:
            result.append({"min": plain_number(low), "max": plain_number(high), "text": text})
    return result


_RULE_PATH = re.compile(r"^stages\[(\d+)\](?:\.criteria\[(\d+)\](.*))?$")


def check_rubric(
    reader: Reader,
    aspects: list[AspectRow],
    stages: list[StageRef],
    *,
    stages_path: str,
    skip: Collection[str] = (),
    taken_keys: Collection[str] = (),
) -> None:
    """The rules of ``monev.rubrics.validation``, their paths turned into document paths.

    ``skip`` names rules not to apply (e.g. the sums, for a draft); ``taken_keys`` are codes
    of criteria the import keeps (other stages of the event).
    """
    first: dict[str, str] = {}
    for aspect in aspects:
        for c in aspect.criteria:
            if c.key is None:
                continue
            if c.key in taken_keys or c.key in first:
                reader.problem(
                    f"{c.path}.key", _("The criterion code %(key)s is used twice.", key=c.key)
                )
            first.setdefault(c.key, c.path)

    rows: dict[str, list[tuple[AspectRow, CriterionRow]]] = {s.key: [] for s in stages}
    for aspect in aspects:
        if aspect.stage in rows:
            rows[aspect.stage].extend((aspect, c) for c in aspect.criteria)
    specs, paths, unreadable = [], {}, set()
    for i, stage in enumerate(stages):
        readable = [(a, c) for a, c in rows[stage.key] if c.complete]
        if len(readable) != len(rows[stage.key]):
            unreadable.add(i)  # its sums would mislead; the unreadable values are reported
        for j, (_aspect, c) in enumerate(readable):
            paths[(i, j)] = c.path
        criteria = tuple(c.spec(a.name or "") for a, c in readable)
        specs.append(StageSpec(stage.key, stage.name, stage.weight or Decimal(0), criteria))
    skip = set(skip) | {"duplicate_criterion_key"}  # reported above, with its exact path
    if any(s.weight is None for s in stages):
        skip.add("stage_weights_sum")
    for problem in rubric_problems(specs):
        if problem.code in skip:
            continue
        match = _RULE_PATH.match(problem.path)
        if (
            match
            and match.group(2) is None
            and problem.code in _SUM_LEVEL
            and int(match.group(1)) in unreadable
        ):
            continue
        reader.problem(_document_path(problem.path, stages, paths, stages_path), describe(problem))


def _document_path(rule_path: str, stages: list[StageRef], paths: dict, stages_path: str) -> str:
    match = _RULE_PATH.match(rule_path)
    if match is None:
        return stages_path
    i = int(match.group(1))
    if match.group(2) is None:
        return stages[i].path
    return paths[(i, int(match.group(2)))] + (match.group(3) or "")


def write_rubric(event: Event, stages: dict[str, Stage], aspects: list[AspectRow]) -> int:
    """Add the aspects and criteria (checked, with every value read); the number of criteria."""
    positions: dict[str, int] = {}
    count = 0
    for row in aspects:
        stage = stages[row.stage]
        aspect = Aspect(stage=stage, name=row.name, position=positions.get(row.stage, 0))
        positions[row.stage] = aspect.position + 1
        db.session.add(aspect)
        for position, c in enumerate(row.criteria):
            aspect.criteria.append(
                Criterion(
                    event_id=event.id,
                    stage=stage,
                    key=c.key,
                    name=c.name,
                    guidance=c.guidance,
                    weight=c.weight,
                    min_score=c.min_score,
                    max_score=c.max_score,
                    step=c.step,
                    descriptors=c.descriptors,
                    evidence=c.evidence,
                    evidence_hint=c.evidence_hint,
                    photos_required=c.photos if stage.kind == "visit" else 0,
                    position=position,
                )
            )
            count += 1
    db.session.flush()
    return count
