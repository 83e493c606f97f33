"""Official documents after publication: the admin's list of documents and their PDFs, and
a finalist KIM's own rapor. Before publication nothing is rendered: the page says so and
the PDF addresses answer 404 with a friendly page."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core import access
from monev.core.errors import require_confirmation
from monev.core.views import download, form_flow, load_event, see_other
from monev.documents import queries, services, signed
from monev.documents.forms import SignDocumentsForm
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
    return _admin_page(event)


def _admin_page(event, form=None):
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
        signing=signed.backend() is not None,
        needs_credentials=signed.needs_credentials(),
        signed_kinds=signed.signed_kinds(published) if published is not None else {},
        sign_form=form or SignDocumentsForm(formdata=None),
        tz=current_app.config["BABEL_DEFAULT_TIMEZONE"],
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
    row = signed.signed(published, "berita-acara")
    content = signed.content(row) if row else services.berita_acara_pdf(event, published)
    return _pdf(content, services.filename("berita-acara", event))


@bp.route("/admin/events/<slug>/documents/draf-sk.pdf")
@_published
def decree(event, published):
    row = signed.signed(published, "sk")  # signed = final; otherwise the draft (DRAF)
    if row is not None:
        return _pdf(signed.content(row), services.filename("sk", event))
    return _pdf(services.decree_pdf(event, published), services.filename("draf-sk", event))


@bp.route("/admin/events/<slug>/documents/rapor.pdf")
@_published
def all_rapor(event, published):
    """Every rapor in one PDF for printing. When signing is configured it says on every page
    that it is an unsigned compilation (the signed rapor are single files: ``signed_rapor``)."""
    compilation = signed.backend() is not None
    content = services.all_rapor_pdf(event, published, compilation=compilation)
    if content is None:
        abort(404)
    name = "kompilasi-tidak-bertanda-tangan" if compilation else "semua"
    return _pdf(content, services.filename("rapor", event, name))


@bp.route("/admin/events/<slug>/documents/rapor-bertanda-tangan.zip")
@_published
def signed_rapor(event, published):
    """The signed rapor of the published version, one PDF each (each with its signature)."""
    content = signed.rapor_zip(event, published)
    if content is None:
        abort(404)
    name = services.filename("rapor", event, "bertanda-tangan")[: -len(".pdf")] + ".zip"
    return download(content, name, "application/zip")


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
    row = signed.signed(published, "rapor", entry_id)
    content = signed.content(row) if row else services.rapor_pdf(event, published, entry_id)
    if content is None:  # not an entry of this event's published ranking
        abort(404)
    codes = {v: k for k, v in services.entry_codes(event.id).items()}
    return _pdf(content, services.filename("rapor", event, codes.get(entry_id)))


@bp.route("/admin/events/<slug>/documents/sign", methods=["POST"])
@_published
def sign(event, published):
    """Sign the Berita Acara, the SK (which marks it final) or every rapor. With a remote
    service the signatory's NIK and passphrase (or code) come with this request only."""
    form = SignDocumentsForm()

    def act():
        if form.kind.data == "sk":
            require_confirmation(form.confirm.data)
        credentials = form.credentials() if signed.needs_credentials() else None
        return signed.sign(
            event, published, form.kind.data, credentials=credentials, actor=current_user
        )

    return form_flow(
        form,
        act,
        render=lambda: _admin_page(event, form),
        message=lambda n: _("Signed electronically: %(n)d document(s).", n=n),
        done=lambda _n: see_other(url_for("documents.admin_index", slug=event.slug)),
    )
