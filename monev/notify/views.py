"""The in-app list of notifications: every signed-in person's own, with an unread count in
the header. Opening one marks it read and goes to the page it is about."""

from __future__ import annotations

from flask import Blueprint, abort, flash, has_request_context, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core import access
from monev.core.views import checked_post
from monev.extensions import db
from monev.notify import queries, services
from monev.notify.catalog import kinds_for

bp = Blueprint("notify", __name__, url_prefix="/notifications")
access.blueprint_roles(bp, *access.ALL_ROLES)


@bp.route("")
def index():
    notes = queries.latest(current_user)
    return render_template(
        "notify/index.html",
        notes=[(n, *services.render(n)) for n in notes],
        unread=services.unread_count(current_user),
        kinds=kinds_for(current_user.role),
    )


@bp.route("/<int:notification_id>/open")
def open(notification_id: int):  # noqa: A001 - the URL's verb
    note = queries.own(current_user, notification_id)
    if note is None:
        abort(404)
    if note.read_at is None:
        services.mark_read(current_user, note.id)
        db.session.commit()
    return redirect(note.link or url_for("notify.index"))


@bp.route("/read", methods=["POST"])
@checked_post
def read_all():
    marked = services.mark_read(current_user)
    db.session.commit()
    if marked:
        flash(_("All notifications are marked read."), "success")
    return redirect(url_for("notify.index"))


class _UnreadCount:
    """The signed-in person's unread count, counted (one indexed query) only when a template
    shows it: the header of a whole page does, an htmx fragment (an autosave's answer) does
    not, and asks nothing of the database after its write."""

    def __init__(self, user):
        self._user = user
        self._count: int | None = None

    def __int__(self) -> int:
        if self._count is None:
            self._count = services.unread_count(self._user)
        return self._count

    def __bool__(self) -> bool:
        return int(self) > 0

    def __str__(self) -> str:
        return str(int(self))


@bp.app_context_processor
def unread_for_header() -> dict:
    """Template context: the signed-in person's unread count, counted when shown."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return {"unread_notifications": 0}  # a job rendering a template, or nobody signed in
    return {"unread_notifications": _UnreadCount(current_user._get_current_object())}
