"""Who advances to the next stage: the selection rule applied to one category's ranking.

A stage may end with a selection per category (DESIGN "The lifecycle is the rule"):

- ``top_n``: the entries ranked 1..N advance. Ranks come from :func:`engine.compute_results`
  over the stages completed so far, so ties were already broken by the event's ordered
  tie-break rules; a tie those rules could not break is a *shared* rank, and every entry
  sharing a rank at or above the cut advances ("tie at the cut line": more than N go on,
  and the list says so).
- ``pass_mark``: every ranked entry whose total, compared at the ranking's precision, is at
  least the mark advances (the Komisi Informasi practice: 60).
- ``jury``: the entries the jury names advance; the decision needs a recorded reason.

Entries without a rank (an incomplete score, or not ``aktif``) never advance. The ranking
itself is never recomputed here: the same ranking logic in two places would disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monev.scoring.model import Key

SELECTION_KINDS = ("top_n", "pass_mark", "jury")

# Why an entry advances or not; the service and templates turn these into sentences.
WITHIN_TOP_N = "within_top_n"
TIE_AT_CUT = "tie_at_cut"
BELOW_CUT = "below_cut"
AT_OR_ABOVE_MARK = "at_or_above_mark"
BELOW_MARK = "below_mark"
CHOSEN_BY_JURY = "chosen_by_jury"
NOT_CHOSEN_BY_JURY = "not_chosen_by_jury"
NOT_RANKED = "not_ranked"


class SelectionError(ValueError):
    """The rule cannot be applied as given (no count, no reason, an unknown entry, …)."""


@dataclass(frozen=True, slots=True)
class SelectionRule:
    kind: str
    count: int | None = None  # top_n
    min_score: float | None = None  # pass_mark, on the 0–100 scale of totals
    chosen: frozenset[Key] = frozenset()  # jury
    reason: str = ""  # jury

    def __post_init__(self) -> None:
        if self.kind not in SELECTION_KINDS:
            raise SelectionError(f"unknown selection rule {self.kind!r}")
        if self.kind == "top_n" and (self.count is None or self.count < 1):
            raise SelectionError("top_n needs a count of at least 1")
        if self.kind == "pass_mark" and (self.min_score is None or not 0 <= self.min_score <= 100):
            raise SelectionError("pass_mark needs a mark between 0 and 100")
        if self.kind == "jury" and not self.reason.strip():
            raise SelectionError("a jury selection needs a recorded reason")
        object.__setattr__(self, "chosen", frozenset(self.chosen))


@dataclass(frozen=True, slots=True)
class Candidate:
    """One entry of a category as ranked so far: ``rank`` None means not ranked."""

    entry: Key
    total: float | None
    rank: int | None


@dataclass(frozen=True, slots=True)
class Decision:
    entry: Key
    advances: bool
    why: str


@dataclass(frozen=True, slots=True)
class Selection:
    """The decisions in the candidates' order, and how many advance beyond a top-N count
    because of a tie at the cut line (0 for the other rules)."""

    decisions: tuple[Decision, ...]
    beyond_count: int = 0

    @property
    def advancing(self) -> tuple[Key, ...]:
        return tuple(d.entry for d in self.decisions if d.advances)


def select(candidates: Iterable[Candidate], rule: SelectionRule, *, decimals: int = 6) -> Selection:
    """Apply ``rule`` to one category's candidates. ``decimals`` is the precision at which
    the ranking compared totals (``EventResults.compare_decimals``)."""
    candidates = tuple(candidates)
    keys = [c.entry for c in candidates]
    if len(set(keys)) != len(keys):
        raise SelectionError("an entry is listed twice")
    if rule.kind == "top_n":
        return _top_n(candidates, rule.count or 0)
    if rule.kind == "pass_mark":
        return _pass_mark(candidates, float(rule.min_score or 0), decimals)
    return _jury(candidates, rule.chosen)


def _top_n(candidates: Sequence[Candidate], count: int) -> Selection:
    ranks = [c.rank for c in candidates if c.rank is not None]
    decisions = []
    for c in candidates:
        if c.rank is None:
            decisions.append(Decision(c.entry, False, NOT_RANKED))
        elif c.rank > count:
            decisions.append(Decision(c.entry, False, BELOW_CUT))
        else:
            # A shared rank that reaches past the cut: everyone sharing it goes on.
            last_place = c.rank + ranks.count(c.rank) - 1
            why = TIE_AT_CUT if last_place > count and ranks.count(c.rank) > 1 else WITHIN_TOP_N
            decisions.append(Decision(c.entry, True, why))
    advancing = sum(d.advances for d in decisions)
    return Selection(tuple(decisions), beyond_count=max(0, advancing - count))


def _pass_mark(candidates: Sequence[Candidate], mark: float, decimals: int) -> Selection:
    decisions = []
    for c in candidates:
        if c.rank is None or c.total is None:
            decisions.append(Decision(c.entry, False, NOT_RANKED))
        elif round(c.total, decimals) >= round(mark, decimals):
            decisions.append(Decision(c.entry, True, AT_OR_ABOVE_MARK))
        else:
            decisions.append(Decision(c.entry, False, BELOW_MARK))
    return Selection(tuple(decisions))


def _jury(candidates: Sequence[Candidate], chosen: frozenset[Key]) -> Selection:
    ranked = {c.entry for c in candidates if c.rank is not None}
    unknown = chosen - ranked
    if unknown:
        raise SelectionError(f"the jury chose entries that are not ranked here: {sorted(unknown)}")
    decisions = []
    for c in candidates:
        if c.rank is None:
            decisions.append(Decision(c.entry, False, NOT_RANKED))
        elif c.entry in chosen:
            decisions.append(Decision(c.entry, True, CHOSEN_BY_JURY))
        else:
            decisions.append(Decision(c.entry, False, NOT_CHOSEN_BY_JURY))
    return Selection(tuple(decisions))
