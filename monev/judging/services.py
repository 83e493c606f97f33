"""Judging rules, the entry point the views call. Each concern lives in its own module:

* :mod:`monev.judging.panel` — the panel and its settings;
* :mod:`monev.judging.conflicts` — conflicts of interest;
* :mod:`monev.judging.assignments` — assignments by hand and planned;
* :mod:`monev.judging.sheets` — score sheets: the locked write path, autosave, whole-sheet
  save, finalise, reopen, and :func:`~monev.judging.sheets.write_scores`, the one public way
  to write scores (the paper import in :mod:`monev.judging.paper_import` uses it too);
* :mod:`monev.judging.drops` — dropping a sheet that is not final, with a reason, and
  restoring it;
* :mod:`monev.judging.reminders` and :mod:`monev.judging.schedule`.

Services flush; the request commits once.
"""

from __future__ import annotations

from monev.core.errors import ServiceError
from monev.judging.assignments import StagePlan, apply_plan, assign, plan_stage, unassign
from monev.judging.conflicts import (
    add_conflict,
    conflict_consequences,
    declare_conflict,
    remove_conflict,
)
from monev.judging.drops import drop_sheet, restore_sheet
from monev.judging.panel import (
    add_judge,
    remove_judge,
    set_judges_see_names,
    update_judge,
)
from monev.judging.reminders import send_reminders
from monev.judging.schedule import generate_schedule, save_slot
from monev.judging.sheets import (
    COMMENT_MAX,
    REASON_MAX,
    SaveResult,
    SheetRefused,
    Written,
    closed_reason,
    finalise_consequences,
    finalise_sheet,
    fmt_total,
    format_moment,
    missing_photos_text,
    reopen_sheet,
    save_score,
    save_sheet,
    write_scores,
)

__all__ = [
    "COMMENT_MAX",
    "REASON_MAX",
    "SaveResult",
    "ServiceError",
    "SheetRefused",
    "StagePlan",
    "Written",
    "add_conflict",
    "add_judge",
    "apply_plan",
    "assign",
    "closed_reason",
    "conflict_consequences",
    "declare_conflict",
    "drop_sheet",
    "finalise_consequences",
    "finalise_sheet",
    "fmt_total",
    "format_moment",
    "generate_schedule",
    "missing_photos_text",
    "plan_stage",
    "remove_conflict",
    "remove_judge",
    "reopen_sheet",
    "restore_sheet",
    "save_score",
    "save_sheet",
    "save_slot",
    "send_reminders",
    "set_judges_see_names",
    "unassign",
    "update_judge",
    "write_scores",
]
