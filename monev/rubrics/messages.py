"""Rubric problems in the user's language."""

from __future__ import annotations

from flask_babel import gettext as _

from monev.rubrics.validation import Problem, fmt


def describe(problem: Problem) -> str:
    p = {k: fmt(v) if hasattr(v, "normalize") else v for k, v in problem.params.items()}
    messages = {
        "name_required": lambda: _("Give the criterion a name."),
        "criterion_weight_range": lambda: _(
            "A criterion's weight must be above 0 and at most 100 (now %(weight)s).", **p
        ),
        "min_not_below_max": lambda: _(
            "The lowest score (%(min)s) must be below the highest score (%(max)s).", **p
        ),
        "step_positive": lambda: _("The step must be above 0."),
        "step_does_not_divide": lambda: _(
            "The step %(step)s does not divide the range %(min)s–%(max)s into whole steps.", **p
        ),
        "descriptor_range": lambda: _("A level descriptor needs a valid score range (from ≤ to)."),
        "descriptor_outside": lambda: _(
            "The level %(low)s–%(high)s lies outside the score range %(min)s–%(max)s.", **p
        ),
        "descriptor_text": lambda: _("A level descriptor needs its text."),
        "stage_empty": lambda: _("Stage %(stage)s has no criteria yet.", **p),
        "criteria_weights_sum": lambda: _(
            "The criteria weights of stage %(stage)s add up to %(total)s, not 100.", **p
        ),
        "duplicate_criterion_name": lambda: _(
            'Two criteria in the same stage are both named "%(name)s".', **p
        ),
        "no_stages": lambda: _("The event has no stages yet."),
        "stage_weights_sum": lambda: _("The stage weights add up to %(total)s, not 100.", **p),
        "duplicate_criterion_key": lambda: _("The criterion code %(key)s is used twice.", **p),
        "tie_break_unknown": lambda: _(
            'The tie-break rule "%(rule)s" names no stage or criterion of this event.', **p
        ),
        "tie_break_duplicate": lambda: _("A tie-break rule is listed twice."),
    }
    return messages[problem.code]()
