"""Publishing results and the jury's special awards. :func:`publish` stores a snapshot as a
new :class:`PublishedResult` version: the first moves the event to "published"; each later
one is a correction (*ralat*) that needs a reason and keeps the versions before it.

:func:`preview` is its confirmation step (what the version would be, how it differs from the
one before, and :func:`problems`: every reason it is refused now, which the readiness
checklist shows too). :func:`publish` refuses the same problems whatever the form says, and
without the ticked confirmation.

Services flush; the request (or the CLI command) commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from monev.audit import services as audit
from monev.core.errors import ServiceError, require_confirmation
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from monev.notify import tell
from monev.results import acknowledgements, queries
from monev.results.computing import Computed, compute, unfinished_sheets
from monev.results.models import PublishedResult, SpecialAward
from monev.results.snapshot import Change, build_snapshot, snapshot_changes

PUBLISHABLE = ("results", "published")
REASON_MAX = 2000


# --- publication --------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why publishing is refused now, and where it is fixed (an endpoint of the app)."""

    code: str
    message: str
    endpoint: str | None = None
    args: dict = field(default_factory=dict)


@dataclass
class PublishPreview:
    """What publishing now would do (the confirmation step), or why it cannot."""

    computed: Computed
    problems: list[Problem]
    previous: PublishedResult | None
    snapshot: dict | None
    changes: list[Change]  # from the previous version (a correction)
    acknowledged: int  # fairness checks acknowledged, recorded with the version

    @property
    def version(self) -> int:
        return self.previous.version + 1 if self.previous else 1


def objections_problem(count: int) -> str:
    return ngettext(
        "%(num)d objection is still open: decide it first.",
        "%(num)d objections are still open: decide them first.",
        count,
    )


def problems(event: Event, computed: Computed) -> list[Problem]:
    """Every reason publishing is refused now (the publish service, its confirmation step
    and the readiness checklist say the same)."""
    slug = {"slug": event.slug}
    found: list[Problem] = []
    if event.status not in PUBLISHABLE:
        found.append(
            Problem(
                "not_results_phase",
                _("Results can be published once the event is in the Results phase."),
                "events.detail",
                slug,
            )
        )
    still_open = queries.open_objections(event.id)
    if still_open:
        found.append(
            Problem(
                "objections_open",
                objections_problem(still_open),
                "results.index",
                {**slug, "_anchor": "objections"},
            )
        )
    if computed.results is None:
        found.append(Problem("not_computable", computed.problem, "results.index", slug))
        return found
    missing = unfinished_sheets(computed.data)
    if missing:
        found.append(
            Problem(
                "sheets_not_final",
                _(
                    "Judging is not finished: %(n)d assigned score sheets are not final.",
                    n=missing,
                ),
                "judging.index",
                slug,
            )
        )
    unread = acknowledgements.unacknowledged(computed)
    if unread:
        found.append(
            Problem(
                "fairness_unacknowledged",
                acknowledgements.refusal(len(unread)),
                "results.index",
                {**slug, "_anchor": "fairness"},
            )
        )
    return found


def preview(event: Event) -> PublishPreview:
    """The confirmation step of publishing: the problems, or the version it would make and
    how it differs from the one before. Nothing changes."""
    computed = compute(event)
    found = problems(event, computed)
    previous = queries.latest(event.id)
    snapshot = build_snapshot(computed) if computed.results is not None else None
    changes = snapshot_changes(previous.snapshot, snapshot) if previous and snapshot else []
    if previous is not None and snapshot is not None and previous.snapshot == snapshot:
        found.append(
            Problem(
                "unchanged",
                _(
                    "Nothing has changed since version %(version)d: a correction is published "
                    "only when the results or scores differ.",
                    version=previous.version,
                ),
            )
        )
    acknowledged = len(acknowledgements.recorded(computed)) if computed.results else 0
    return PublishPreview(computed, found, previous, snapshot, changes, acknowledged)


def publish(event: Event, *, actor, reason: str | None = None, confirmed: bool) -> PublishedResult:
    """Freeze the event's current results as a new published version, by ``actor`` (the
    signed-in user, or None for the command line: "system"), after its confirmation step
    (``confirmed``; the command line is its own).

    The first version moves the event from "results" to "published". Every later version is
    a correction (*ralat*): it needs a reason and must differ from the version before it.
    Refused (whatever the form says) outside the Results phase, while an objection is open,
    while an assigned sheet is neither final nor dropped, and while a fairness check has not
    been acknowledged with a note for the current scores.
    """
    computed = compute(event)
    found = problems(event, computed)
    if found:
        raise ServiceError(" ".join(p.message for p in found), status=409)
    reason = (reason or "").strip() or None
    previous = queries.latest(event.id)
    if previous is not None and not reason:
        raise ServiceError(
            _("A correction (ralat) needs a reason: say what was wrong and what changed."),
            field="reason",
        )
    if reason and len(reason) > REASON_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=REASON_MAX), field="reason")
    snapshot = build_snapshot(computed)
    if previous is not None and previous.snapshot == snapshot:
        raise ServiceError(
            _(
                "Nothing has changed since version %(version)d: a correction is published "
                "only when the results or scores differ.",
                version=previous.version,
            ),
            status=409,
        )
    require_confirmation(confirmed)
    recorded = acknowledgements.recorded(computed)
    published = PublishedResult(
        event_id=event.id,
        version=previous.version + 1 if previous else 1,
        created_by_id=getattr(actor, "id", None),
        reason=reason,
        digest=snapshot["digest"],
        snapshot=snapshot,
        acknowledgements=recorded,
    )
    db.session.add(published)
    db.session.flush()
    changes = snapshot_changes(previous.snapshot, snapshot) if previous else []
    audit.record(
        "results.published",
        "event",
        event.id,
        {
            "version": published.version,
            "digest": published.digest,
            "reason": reason,
            "changes": len(changes),
            "fairness_acknowledged": [a["key"] for a in recorded],
            "dropped_sheets": len(snapshot.get("dropped_sheets", [])),
        },
        actor=actor,
    )
    if event.status == "results":
        event.status = "published"
        audit.record(
            "event.status_changed",
            "event",
            event.id,
            {"status": ["results", "published"]},
            actor=actor,
        )
    _tell_published(event, snapshot, published.version)
    return published


def outcome_lines(snapshot: dict) -> dict[str, str]:
    """Each ranked or left-out entry's outcome in words, by entry code: "Juara I, peringkat 1,
    nilai 86,40", "peringkat 5, nilai 72,10", "tidak lolos ke tahap Presentasi"."""
    out = {}
    for category in snapshot.get("categories", []):
        for row in category["entries"]:
            total = f"{row['total']:.2f}".replace(".", ",") if row.get("total") is not None else "-"
            if row.get("not_selected"):
                text = _(
                    "not selected for the stage %(stage)s (total so far %(total)s)",
                    stage=row["not_selected"].get("stage_name") or "-",
                    total=total,
                )
            elif row.get("rank"):
                text = _("rank %(rank)d, total %(total)s", rank=row["rank"], total=total)
                if row.get("award"):
                    text = f"{row['award']}, {text}"
            else:
                text = _("not ranked (incomplete scores)")
            out[row["code"]] = f"{category['name']}: {text}"
    return out


def _tell_published(event: Event, snapshot: dict, version: int) -> None:
    """Every KIM that took part learns its own outcome (and that its rapor is ready), each
    district's operators their KIMs' outcomes."""
    outcomes = outcome_lines(snapshot)
    entries = db.session.scalars(
        select(Entry)
        .where(Entry.event_id == event.id, Entry.code.in_(list(outcomes)))
        .options(joinedload(Entry.kim))
        .order_by(Entry.code)
    ).all()
    tell.results_published(event, {e.id: outcomes[e.code] for e in entries}, entries, version)
    tell.rapors_ready(event, entries)


# --- special awards -----------------------------------------------------------------------


def add_special_award(event: Event, *, entry_id: int, title: str, justification: str, actor):
    """A special award (e.g. "KIM Terinovatif") for one accepted entry, with the jury's
    justification, given by ``actor``. It appears in the results from the next publication
    on."""
    from sqlalchemy import select

    title, justification = (title or "").strip(), (justification or "").strip()
    if not title:
        raise ServiceError(_("Name the award, e.g. KIM Terinovatif."), field="title")
    if not justification:
        raise ServiceError(
            _("Record the jury's justification for this award."), field="justification"
        )
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.event_id != event.id or entry.nomination_status != "accepted":
        raise ServiceError(_("Choose a finalist entry of this event."), field="entry_id")
    if entry.standing not in standing.TAKEN_PART:
        raise ServiceError(
            _("%(code)s took no part in the judging and cannot receive an award.", code=entry.code),
            field="entry_id",
        )
    taken = db.session.scalar(
        select(SpecialAward.id).where(
            SpecialAward.event_id == event.id, SpecialAward.title == title
        )
    )
    if taken is not None:
        raise ServiceError(_("This event already has an award with this name."), field="title")
    award = SpecialAward(
        event_id=event.id,
        entry_id=entry.id,
        title=title,
        justification=justification,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(award)
    db.session.flush()
    audit.record(
        "special_award.added",
        "event",
        event.id,
        {"title": title, "entry": entry.code, "justification": justification},
        actor=actor,
    )
    return award


def remove_special_award(event: Event, award_id: int) -> None:

    award = db.session.get(SpecialAward, award_id)
    if award is None or award.event_id != event.id:
        raise ServiceError(_("This award does not exist."), status=404)
    audit.record("special_award.removed", "event", event.id, {"title": award.title})
    db.session.delete(award)
    db.session.flush()
