"""Certificate batches (admin): start one, watch its progress, download the merged PDF and
the ZIP. The panel (``certificates/_batch.html``) is part of the certificates page; its
progress fragment is polled by htmx and also works as a plain page reload."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.certificates import batch as batches
from monev.core import access
from monev.core.errors import ServiceError
from monev.events import queries as event_queries
from monev.events.models import Event
from monev.extensions import db, htmx
from monev.storage import StorageError, get_storage

bp = Blueprint("certificate_batches", __name__)
access.blueprint_roles(bp, access.ADMIN)

STOP_POLLING = 286  # htmx stops an ``every`` trigger on this status


@bp.app_template_global()
def certificate_batch_panel(event) -> dict:
    """What ``certificates/_batch.html`` shows for ``event``: the latest batch, the latest
    finished one (its files stay downloadable while a new one runs) and the live count."""
    latest = batches.latest_for(event)
    done = latest if latest is not None and latest.status == "done" else batches.latest_done(event)
    return {
        "event": event,
        "batch": latest,
        "done": done,
        "live_count": batches.live_count(event),
    }


def _event(slug: str):
    return event_queries.get_by_slug(slug) or abort(404)


def _batch(batch_id: int) -> batches.CertificateBatch:
    return db.session.get(batches.CertificateBatch, batch_id) or abort(404)


@bp.route("/admin/events/<slug>/certificates/batch", methods=["POST"])
def start(slug):
    event = _event(slug)
    try:
        batches.start(event, actor=current_user)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("The certificates are being generated; this page shows the progress."), "success")
    return redirect(url_for("certificates.admin_index", slug=event.slug), 303)


@bp.route("/admin/events/<slug>/certificates/batch")
def progress(slug):
    event = _event(slug)
    if not htmx:
        return redirect(url_for("certificates.admin_index", slug=event.slug), 303)
    panel = certificate_batch_panel(event)
    status = 200 if panel["batch"] is not None and panel["batch"].is_active else STOP_POLLING
    return render_template("certificates/_batch.html", panel=panel, fragment=True), status


def _download(batch_id: int, which: str):
    row = _batch(batch_id)
    key = row.merged_key if which == "pdf" else row.zip_key
    if row.status != "done" or not key:
        abort(404)
    event = db.session.get(Event, row.event_id)
    storage = get_storage()
    path = storage.local_path(key)
    try:
        source = path if path is not None else storage.open(key)
    except StorageError:
        abort(404)
    if which == "pdf":
        mimetype, name = "application/pdf", batches.merged_filename(event)
    else:
        mimetype, name = "application/zip", batches.zip_filename(event)
    response = send_file(
        source,
        mimetype=mimetype,
        as_attachment=True,
        download_name=name,
        conditional=path is not None,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/admin/certificate-batches/<int:batch_id>/certificates.pdf")
def download_pdf(batch_id):
    return _download(batch_id, "pdf")


@bp.route("/admin/certificate-batches/<int:batch_id>/certificates.zip")
def download_zip(batch_id):
    return _download(batch_id, "zip")
