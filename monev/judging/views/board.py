"""The organiser's progress board of a stage (/admin/events/<slug>/judging/stages/<id>/
progress) and its pages per judge and per entry.

The board follows the judging live: htmx polls it every :data:`POLL_SECONDS` seconds, sending
the ``ETag`` of what it shows (``If-None-Match``, set by static/js/app.js). A poll costs one
query beyond the request's own (:func:`monev.judging.versions.current`): when nothing
changed it is answered ``304 Not Modified`` with no body, and htmx keeps the board
(``htmx-config`` in base.html does not swap a 304). When something changed, the board is
rendered once per version and language and served from this process's
:class:`~monev.judging.renders.RenderCache` to everyone who polls; see that module for how
polls share one render while the version changes with every save.

The cached board holds no one's CSRF token: it has :data:`CSRF_SLOT` where a form needs one,
replaced by the requester's own token as it is sent. It says when its newest change was
("Updated 14.02.31 WITA") and that it follows live.

Larger than a screen (:data:`~monev.judging.queries.progress.GRID_MAX_JUDGES` judges or
:data:`~monev.judging.queries.progress.GRID_MAX_ENTRIES` entries), the board is a summary
per judge and per entry, the most missing first, each linking to a page of its own sheets
(:func:`judge_sheets`, :func:`entry_sheets`; plain links, no JavaScript needed).
"""

from __future__ import annotations

import re
import time

from flask import Response, abort, current_app, make_response, render_template, request
from flask_babel import format_time, get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from monev.core.forms import EmptyForm
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local
from monev.core.views import event_row, wants_fragment
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.judging import queries, versions
from monev.judging.renders import RenderCache, Rendered, etag_of
from monev.judging.views.blueprints import bp, stage_of
from monev.judging.views.sheets import SHEET_STATE_LABELS

POLL_SECONDS = 5
CSRF_SLOT = "__monev_board_csrf_token__"
boards = RenderCache(size=64)  # this process's rendered boards (see monev.judging.renders)
_ORDER = re.compile(r"^(\d+)-")


def _labels() -> dict[str, str]:
    """The states' names, translated once for a whole render (not once per cell)."""
    return {state: str(text) for state, text in SHEET_STATE_LABELS.items()}


def _moment(event: Event, version: versions.Version) -> str:
    """When the newest change the board shows was made, in the event's time zone."""
    local = to_local(version.changed_at, event.timezone)
    return format_time(local, "medium", rebase=False) if local else ""


def _render_board(event: Event, stage: Stage, version: versions.Version, tag: str) -> Rendered:
    board = queries.progress_board(stage)  # read after the version: never older than it
    html = render_template(
        "judging/_board.html",
        event=event,
        stage=stage,
        board=board,
        labels=_labels(),
        etag=f'W/"{tag}"',
        updated=_moment(event, version),
        tz=tz_label(event.timezone),
        to_local=to_local,
        form_token=CSRF_SLOT,
        poll_seconds=POLL_SECONDS,
    )
    return Rendered(html, tag, time.monotonic(), version.n)


def _not_modified(tag: str) -> Response:
    response = Response(status=304)
    response.set_etag(tag, weak=True)
    return response


def _client_order() -> int:
    """The version of the board the poll already shows (the number its ETag starts with)."""
    orders = [int(m.group(1)) for t in request.if_none_match.as_set(True) if (m := _ORDER.match(t))]
    return max(orders, default=0)


@bp.route("/stages/<int:stage_id>/progress")
def progress(event: Event, stage_id: int):
    stage = stage_of(event, stage_id)
    version = versions.current(event.id)
    family = ("board", event.id, event.created_at, stage.id, str(get_locale()))
    key = (*family, version.token, event.status, event.timezone)
    tag = f"{version.n}-{etag_of(key)}"
    polling = wants_fragment()
    if polling and request.if_none_match.contains_weak(tag):
        return _not_modified(tag)
    rendered = boards.get(
        family,
        key,
        lambda: _render_board(event, stage, version, tag),
        reuse_for=current_app.config["BOARD_REUSE_SECONDS"] if polling else 0.0,
        at_least=_client_order() if polling else 0,
    )
    if polling and request.if_none_match.contains_weak(rendered.etag):
        return _not_modified(rendered.etag)
    board_html = Markup(rendered.html.replace(CSRF_SLOT, generate_csrf()))  # noqa: S704 - our render
    if polling:
        response = make_response(board_html)
    else:
        response = make_response(
            render_template(
                "judging/progress.html",
                event=event,
                stage=stage,
                board_html=board_html,
                post_form=EmptyForm(formdata=None),
                poll_seconds=POLL_SECONDS,
            )
        )
    response.set_etag(rendered.etag, weak=True)
    return response


def _summary_page(template: str, event: Event, stage: Stage, drill, **context):
    return render_template(
        template,
        event=event,
        stage=stage,
        drill=drill,
        labels=_labels(),
        updated=_moment(event, versions.current(event.id)),
        tz=tz_label(event.timezone),
        to_local=to_local,
        **context,
    )


@bp.route("/stages/<int:stage_id>/progress/judges/<int:judge_id>")
def judge_sheets(event: Event, stage_id: int, judge_id: int):
    """One judge's sheets of the stage, the unfinished first, each with its actions."""
    stage = stage_of(event, stage_id)
    member = queries.event_judge(event.id, judge_id)
    drill = queries.judge_board(stage, judge_id)
    if member is None and not drill.sheets:
        abort(404)
    name = member.user.name if member else drill.sheets[0].judge
    return _summary_page("judging/progress_judge.html", event, stage, drill, name=name)


@bp.route("/stages/<int:stage_id>/progress/entries/<int:entry_id>")
def entry_sheets(event: Event, stage_id: int, entry_id: int):
    """One entry's sheets of the stage, one per judge, the unfinished first."""
    stage = stage_of(event, stage_id)
    entry = event_row(event, Entry, entry_id)
    drill = queries.entry_board(stage, entry)
    return _summary_page("judging/progress_entry.html", event, stage, drill, entry=entry)
