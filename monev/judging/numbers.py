"""Strict reading of scores typed by judges (or into Excel). A sheet's total is computed by
the scoring core (``monev.scoring.sheet_total``), which takes a :class:`CriterionRule` as is.

Pure functions, no Flask and no database. A score is ASCII digits with at most one decimal
mark, the Indonesian comma ("8,5") or a point ("8.5"), optionally a leading minus for rubrics
with negative ranges. Everything else is refused: other scripts' digits ("١٠", "５", "٨"),
thousands separators ("1.000,5"), exponents, signs on zero ("-0"), a leading "+", spaces
inside, NaN and infinities. Refusals carry a code and parameters; ``monev.judging.messages``
words them in the user's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# [0-9], not \d: \d matches every script's digits.
_NUMBER = re.compile(r"-?[0-9]{1,6}(?:[.,][0-9]{1,4})?")


class ScoreRefused(ValueError):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class CriterionRule:
    id: int
    weight: Decimal
    min_score: Decimal
    max_score: Decimal
    step: Decimal

    # The names the scoring core reads (``monev.scoring.totals.Scale``).
    @property
    def key(self) -> int:
        return self.id

    @property
    def min(self) -> Decimal:
        return self.min_score

    @property
    def max(self) -> Decimal:
        return self.max_score


def parse_score(text: str | None) -> Decimal | None:
    """The score typed, or None for an empty field (the score is cleared).

    Raises :class:`ScoreRefused` ``not_a_number`` for anything that is not a plain number."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ScoreRefused("not_a_number", value=str(text))
    stripped = text.strip(" \t")
    if stripped == "":
        return None
    if not _NUMBER.fullmatch(stripped):
        raise ScoreRefused("not_a_number", value=text[:20])
    try:
        value = Decimal(stripped.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise ScoreRefused("not_a_number", value=text[:20]) from exc
    if value == 0 and stripped.startswith("-"):
        raise ScoreRefused("negative_zero", value=stripped)
    return value


def check_score(value: Decimal, rule: CriterionRule) -> None:
    """Raises ``out_of_range`` or ``off_step`` when ``value`` breaks the criterion's rule."""
    if value < rule.min_score or value > rule.max_score:
        raise ScoreRefused("out_of_range", value=value, min=rule.min_score, max=rule.max_score)
    if (value - rule.min_score) % rule.step != 0:
        raise ScoreRefused("off_step", value=value, min=rule.min_score, step=rule.step)


def read_score(text: str | None, rule: CriterionRule) -> Decimal | None:
    value = parse_score(text)
    if value is not None:
        check_score(value, rule)
    return value
