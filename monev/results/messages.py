"""The scoring core's guidance codes (``monev.scoring.fairness.Message``) in the user's
language, with stage and judge names instead of their keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from monev.core.templating import number
from monev.scoring import Message

REASONS = {
    "no_sheets": _l("no final sheets yet"),
    "single_judge": _l("only one judge scored in this stage"),
    "incomplete_panel": _l("the entries were scored by different panels"),
    "too_few_entries": _l("fewer than two entries were scored by the full panel"),
    "no_variation": _l("the scores do not vary"),
    "too_few_values": _l("no entry has two final sheets"),
}


def agreement_words(value: float | None, good: float = 0.8, acceptable: float = 0.667) -> str:
    """What an agreement figure (Krippendorff's alpha, an ICC) means, in plain words; a
    negative one says what it means rather than standing unexplained."""
    if value is None:
        return ""
    if value >= good:
        return _("good: the judges agree")
    if value >= acceptable:
        return _("acceptable: the judges mostly agree")
    if value >= 0:
        return _("low: the judges often disagree; look at the outlying sheets")
    return _(
        "below chance: the judges agree less than if they had scored at random; usually too "
        "few entries, or scores too close together to tell the entries apart"
    )


def _n(value, digits: int) -> str:
    return number(round(float(value), digits))


def describe(
    message: Message, stage_name: Callable[[object], str], judge_name: Callable[[object], str]
) -> str:
    """The message in the user's language; unknown codes fall back to the English text."""
    p: Mapping = message.params
    stage = stage_name(p["stage"]) if "stage" in p else ""
    judge = judge_name(p["judge"]) if "judge" in p else ""
    reason = str(REASONS.get(p.get("reason"), p.get("reason", "")))
    code = message.code
    if code == "agreement_good":
        return _(
            "%(stage)s: the judges agree well (Krippendorff's alpha %(alpha)s).",
            stage=stage,
            alpha=_n(p["alpha"], 3),
        )
    if code == "agreement_moderate":
        return _(
            "%(stage)s: the judges agree only moderately (Krippendorff's alpha %(alpha)s, "
            "below %(good)s); conclusions from close scores are tentative.",
            stage=stage,
            alpha=_n(p["alpha"], 3),
            good=_n(p["good"], 3),
        )
    if code == "agreement_weak" and float(p["alpha"]) < 0:
        return _(
            "%(stage)s: the judges agree less than chance would give (Krippendorff's alpha "
            "%(alpha)s, below 0): they rank the entries differently, or there are too few "
            "entries with scores too close together to tell them apart; review the rubric "
            "guidance and the outlying sheets before publishing.",
            stage=stage,
            alpha=_n(p["alpha"], 3),
        )
    if code == "agreement_weak":
        return _(
            "%(stage)s: the judges agree weakly (Krippendorff's alpha %(alpha)s, below "
            "%(acceptable)s); review the rubric guidance and the outlying sheets before "
            "publishing.",
            stage=stage,
            alpha=_n(p["alpha"], 3),
            acceptable=_n(p["acceptable"], 3),
        )
    if code == "agreement_undefined":
        return _(
            "%(stage)s: agreement cannot be measured (%(reason)s); at least two judges must "
            "score the same entries, and their scores must vary.",
            stage=stage,
            reason=reason,
        )
    if code == "icc_unavailable":
        return _(
            "%(stage)s: intraclass correlations (ICC) need every entry scored by the same "
            "full panel of at least two judges (here %(reason)s); Krippendorff's alpha is "
            "used instead.",
            stage=stage,
            reason=reason,
        )
    if code == "single_judge_entries":
        return _(
            "%(stage)s: %(count)d entries have a single final sheet, so no agreement or "
            "leniency can be measured for them.",
            stage=stage,
            count=p["count"],
        )
    if code == "lenient_judge":
        return _(
            "%(stage)s: %(judge)s scores %(points)s points above the other judges on "
            "average (over %(entries)d entries).",
            stage=stage,
            judge=judge,
            points=_n(p["leniency"], 1),
            entries=p["entries"],
        )
    if code == "harsh_judge":
        return _(
            "%(stage)s: %(judge)s scores %(points)s points below the other judges on "
            "average (over %(entries)d entries).",
            stage=stage,
            judge=judge,
            points=_n(p["points"], 1),
            entries=p["entries"],
        )
    if code == "outlier_sheets":
        return _(
            "%(stage)s: %(count)d sheets differ from the other judges' mean on the same "
            "entry by more than %(threshold)s points.",
            stage=stage,
            count=p["count"],
            threshold=_n(p["threshold"], 1),
        )
    if code == "ranking_unstable":
        return _(
            "Leaving %(judge)s out changes %(changes)d award places; check their sheets.",
            judge=judge,
            changes=p["changes"],
        )
    if code == "ranking_stable":
        return _(
            "Leaving out any one of the %(judges)d judges changes no award place.",
            judges=p["judges"],
        )
    return message.text
