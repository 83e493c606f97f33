"""The consequences of publishing, of a correction (*ralat*) and of announcing the provisional
results, stated with numbers for their confirmation steps (issue 12, "Confirmation of
irreversible actions"). Plain strings in the user's language; the templates only show them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from monev.core.timezones import format_moment
from monev.results.objections import AnnouncePreview
from monev.results.pages import describe_change
from monev.results.publication import PublishPreview

MAX_CHANGE_LINES = 10


def when(moment: datetime | None, tz: str) -> str:
    """A UTC moment in the event's time zone, written as everywhere: "12 Agu 2026, 17.00 WITA"."""
    return format_moment(moment, tz) if moment else ""


def _entries(n: int) -> str:
    return ngettext("%(num)d entry", "%(num)d entries", n)


def _categories(n: int) -> str:
    return ngettext("%(num)d category", "%(num)d categories", n)


def publish_lines(preview: PublishPreview) -> list[str]:
    """What publishing (version 1) or a correction (a later version) will do."""
    if preview.snapshot is None:
        return []
    lines = _correction_lines(preview) if preview.previous is not None else _first_lines(preview)
    if preview.acknowledged:
        lines.append(
            ngettext(
                "%(num)d acknowledged fairness check is recorded with this version (for the "
                "organisers, not public).",
                "%(num)d acknowledged fairness checks are recorded with this version (for the "
                "organisers, not public).",
                preview.acknowledged,
            )
        )
    dropped = len(preview.snapshot.get("dropped_sheets", []))
    if dropped:
        lines.append(
            ngettext(
                "%(num)d dropped score sheet is stated in the results and the Berita Acara; the "
                "public page says only that a judge's sheet was dropped.",
                "%(num)d dropped score sheets are stated in the results and the Berita Acara; "
                "the public page says only that a judge's sheet was dropped.",
                dropped,
            )
        )
    return lines


def _first_lines(preview: PublishPreview) -> list[str]:
    snapshot = preview.snapshot
    categories = snapshot["categories"]
    entries = sum(len(c["entries"]) for c in categories)
    awards = sum(1 for c in categories for e in c["entries"] if e.get("award"))
    awards += len(snapshot.get("special_awards", []))
    return [
        _(
            "The results of %(entries)s in %(categories)s are published to the public.",
            entries=_entries(entries),
            categories=_categories(len(categories)),
        ),
        ngettext(
            "%(num)d award (ranks and special awards); winner certificates can then be issued.",
            "%(num)d awards (ranks and special awards); winner certificates can then be issued.",
            awards,
        ),
        _(
            "The ranking, the totals, the awards, the rubric and a SHA-256 digest of every "
            "score are frozen as version 1: later score changes do not alter it, only a "
            "correction (ralat) with its reason does."
        ),
        _("The event moves to the Published phase."),
    ]


def _correction_lines(preview: PublishPreview) -> list[str]:
    counts = Counter(change.field for change in preview.changes)
    parts = []
    labels = {
        "rank": lambda n: ngettext("%(num)d rank changes", "%(num)d ranks change", n),
        "award": lambda n: ngettext("%(num)d award changes", "%(num)d awards change", n),
        "total": lambda n: ngettext("%(num)d total changes", "%(num)d totals change", n),
        "band": lambda n: ngettext("%(num)d band changes", "%(num)d bands change", n),
        "added": lambda n: ngettext("%(num)d entry added", "%(num)d entries added", n),
        "removed": lambda n: ngettext("%(num)d entry removed", "%(num)d entries removed", n),
        "special_award": lambda n: ngettext(
            "%(num)d special award changes", "%(num)d special awards change", n
        ),
        "scores": lambda _n: _("the scores differ"),
        "method": lambda _n: _("the method or the rubric differs"),
    }
    for field, label in labels.items():
        if counts.get(field):
            parts.append(label(counts[field]))
    lines = [
        _(
            "Version %(new)d replaces version %(old)d: %(summary)s.",
            new=preview.version,
            old=preview.previous.version,
            summary=", ".join(parts) or _("no change"),
        )
    ]
    described = [describe_change(c) for c in preview.changes]
    lines += described[:MAX_CHANGE_LINES]
    if len(described) > MAX_CHANGE_LINES:
        lines.append(
            ngettext(
                "… and %(num)d more change.",
                "… and %(num)d more changes.",
                len(described) - MAX_CHANGE_LINES,
            )
        )
    lines.append(
        _(
            "The public page shows version %(new)d with your reason; version %(old)d stays "
            "readable with what changed.",
            new=preview.version,
            old=preview.previous.version,
        )
    )
    award_changes = counts.get("award", 0) + counts.get("special_award", 0)
    if award_changes:
        lines.append(
            ngettext(
                "%(num)d award changes: certificates already issued are not changed; revoke "
                "or reissue them on the certificates page.",
                "%(num)d awards change: certificates already issued are not changed; revoke "
                "or reissue them on the certificates page.",
                award_changes,
            )
        )
    return lines


def announce_lines(preview: AnnouncePreview, tz: str) -> list[str]:
    """What announcing the provisional results will do."""
    if preview.closes_at is not None:
        first = ngettext(
            "%(num)d finalist sees the provisional results and may file objections until %(when)s.",
            "%(num)d finalists see the provisional results and may file objections until %(when)s.",
            preview.finalists,
            when=when(preview.closes_at, tz),
        )
    else:
        first = ngettext(
            "%(num)d finalist sees the provisional results and may file objections until the "
            "time you set.",
            "%(num)d finalists see the provisional results and may file objections until the "
            "time you set.",
            preview.finalists,
        )
    lines = [first]
    if preview.previous is not None:
        lines.append(
            _(
                "Version %(new)d of the provisional results replaces version %(old)d; the "
                "objection window runs to the new time.",
                new=preview.version,
                old=preview.previous.version,
            )
        )
    lines.append(_("The provisional ranking is not public: only the finalists see it."))
    lines.append(_("Publishing is refused while an objection is open: each must be decided first."))
    return lines
