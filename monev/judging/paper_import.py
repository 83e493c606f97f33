"""The import of filled paper templates, with a preview that shows what will change.

The import reads every row before anything is written and names each refused cell by its
address (e.g. ``H7``): unknown entry, judge or criterion, an assignment that does not exist,
a conflict of interest, a final sheet, a duplicate row, or a score that is not a plain number
("8,5" and 8.5 are fine; "١٠", "５", "-0", "8.5.1" are not), off the range or off the step.
The uploaded file waits in the instance folder under a random token until the organiser
applies it; applying re-reads and re-checks it inside the write transaction (sheet rows
locked) and refuses if anything changed since the preview. Scores are written and sheets
finalised through the same public functions as online sheets
(:func:`monev.judging.sheets.write_scores`, :func:`~monev.judging.sheets.finalise_sheet`).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from monev.audit import services as audit
from monev.auth.models import User
from monev.core.errors import ServiceError
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import queries
from monev.judging.messages import describe
from monev.judging.models import COMMENT_MAX, Assignment, ScoreSheet
from monev.judging.numbers import CriterionRule, ScoreRefused, check_score, parse_score
from monev.judging.paper_template import (
    COLUMNS,
    HEADERS,
    INFO,
    SHEET,
)
from monev.judging.sheets import (
    finalise_sheet,
    lock_assignment,
    locked_sheet,
    total_of,
    write_scores,
)

MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class CellProblem:
    cell: str
    message: str

    def __str__(self) -> str:
        return f"{self.cell}: {self.message}"


@dataclass(frozen=True)
class Change:
    cell: str
    entry: str
    judge: str
    criterion: str
    old_value: Decimal | None
    new_value: Decimal | None
    old_comment: str | None
    new_comment: str | None
    assignment_id: int
    criterion_id: int


@dataclass
class Preview:
    token: str | None
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    problems: list[CellProblem] = field(default_factory=list)
    finalise: bool = False
    will_finalise: list[str] = field(default_factory=list)  # "K-001 / juri@…"

    @property
    def ok(self) -> bool:
        return not self.problems


class ImportRefused(ServiceError):
    def __init__(self, preview: Preview):
        n = len(preview.problems)
        super().__init__(
            _("The file has %(n)d refused cells; nothing was imported.", n=n), status=422
        )
        self.preview = preview


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "paper-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _score_from_cell(value):
    """A score cell: a number typed in Excel, or text with a comma or a point."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, False
    if isinstance(value, bool):
        raise ScoreRefused("not_a_number", value=str(value))
    if isinstance(value, int):
        return Decimal(value), True
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ScoreRefused("not_a_number", value=str(value))
        return Decimal(repr(value)), True
    if isinstance(value, str):
        return parse_score(value), True
    raise ScoreRefused("not_a_number", value=str(value)[:20])


def _read(event: Event, stage: Stage, data: bytes, *, lock: bool) -> Preview:
    preview = Preview(token=None)
    problems = preview.problems
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a non-workbook
        problems.append(CellProblem("—", _("This is not an Excel workbook (.xlsx).")))
        return preview
    if SHEET not in wb.sheetnames:
        problems.append(
            CellProblem("—", _('The workbook has no sheet named "%(name)s".', name=SHEET))
        )
        return preview
    if INFO in wb.sheetnames:
        info = {
            str(row[0]).strip(): _cell_text(row[1])
            for row in wb[INFO].iter_rows(min_row=1, max_row=5, max_col=2, values_only=True)
            if row and row[0] is not None and len(row) > 1
        }
        if info.get("stage") and info["stage"] != stage.key:
            problems.append(
                CellProblem(
                    f"{INFO}!B2",
                    _(
                        "This file is for the stage %(key)s, not %(stage)s.",
                        key=info["stage"],
                        stage=stage.key,
                    ),
                )
            )
            return preview
    ws = wb[SHEET]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    names = [str(h).strip().lower() if h is not None else "" for h in header]
    col = {}
    for key in COLUMNS:
        wanted = HEADERS[key]
        if wanted in names:
            col[key] = names.index(wanted)
        elif key in ("entry", "judge", "criterion", "score"):
            problems.append(
                CellProblem("1", _('The header row lacks the column "%(name)s".', name=wanted))
            )
    if problems:
        return preview
    letter = {key: get_column_letter(i + 1) for key, i in col.items()}

    entries = {
        e.code: e for e in db.session.scalars(select(Entry).where(Entry.event_id == event.id))
    }
    criteria = {c.key: c for a in queries.stage_criteria(stage.id) for c in a.criteria}
    assignments = {
        (a.entry_id, a.judge.email.lower()): a for a in queries.stage_assignments(stage.id)
    }
    conflicts = queries.conflict_pairs(event.id)
    seen: dict[tuple, str] = {}
    touched: dict[int, dict[int, Decimal | None]] = {}
    scores_cache: dict[int, dict] = {}
    locked: set[int] = set()

    def get(row, key):
        i = col.get(key)
        return row[i] if i is not None and i < len(row) else None

    for number, row in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            problems.append(CellProblem(str(number), _("Use at most %(max)d rows.", max=MAX_ROWS)))
            break
        if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        code, email, key = (_cell_text(get(row, k)) for k in ("entry", "judge", "criterion"))
        where = lambda k, n=number: f"{letter[k]}{n}"  # noqa: E731
        entry = entries.get(code or "")
        if entry is None:
            problems.append(
                CellProblem(where("entry"), _("No entry has the code %(key)s.", key=code or "—"))
            )
            continue
        criterion = criteria.get(key or "")
        if criterion is None:
            problems.append(
                CellProblem(
                    where("criterion"), _("No criterion has the code %(key)s.", key=key or "—")
                )
            )
            continue
        assignment = assignments.get((entry.id, (email or "").lower()))
        if assignment is None:
            problems.append(
                CellProblem(
                    where("judge"),
                    _(
                        "%(judge)s is not assigned to %(code)s in this stage.",
                        judge=email or "—",
                        code=entry.code,
                    ),
                )
            )
            continue
        if (entry.id, assignment.judge_id) in conflicts:
            problems.append(
                CellProblem(
                    where("judge"),
                    _(
                        "%(judge)s has a conflict of interest with %(code)s.",
                        judge=email,
                        code=entry.code,
                    ),
                )
            )
            continue
        if assignment.dropped_at is not None:
            problems.append(
                CellProblem(
                    where("judge"),
                    _(
                        "The sheet of %(judge)s for %(code)s was dropped by the organisers.",
                        judge=email,
                        code=entry.code,
                    ),
                )
            )
            continue
        ident = (assignment.id, criterion.id)
        if ident in seen:
            problems.append(
                CellProblem(
                    where("criterion"),
                    _("This score is listed twice (also in row %(row)s).", row=seen[ident]),
                )
            )
            continue
        seen[ident] = str(number)
        try:
            value, given = _score_from_cell(get(row, "score"))
            if value is not None:
                check_score(value, _rule(criterion))
        except ScoreRefused as refusal:
            problems.append(CellProblem(where("score"), describe(refusal)))
            continue
        comment_cell = get(row, "comment") if "comment" in col else None
        comment = _cell_text(comment_cell) if comment_cell is not None else None
        if comment is not None and len(comment) > COMMENT_MAX:
            problems.append(
                CellProblem(
                    f"{letter['comment']}{number}",
                    _("Use at most %(max)d characters.", max=COMMENT_MAX),
                )
            )
            continue
        if lock and assignment.id not in locked:
            lock_assignment(assignment.id)
            sheet = locked_sheet(assignment.id)
            locked.add(assignment.id)
        else:
            sheet = db.session.scalar(
                select(ScoreSheet).where(ScoreSheet.assignment_id == assignment.id)
            )
        if sheet is not None and sheet.status == "final":
            problems.append(
                CellProblem(
                    where("score"),
                    _(
                        "The sheet of %(judge)s for %(code)s is final; "
                        "the organiser must reopen it first.",
                        judge=email,
                        code=entry.code,
                    ),
                )
            )
            continue
        if sheet is not None and sheet.id not in scores_cache:
            scores_cache[sheet.id] = queries.sheet_scores(sheet.id)
        current = scores_cache.get(sheet.id, {}) if sheet is not None else {}
        score = current.get(criterion.id)
        old_value = score.value if score else None
        old_comment = score.comment if score else None
        new_value = value if given else old_value
        new_comment = comment if comment is not None else old_comment
        touched.setdefault(
            assignment.id,
            {c.id: (current[c.id].value if c.id in current else None) for c in criteria.values()},
        )
        touched[assignment.id][criterion.id] = new_value
        if old_value == new_value and (old_comment or None) == (new_comment or None):
            preview.unchanged += 1
            continue
        preview.changes.append(
            Change(
                cell=where("score"),
                entry=entry.code,
                judge=assignment.judge.email,
                criterion=criterion.key,
                old_value=old_value,
                new_value=new_value,
                old_comment=old_comment,
                new_comment=new_comment,
                assignment_id=assignment.id,
                criterion_id=criterion.id,
            )
        )
    preview._complete = {
        aid for aid, values in touched.items() if all(v is not None for v in values.values())
    }  # type: ignore[attr-defined]
    preview._labels = {a.id: f"{a.entry.code} / {a.judge.email}" for a in assignments.values()}  # type: ignore[attr-defined]
    return preview


def _rule(criterion):
    return CriterionRule(
        criterion.id, criterion.weight, criterion.min_score, criterion.max_score, criterion.step
    )


def _fingerprint(preview: Preview) -> str:
    text = json.dumps(
        [
            [
                c.assignment_id,
                c.criterion_id,
                str(c.old_value),
                str(c.new_value),
                c.old_comment,
                c.new_comment,
            ]
            for c in preview.changes
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _require_judging(event: Event) -> None:
    if event.status != "judging":
        raise ServiceError(
            _("Paper scores are imported while the event is in its judging phase."), status=409
        )


def preview_upload(event: Event, stage: Stage, upload, *, finalise: bool) -> Preview:
    _require_judging(event)
    if upload is None or not getattr(upload, "filename", ""):
        raise ServiceError(_("Choose the file to import."), field="file")
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ServiceError(_("At most %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)), field="file")
    preview = _read(event, stage, data, lock=False)
    preview.finalise = bool(finalise)
    if finalise:
        preview.will_finalise = sorted(preview._labels[a] for a in preview._complete)  # type: ignore[attr-defined]
    if not preview.ok:
        raise ImportRefused(preview)
    token = secrets.token_urlsafe(24)
    folder = _folder()
    (folder / f"{token}.xlsx").write_bytes(data)
    (folder / f"{token}.json").write_text(
        json.dumps(
            {
                "event": event.id,
                "stage": stage.id,
                "finalise": bool(finalise),
                "fingerprint": _fingerprint(preview),
            }
        )
    )
    preview.token = token
    return preview


@dataclass(frozen=True)
class Applied:
    scores: int
    sheets: int
    finalised: int


def apply_upload(event: Event, stage: Stage, token: str, admin: User) -> Applied:
    _require_judging(event)
    if not TOKEN_RE.match(token or ""):
        raise ServiceError(
            _("This import is no longer available; upload the file again."), status=404
        )
    folder = _folder()
    data_path, meta_path = folder / f"{token}.xlsx", folder / f"{token}.json"
    if not data_path.is_file() or not meta_path.is_file():
        raise ServiceError(
            _("This import is no longer available; upload the file again."), status=404
        )
    meta = json.loads(meta_path.read_text())
    if meta.get("event") != event.id or meta.get("stage") != stage.id:
        raise ServiceError(_("This import belongs to another stage."), status=404)
    preview = _read(event, stage, data_path.read_bytes(), lock=True)
    if not preview.ok:
        raise ServiceError(
            _("The scores changed since the preview and some cells are now refused; upload again."),
            status=409,
        )
    if _fingerprint(preview) != meta.get("fingerprint"):
        raise ServiceError(
            _(
                "The scores changed since the preview; "
                "upload the file again to see the new changes."
            ),
            status=409,
        )
    sheets: dict[int, ScoreSheet] = {}
    changed = 0
    for change in preview.changes:
        assignment = db.session.get(Assignment, change.assignment_id)
        written = write_scores(
            assignment,
            sheets.get(assignment.id) or locked_sheet(assignment.id),
            {change.criterion_id: (change.new_value, change.new_comment)},
            admin,
            source="paper",
        )
        sheets[assignment.id] = written.sheet
        changed += written.changed
    finalised = 0
    if meta.get("finalise"):
        for assignment_id in sorted(preview._complete):  # type: ignore[attr-defined]
            assignment = db.session.get(Assignment, assignment_id)
            sheet = sheets.get(assignment_id) or locked_sheet(assignment_id)
            if sheet is None or sheet.status == "final":
                continue
            rules = queries.criterion_rules(queries.stage_criteria(stage.id))
            totals = total_of(rules, queries.sheet_scores(sheet.id))
            if totals.complete:
                # The organiser confirmed this finalisation on the import's preview.
                finalise_sheet(sheet, assignment, admin, totals, confirmed=True, source="paper")
                finalised += 1
    db.session.flush()
    audit.record(
        "paper.imported",
        "stage",
        stage.id,
        {"scores": changed, "sheets": len(sheets), "finalised": finalised},
    )
    data_path.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    return Applied(changed, len(sheets), finalised)
