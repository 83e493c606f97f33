"""Rubric import and export: JSON (``monev-rubric/1``) and Excel (one sheet "Rubrik").

The rubric part of an event package (``monev.transfer.package``) is read, checked and written
by the same functions, so both refuse the same things and name them the same way: a JSON
path such as ``$.rubric[1].criteria[0].step``, or for Excel the cell (``H7``).

An import replaces the rubric of the stages it covers, all or nothing, and only while the
structure is open (no judging, no scores on the criteria it would replace).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO

from flask_babel import gettext as _
from sqlalchemy import func, select

from monev.audit import services as audit
from monev.core.documents import (
    DocumentError,
    PathProblem,
    Reader,
    json_number,
    parse_json,
)
from monev.core.errors import ServiceError
from monev.events.models import Event, Stage
from monev.events.services import KEY_RE
from monev.extensions import db
from monev.rubrics import queries
from monev.rubrics.messages import describe
from monev.rubrics.models import EVIDENCE_KINDS, Aspect, Criterion
from monev.rubrics.services import descriptors_text, parse_descriptors, structure_locked_reason
from monev.rubrics.validation import (
    CriterionSpec,
    StageSpec,
    rubric_problems,
    tie_break_problems,
    to_decimal,
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
)
REQUIRED_COLUMNS = COLUMNS[:8]
NUMBER_COLUMNS = ("weight", "min", "max", "step")
MAX_ROWS = 2000
ITEM_KEYS = ("stage", "aspect", "criteria")
CRITERION_REQUIRED = ("key", "name", "weight", "min", "max", "step")
CRITERION_OPTIONAL = ("guidance", "descriptors", "evidence", "evidence_hint")
# Sums and completeness are event-level rules; an import may check fewer of them.
SUM_RULES = frozenset({"stage_weights_sum", "criteria_weights_sum", "stage_empty", "no_stages"})
_SUM_LEVEL = frozenset({"criteria_weights_sum", "stage_empty"})


# --- export -------------------------------------------------------------------------------


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _descriptor_out(d: dict) -> dict:
    low, high = to_decimal(d.get("min")), to_decimal(d.get("max"))
    return {
        "min": json_number(low) if low is not None else d.get("min"),
        "max": json_number(high) if high is not None else d.get("max"),
        "text": d.get("text"),
    }


def criterion_item(c: Criterion) -> dict:
    return {
        "key": c.key,
        "name": c.name,
        "guidance": c.guidance,
        "weight": json_number(c.weight),
        "min": json_number(c.min_score),
        "max": json_number(c.max_score),
        "step": json_number(c.step),
        "descriptors": [_descriptor_out(d) for d in c.descriptors or []],
        "evidence": c.evidence,
        "evidence_hint": c.evidence_hint,
    }


def rubric_items(event: Event) -> list[dict]:
    """The rubric as ``[{stage, aspect, criteria: […]}, …]`` in stage, aspect, criterion order."""
    grouped = queries.aspects_by_stage(event)
    items = []
    for stage in sorted(event.stages, key=lambda s: (s.position, s.id)):
        for aspect in sorted(grouped.get(stage.id, []), key=lambda a: (a.position, a.id)):
            criteria = sorted(aspect.criteria, key=lambda c: (c.position, c.id))
            items.append(
                {
                    "stage": stage.key,
                    "aspect": aspect.name,
                    "criteria": [criterion_item(c) for c in criteria],
                }
            )
    return items


def export_json(event: Event) -> dict:
    return {
        "format": RUBRIC_FORMAT,
        "stages": [s.key for s in sorted(event.stages, key=lambda s: (s.position, s.id))],
        "rubric": rubric_items(event),
    }


def export_excel(event: Event) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for item in rubric_items(event):
        for c in item["criteria"]:
            sheet.append(
                [
                    item["stage"],
                    item["aspect"],
                    c["key"],
                    c["name"],
                    c["weight"],
                    c["min"],
                    c["max"],
                    c["step"],
                    c["evidence"],
                    c["evidence_hint"],
                    c["guidance"],
                    descriptors_text(c["descriptors"]) or None,
                ]
            )
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    widths = (14, 24, 10, 40, 8, 6, 6, 6, 10, 30, 40, 50)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[_letter(index)].width = width
    sheet.freeze_panes = "A2"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


# --- reading ------------------------------------------------------------------------------


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
            result.append({"min": _plain(low), "max": _plain(high), "text": text})
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
                    position=position,
                )
            )
            count += 1
    db.session.flush()
    return count


# --- import -------------------------------------------------------------------------------


@dataclass
class _Plan:
    reader: Reader
    stage_keys: list[str]
    aspects: list[AspectRow]


def _plan(event: Event, document) -> _Plan:
    """Read and check a ``monev-rubric/1`` document against ``event``; writes nothing."""
    reader = Reader()
    doc = reader.object(document, "$", required=("format", "rubric"), optional=("stages",))
    if doc is None:
        return _Plan(reader, [], [])
    if "format" in doc and doc["format"] != RUBRIC_FORMAT:
        reader.problem("$.format", _('Expected "%(format)s".', format=RUBRIC_FORMAT))
    event_stages = {s.key: s for s in event.stages}
    listed: dict[str, str] | None = None  # stage code -> its path in $.stages
    if "stages" in doc:
        listed = {}
        for path, value in reader.items(doc, "stages", "$"):
            key = reader.text_value(value, path, max_len=40)
            if key is None:
                continue
            if key not in event_stages:
                reader.problem(path, _("This event has no stage with the code %(key)s.", key=key))
            elif key in listed:
                reader.problem(path, _("This stage is listed twice."))
            else:
                listed[key] = path
    allowed = set(listed) if listed is not None else set(event_stages)
    aspects = read_rubric(reader, reader.items(doc, "rubric", "$"), allowed)
    if "rubric" in doc and not any(a.criteria for a in aspects):
        reader.problem("$.rubric", _("The rubric has no criteria."))
    if listed is None:  # the stages the rubric names; their problems point at the first item
        listed = {}
        for a in aspects:
            if a.stage is not None:
                listed.setdefault(a.stage, a.path)
    ordered = [s for s in sorted(event.stages, key=lambda s: (s.position, s.id)) if s.key in listed]
    given = [s.key for s in ordered]
    refs = [StageRef(s.key, s.name, s.weight, listed[s.key]) for s in ordered]
    kept = db.session.scalars(
        select(Criterion.key).where(
            Criterion.event_id == event.id,
            Criterion.stage_id.not_in([event_stages[k].id for k in given]),
        )
    )
    kept = set(kept)
    check_rubric(
        reader,
        aspects,
        refs,
        stages_path="$.stages",
        skip={"stage_weights_sum", "no_stages", "stage_empty"},
        taken_keys=kept,
    )
    # The event's tie-break rules must still name criteria that exist afterwards.
    after = kept | {c.key for a in aspects for c in a.criteria if c.key}
    for problem in tie_break_problems(list(event.tie_breaks or []), set(event_stages), after):
        if problem.code == "tie_break_unknown":
            reader.problem("$.rubric", describe(problem))
    return _Plan(reader, given, aspects)


def _require_open(event: Event, stage_keys: list[str]) -> None:
    from monev.judging.models import Score

    stage_ids = [s.id for s in event.stages if s.key in stage_keys]
    ids = list(db.session.scalars(select(Criterion.id).where(Criterion.stage_id.in_(stage_ids))))
    reason = structure_locked_reason(event, ids)
    if reason is None and ids:
        # A comment without a value is a score row too; it would hold the criterion.
        rows = db.session.scalar(select(func.count(Score.id)).where(Score.criterion_id.in_(ids)))
        if rows:
            reason = _(
                "This criterion already has scores; its weight and range can no longer change."
            )
    if reason:
        raise ServiceError(reason, status=409)


def _replace(event: Event, plan: _Plan, source: str) -> int:
    stages = {s.key: s for s in event.stages}
    removed = 0
    for aspect in db.session.scalars(
        select(Aspect).where(Aspect.stage_id.in_([stages[k].id for k in plan.stage_keys]))
    ):
        removed += len(aspect.criteria)
        db.session.delete(aspect)
    db.session.flush()  # deletes first: the new rows reuse the names and codes
    count = write_rubric(event, stages, plan.aspects)
    audit.record(
        "rubric.imported",
        "event",
        event.id,
        {"source": source, "stages": plan.stage_keys, "criteria": count, "replaced": removed},
    )
    return count


def import_json(event: Event, document) -> int:
    """Replace the rubric of the stages the document covers; the number of criteria."""
    plan = _plan(event, document)
    _require_open(event, plan.stage_keys)
    if plan.reader.problems:
        raise DocumentError(plan.reader.problems)
    return _replace(event, plan, "json")


def import_excel(event: Event, data: bytes) -> int:
    sheet = read_sheet(data)
    plan = _plan(event, sheet.document)
    _require_open(event, plan.stage_keys)
    problems = sheet.problems + [
        PathProblem(sheet.cell_for(p.path), p.message) for p in plan.reader.problems
    ]
    if problems:
        raise DocumentError(_first_per_place(problems))
    return _replace(event, plan, "excel")


def import_file(event: Event, data: bytes) -> int:
    """An uploaded rubric, Excel or JSON, told apart by content (not by name)."""
    if data[:4] == b"PK\x03\x04":
        return import_excel(event, data)
    return import_json(event, parse_json(data))


def _first_per_place(problems: list[PathProblem]) -> list[PathProblem]:
    """One problem per cell (an empty cell is not also reported as a missing value), in
    reading order: row by row, left to right."""
    seen, result = set(), []
    for problem in problems:
        if problem.path not in seen:
            seen.add(problem.path)
            result.append(problem)
    return sorted(result, key=lambda p: _cell_order(p.path))


def _cell_order(cell: str) -> tuple[int, int]:
    match = re.fullmatch(r"([A-Z]+)(\d+)", cell)
    if match is None:
        return (0, 0)  # the sheet as a whole
    from openpyxl.utils import column_index_from_string

    return (int(match.group(2)), column_index_from_string(match.group(1)))


# --- Excel --------------------------------------------------------------------------------


@dataclass
class Sheet:
    """A rubric sheet read as a ``monev-rubric/1`` document, and where each value came from."""

    document: dict
    problems: list[PathProblem]
    columns: dict[str, int]  # column name -> 1-based index
    criterion_rows: dict[tuple[int, int], int]  # (item, criterion) -> row
    item_rows: dict[int, int]  # item -> its first row

    def cell_for(self, path: str) -> str:
        match = re.match(r"^\$\.rubric\[(\d+)\](?:\.criteria\[(\d+)\])?(?:\.(\w+))?", path)
        if match is None:
            return SHEET
        item, criterion, name = match.groups()
        if criterion is not None:
            row = self.criterion_rows.get((int(item), int(criterion)))
            name = name or "key"
        else:
            row = self.item_rows.get(int(item))
            name = name if name in ("stage", "aspect") else "stage"
        if row is None or name not in self.columns:
            return SHEET
        return f"{_letter(self.columns[name])}{row}"


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cell_number(value):
    """Numbers stay numbers; text such as "2,5" becomes one; anything else is passed on for
    the reader to refuse with the cell's address."""
    if isinstance(value, str):
        number = to_decimal(value)
        return number if number is not None else value
    return value


def read_sheet(data: bytes) -> Sheet:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DocumentError(
            [PathProblem(SHEET, _("This is not an Excel workbook (.xlsx)."))]
        ) from exc
    try:
        if SHEET not in book.sheetnames:
            raise DocumentError(
                [PathProblem(SHEET, _('The workbook has no sheet named "%(name)s".', name=SHEET))]
            )
        rows = book[SHEET].iter_rows(min_row=1, min_col=1, values_only=True)
        return _read_rows(rows)
    finally:
        book.close()


def _read_rows(rows) -> Sheet:
    header = next(rows, None) or ()
    columns: dict[str, int] = {}
    for index, value in enumerate(header, 1):
        name = (_cell_text(value) or "").strip().lower()
        if name in COLUMNS and name not in columns:
            columns[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise DocumentError(
            [
                PathProblem("A1", _('The header row lacks the column "%(name)s".', name=name))
                for name in missing
            ]
        )
    problems: list[PathProblem] = []
    items: list[dict] = []
    item_index: dict[tuple, int] = {}
    item_rows: dict[int, int] = {}
    criterion_rows: dict[tuple[int, int], int] = {}
    count = 0
    for row_number, row in enumerate(rows, 2):
        values = {name: (row[i - 1] if i - 1 < len(row) else None) for name, i in columns.items()}
        values = {
            k: (None if isinstance(v, str) and not v.strip() else v) for k, v in values.items()
        }
        if all(v is None for v in values.values()):
            continue
        count += 1
        if count > MAX_ROWS:
            problems.append(
                PathProblem(f"A{row_number}", _("Use at most %(max)d rows.", max=MAX_ROWS))
            )
            break
        for name in REQUIRED_COLUMNS:
            if values[name] is None:
                problems.append(
                    PathProblem(f"{_letter(columns[name])}{row_number}", _("This cell is empty."))
                )
        stage, aspect = _cell_text(values["stage"]), _cell_text(values["aspect"])
        marker = ((stage or "").strip(), (aspect or "").strip().lower())
        if marker not in item_index:
            item_index[marker] = len(items)
            item_rows[len(items)] = row_number
            items.append({"stage": stage, "aspect": aspect, "criteria": []})
        i = item_index[marker]
        criterion = _criterion_from_row(values, columns, row_number, problems)
        criterion_rows[(i, len(items[i]["criteria"]))] = row_number
        items[i]["criteria"].append(criterion)
    document = {"format": RUBRIC_FORMAT, "rubric": items}
    return Sheet(document, problems, columns, criterion_rows, item_rows)


def _criterion_from_row(values: dict, columns: dict, row_number: int, problems: list) -> dict:
    criterion: dict = {}
    for name in ("key", "name", "evidence", "evidence_hint", "guidance"):
        text = _cell_text(values.get(name))
        if text is not None:
            criterion[name] = text.strip().lower() if name in ("key", "evidence") else text
    for name in NUMBER_COLUMNS:
        if values[name] is not None:
            criterion[name] = _cell_number(values[name])
    text = _cell_text(values.get("descriptors"))
    if text:
        try:
            parsed = parse_descriptors(text)
        except ServiceError as error:
            cell = f"{_letter(columns['descriptors'])}{row_number}"
            problems.append(PathProblem(cell, error.message))
        else:
            criterion["descriptors"] = [
                {"min": Decimal(d["min"]), "max": Decimal(d["max"]), "text": d["text"]}
                for d in parsed
            ]
    return criterion
