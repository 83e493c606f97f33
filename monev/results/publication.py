"""Publishing results and the jury's special awards. :func:`publish` stores a snapshot as a
new :class:`PublishedResult` version: the first moves the event to "published"; each later
one is a correction (*ralat*) that needs a reason and keeps the versions before it.

Services flush; the request (or the CLI command) commits.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from monev.audit import services as audit
from monev.core.errors import ServiceError
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from monev.results import queries
from monev.results.computing import compute, unfinished_sheets
from monev.results.models import PublishedResult, SpecialAward
from monev.results.snapshot import build_snapshot, snapshot_changes

PUBLISHABLE = ("results", "published")


# --- publication --------------------------------------------------------------------------


def publish(event: Event, *, actor, reason: str | None = None) -> PublishedResult:
    """Freeze the event's current results as a new published version, by ``actor`` (the
    signed-in user, or None for the command line: "system").

    The first version moves the event from "results" to "published". Every later version is
    a correction (*ralat*): it needs a reason and must differ from the version before it.
    Refused while any assigned sheet is not final.
    """
    if event.status not in PUBLISHABLE:
        raise ServiceError(
            _("Results can be published once the event is in the Results phase."), status=409
        )
    still_open = queries.open_objections(event.id)
    if still_open:
        raise ServiceError(
            ngettext(
                "%(num)d objection is still open: decide it first.",
                "%(num)d objections are still open: decide them first.",
                still_open,
            ),
            status=409,
        )
    reason = (reason or "").strip() or None
    previous = queries.latest(event.id)
    if previous is not None and not reason:
        raise ServiceError(
            _("A correction (ralat) needs a reason: say what was wrong and what changed."),
            field="reason",
        )
    if reason and len(reason) > 2000:
        raise ServiceError(_("Use at most %(max)d characters.", max=2000), field="reason")
    computed = compute(event)
    if computed.results is None:
        raise ServiceError(computed.problem, status=409)
    missing = unfinished_sheets(computed.data)
    if missing:
        raise ServiceError(
            _(
                "Judging is not finished: %(n)d assigned score sheets are not final.",
                n=missing,
            ),
            status=409,
        )
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
    published = PublishedResult(
        event_id=event.id,
        version=previous.version + 1 if previous else 1,
        created_by_id=getattr(actor, "id", None),
        reason=reason,
        digest=snapshot["digest"],
        snapshot=snapshot,
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
    return published


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
