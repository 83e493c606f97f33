"""Official documents after publication: the admin's list of documents and their PDFs, and
a finalist KIM's own rapor. Before publication nothing is rendered: the page says so and
the PDF addresses answer 404 with a friendly page."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user

from monev.core import access
from monev.core.views import download, load_event
from monev.documents import queries, services
from monev.events import queries as event_queries
from monev.results import queries as result_queries

bp = Blueprint("documents", __name__)
access.blueprint_roles(bp, access.ADMIN)
load_event(bp, lookup=event_queries.get_by_slug)


@bp.app_template_global()
def my_rapor() -> list[dict]:
    """The signed-in KIM's events with published results, for its home page."""
    if not current_user.is_authenticated or current_user.role != access.KIM:
        return []
    return [
        {"slug": slug, "event": title, "year": year}
        for slug, title, year in queries.published_entries_of_kim(current_user.kim_id)
    ]


def _unavailable(event):
    message = _("The documents are made from the published results: publish the results first.")
    return render_template("documents/unavailable.html", event=event, message=message), 404


def _pdf(content: bytes, name: str):
    return download(content, name, "application/pdf")


@bp.route("/admin/events/<slug>/documents")
def admin_index(event):
    published = result_queries.latest(event.id)
    categories = []
    if published is not None:
        ids = services.entry_codes(event.id)
        categories = [
            {
                "name": c["name"],
                "rows": [
                    {**e, "entry_id": ids.get(e["code"]), "total": services.decimal(e["total"])}
                    for e in c["entries"]
                ],
            }
            for c in published.snapshot["categories"]
        ]
    return render_template(
        "documents/admin.html",
        event=event,
        published=published,
        published_date=(
            services.long_date(published.created_at, event.timezone) if published else None
        ),
        categories=categories,
    )


def _published(view):
    """Call ``view(event, published, ...)`` for the event of the URL's slug, or answer that
    its documents come after publication."""

    @wraps(view)
    def wrapper(event, **kwargs):
        published = result_queries.latest(event.id)
        if published is None:
            return _unavailable(event)
        return view(event, published, **kwargs)

    return wrapper


@bp.route("/admin/events/<slug>/documents/berita-acara.pdf")
@_published
def berita_acara(event, published):
    return _pdf(
        services.berita_acara_pdf(event, published), services.filename("berita-acara", event)
    )


@bp.route("/admin/events/<slug>/documents/draf-sk.pdf")
@_published
def decree(event, published):
    return _pdf(services.decree_pdf(event, published), services.filename("draf-sk", event))


@bp.route("/admin/events/<slug>/documents/rapor.pdf")
@_published
def all_rapor(event, published):
    content = services.all_rapor_pdf(event, published)
    if content is None:
        abort(404)
    return _pdf(content, services.filename("rapor", event, "semua"))


@bp.route("/admin/events/<slug>/documents/rapor/<int:entry_id>.pdf")
@_published
def rapor(event, published, entry_id):
    return _rapor_response(event, published, entry_id)


@bp.route("/my/documents/<slug>/rapor.pdf")
@access.roles(access.KIM)
def kim_rapor(event):
    """The signed-in KIM's own rapor: its accepted entry in the event, after publication."""
    entry = result_queries.kim_entry(event.id, current_user.kim_id)
    published = result_queries.latest(event.id)
    if entry is None or published is None:
        abort(404)
    return _rapor_response(event, published, entry.id)


def _rapor_response(event, published, entry_id: int):
    content = services.rapor_pdf(event, published, entry_id)
    if content is None:  # not an entry of this event's published ranking
        abort(404)
    codes = {v: k for k, v in services.entry_codes(event.id).items()}
    return _pdf(content, services.filename("rapor", event, codes.get(entry_id)))
