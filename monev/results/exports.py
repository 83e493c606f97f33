"""Exports of an event's scores: the Excel recap (*rekapitulasi nilai*) and the CSV of raw
scores. Both hold enough to recompute every figure: the rubric (weights and ranges), the
method (aggregation, normalisation, tie-breaks) and every judge's criterion scores on the
final sheets.

CSV columns (one row per score on a final sheet, by stage, entry code, judge, criterion):
``stage, stage_weight, entry_code, kim, district, category, judge_id, judge, aspect,
criterion, criterion_weight, min, max, value``. The published digest is the SHA-256 of the
lines ``stage<TAB>entry_code<TAB>judge_id<TAB>criterion<TAB>value`` made from these rows,
sorted, each ended by a newline (``services.scores_digest``).
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from monev.results.services import Computed, data_digest

CSV_COLUMNS = (
    "stage",
    "stage_weight",
    "entry_code",
    "kim",
    "district",
    "category",
    "judge_id",
    "judge",
    "aspect",
    "criterion",
    "criterion_weight",
    "min",
    "max",
    "value",
)


def _g(value: float) -> str:
    """A rubric number without float noise: 25.0 -> "25", 0.5 -> "0.5"."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _final_sheets(computed: Computed):
    """(stage, entry, judge id, judge name, category, sheet) of every final sheet, ordered."""
    data = computed.data
    entries = {e.id: e for e in data.entries}
    categories = {c.id: c.key for c in data.categories}
    position = {s.id: i for i, s in enumerate(data.stages)}
    sheets = sorted(
        (s for s in data.sheets if s.status == "final"),
        key=lambda s: (position[s.stage_id], entries[s.entry_id].code, s.judge_id),
    )
    for sheet in sheets:
        entry = entries[sheet.entry_id]
        yield (
            data.stage(sheet.stage_id),
            entry,
            sheet.judge_id,
            data.judges.get(sheet.judge_id, ""),
            categories[entry.category_id],
            sheet,
        )


def scores_csv(computed: Computed) -> str:
    data = computed.data
    criteria = {s.id: [c for c in data.criteria if c.stage_id == s.id] for s in data.stages}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for stage, entry, judge_id, judge, category, sheet in _final_sheets(computed):
        values = data.values.get(sheet.id, {})
        for c in criteria[stage.id]:
            value = values.get(c.id)
            writer.writerow(
                (
                    stage.key,
                    _g(float(stage.weight)),
                    entry.code,
                    entry.kim,
                    entry.district,
                    category,
                    judge_id,
                    judge,
                    c.aspect,
                    c.key,
                    _g(c.weight),
                    _g(c.min),
                    _g(c.max),
                    "" if value is None else f"{value:.2f}",
                )
            )
    return out.getvalue()


def recap_workbook(computed: Computed) -> bytes:
    """The Excel recap: "Rekap" (ranking and totals per category), one sheet per stage with
    every judge's criterion scores and sheet total, "Rubrik" and "Metode".

    Written with openpyxl's write-only mode (rows streamed to the file, the header row in
    bold, the first row frozen): at 5,000 entries (about a million cells) in about the time
    the same cells take with no formatting at all (``bench/large_event.py``)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    data, results = computed.data, computed.results
    bold = Font(bold=True)
    wb = Workbook(write_only=True)

    def new_sheet(title: str, header: list | None = None):
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        if header is not None:
            cells = []
            for value in header:
                cell = WriteOnlyCell(ws, value=value)
                cell.font = bold
                cells.append(cell)
            ws.append(cells)
        return ws

    header = [
        _("Category"),
        _("Rank"),
        _("Code"),
        "KIM",
        _("District"),
        *[s.name for s in data.stages],
        _("Total"),
        _("Award"),
        _("Band"),
    ]
    recap = new_sheet("Rekap", header)
    entries = {e.id: e for e in data.entries}
    for category in data.categories:
        result = results.categories.get(category.id) if results else None
        for row in result.rows if result else ():
            entry = entries[row.entry]
            recap.append(
                [
                    category.key,
                    row.rank,
                    entry.code,
                    entry.kim,
                    entry.district,
                    *[_round(row.stages[s.key].score) for s in data.stages],
                    _round(row.total),
                    row.award,
                    row.band,
                ]
            )

    criteria = {s.id: [c for c in data.criteria if c.stage_id == s.id] for s in data.stages}
    stage_sheets = {}
    for stage in data.stages:
        stage_sheets[stage.id] = new_sheet(
            _sheet_title(stage.name, stage_sheets),
            [
                _("Code"),
                "KIM",
                _("Category"),
                _("Judge ID"),
                _("Judge"),
                *[c.key for c in criteria[stage.id]],
                _("Sheet total (0–100)"),
            ],
        )
    for stage, entry, judge_id, judge, category, sheet in _final_sheets(computed):
        values = data.values.get(sheet.id, {})
        crits = criteria[stage.id]
        row = [values.get(c.id) for c in crits]
        total = (
            sum(
                c.weight * 100 * (v - c.min) / (c.max - c.min)
                for c, v in zip(crits, row, strict=False)
            )
            / 100
            if all(v is not None for v in row)
            else None
        )
        stage_sheets[stage.id].append(
            [entry.code, entry.kim, category, judge_id, judge, *row, _round(total)]
        )

    rubric = new_sheet(
        "Rubrik",
        [
            _("Stage"),
            _("Stage weight"),
            _("Aspect"),
            _("Criterion"),
            _("Name"),
            _("Weight"),
            _("Minimum"),
            _("Maximum"),
        ],
    )
    for stage in data.stages:
        for c in criteria[stage.id]:
            rubric.append(
                [stage.key, float(stage.weight), c.aspect, c.key, c.name, c.weight, c.min, c.max]
            )

    event = data.event
    method = new_sheet("Metode")
    for key, value in (
        ("event", event.slug),
        ("title", event.title),
        ("aggregation", event.aggregation),
        ("normalize_judges", bool(event.normalize_judges)),
        ("tie_breaks", " ".join(event.tie_breaks or [])),
        ("stages", " ".join(s.key for s in data.stages)),
        ("categories", " ".join(c.key for c in data.categories)),
        ("digest", data_digest(data)[0]),
    ):
        method.append([key, value])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _sheet_title(name: str, taken) -> str:
    """Excel sheet titles: at most 31 characters, none of []:*?/\\ ."""
    title = "".join(ch for ch in name if ch not in "[]:*?/\\")[:28] or "Tahap"
    reserved = {"Rekap", "Rubrik", "Metode"}
    used = {ws.title for ws in taken.values()} | reserved
    candidate, n = title, 2
    while candidate in used:
        candidate, n = f"{title[:27]} {n}", n + 1
    return candidate
