"""The judging blueprints and what their views share."""

from __future__ import annotations

from flask import Blueprint

from monev.core import access
from monev.core.views import download, event_row, load_event
from monev.events import queries as event_queries
from monev.events.models import Event, Stage

judge_bp = Blueprint("judge", __name__, url_prefix="/judge")
access.blueprint_roles(judge_bp, access.JUDGE)

schedule_bp = Blueprint("schedule", __name__, url_prefix="/schedule")
access.blueprint_roles(schedule_bp, access.JUDGE, access.KIM)

bp = Blueprint("judging", __name__, url_prefix="/admin/events/<slug>/judging")
access.blueprint_roles(bp, access.ADMIN)
load_event(bp, lookup=event_queries.get_by_slug)


def stage_of(event: Event, stage_id: int) -> Stage:
    """The stage of the URL, a stage of ``event`` (404 otherwise)."""
    return event_row(event, Stage, stage_id)


def printable(form: tuple[bytes, str] | str):
    """A blank paper form (``monev.judging.paper.printable_form``): the PDF as a download,
    or the page to print where WeasyPrint is missing."""
    if isinstance(form, str):
        return form
    pdf, name = form
    return download(pdf, name, "application/pdf")
