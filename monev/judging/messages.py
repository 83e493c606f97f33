"""Refusals of scores, worded in the user's language."""

from __future__ import annotations

from flask_babel import gettext as _

from monev.judging.numbers import ScoreRefused
from monev.rubrics.validation import fmt


def _n(value) -> str:
    from decimal import Decimal

    return fmt(Decimal(str(value))) if value is not None else ""


def describe(refusal: ScoreRefused) -> str:
    p = refusal.params
    if refusal.code == "not_a_number":
        return _(
            "“%(value)s” is not a score: type digits 0–9 with a decimal comma, e.g. 8 or 8,5.",
            value=p.get("value", ""),
        )
    if refusal.code == "negative_zero":
        return _("“%(value)s” is not a score: write 0 without a sign.", value=p.get("value", ""))
    if refusal.code == "out_of_range":
        return _(
            "The score %(value)s lies outside the range %(min)s–%(max)s.",
            value=_n(p["value"]),
            min=_n(p["min"]),
            max=_n(p["max"]),
        )
    if refusal.code == "off_step":
        return _(
            "The score %(value)s is not on the steps of %(step)s from %(min)s.",
            value=_n(p["value"]),
            step=_n(p["step"]),
            min=_n(p["min"]),
        )
    return _("This score cannot be saved.")
