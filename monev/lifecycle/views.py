"""The organiser's lifecycle pages.

- The confirmation step of every phase move: the checklist, the consequences with numbers,
  then the move. A full page without JavaScript; the event page opens it in a ``<dialog>``
  through htmx.
- One entry's standing: what it is and why, its history, and the audited actions
  (disqualify with a reason category, withdraw, reinstate).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from monev.audit.models import AuditEntry
from monev.core import access
from monev.core.templating import STATUS_LABELS
from monev.core.views import confirmation, event_row, form_flow, load_event, see_other
from monev.entries import standing
from monev.entries.models import Entry
from monev.events import queries as event_queries
from monev.events.models import STATUSES, Event
from monev.extensions import db
from monev.lifecycle import transitions
from monev.lifecycle.forms import DisqualifyForm, MoveForm, StandingNoteForm

bp = Blueprint("lifecycle", __name__, url_prefix="/admin/events")
access.blueprint_roles(bp, access.ADMIN)
load_event(bp, lookup=event_queries.get_by_slug)


def _page(event, target, form):
    check = transitions.preview(event, target)
    form.fill(check.warnings)
    return confirmation(
        "lifecycle/_move.html",
        title=_("Phase of %(event)s", event=event.title),
        back_url=url_for("events.detail", slug=event.slug),
        back_label=event.title,
        event=event,
        target=target,
        target_label=STATUS_LABELS.get(target, target),
        forward=transitions.is_forward(event, target),
        check=check,
        form=form,
    )


@bp.route("/<slug>/phase/<target>", methods=["GET", "POST"])
def move(event: Event, target: str):
    if target not in STATUSES:
        abort(404)
    form = MoveForm()
    return form_flow(
        form,
        lambda: transitions.move(
            current_user,
            event,
            target,
            acknowledged=set(form.acknowledge.data or ()),
            confirmed=bool(form.confirm.data),
        ),
        render=lambda: _page(event, target, form),
        message=_(
            "The event is now in the %(status)s phase.", status=STATUS_LABELS.get(target, target)
        ),
        done=lambda _result: see_other(url_for("events.detail", slug=event.slug)),
    )


# --- an entry's standing ------------------------------------------------------------------


def _disqualify(form, entry):
    standing.disqualify(current_user, entry, form.reason.data, form.note.data)


def _withdraw(form, entry):
    standing.withdraw(current_user, entry, form.note.data)


def _reinstate(form, entry):
    standing.reinstate(current_user, entry, form.note.data)


# action -> (form class, form prefix, service call)
ACTIONS = {
    "disqualify": (DisqualifyForm, "", _disqualify),
    "withdraw": (StandingNoteForm, "withdraw", _withdraw),
    "reinstate": (StandingNoteForm, "reinstate", _reinstate),
}


def _entry(event: Event, entry_id: int) -> Entry:
    entry = event_row(event, Entry, entry_id)
    if entry.nomination_status != "accepted":
        abort(404)
    return entry


def _standing_page(entry: Entry, forms: dict | None = None):
    forms = forms or {}
    history = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "entry",
            AuditEntry.object_id == str(entry.id),
            AuditEntry.action == "entry.standing_changed",
        )
        .order_by(AuditEntry.seq)
    ).all()
    return render_template(
        "lifecycle/standing.html",
        event=entry.event,
        entry=entry,
        now=standing.standing_of(entry),
        history=history,
        labels=standing.LABELS,
        reasons=standing.REASONS,
        forms={
            action: forms.get(action) or form_class(formdata=None, prefix=prefix)
            for action, (form_class, prefix, _act) in ACTIONS.items()
        },
    )


@bp.route("/<slug>/entries/<int:entry_id>/standing")
def standing_page(event: Event, entry_id: int):
    return _standing_page(_entry(event, entry_id))


@bp.route("/<slug>/entries/<int:entry_id>/standing/<action>", methods=["POST"])
def change_standing(event: Event, entry_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    entry = _entry(event, entry_id)
    form_class, prefix, act = ACTIONS[action]
    form = form_class(prefix=prefix)
    return form_flow(
        form,
        lambda: act(form, entry),
        render=lambda: _standing_page(entry, {action: form}),
        message=lambda _result: _(
            "The standing of %(code)s is now: %(standing)s.",
            code=entry.code,
            standing=standing.standing_of(entry).label,
        ),
        done=lambda _result: see_other(
            url_for("lifecycle.standing_page", slug=event.slug, entry_id=entry.id)
        ),
    )
