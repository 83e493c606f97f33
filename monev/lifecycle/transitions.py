"""Moving an event from one phase to another, only when the checklist allows it.

A forward move first records what deadlines have decided (:func:`standing.sweep`), then
refuses every *block* of :func:`readiness.readiness` and every *warning* the organiser did
not acknowledge; the blocks seen, the warnings acknowledged and the consequences stated go
into the audit log with the move. A move back is allowed where ``TRANSITIONS`` allows it
and states what it undoes.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monev.audit import services as audit
from monev.core.errors import ServiceError, require_confirmation
from monev.core.templating import STATUS_LABELS
from monev.entries import standing
from monev.entries.models import Entry
from monev.events import services as event_services
from monev.events.models import STATUSES, Event
from monev.extensions import db
from monev.lifecycle.readiness import BLOCK, Check, Readiness, readiness
from monev.notify import tell

# What a move back undoes, said before it happens.
BACK_CONSEQUENCES = {
    "draft": _l("The event is hidden again from operators; nominations stay."),
    "nomination": _l("KIMs can no longer upload; what they uploaded is kept."),
    "submission": _l("Submissions open again until the window closes; verification stops."),
    "verification": _l("Judges can no longer open or change score sheets; their drafts are kept."),
    "judging": _l("Judges can change their sheets again; the computed ranking is no longer final."),
}


def is_forward(event: Event, target: str) -> bool:
    return target in STATUSES and STATUSES.index(target) > event.status_index()


def allowed_targets(event: Event) -> tuple[str, ...]:
    return event_services.TRANSITIONS.get(event.status, ())


def preview(event: Event, target: str) -> Readiness:
    """The checklist and consequences of moving ``event`` to ``target`` (nothing changes)."""
    if target not in allowed_targets(event):
        refused = _(
            "The event cannot move from %(old)s to %(new)s.",
            old=str(STATUS_LABELS.get(event.status, event.status)),
            new=str(STATUS_LABELS.get(target, target)),
        )
        return Readiness(target, (Check("not_allowed", BLOCK, refused),))
    if is_forward(event, target):
        return readiness(event, target)
    return Readiness(target, (), (str(BACK_CONSEQUENCES[target]),))


def move(actor, event: Event, target: str, *, acknowledged: set[str], confirmed: bool) -> None:
    """Move ``event`` to ``target`` after the confirmation step, or refuse with the reason."""
    stated = check = preview(event, target)  # what the confirmation page said
    if target not in allowed_targets(event):
        raise ServiceError(check.blocks[0].message, status=409)
    require_confirmation(confirmed)
    if is_forward(event, target):
        standing.sweep(event)
        check = readiness(event, target)  # after the sweep: what the move will really find
        if check.blocks:
            raise ServiceError(" ".join(c.message for c in check.blocks), status=409)
        missing = check.unacknowledged(acknowledged)
        if missing:
            raise ServiceError(
                _(
                    "Acknowledge each warning before moving on: %(warnings)s",
                    warnings=" ".join(c.message for c in missing),
                ),
                field="acknowledge",
                status=409,
            )
    old = event.status
    event_services.move_status(event, target)
    if target == "submission" and STATUSES.index(old) < STATUSES.index(target):
        _tell_submission_opened(event)
    audit.record(
        "event.move_confirmed",
        "event",
        event.id,
        {
            "status": [old, target],
            "warnings_acknowledged": sorted(c.code for c in check.warnings),
            "consequences": list(stated.consequences),
        },
        actor=actor,
    )


def _tell_submission_opened(event: Event) -> None:
    finalists = db.session.scalars(
        select(Entry).where(Entry.event_id == event.id, Entry.nomination_status == "accepted")
    ).all()
    stage = standing.first_stage(event)
    tell.submission_opened(event, finalists, stage.closes_at if stage else None)
