"""Import, checking what the judges did: assignments, scores, final sheets, and the rules that
span sections (tie-breaks naming stages and criteria)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _

from monev.core.documents import (
    Reader,
    check_unique,
)
from monev.events.models import STATUSES
from monev.judging.models import COMMENT_MAX
from monev.rubrics.messages import describe
from monev.rubrics.validation import criterion_problems, fmt, tie_break_problems
from monev.transfer.package.plan import SCORE_OPTIONAL, Plan, ScoreIn
from monev.transfer.rubric.document import (
    SUM_RULES,
    CriterionRow,
    StageRef,
    check_rubric,
)


def _ref(r: Reader, obj: dict, key: str, path: str, known, message) -> str | None:
    value = r.text(obj, key, path, max_len=254)
    if value is not None and value not in known:
        r.problem(f"{path}.{key}", message(value))
        return None
    return value


def read_assignments(plan: Plan, doc: dict) -> None:
    r = plan.reader
    stages = {s.key for s in plan.stages if s.key}
    entries = {e.key for e in plan.entries if e.key}
    judges = {j.key for j in plan.judges if j.key}
    seen: list[tuple[str, tuple]] = []
    for path, value in r.items(doc, "assignments", "$"):
        obj = r.object(value, path, required=("stage", "entry", "judge"))
        if obj is None:
            continue
        stage = _ref(
            r, obj, "stage", path, stages, lambda v: _("No stage has the code %(key)s.", key=v)
        )
        entry = _ref(
            r, obj, "entry", path, entries, lambda v: _("No entry has the code %(key)s.", key=v)
        )
        judge = _ref(
            r, obj, "judge", path, judges, lambda v: _("No judge has the key %(key)s.", key=v)
        )
        if stage and entry and judge:
            seen.append((path, (stage, entry, judge)))
            plan.assignments.add((stage, entry, judge))
    check_unique(r, seen, lambda *_a: _("This assignment is listed twice."))


def read_scores(plan: Plan, doc: dict) -> None:
    r = plan.reader
    entries = {e.key for e in plan.entries if e.key}
    judges = {j.key for j in plan.judges if j.key}
    criteria = {c.key: (a.stage, c) for a in plan.aspects for c in a.criteria if c.key and a.stage}
    seen: list[tuple[str, tuple]] = []
    unreadable = False
    for path, value in r.items(doc, "scores", "$"):
        obj = r.object(
            value, path, required=("entry", "judge", "criterion", "value"), optional=SCORE_OPTIONAL
        )
        if obj is None:
            unreadable = True
            continue
        entry = _ref(
            r, obj, "entry", path, entries, lambda v: _("No entry has the code %(key)s.", key=v)
        )
        judge = _ref(
            r, obj, "judge", path, judges, lambda v: _("No judge has the key %(key)s.", key=v)
        )
        key = _ref(
            r,
            obj,
            "criterion",
            path,
            criteria,
            lambda v: _("No criterion has the code %(key)s.", key=v),
        )
        score_value = r.number(obj, "value", path, nullable=True)
        final = r.boolean(obj, "final", path)
        comment = r.text(obj, "comment", path, max_len=COMMENT_MAX, nullable=True)
        if obj.get("value", 0) is None and final:
            r.problem(f"{path}.value", _("A final score needs a value."))
        if not (entry and judge and key):
            unreadable = True
            continue
        stage, criterion = criteria[key]
        # Values are checked against a sound criterion only; its own problems are reported.
        usable = criterion.complete and not criterion_problems(criterion.spec(""))
        if score_value is not None and usable:
            _check_value(r, f"{path}.value", score_value, criterion)
        seen.append((path, (entry, judge, key)))
        plan.scores.append(
            ScoreIn(path, entry, judge, criterion, stage, score_value, comment, final)
        )
    check_unique(r, seen, lambda *_a: _("This score is listed twice."))
    if not unreadable:  # a sheet missing an unreadable score would be reported twice
        _check_final_sheets(plan)


def _check_value(r: Reader, path: str, value: Decimal, c: CriterionRow) -> None:
    if not c.min_score <= value <= c.max_score:
        r.problem(
            path,
            _(
                "The score %(value)s lies outside the range %(min)s–%(max)s.",
                value=fmt(value),
                min=fmt(c.min_score),
                max=fmt(c.max_score),
            ),
        )
    elif (value - c.min_score) % c.step != 0:
        r.problem(
            path,
            _(
                "The score %(value)s is not on the steps of %(step)s from %(min)s.",
                value=fmt(value),
                step=fmt(c.step),
                min=fmt(c.min_score),
            ),
        )


def _check_final_sheets(plan: Plan) -> None:
    """A sheet whose scores are all final must score every criterion of its stage."""
    stage_criteria: dict[str, list[str]] = {}
    for a in plan.aspects:
        for c in a.criteria:
            if a.stage and c.key:
                stage_criteria.setdefault(a.stage, []).append(c.key)
    sheets: dict[tuple, list[ScoreIn]] = {}
    for s in plan.scores:
        sheets.setdefault((s.stage, s.entry, s.judge), []).append(s)
    for (stage, _entry, _judge), scores in sheets.items():
        if not all(s.final for s in scores):
            continue
        scored = {s.criterion.key for s in scores if s.value is not None}
        missing = [k for k in stage_criteria.get(stage, []) if k not in scored]
        if missing:
            plan.reader.problem(
                scores[0].path,
                _(
                    "A final sheet scores every criterion of its stage; missing: %(keys)s.",
                    keys=", ".join(missing),
                ),
            )


def check_rules(plan: Plan) -> None:
    """The rubric and tie-break rules of ``monev.rubrics.validation``, on document paths."""
    r = plan.reader
    status = plan.event.get("status") or "draft"
    # A rubric may be unfinished while the event is being set up, as in the builder; it must
    # be complete once KIMs submit (see events.services.readiness_problems) or scores exist.
    complete = (
        STATUSES.index(status) >= STATUSES.index("submission")
        or bool(plan.scores)
        or bool(plan.assignments)
    )
    refs = [StageRef(s.key, s.name or s.key, s.weight, s.path) for s in plan.stages if s.key]
    check_rubric(
        r,
        plan.aspects,
        refs,
        stages_path="$.stages",
        skip=() if complete else SUM_RULES,
    )
    rules = plan.event.get("tie_breaks") or []
    stage_keys = {s.key for s in plan.stages if s.key}
    criterion_keys = {c.key for a in plan.aspects for c in a.criteria if c.key}
    for problem in tie_break_problems(rules, stage_keys, criterion_keys):
        r.problem(f"$.event.{problem.path}", describe(problem))
