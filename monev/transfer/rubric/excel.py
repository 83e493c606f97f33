"""Reading the Excel sheet "Rubrik" into a ``monev-rubric/1`` document, keeping where each
value came from (the cell)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO

from flask_babel import gettext as _

from monev.core.documents import (
    DocumentError,
    PathProblem,
)
from monev.core.errors import ServiceError
from monev.rubrics.services import parse_descriptors
from monev.rubrics.validation import (
    to_decimal,
)
from monev.transfer.rubric.document import (
    COLUMNS,
    MAX_ROWS,
    NUMBER_COLUMNS,
    REQUIRED_COLUMNS,
    RUBRIC_FORMAT,
    SHEET,
    column_letter,
)


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
        return f"{column_letter(self.columns[name])}{row}"


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
                    PathProblem(
                        f"{column_letter(columns[name])}{row_number}", _("This cell is empty.")
                    )
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
    if values.get("photos") is not None:
        criterion["photos"] = _cell_number(values["photos"])
    text = _cell_text(values.get("descriptors"))
    if text:
        try:
            parsed = parse_descriptors(text)
        except ServiceError as error:
            cell = f"{column_letter(columns['descriptors'])}{row_number}"
            problems.append(PathProblem(cell, error.message))
        else:
            criterion["descriptors"] = [
                {"min": Decimal(d["min"]), "max": Decimal(d["max"]), "text": d["text"]}
                for d in parsed
            ]
    return criterion
