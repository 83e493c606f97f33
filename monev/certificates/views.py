"""Certificates: admin issuing per event, downloads, and the public verification page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.certificates import services
from monev.certificates.forms import IssueForm, ReasonForm, SettingsForm
from monev.certificates.models import KINDS, Certificate
from monev.core import access
from monev.core.errors import ServiceError
from monev.core.forms import attach_error
from monev.events import queries as event_queries
from monev.extensions import db, htmx
from monev.pdf.rendering import data_uri

bp = Blueprint("certificates", __name__)
access.blueprint_roles(bp, access.ADMIN)


@bp.app_template_global()
def my_certificates() -> list[dict]:
    """The signed-in KIM's or judge's live certificates, for their home page."""
    if not current_user.is_authenticated:
        return []
    return [
        {
            "id": c.id,
            "number": c.number,
            "event": c.event.title,
            "label": (c.award or _("Participant")) if c.kind != "judge" else _("Judge"),
        }
        for c in services.for_user(current_user)
    ]


def _event(slug: str):
    return event_queries.get_by_slug(slug) or abort(404)


def _certificate(certificate_id: int) -> Certificate:
    return db.session.get(Certificate, certificate_id) or abort(404)


def _settings_form(event) -> SettingsForm:
    row = services.settings_for(event)
    signatories = [
        {"name": r.get("name"), "title": r.get("title"), "nip": r.get("nip")}
        for r in row.signatories or []
    ]
    return SettingsForm(
        data={
            "number_pattern": row.number_pattern,
            "place": row.place,
            "title": row.title,
            "winner_text": row.winner_text,
            "participant_text": row.participant_text,
            "judge_text": row.judge_text,
            "primary_colour": row.primary_colour,
            "accent_colour": row.accent_colour,
            "text_colour": row.text_colour or services.DEFAULT_TEXT_COLOUR,
            "signatories": signatories,
            "preview_kind": "winner",
        }
    )


def _stored_images(event) -> dict:
    """Thumbnails of the stored background and signature images, for the settings form."""
    row = services.settings_for(event)
    return {
        "background": services.stored_image(row.background_key),
        "signatures": [
            services.stored_image(r.get("signature_key")) for r in row.signatories or []
        ],
    }


def _index_page(event, settings_form=None, status=200, preview=None):
    return (
        render_template(
            "certificates/admin.html",
            event=event,
            certificates=services.for_event(event),
            kinds=KINDS,
            issue_form=IssueForm(),
            reason_form=ReasonForm(),
            settings_form=settings_form or _settings_form(event),
            stored=_stored_images(event),
            preview=preview,
        ),
        status,
    )


@bp.route("/admin/events/<slug>/certificates")
def admin_index(slug):
    return _index_page(_event(slug))


@bp.route("/admin/events/<slug>/certificates/issue", methods=["POST"])
def issue(slug):
    event = _event(slug)
    form = IssueForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        created = services.issue(event, form.kind.data, actor=current_user)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        if created:
            flash(_("%(num)d certificates issued.", num=len(created)), "success")
        else:
            flash(_("Nothing to issue: every certificate of this kind exists already."), "info")
    return redirect(url_for("certificates.admin_index", slug=event.slug), 303)


def _uploads(form: SettingsForm) -> tuple[object, dict[int, object]]:
    """The chosen background and signature files (streams), leaving out empty inputs."""

    def chosen(field):
        data = field.data
        return data.stream if data is not None and getattr(data, "filename", "") else None

    signatures = {}
    for index, entry in enumerate(form.signatories.entries):
        stream = chosen(entry.form.signature)
        if stream is not None:
            signatures[index] = stream
    return chosen(form.background), signatures


@bp.route("/admin/events/<slug>/certificates/settings", methods=["POST"])
def settings(slug):
    event = _event(slug)
    form = SettingsForm()
    if form.validate_on_submit():
        background, signatures = _uploads(form)
        try:
            services.save_settings(
                event, form.data, background=background, signatures=signatures, actor=current_user
            )
        except ServiceError as error:
            db.session.rollback()
            _attach_settings_error(form, error)
            return _index_page(event, form, error.status if error.status != 400 else 422)
        flash(_("Certificate settings saved."), "success")
        return redirect(url_for("certificates.admin_index", slug=event.slug) + "#design", 303)
    return _index_page(event, form, 422)


def _attach_settings_error(form: SettingsForm, error: ServiceError) -> None:
    """Put a refusal beside its field, including a signatory row's signature input."""
    if error.field and error.field.startswith("signatories-"):
        _, index, name = error.field.split("-", 2)
        field = form.signatories.entries[int(index)].form[name.replace("-", "_")]
        field.errors = [*field.errors, error.message]
        return
    attach_error(form, error)


@bp.route("/admin/events/<slug>/certificates/preview", methods=["POST"])
def preview(slug):
    """The certificate as it would look with the form's (unsaved) values: an image drawn by
    the code that makes the PDFs. A fragment for htmx; the whole page without JavaScript."""
    event = _event(slug)
    form = SettingsForm()
    image = None
    status = 200
    if form.validate_on_submit():
        try:
            picture = services.preview_png(event, form.data, form.preview_kind.data or "winner")
            image = data_uri(picture, "image/jpeg")
        except ServiceError as error:
            _attach_settings_error(form, error)
            status = 422
    else:
        status = 422
    db.session.rollback()  # a preview never changes anything
    preview = {"image": image, "errors": _error_list(form)}
    if htmx:
        return render_template("certificates/_preview.html", preview=preview), status
    return _index_page(event, form, status, preview=preview)


def _error_list(form) -> list[str]:
    messages = []
    for name, errors in form.errors.items():
        if name == "signatories":
            for row in errors:
                if isinstance(row, dict):
                    for row_errors in row.values():
                        messages.extend(row_errors)
        else:
            messages.extend(errors)
    return [str(m) for m in messages]


def _reason_action(certificate_id: int, action):
    cert = _certificate(certificate_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for revoking."), "error")
    else:
        try:
            action(cert, form.reason.data, actor=current_user)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Done: the certificate's status is shown on its verification page."), "success")
    return redirect(url_for("certificates.admin_index", slug=cert.event.slug), 303)


@bp.route("/admin/certificates/<int:certificate_id>/revoke", methods=["POST"])
def revoke(certificate_id):
    return _reason_action(certificate_id, services.revoke)


@bp.route("/admin/certificates/<int:certificate_id>/reissue", methods=["POST"])
def reissue(certificate_id):
    return _reason_action(certificate_id, services.reissue)


@bp.route("/certificates/<int:certificate_id>.pdf")
@access.roles(access.ADMIN, access.KIM, access.JUDGE)
def download(certificate_id):
    cert = _certificate(certificate_id)
    if not services.may_download(current_user, cert):
        abort(403)
    if cert.revoked_at is not None and current_user.role != access.ADMIN:
        abort(404)
    response = make_response(services.pdf(cert))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{services.filename(cert)}"'
    return response


@bp.route("/verify/<code>")
@access.public
def verify(code):
    cert = services.by_code(code)
    status = 200 if cert is not None else 404
    date = services.document_date(cert) if cert is not None else None
    return render_template("certificates/verify.html", cert=cert, date=date), status
