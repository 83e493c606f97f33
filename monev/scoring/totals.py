"""A judge's sheet total: the one definition, used by judging and by the engine.

DESIGN.md "Scoring semantics": a criterion score ``v`` in ``[min, max]`` is normalised to
``100 × (v − min) / (max − min)``; the sheet total is Σ weight × normalised / 100 (0–100
when the weights sum to 100). Unscored criteria add nothing.

Two forms of the same formula:

* :func:`sheet_total` — one sheet in exact decimal arithmetic. This is what a judge sees on
  their sheet (rounded to :data:`TOTAL_DECIMALS` places, half to even) and what is written
  to the audit log when the sheet is finalised. Scores, weights and bounds are decimals as
  typed; binary floats would show 12.34 for a true 12.345 on one machine and 12.35 on
  another.
* :func:`sheet_totals` — many complete sheets at once in float64 (numpy), for the ranking
  engine, which compares totals after snapping them to 1e-9 and rounding to 4 decimals
  (``engine.quantise``). The tests prove on generated rubrics and scores that it agrees
  with :func:`sheet_total` to 1e-9 and, rounded to 2 decimals, shows the same figure
  except where the exact total lies on a rounding half (there the exact form decides).

Pure: no Flask, no SQLAlchemy, no I/O.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

#: Places a sheet total is shown and stored with.
TOTAL_DECIMALS = 2
_PLACES = Decimal(1).scaleb(-TOTAL_DECIMALS)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Scale:
    """One criterion as the total needs it: its key, weight and score range. Any object with
    these four attributes will do (judging passes its ``CriterionRule``)."""

    key: Hashable
    weight: Decimal
    min: Decimal
    max: Decimal


@dataclass(frozen=True, slots=True)
class SheetTotal:
    """A sheet's total: ``exact`` as computed, ``total`` rounded to 2 decimals (shown)."""

    total: Decimal
    scored: int
    criteria: int
    missing: tuple[Hashable, ...] = field(default_factory=tuple)  # keys without a score
    exact: Decimal = Decimal(0)

    @property
    def complete(self) -> bool:
        return not self.missing


def _dec(value) -> Decimal:
    # str() keeps a float's shortest decimal form (0.1 → "0.1", not 0.1000000000000000055…)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def sheet_total(scales: Sequence[Scale], values: Mapping[Hashable, object]) -> SheetTotal:
    """The total of one sheet from its scores by criterion key (None or absent: unscored).

    Exact decimal arithmetic (28 significant digits for the divisions by ``max − min``);
    ``total`` is ``exact`` rounded half to even to :data:`TOTAL_DECIMALS` places."""
    exact = Decimal(0)
    missing = []
    for scale in scales:
        value = values.get(scale.key)
        if value is None:
            missing.append(scale.key)
            continue
        low = _dec(scale.min)
        normalised = _HUNDRED * (_dec(value) - low) / (_dec(scale.max) - low)
        exact += _dec(scale.weight) * normalised / _HUNDRED
    return SheetTotal(
        total=exact.quantize(_PLACES),
        scored=len(scales) - len(missing),
        criteria=len(scales),
        missing=tuple(missing),
        exact=exact,
    )


def normalised_scores(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Each score on 0–100: ``values`` is (sheets × criteria), ``low``/``high`` per criterion."""
    return 100.0 * (values - low) / (high - low)


def sheet_totals(normalised: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Every sheet's total from its normalised scores (see :func:`normalised_scores`)."""
    return (normalised * (weights / 100.0)).sum(axis=1)
