"""Rubric export: ``monev-rubric/1`` JSON and the Excel sheet "Rubrik"."""

from __future__ import annotations

from io import BytesIO

from monev.core.documents import (
    json_number,
)
from monev.events.models import Event
from monev.rubrics import queries
from monev.rubrics.models import Criterion
from monev.rubrics.services import descriptors_text
from monev.rubrics.validation import (
    to_decimal,
)
from monev.transfer.rubric.document import (
    COLUMNS,
    RUBRIC_FORMAT,
    SHEET,
    column_letter,
)


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
        "photos": c.photos_required or 0,
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
                    c["photos"],
                ]
            )
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    widths = (14, 24, 10, 40, 8, 6, 6, 6, 10, 30, 40, 50)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
