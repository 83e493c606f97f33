"""Verification (the organiser, /admin/events/<slug>/verification) and the districts'
progress (operators, /nominations/<slug>/progress)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core import access
from monev.core.timezones import label as tz_label
from monev.core.views import attempt, checked_post, form_flow, load_event, see_other
from monev.entries.models import SUBMISSION_STATUSES, Entry
from monev.entries.verification import queries as verification_queries
from monev.entries.verification import services as verification
from monev.entries.workspace import queries, services
from monev.entries.workspace.forms import ProfileForm, SendBackForm
from monev.events import queries as event_queries
from monev.events.models import Event

bp = Blueprint("verification", __name__)
access.blueprint_roles(bp, access.ADMIN)
# A draft event is 404 for operators: not announced yet.
load_event(bp, lookup=event_queries.get_by_slug)

ENTRY_ID = f"<int(max={2**31 - 1}):entry_id>"


def _status_filter() -> str | None:
    status = request.args.get("status") or None
    return status if status in SUBMISSION_STATUSES else None


@bp.route("/admin/events/<slug>/verification")
def queue(event: Event):
    status = _status_filter()
    return render_template(
        "verification/queue.html",
        event=event,
        rows=verification_queries.verification_queue(event.id, status),
        counts=verification_queries.status_counts(event.id),
        status=status,
        statuses=SUBMISSION_STATUSES,
        status_labels=services.STATUS_LABELS,
        can_verify=event.status in services.VERIFYING_PHASES,
        format_when=services.format_when,
    )


def _entry(event: Event, entry_id: int) -> Entry:
    entry = verification_queries.queue_entry(event.id, entry_id)
    if entry is None:
        abort(404)
    return entry


def _entry_page(event: Event, entry: Entry, *, form=None, error=None):
    criteria = queries.evidence_criteria(event.id)
    entry_items = queries.items(entry.id)
    checks = services.checklist(entry, criteria, entry_items)
    profile = ProfileForm(formdata=None)
    profile.fill(services.profile_values(entry))
    return render_template(
        "verification/entry.html",
        event=event,
        entry=entry,
        criteria=criteria,
        by_slot=queries.items_by_slot(entry_items),
        checks=checks,
        missing=services.missing_items(checks),
        profile=profile,
        form=form or SendBackForm(formdata=None),
        error=error,
        can_verify=event.status in services.VERIFYING_PHASES,
        status_labels=services.STATUS_LABELS,
        format_when=services.format_when,
        slot_label=lambda c: services.Slot(c).label,
        tz_label=tz_label(event.timezone),
    )


@bp.route(f"/admin/events/<slug>/verification/{ENTRY_ID}")
def entry(event: Event, entry_id: int):
    return _entry_page(event, _entry(event, entry_id))


def _to_queue(event: Event):
    return see_other(url_for("verification.queue", slug=event.slug))


@bp.route(f"/admin/events/<slug>/verification/{ENTRY_ID}/verify", methods=["POST"])
@checked_post
def verify(event: Event, entry_id: int):
    item = _entry(event, entry_id)
    _verified, error = attempt(lambda: verification.verify(current_user, item))
    if error is not None:
        return _entry_page(event, item, error=error.message), error.status
    flash(_("%(kim)s has been marked complete.", kim=item.kim.name), "success")
    return _to_queue(event)


@bp.route(f"/admin/events/<slug>/verification/{ENTRY_ID}/send-back", methods=["POST"])
def send_back(event: Event, entry_id: int):
    item = _entry(event, entry_id)
    form = SendBackForm()
    return form_flow(
        form,
        lambda: verification.send_back(current_user, item, form.note.data, form.deadline.data),
        render=lambda: _entry_page(event, item, form=form),
        message=_(
            "%(kim)s has been sent back for fixes; the KIM has been e-mailed.", kim=item.kim.name
        ),
        done=lambda _result: _to_queue(event),
    )


# --- operators: their district's finalists -------------------------------------------------


@bp.route("/nominations/<slug>/progress")
@access.roles(access.OPERATOR)
def progress(event: Event):
    rows = verification_queries.district_progress(event.id, current_user.district_id)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.entry.submission_status] = counts.get(row.entry.submission_status, 0) + 1
    stage = services.first_stage(event)
    return render_template(
        "verification/progress.html",
        event=event,
        district=current_user.district,
        rows=rows,
        counts=counts,
        statuses=SUBMISSION_STATUSES,
        status_labels=services.STATUS_LABELS,
        deadline=stage.closes_at if stage else None,
        format_when=services.format_when,
    )
