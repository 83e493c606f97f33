"""Certificate batches (admin): start one, watch its progress, download the merged PDF and
the ZIP. The panel (``certificates/_batch.html``) is part of the certificates page; its
progress fragment is polled by htmx and also works as a plain page reload."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.certificates import batch as batches
from monev.certificates import signing
from monev.certificates.forms import BatchStartForm
from monev.core import access
from monev.core.views import button_action, form_flow, load_event, see_other
from monev.events import queries as event_queries
from monev.events.models import Event
from monev.extensions import db, htmx
from monev.storage.downloads import send_stored

bp = Blueprint("certificate_batches", __name__)
access.blueprint_roles(bp, access.ADMIN)
load_event(bp, lookup=event_queries.get_by_slug)

STOP_POLLING = 286  # htmx stops an ``every`` trigger on this status


@bp.app_template_global()
def certificate_batch_panel(event, form=None) -> dict:
    """What ``certificates/_batch.html`` shows for ``event``: the latest batch, the latest
    finished one (its files stay downloadable while a new one runs), the live count, and
    the start form (with the signatory's fields when a remote service signs)."""
    latest = batches.latest_for(event)
    done = latest if latest is not None and latest.status == "done" else batches.latest_done(event)
    return {
        "event": event,
        "batch": latest,
        "done": done,
        "live_count": batches.live_count(event),
        "without_worker": batches.without_worker(latest),
        "signing_problem": batches.signing_problem(latest),
        "needs_credentials": signing.needs_credentials(),
        "signing": signing.batch_backend() is not None,
        "form": form or BatchStartForm(formdata=None),
    }


def _batch(batch_id: int) -> batches.CertificateBatch:
    return db.session.get(batches.CertificateBatch, batch_id) or abort(404)


@bp.route("/admin/events/<slug>/certificates/batch", methods=["POST"])
def start(event):
    to = url_for("certificates.admin_index", slug=event.slug)
    message = _("The certificates are being generated; this page shows the progress.")
    if not signing.needs_credentials():
        return button_action(
            lambda: batches.start(event, actor=current_user), to=to, message=message
        )
    # A remote service signs: the signatory's NIK and passphrase or code come with this
    # request and are handed to the run in memory (monev.certificates.batch).
    from monev.certificates.views import index_page

    form = BatchStartForm()
    return form_flow(
        form,
        lambda: batches.start(event, actor=current_user, credentials=form.credentials()),
        render=lambda: index_page(event, batch_form=form),
        message=message,
        done=lambda _batch: see_other(to),
    )


@bp.route("/admin/events/<slug>/certificates/batch")
def progress(event):
    if not htmx:
        return see_other(url_for("certificates.admin_index", slug=event.slug))
    panel = certificate_batch_panel(event)
    status = 200 if panel["batch"] is not None and panel["batch"].is_active else STOP_POLLING
    return render_template("certificates/_batch.html", panel=panel, fragment=True), status


def _download(batch_id: int, which: str):
    row = _batch(batch_id)
    key = row.merged_key if which == "pdf" else row.zip_key
    if row.status != "done" or not key:
        abort(404)
    event = db.session.get(Event, row.event_id)
    if which == "pdf":
        return send_stored(key, batches.merged_filename(event), "application/pdf")
    return send_stored(key, batches.zip_filename(event), "application/zip")


@bp.route("/admin/certificate-batches/<int:batch_id>/certificates.pdf")
def download_pdf(batch_id):
    return _download(batch_id, "pdf")


@bp.route("/admin/certificate-batches/<int:batch_id>/certificates.zip")
def download_zip(batch_id):
    return _download(batch_id, "zip")
