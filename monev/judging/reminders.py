"""Reminders to judges with score sheets still to finalise: sent by the organiser at any
time (by e-mail), and automatically 3 days and 1 day before the stage closes."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import select

from monev import jobs
from monev.audit import services as audit
from monev.auth import services as auth_services
from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import queries
from monev.judging.sheets import format_moment
from monev.mail import services as mail
from monev.notify import tell


def send_reminders(stage: Stage) -> int:
    """E-mail every judge of the stage with sheets still to finalise; returns how many."""
    event = stage.event
    missing = queries.judges_missing_sheets(stage)
    for judge, entries in missing:
        if not judge.active:
            continue
        mail.send_template(
            judge.email,
            _("Reminder: score sheets to finalise for %(event)s", event=event.title),
            "mail/judging_reminder.txt",
            judge=judge,
            event=event,
            stage=stage,
            labels=[queries.entry_label_for_judges(e, event) for e in entries],
            deadline=format_moment(stage.closes_at, event.timezone) if stage.closes_at else None,
            link=auth_services.external_url("judge.index"),
        )
    audit.record(
        "judging.reminded",
        "stage",
        stage.id,
        {"judges": sorted(j.email for j, _e in missing if j.active)},
    )
    return sum(1 for j, _e in missing if j.active)


def remind_stage(stage: Stage, now: datetime | None = None) -> int:
    """Record the H-3 / H-1 reminders due now for judges with sheets not final; returns how
    many. Once per judge, stage and closing time (``monev.notify``)."""
    now = now or utcnow()
    if stage.closes_at is None or stage.closes_at <= now:
        return 0
    left = stage.closes_at - now
    days = 1 if left <= timedelta(days=1) else 3 if left <= timedelta(days=3) else None
    if days is None:
        return 0
    return sum(
        tell.judging_reminder(judge, stage, days, len(entries))
        for judge, entries in queries.judges_missing_sheets(stage)
        if judge.active
    )


@jobs.periodic_task(crontab(minute="*/15"))
def remind_judges() -> None:
    """Every 15 minutes, for each stage of the events being judged (its own transaction)."""
    ids = db.session.scalars(
        select(Stage.id).join(Event, Event.id == Stage.event_id).where(Event.status == "judging")
    ).all()
    db.session.rollback()
    for stage_id in ids:
        with write_intent():
            stage = db.session.get(Stage, stage_id)
            if stage is not None:
                remind_stage(stage)
            db.session.commit()
