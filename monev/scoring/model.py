"""Plain frozen dataclasses going into and coming out of the scoring core.

Nothing here knows about Flask or the database: the caller copies rows into these
objects, and reads the results back out. Keys (entries, judges, stages, criteria,
categories) are whatever hashable, mutually orderable values the caller uses (database ids
or string keys); within one kind they must all be of one type, because shared ranks and
reports are ordered by key so that the output never depends on input order.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Key = Hashable

AGGREGATIONS = ("mean", "median", "trimmed")
DEFAULT_AWARD_LADDER = (
    "Juara I",
    "Juara II",
    "Juara III",
    "Harapan I",
    "Harapan II",
    "Harapan III",
)


class ScoringInputError(ValueError):
    """The input cannot be scored (unknown stage, missing value on a final sheet, …)."""


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class CriterionDef:
    """One rubric criterion: a value ``v`` in ``[min, max]`` is normalised to 0–100."""

    key: Key
    aspect: str
    weight: float
    min: float
    max: float

    def __post_init__(self) -> None:
        for name in ("weight", "min", "max"):
            _set(self, name, float(getattr(self, name)))
        if not self.max > self.min:
            raise ScoringInputError(f"criterion {self.key!r}: max must be greater than min")
        if self.weight < 0:
            raise ScoringInputError(f"criterion {self.key!r}: weight must not be negative")


@dataclass(frozen=True, slots=True)
class StageDef:
    """A judged stage; its criteria weights normally sum to 100 (stage score 0–100)."""

    key: Key
    weight: float
    criteria: Sequence[CriterionDef]

    def __post_init__(self) -> None:
        _set(self, "weight", float(self.weight))
        _set(self, "criteria", tuple(self.criteria))
        if self.weight < 0:
            raise ScoringInputError(f"stage {self.key!r}: weight must not be negative")
        if not self.criteria:
            raise ScoringInputError(f"stage {self.key!r} has no criteria")


@dataclass(frozen=True, slots=True)
class Band:
    """A score band: a complete entry whose total is at least ``min`` gets ``label``."""

    min: float
    label: str

    def __post_init__(self) -> None:
        _set(self, "min", float(self.min))


@dataclass(frozen=True, slots=True)
class CategoryDef:
    """A ranking category with its award ladder and optional score bands.

    ``bands`` accepts ``Band`` objects or the stored ``{"min": 85, "label": "Unggul"}``
    dicts; they are kept highest ``min`` first.
    """

    key: Key
    award_ladder: Sequence[str] = DEFAULT_AWARD_LADDER
    bands: Sequence[Band | Mapping[str, Any]] = ()

    def __post_init__(self) -> None:
        _set(self, "award_ladder", tuple(self.award_ladder))
        bands = tuple(b if isinstance(b, Band) else Band(b["min"], b["label"]) for b in self.bands)
        _set(self, "bands", tuple(sorted(bands, key=lambda b: -b.min)))


@dataclass(frozen=True, slots=True)
class EventDef:
    """How an event is scored.

    ``tie_breaks`` are ordered rules ``"stage:KEY"`` (higher stage score wins) or
    ``"criterion:KEY"`` (higher mean normalised score on that criterion over the entry's
    final sheets wins). Categories not listed in ``categories`` use the default ladder and
    no bands.
    """

    stages: Sequence[StageDef]
    aggregation: str = "mean"
    normalize_judges: bool = False
    tie_breaks: Sequence[str] = ()
    categories: Sequence[CategoryDef] = ()

    def __post_init__(self) -> None:
        _set(self, "stages", tuple(self.stages))
        _set(self, "tie_breaks", tuple(self.tie_breaks))
        _set(self, "categories", tuple(self.categories))
        if self.aggregation not in AGGREGATIONS:
            raise ScoringInputError(f"unknown aggregation {self.aggregation!r}")
        if not self.stages:
            raise ScoringInputError("an event needs at least one stage")
        if len({s.key for s in self.stages}) != len(self.stages):
            raise ScoringInputError("stage keys must be unique")
        keys = [c.key for s in self.stages for c in s.criteria]
        if len(set(keys)) != len(keys):
            raise ScoringInputError("criterion keys must be unique within the event")
        if len({c.key for c in self.categories}) != len(self.categories):
            raise ScoringInputError("category keys must be unique")
        stage_keys = {str(s.key) for s in self.stages}
        criterion_keys = {str(k) for k in keys}
        for rule in self.tie_breaks:
            kind, _, key = rule.partition(":")
            known = stage_keys if kind == "stage" else criterion_keys if kind == "criterion" else ()
            if key not in known:
                raise ScoringInputError(f"tie-break rule {rule!r} names no stage or criterion")


@dataclass(frozen=True, slots=True)
class EntryDef:
    key: Key
    category: Key


@dataclass(frozen=True, slots=True)
class SheetInput:
    """One judge's sheet for one entry in one stage. Only ``final`` sheets are scored.

    ``values`` maps every criterion key of the stage to a number in ``[min, max]``
    (``Decimal`` is fine; it is converted to float).
    """

    entry: Key
    judge: Key
    stage: Key
    final: bool
    values: Mapping[Key, Any] = field(default_factory=dict)


# -------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class JudgeScore:
    """A judge's stage score for an entry (0–100); ``adjusted`` is after the per-judge
    z-normalisation (equal to ``raw`` when the event does not normalise)."""

    judge: Key
    raw: float
    adjusted: float


@dataclass(frozen=True, slots=True)
class StageScore:
    """An entry's figures in one stage.

    ``score`` is the aggregate of the judges' (adjusted) stage scores, None when the entry
    has no final sheet in the stage. ``aspects`` and ``criteria`` are means over the final
    sheets of the raw figures: ``aspects[a]`` is the aspect's weighted contribution to the
    stage score (they sum to the mean raw judge score, so to ``score`` exactly when the
    aggregation is "mean" without normalisation); ``criteria[c]`` is the mean normalised
    score (0–100) on criterion ``c``.
    """

    score: float | None
    judges: tuple[JudgeScore, ...] = ()
    aspects: Mapping[str, float] = field(default_factory=dict)
    criteria: Mapping[Key, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RankedRow:
    """One entry's place in its category.

    ``total`` is Σ stage weight × stage score / 100 at full float precision (round it for
    display). An ``incomplete`` entry (no final sheet in one or more stages, listed in
    ``missing_stages``) has a partial total over the stages it has (None when it has none),
    comes after every complete entry, and gets no rank, award or band.
    ``shared`` says the rank is shared with another entry (equal after every tie-break);
    ``tie_break`` names the rule that put this row below the one above it, when the totals
    were equal.
    """

    entry: Key
    category: Key
    total: float | None
    rank: int | None
    shared: bool
    award: str | None
    band: str | None
    incomplete: bool
    missing_stages: tuple[Key, ...]
    stages: Mapping[Key, StageScore]
    tie_break: str | None = None


@dataclass(frozen=True, slots=True)
class CategoryResult:
    category: Key
    rows: tuple[RankedRow, ...]


@dataclass(frozen=True, slots=True)
class JudgeNormalisation:
    """How one judge's totals in one stage were rescaled (``normalize_judges``)."""

    judge: Key
    sheets: int
    mean: float
    sd: float
    scaled: bool  # False: fewer than 2 sheets or no spread, so totals left unchanged


@dataclass(frozen=True, slots=True)
class EventResults:
    """Per category (in the event's category order, then unknown ones by key) the rows.

    ``compare_decimals``: totals and tie-break values were compared at this precision.
    ``normalisation``: per stage, each judge's mean/SD (only with ``normalize_judges``).
    """

    categories: Mapping[Key, CategoryResult]
    compare_decimals: int
    normalisation: Mapping[Key, tuple[JudgeNormalisation, ...]] = field(default_factory=dict)

    def row(self, entry: Key) -> RankedRow:
        for category in self.categories.values():
            for r in category.rows:
                if r.entry == entry:
                    return r
        raise KeyError(entry)
