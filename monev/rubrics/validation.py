"""Rubric rules, as pure functions over plain data (no Flask, no database).

Problems carry a code, parameters and a path (e.g. ``stages[1].criteria[3].step``) so the
same checks serve the rubric builder (shown in the user's language by
``monev.rubrics.messages``) and the import of JSON/Excel/event packages (which name the
offending path).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Problem:
    code: str
    path: str = ""
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    name: str
    weight: Decimal
    min_score: Decimal
    max_score: Decimal
    step: Decimal
    descriptors: tuple = ()
    aspect: str = ""


@dataclass(frozen=True)
class StageSpec:
    key: str
    name: str
    weight: Decimal
    criteria: tuple[CriterionSpec, ...] = ()


def to_decimal(value) -> Decimal | None:
    """Decimal from a number or a string with '.' or the Indonesian ',' as decimal mark."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not text or not all(ch in "0123456789.-" for ch in text):
            return None
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def criterion_problems(c: CriterionSpec, path: str = "") -> list[Problem]:
    problems = []
    if not c.name.strip():
        problems.append(Problem("name_required", f"{path}.name"))
    if not (Decimal(0) < c.weight <= HUNDRED):
        problems.append(Problem("criterion_weight_range", f"{path}.weight", {"weight": c.weight}))
    if c.min_score >= c.max_score:
        problems.append(
            Problem("min_not_below_max", f"{path}.min", {"min": c.min_score, "max": c.max_score})
        )
    elif c.step <= 0:
        problems.append(Problem("step_positive", f"{path}.step", {"step": c.step}))
    elif (c.max_score - c.min_score) % c.step != 0:
        problems.append(
            Problem(
                "step_does_not_divide",
                f"{path}.step",
                {"step": c.step, "min": c.min_score, "max": c.max_score},
            )
        )
    for i, d in enumerate(c.descriptors):
        low, high = to_decimal(d.get("min")), to_decimal(d.get("max"))
        dpath = f"{path}.descriptors[{i}]"
        if low is None or high is None or low > high:
            problems.append(Problem("descriptor_range", dpath))
        elif low < c.min_score or high > c.max_score:
            problems.append(
                Problem(
                    "descriptor_outside",
                    dpath,
                    {"low": low, "high": high, "min": c.min_score, "max": c.max_score},
                )
            )
        if not str(d.get("text") or "").strip():
            problems.append(Problem("descriptor_text", dpath))
    return problems


def stage_problems(stage: StageSpec, path: str = "") -> list[Problem]:
    problems = []
    if not stage.criteria:
        problems.append(Problem("stage_empty", path, {"stage": stage.name}))
        return problems
    for i, c in enumerate(stage.criteria):
        problems.extend(criterion_problems(c, f"{path}.criteria[{i}]"))
    total = sum((c.weight for c in stage.criteria), Decimal(0))
    if total != HUNDRED:
        problems.append(
            Problem("criteria_weights_sum", path, {"stage": stage.name, "total": total})
        )
    for name, n in Counter(c.name.strip().lower() for c in stage.criteria).items():
        if n > 1:
            problems.append(Problem("duplicate_criterion_name", path, {"name": name}))
    return problems


def rubric_problems(stages: list[StageSpec]) -> list[Problem]:
    """Everything that makes an event's rubric unusable for judging."""
    problems = []
    if not stages:
        return [Problem("no_stages")]
    total = sum((s.weight for s in stages), Decimal(0))
    if total != HUNDRED:
        problems.append(Problem("stage_weights_sum", "stages", {"total": total}))
    for i, stage in enumerate(stages):
        problems.extend(stage_problems(stage, f"stages[{i}]"))
    keys = Counter(c.key for s in stages for c in s.criteria)
    for key, n in keys.items():
        if n > 1:
            problems.append(Problem("duplicate_criterion_key", "criteria", {"key": key}))
    return problems


def tie_break_problems(
    rules: list[str], stage_keys: set[str], criterion_keys: set[str]
) -> list[Problem]:
    problems = []
    for i, rule in enumerate(rules):
        kind, _, key = rule.partition(":")
        if kind == "stage" and key in stage_keys:
            continue
        if kind == "criterion" and key in criterion_keys:
            continue
        problems.append(Problem("tie_break_unknown", f"tie_breaks[{i}]", {"rule": rule}))
    if len(set(rules)) != len(rules):
        problems.append(Problem("tie_break_duplicate", "tie_breaks"))
    return problems


def fmt(value: Decimal) -> str:
    """'2.50' -> '2,5' (Indonesian decimal comma, no trailing zeros)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")
