"""Rubric import and export: JSON (``monev-rubric/1``) and Excel (one sheet "Rubrik").

The rubric part of an event package (``monev.transfer.package``) is read, checked and written
by the same functions, so both refuse the same things and name them the same way: a JSON
path such as ``$.rubric[1].criteria[0].step``, or for Excel the cell (``H7``).

An import replaces the rubric of the stages it covers, all or nothing, and only while the
structure is open (no judging, no scores on the criteria it would replace).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from monev.audit import services as audit
from monev.core.documents import DocumentError, PathProblem, Reader, parse_json
from monev.core.errors import ServiceError
from monev.events.models import Event
from monev.extensions import db
from monev.judging.models import Score
from monev.rubrics.messages import describe
from monev.rubrics.models import Aspect, Criterion
from monev.rubrics.services import structure_locked_reason
from monev.rubrics.validation import tie_break_problems
from monev.transfer.rubric.document import (
    COLUMNS,
    RUBRIC_FORMAT,
    AspectRow,
    StageRef,
    check_rubric,
    read_rubric,
    write_rubric,
)
from monev.transfer.rubric.excel import read_sheet
from monev.transfer.rubric.export import export_excel, export_json

__all__ = ["COLUMNS", "export_excel", "export_json", "import_excel", "import_file", "import_json"]


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
