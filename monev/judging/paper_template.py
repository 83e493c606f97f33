"""Paper score forms: a printable form per entry and an Excel template per stage, whose
layout (:data:`SHEET`, :data:`COLUMNS`, :data:`HEADERS`) the import reads back
(:mod:`monev.judging.paper_import`)."""

from __future__ import annotations

import io
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from monev.auth.models import User
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.judging import queries
from monev.pdf.rendering import render_pdf
from monev.rubrics.validation import fmt, to_decimal

SHEET = "Nilai"
INFO = "Info"
COLUMNS = (
    "entry",
    "judge",
    "criterion",
    "criterion_name",
    "min",
    "max",
    "step",
    "score",
    "comment",
)
HEADERS = {
    "entry": "kode_entri",
    "judge": "email_juri",
    "criterion": "kode_kriteria",
    "criterion_name": "kriteria",
    "min": "min",
    "max": "maks",
    "step": "langkah",
    "score": "nilai",
    "comment": "komentar",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- printable form -----------------------------------------------------------------------


def printable_form(
    event: Event, stage: Stage, entry: Entry, *, label: str, judge: User | None
) -> tuple[bytes, str]:
    """A blank score form for one entry: criteria, level descriptors, boxes for the score
    and the comment, signature lines. A PDF rendered by WeasyPrint from plain values with
    the locked-down fetcher of ``monev.pdf.rendering``; without WeasyPrint, the
    same form as a page made for printing."""
    context = {
        "event_title": event.title,
        "organiser": event.organiser,
        "stage_name": stage.name,
        "label": label,
        "judge_name": judge.name if judge else None,
        "aspects": [
            {
                "name": a.name,
                "criteria": [
                    {
                        "key": c.key,
                        "name": c.name,
                        "weight": fmt(c.weight),
                        "min": fmt(c.min_score),
                        "max": fmt(c.max_score),
                        "step": fmt(c.step),
                        "guidance": c.guidance,
                        "descriptors": [
                            {
                                "min": str(d.get("min")),
                                "max": str(d.get("max")),
                                "text": str(d.get("text")),
                            }
                            for d in c.descriptors or []
                        ],
                    }
                    for c in a.criteria
                ],
            }
            for a in queries.stage_criteria(stage.id)
        ],
    }
    css = Path(current_app.static_folder, "css", "paper-form.css").read_text()
    pdf = render_pdf("judging/paper_form.html", {**context, "inline_css": css})
    return pdf, f"formulir-{event.slug}-{stage.key}-{entry.code}.pdf"


def _level(value) -> str:
    number = to_decimal(value)
    return fmt(number) if number is not None else str(value or "")


# --- Excel template -----------------------------------------------------------------------


def build_template(event: Event, stage: Stage) -> bytes:
    """One row per criterion of every sheet of the stage that is not final yet, with the
    draft values already saved."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([HEADERS[c] for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    aspects = queries.stage_criteria(stage.id)
    criteria = [c for a in aspects for c in a.criteria]
    conflicts = queries.conflict_pairs(event.id)
    for a in queries.stage_assignments(stage.id):
        if a.sheet is not None and a.sheet.status == "final":
            continue
        if a.dropped_at is not None:
            continue
        if (a.entry_id, a.judge_id) in conflicts:
            continue
        scores = queries.sheet_scores(a.sheet.id if a.sheet else None)
        for c in criteria:
            score = scores.get(c.id)
            ws.append(
                [
                    a.entry.code,
                    a.judge.email,
                    c.key,
                    c.name,
                    float(c.min_score),
                    float(c.max_score),
                    float(c.step),
                    float(score.value) if score and score.value is not None else None,
                    score.comment if score else None,
                ]
            )
    widths = {"A": 12, "B": 28, "C": 14, "D": 40, "E": 6, "F": 6, "G": 8, "H": 8, "I": 50}
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    for row in ws.iter_rows(min_row=2, min_col=9, max_col=9):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    info = wb.create_sheet(INFO)
    info.append(["event", event.slug])
    info.append(["stage", stage.key])
    info.append(
        [
            "note",
            _(
                "Fill in column %(col)s (score) and, if you wish, %(comment)s (comment); "
                "do not change the other columns. Decimals with a comma or a point.",
                col="H",
                comment="I",
            ),
        ]
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def template_file(event: Event, stage: Stage) -> tuple[bytes, str]:
    """The Excel template of ``stage`` and its file name."""
    return build_template(event, stage), f"nilai-kertas-{event.slug}-{stage.key}.xlsx"
