"""The confirmation step of every phase move (admin): the checklist, the consequences with
numbers, then the move. A full page without JavaScript; the event page opens it in a
``<dialog>`` through htmx."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core import access
from monev.core.errors import ServiceError
from monev.core.forms import attach_error
from monev.core.templating import STATUS_LABELS
from monev.events import queries as event_queries
from monev.events.models import STATUSES
from monev.extensions import htmx
from monev.lifecycle import transitions
from monev.lifecycle.forms import MoveForm

bp = Blueprint("lifecycle", __name__, url_prefix="/admin/events")
access.blueprint_roles(bp, access.ADMIN)


def _page(event, target, form, status=200):
    try:
        check = transitions.preview(event, target)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("events.detail", slug=event.slug), 303)
    form.fill(check.warnings)
    template = "lifecycle/_move.html" if htmx and not htmx.boosted else "lifecycle/move.html"
    return (
        render_template(
            template,
            event=event,
            target=target,
            target_label=STATUS_LABELS.get(target, target),
            forward=transitions.is_forward(event, target),
            check=check,
            form=form,
        ),
        status,
    )


@bp.route("/<slug>/phase/<target>", methods=["GET", "POST"])
def move(slug: str, target: str):
    event = event_queries.get_by_slug(slug)
    if event is None or target not in STATUSES:
        abort(404)
    form = MoveForm()
    if not form.is_submitted():
        return _page(event, target, MoveForm(formdata=None))
    if not form.validate():
        return _page(event, target, form, 422)
    try:
        transitions.move(
            current_user,
            event,
            target,
            acknowledged=set(form.acknowledge.data or ()),
            confirmed=bool(form.confirm.data),
        )
    except ServiceError as error:
        attach_error(form, error)
        return _page(event, target, form, error.status)
    flash(
        _("The event is now in the %(status)s phase.", status=STATUS_LABELS.get(target, target)),
        "success",
    )
    return redirect(url_for("events.detail", slug=event.slug), 303)
