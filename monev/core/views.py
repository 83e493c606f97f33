"""What every view module shares: the form flow, full page or fragment, downloads, the event
of the URL, and the guard of buttons that post.

The transaction belongs to the request: ``monev.create_app``'s ``after_request`` hook commits
once when the answer is below 400 and rolls back otherwise. Views never commit or roll back.
A refused action (a :class:`~monev.core.errors.ServiceError`) is undone here, in a savepoint,
so the page shown after it reads what is stored; and the request is marked so the hook rolls
back even when the answer is a redirect. ``keep_changes=True`` is the one exception: what a
refused action recorded is committed (a failed sign-in is counted).

A view that reads first and writes little is marked :func:`reads_first`: its request starts
without SQLite's write lock, :func:`start_writing` takes it for the write, and
:func:`commit_before_answer` commits before an answer that only reads is rendered (the
request's own commit then has nothing left), so the lock is held only while the view writes.

Usage::

    form = KimForm()
    return form_flow(form, lambda: services.create_kim(current_user, form_data(form)),
                     render=lambda: render_template("directory/form.html", form=form),
                     done=lambda kim: redirect(url_for("directory.detail", kim_id=kim.id)))
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from functools import wraps
from io import BytesIO
from typing import IO, Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from monev.core import access, database
from monev.core.errors import ServiceError
from monev.core.forms import EmptyForm, attach_error, keep_changes_on_error
from monev.extensions import db, htmx

T = TypeVar("T")
Message = str | Callable[[Any], str] | None

INVALID = 422
"""The status of a form sent back with its errors (Unprocessable Content). htmx, as configured
in ``base.html``, swaps 422 answers into the page and no other 4xx."""

# --- the transaction of a refused action ---------------------------------------------------

READS_FIRST = "_monev_reads_first"


def reads_first(view):
    """Mark ``view`` (under its route): its unsafe requests start without write intent (the
    request hook reads the mark) and take the write lock at :func:`start_writing`. On SQLite a
    write before that point fails with "database is locked" rather than waiting in line."""
    setattr(view, READS_FIRST, True)
    return view


def start_writing() -> None:
    """The view of a :func:`reads_first` request writes from here on (on SQLite: what it
    read so far is kept, its reading transaction ends, the next begins with the write
    lock); the service it calls reads again, under its locks, whatever decides the write."""
    database.start_writing(db.session())


def commit_before_answer() -> None:
    """Commit the request's changes now, keeping what was loaded, and read without write
    intent after it: for a successful write whose answer only reads (an autosave's state),
    so that SQLite's write lock is not held while the answer renders. The request's own
    commit then finds nothing to do; an answer that fails to render no longer undoes the
    committed write (the client's next save sees its version)."""
    database.commit_keeping_loaded(db.session())
    database.set_write_intent(False)


def discard_changes() -> None:
    """Roll this request's transaction back whatever the answer's status (a refusal answered
    with a redirect, a preview that must change nothing)."""
    g.discard_changes = True


def attempt(
    action: Callable[[], T], *, keep_changes: bool = False, savepoint: bool = True
) -> tuple[T | None, Any]:
    """Run ``action``; return ``(result, None)``, or ``(None, error)`` when a service refused.

    A refusal undoes what the action did (its savepoint rolls back) and marks the request
    to roll back (:func:`discard_changes`). With ``keep_changes`` there is no savepoint and
    the request commits what the action recorded even though it answers with an error.
    ``savepoint=False`` is for an action that is all its request writes and whose refusal is
    answered without reading the database again (an autosave's): the request's rollback
    undoes it, and the two statements of a savepoint (two round trips on PostgreSQL) are
    spared on every call.
    """
    if not savepoint:
        try:
            return action(), None
        except ServiceError as error:
            discard_changes()
            return None, error
    if keep_changes:
        keep_changes_on_error()
        try:
            return action(), None
        except ServiceError as error:
            return None, error
    try:
        with db.session.begin_nested():
            result = action()
    except ServiceError as error:
        discard_changes()
        return None, error
    return result, None


def _text(message: Message, result) -> str | None:
    return message(result) if callable(message) else message


def _with_status(body: ResponseReturnValue, status: int) -> Response:
    response = make_response(body)
    response.status_code = status
    return response


# --- one form flow -------------------------------------------------------------------------


def form_flow(
    form,
    action: Callable[[], T],
    *,
    render: Callable[[], ResponseReturnValue],
    done: Callable[[T], ResponseReturnValue],
    message: Message = None,
    refused: Callable[[ServiceError], ResponseReturnValue] | None = None,
    keep_changes: bool = False,
) -> ResponseReturnValue:
    """The one flow of a form page (GET shows it, POST submits it):

    - not submitted: ``render()`` with 200;
    - submitted but invalid: ``render()`` with 422 (the form keeps the input and its errors);
    - ``action()`` raises :class:`ServiceError`: the error beside its field (or at the top
      of the form) and ``render()`` with the error's status; nothing the action did is kept;
    - success: ``message`` flashed (a string, or a function of the action's result) and
      ``done(result)`` answered, usually a redirect.

    ``render`` reads the form through its closure; its own status, if any, is replaced.
    ``refused(error)`` renders instead after a refusal where the page shows more of it than
    its message (the problems found in an uploaded file).
    """
    if not form.is_submitted():
        return _with_status(render(), 200)
    if not form.validate():
        return _with_status(render(), INVALID)
    result, error = attempt(action, keep_changes=keep_changes)
    if error is not None:
        attach_error(form, error)
        return _with_status(refused(error) if refused else render(), error.status)
    text = _text(message, result)
    if text:
        flash(text, "success")
    return done(result)


def button_action(
    action: Callable[[], T],
    *,
    to: str,
    message: Message = None,
    refused_to: str | None = None,
    code: int = 303,
) -> Response:
    """A button that posts (delete, send, apply): run ``action``, flash its ``message`` or
    the refusal, and redirect to ``to`` (a refusal to ``refused_to`` when given)."""
    result, error = attempt(action)
    if error is not None:
        flash(error.message, "error")
        return redirect(refused_to or to, code)
    text = _text(message, result)
    if text:
        flash(text, "success")
    return redirect(to, code)


def see_other(location: str) -> Response:
    """303 See Other: after a post, the browser GETs ``location``."""
    return redirect(location, 303)


def first_error(form, default: str = "") -> str:
    """The first message of an invalid form (its field errors, then its form errors)."""
    for errors in form.errors.values():
        for message in errors:
            if isinstance(message, str):
                return message
    return default


def checked_post(view):
    """For a button that posts only its CSRF token: a submitted request (POST) without a
    valid token is answered 400; GET passes.

    The global CSRF check already refuses a bad token for most views; this states the rule at
    the view and holds for views exempt from that check."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        form = EmptyForm()
        if form.is_submitted() and not form.validate():
            abort(400)
        return view(*args, **kwargs)

    return wrapper


# --- full page or fragment -----------------------------------------------------------------


def wants_fragment(target: str | None = None) -> bool:
    """An htmx request (``HX-Request``); with ``target``, one aimed at that element id
    (``HX-Target``)."""
    return bool(htmx) and (target is None or htmx.target == target)


def page_or_fragment(page: str, fragment: str | Mapping[str, str], /, **context) -> Response:
    """One URL, full page or fragment (STYLE 12).

    ``fragment`` is the partial for every htmx request, or a mapping ``{HX-Target: partial}``
    for pages whose parts refresh on their own (other htmx requests get the page). Caches are
    told the answer depends on ``HX-Request`` (the app adds that to every answer) and, with a
    mapping, on ``HX-Target``.
    """
    if isinstance(fragment, str):
        template = fragment if wants_fragment() else page
        response = make_response(render_template(template, **context))
    else:
        template = fragment.get(htmx.target or "", page) if wants_fragment() else page
        response = make_response(render_template(template, **context))
        response.vary.add("HX-Target")
    return response


def confirmation(fragment: str, /, *, title: str, back_url: str, back_label: str, **context):
    """The confirmation step of an irreversible action: ``fragment`` (built on the
    ``confirm_step`` macro of templates/macros/confirm.html) inside a <dialog> for htmx, or as
    a page of its own (templates/confirm_page.html) that works without JavaScript."""
    return page_or_fragment(
        "confirm_page.html",
        fragment,
        fragment=fragment,
        title=title,
        back_url=back_url,
        back_label=back_label,
        **context,
    )


def swap_in_place(html: str, *, refused: bool, trigger: str | None = None) -> Response:
    """An htmx fragment that replaces the part of the page it came from: with a refusal in
    it, :data:`INVALID` (the one 4xx htmx swaps); otherwise 200 and ``HX-Trigger: trigger``
    so the parts that depend on it refresh."""
    if refused:
        return _with_status(html, INVALID)
    response = make_response(html)
    if trigger:
        response.headers["HX-Trigger"] = trigger
    return response


# --- downloads -----------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def safe_filename(name: str, default: str = "download") -> str:
    """A name fit for ``Content-Disposition``: no control characters (newlines) and no path
    separators. Quotes and non-ASCII letters stay; the header encodes them (RFC 6266)."""
    cleaned = _UNSAFE_NAME.sub("_", name or "").strip(" ._")
    return cleaned or default


def download(
    source: bytes | str | os.PathLike | IO[bytes],
    filename: str,
    mimetype: str,
    *,
    inline: bool = False,
    max_age: int | None = None,
) -> Response:
    """A file for the browser: bytes, a path on disk (answers range and conditional
    requests) or an open binary file.

    ``Content-Disposition`` is written by werkzeug: ``attachment`` (or ``inline``), the name
    quoted with an ASCII fallback and ``filename*=UTF-8''…`` for other letters;
    ``X-Content-Type-Options: nosniff`` keeps the browser to ``mimetype``. Not cached
    (``private, no-store``) unless ``max_age`` makes it public for that many seconds.
    """
    is_path = isinstance(source, str | os.PathLike)
    response = send_file(
        BytesIO(source) if isinstance(source, bytes) else source,
        mimetype=mimetype,
        as_attachment=not inline,
        download_name=safe_filename(filename),
        conditional=is_path,
        etag=False,
        max_age=max_age or 0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = (
        f"public, max-age={max_age}" if max_age else "private, no-store"
    )
    return response


# --- the event of the URL ------------------------------------------------------------------


def event_row(event, model, row_id: int):
    """The ``model`` row ``row_id`` if it belongs to ``event`` (its ``event_id``), else 404:
    another event's stage or category does not exist under this event's URL."""
    row = db.session.get(model, row_id)
    if row is None or row.event_id != event.id:
        abort(404)
    return row


def load_event(
    bp: Blueprint,
    *,
    lookup: Callable[[str], Any],
    drafts_for: frozenset[str] | tuple[str, ...] = (access.ADMIN,),
) -> None:
    """Give every view of ``bp`` whose URL has ``<slug>`` the event itself, as ``event``.

    A URL value preprocessor takes ``slug`` out of the view's arguments; a ``before_request``
    hook of the blueprint loads the event once (``lookup(slug)``, e.g.
    ``monev.events.queries.get_by_slug``) and passes it in, or answers 404. The hook runs
    after the app's own: access rules first (a stranger learns nothing about which events
    exist) and the write intent of the request set before its first query. A draft event is
    404 for everyone whose role is not in ``drafts_for`` (it is not announced yet).
    """

    @bp.url_value_preprocessor
    def _take_slug(_endpoint, values):
        if values and "slug" in values:
            g.event_slug = values.pop("slug")

    @bp.before_request
    def _load_event():
        slug = g.pop("event_slug", None)
        if slug is None:
            return
        event = lookup(slug)
        if event is None:
            abort(404)
        if event.status == "draft" and getattr(current_user, "role", None) not in drafts_for:
            abort(404)
        request.view_args["event"] = event
