"""Reminders to judges with score sheets still to finalise."""

from __future__ import annotations

from flask_babel import gettext as _

from monev.audit import services as audit
from monev.auth import services as auth_services
from monev.events.models import Stage
from monev.judging import queries
from monev.judging.sheets import format_moment
from monev.mail import services as mail


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
