"""Reading judging data. Judges' reads are always filtered by the judge: a judge's query never
selects another judge's sheet, score, comment or count (blind judging).

One module per concern: :mod:`.panel` (panel, conflicts, judged entries, labels),
:mod:`.sheets` (assignments, rubrics, scores, trail), :mod:`.progress` (judges' to-do lists,
the board, late judges) and :mod:`.schedule`; every name is available from here.
"""

from __future__ import annotations

from monev.judging.queries.panel import (
    conflict_pairs,
    entry_label_for_judges,
    event_conflicts,
    event_judge,
    event_panel,
    has_conflict,
    judged_entries,
    panel_stages,
    selection_pending,
    stage_panel,
)
from monev.judging.queries.progress import (
    Board,
    DrillDown,
    JudgeRow,
    JudgeStageProgress,
    PendingSheet,
    entry_board,
    judge_board,
    judge_progress,
    judges_missing_sheets,
    progress_board,
)
from monev.judging.queries.schedule import (
    SlotView,
    criteria_by_id,
    judge_schedule,
    kim_schedule,
    stage_schedule,
)
from monev.judging.queries.sheets import (
    admin_sheet,
    criterion_rules,
    event_changes,
    evidence_for,
    judge_assignment,
    scored_assignment_ids,
    sheet_scores,
    sheet_trail,
    stage_assignments,
    stage_criteria,
)

__all__ = [
    "Board",
    "DrillDown",
    "JudgeRow",
    "JudgeStageProgress",
    "PendingSheet",
    "SlotView",
    "admin_sheet",
    "conflict_pairs",
    "criteria_by_id",
    "criterion_rules",
    "entry_board",
    "entry_label_for_judges",
    "event_changes",
    "event_conflicts",
    "event_judge",
    "event_panel",
    "evidence_for",
    "has_conflict",
    "judge_assignment",
    "judge_board",
    "judge_progress",
    "judge_schedule",
    "judged_entries",
    "judges_missing_sheets",
    "kim_schedule",
    "panel_stages",
    "progress_board",
    "scored_assignment_ids",
    "selection_pending",
    "sheet_scores",
    "sheet_trail",
    "stage_assignments",
    "stage_criteria",
    "stage_panel",
    "stage_schedule",
]
