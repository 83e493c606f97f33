from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user

from monev.core import access, caching
from monev.core.timeutil import utcnow
from monev.core.timezones import label, to_local
from monev.core.views import download, load_event
from monev.directory import queries as directory_queries
from monev.entries import standing
from monev.events import logo as logo_module
from monev.events import queries as event_queries
from monev.events.models import Event
from monev.home import services as home_services

bp = Blueprint("public", __name__)
access.blueprint_roles(bp)  # public
# An event is not public until it leaves draft.
load_event(bp, lookup=event_queries.get_by_slug, drafts_for=())


@bp.route("/")
def home():
    """Each role's home leads with what to do now (monev.home.services); admins go to their
    dashboard."""
    if not current_user.is_authenticated:
        events = [e for e in event_queries.all_events() if e.status != "draft"]
        return render_template("public/landing.html", events=events)
    if current_user.role == access.ADMIN:
        return redirect(url_for("admin.index"))
    now = utcnow()
    if current_user.role == access.OPERATOR:
        return render_template(
            "home/operator.html",
            summary=directory_queries.district_summary(current_user.district_id),
            overview=home_services.operator_overview(current_user, now),
        )
    if current_user.role == access.KIM:
        return render_template(
            "home/kim.html",
            kim=current_user.kim,
            events=home_services.kim_tasks(current_user.kim, now),
        )
    return render_template(
        "home/judge.html",
        home=home_services.judge_tasks(current_user, now),
        when=home_services.when,
    )


@bp.route("/events/<slug>")
def event(event: Event):
    """Public page of an event: timeline, finalists once nominations close."""

    def render():
        finalists = (
            event_queries.finalists_by_district(event.id) if event.at_least("submission") else []
        )
        return render_template(
            "public/event.html",
            event=event,
            finalists=finalists,
            not_judged=standing.not_judged(e for _district, group in finalists for e in group),
            to_local=to_local,
            tz_label=label(event.timezone),
        )

    # The page reads the entries, their KIMs and standings, and the clock (a deadline
    # passing changes a standing), none of which stamps the event: its ETag is the page's
    # digest, still a 304 when nothing changed, and public for visitors.
    return caching.conditional(None, render)


@bp.route("/events/<slug>/logo")
def event_logo(event: Event):
    found = logo_module.logo_bytes(event)
    if found is None:
        abort(404)
    data, mime = found
    return download(data, f"{event.slug}-logo", mime, inline=True, max_age=3600)
