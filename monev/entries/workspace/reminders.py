"""Reminders to KIMs that have not submitted: 3 days and 1 day before their deadline.

The deadline is the submission window's close, or the personal deadline of an entry sent
back for fixes. The periodic job runs every 15 minutes; each reminder is recorded once per
entry and deadline (``monev.notify``), so running again, or on two workers, sends nothing
twice, and a deadline that moves gets its own reminders.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from monev import jobs
from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.entries.models import Entry, Evidence
from monev.entries.workspace import queries
from monev.entries.workspace.services import checklist, first_stage, missing_items
from monev.events.models import Event
from monev.extensions import db
from monev.notify import tell

WINDOWS = ((1, timedelta(days=1)), (3, timedelta(days=3)))  # (days, within), nearest first


def due_window(deadline: datetime | None, now: datetime) -> int | None:
    """3 or 1 when ``deadline`` is within that many days from ``now``, else None."""
    if deadline is None or deadline <= now:
        return None
    left = deadline - now
    for days, within in WINDOWS:
        if left <= within:
            return days
    return None


def _deadline(entry: Entry, event: Event) -> datetime | None:
    if entry.submission_status == "returned":
        return entry.personal_deadline
    stage = first_stage(event)
    return stage.closes_at if stage else None


def remind_event(event: Event, now: datetime | None = None) -> int:
    """Record the reminders due now for the event's unsubmitted entries; returns how many."""
    now = now or utcnow()
    entries = db.session.scalars(
        select(Entry)
        .where(
            Entry.event_id == event.id,
            Entry.nomination_status == "accepted",
            Entry.standing == "active",
            Entry.submission_status.in_(("not_started", "in_progress", "returned")),
        )
        .options(joinedload(Entry.kim))
        .order_by(Entry.id)
    ).all()
    due = [(e, d, due_window(d, now)) for e in entries for d in [_deadline(e, event)]]
    due = [(e, d, days) for e, d, days in due if days is not None]
    if not due:
        return 0
    criteria = queries.evidence_criteria(event.id)
    evidence: dict[int, list[Evidence]] = {}
    for item in db.session.scalars(
        select(Evidence).where(Evidence.entry_id.in_([e.id for e, _d, _days in due]))
    ):
        evidence.setdefault(item.entry_id, []).append(item)
    made = 0
    for entry, deadline, days in due:
        checks = checklist(entry, criteria, evidence.get(entry.id, []))
        missing = len(missing_items(checks))
        with force_locale("id"):
            summary = (
                _("%(num)d of %(total)d items still missing", num=missing, total=len(checks))
                if missing
                else _("everything is complete: only the submit is missing")
            )
        made += tell.deadline_reminder(entry, days, deadline, summary)
    return made


@jobs.periodic_task(crontab(minute="*/15"))
def remind_unsubmitted() -> None:
    """Every 15 minutes, in each event taking submissions (or fixes), its own transaction."""
    ids = db.session.scalars(
        select(Event.id).where(Event.status.in_(("submission", "verification")))
    ).all()
    db.session.rollback()
    for event_id in ids:
        with write_intent():
            event = db.session.get(Event, event_id)
            if event is not None:
                remind_event(event)
            db.session.commit()
