"""Verification: the organiser marks a submitted entry complete, or sends it back for fixes
with a personal deadline (the KIM is told: ``monev.notify``)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from monev.audit import services as audit
from monev.core.access import ADMIN
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.core.timezones import to_utc
from monev.entries.models import Entry
from monev.entries.workspace.services import (
    NOTE_MAX,
    STATUS_LABELS,
    VERIFYING_PHASES,
    lock_entry,
)
from monev.events.models import Event
from monev.extensions import db
from monev.notify import tell


def _require_admin(user) -> None:
    if user.role != ADMIN:
        raise ServiceError(_("Only the organiser verifies entries."), status=403)


def _require_verifying(event: Event) -> None:
    if event.status not in VERIFYING_PHASES:
        raise ServiceError(
            _("Entries can be verified only in the submission and verification phases."),
            status=409,
        )


def verify(user, entry: Entry) -> Entry:
    _require_admin(user)
    entry = lock_entry(entry)
    _require_verifying(entry.event)
    if entry.submission_status != "submitted":
        raise ServiceError(
            _(
                "Only a submitted entry can be marked complete; this one is: %(status)s.",
                status=STATUS_LABELS[entry.submission_status],
            ),
            status=409,
        )
    entry.submission_status = "verified"
    entry.verified_at = utcnow()
    entry.verified_by_id = user.id
    db.session.flush()
    audit.record(
        "entry.verified",
        "entry",
        entry.id,
        {"code": entry.code, "status": ["submitted", "verified"]},
    )
    tell.entry_verified(entry)
    return entry


def send_back(user, entry: Entry, note: str | None, deadline_local: datetime | None) -> Entry:
    """Return a submitted (or verified) entry for fixes, with a note the KIM reads and a
    personal deadline (``deadline_local``: wall-clock time in the event's zone)."""
    _require_admin(user)
    entry = lock_entry(entry)
    event = entry.event
    _require_verifying(event)
    if entry.submission_status not in ("submitted", "verified"):
        raise ServiceError(
            _(
                "Only a submitted or verified entry can be sent back; this one is: %(status)s.",
                status=STATUS_LABELS[entry.submission_status],
            ),
            status=409,
        )
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Write what the KIM must fix: it is sent to them."), field="note")
    if len(note) > NOTE_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=NOTE_MAX), field="note")
    if deadline_local is None:
        raise ServiceError(_("Set the deadline for the fixes."), field="deadline")

    deadline = to_utc(deadline_local, event.timezone)
    if deadline <= utcnow():
        raise ServiceError(_("The deadline must be in the future."), field="deadline")
    before = {"status": entry.submission_status, "deadline": entry.personal_deadline}
    entry.submission_status = "returned"
    entry.returned_note = note
    entry.returned_at = utcnow()
    entry.personal_deadline = deadline
    entry.verified_at = None
    entry.verified_by_id = None
    db.session.flush()
    audit.record(
        "entry.returned",
        "entry",
        entry.id,
        {
            "code": entry.code,
            "note": note,
            **audit.diff(before, {"status": "returned", "deadline": deadline}),
        },
    )
    tell.entry_returned(entry, note, deadline, entry.returned_at.isoformat())
    return entry
