"""Certificates: admin issuing per event, downloads, and the public verification page."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from monev.audit.services import client_ip
from monev.certificates import pdfcheck, services, signing
from monev.certificates.forms import (
    NUMBER_PATTERNS,
    IssueForm,
    ReasonForm,
    SettingsForm,
    VerifyPdfForm,
)
from monev.certificates.models import KINDS, Certificate
from monev.core import access, caching, ratelimit
from monev.core.errors import ServiceError
from monev.core.forms import attach_error
from monev.core.views import (
    INVALID,
    attempt,
    button_action,
    discard_changes,
    first_error,
    form_flow,
    load_event,
    see_other,
    wants_fragment,
)
from monev.core.views import download as send_download
from monev.events import queries as event_queries
from monev.extensions import csrf, db
from monev.pdf.rendering import data_uri
from monev.signing.backends import SigningError

log = logging.getLogger(__name__)

bp = Blueprint("certificates", __name__)
access.blueprint_roles(bp, access.ADMIN)
load_event(bp, lookup=event_queries.get_by_slug)


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


def _certificate(certificate_id: int) -> Certificate:
    return db.session.get(Certificate, certificate_id) or abort(404)


def _settings_form(event) -> SettingsForm:
    row = services.settings_for(event)
    signatories = [
        {"name": r.get("name"), "title": r.get("title"), "nip": r.get("nip")}
        for r in row.signatories or []
    ]
    form = SettingsForm(
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
    form.fill_numbers(_number_examples(event), row.number_pattern)
    return form


def _number_examples(event) -> dict[str, str]:
    """Each preset number pattern with the number it gives (the 7th certificate)."""
    return {p: services.format_number(p, seq=7, event=event) for p in NUMBER_PATTERNS}


def _stored_images(event) -> dict:
    """Thumbnails of the stored background and signature images, for the settings form."""
    row = services.settings_for(event)
    return {
        "background": services.stored_image(row.background_key),
        "signatures": [
            services.stored_image(r.get("signature_key")) for r in row.signatories or []
        ],
    }


def index_page(event, settings_form=None, preview=None, batch_form=None):
    """The certificates page (a form that failed passes itself to show its errors)."""
    return render_template(
        "certificates/admin.html",
        event=event,
        certificates=services.for_event(event),
        kinds=KINDS,
        issue_form=IssueForm(),
        reason_form=ReasonForm(),
        settings_form=settings_form or _settings_form(event),
        stored=_stored_images(event),
        preview=preview,
        batch_form=batch_form,
        electronic=signing.batch_backend() is not None,
    )


def _admin_url(event) -> str:
    return url_for("certificates.admin_index", slug=event.slug)


@bp.route("/admin/events/<slug>/certificates")
def admin_index(event):
    return index_page(event)


@bp.route("/admin/events/<slug>/certificates/issue", methods=["POST"])
def issue(event):
    form = IssueForm()
    if not form.validate_on_submit():
        abort(400)
    created, error = attempt(lambda: services.issue(event, form.kind.data, actor=current_user))
    if error is not None:
        flash(error.message, "error")
    elif created:
        flash(_("%(num)d certificates issued.", num=len(created)), "success")
    else:
        flash(_("Nothing to issue: every certificate of this kind exists already."), "info")
    return see_other(_admin_url(event))


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
def settings(event):
    form = SettingsForm()
    form.fill_numbers(_number_examples(event))

    def save():
        background, signatures = _uploads(form)
        services.save_settings(
            event, form.data, background=background, signatures=signatures, actor=current_user
        )

    return form_flow(
        form,
        save,
        render=lambda: index_page(event, form),
        message=_("Certificate settings saved."),
        done=lambda _result: see_other(_admin_url(event) + "#design"),
    )


@bp.route("/admin/events/<slug>/certificates/preview", methods=["POST"])
def preview(event):
    """The certificate as it would look with the form's (unsaved) values: an image drawn by
    the code that makes the PDFs. A fragment for htmx; the whole page without JavaScript."""
    form = SettingsForm()
    form.fill_numbers(_number_examples(event))
    discard_changes()  # a preview never changes anything
    image, status = None, INVALID
    if form.validate_on_submit():
        picture, error = attempt(
            lambda: services.preview_png(event, form.data, form.preview_kind.data or "winner")
        )
        if error is None:
            image, status = data_uri(picture, "image/jpeg"), 200
        else:
            attach_error(form, error)
    preview = {"image": image, "errors": _error_list(form)}
    if wants_fragment():
        return render_template("certificates/_preview.html", preview=preview), status
    return index_page(event, form, preview=preview), status


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

    def act():
        if not form.validate_on_submit():
            raise ServiceError(_("Give the reason for revoking."))
        action(cert, form.reason.data, actor=current_user)

    return button_action(
        act,
        to=_admin_url(cert.event),
        message=_("Done: the certificate's status is shown on its verification page."),
    )


@bp.route("/admin/certificates/<int:certificate_id>/revoke", methods=["POST"])
def revoke(certificate_id):
    return _reason_action(certificate_id, services.revoke)


@bp.route("/admin/certificates/<int:certificate_id>/reissue", methods=["POST"])
def reissue(certificate_id):
    return _reason_action(certificate_id, services.reissue)


@bp.route("/certificates/<int:certificate_id>.pdf")
@access.roles(access.ADMIN, access.KIM, access.JUDGE)
def download(certificate_id):
    # Another holder's certificate answers exactly like a missing one: ids cannot be probed.
    cert = db.session.get(Certificate, certificate_id)
    if cert is None or not services.may_download(current_user, cert):
        abort(404)
    if cert.revoked_at is not None and current_user.role != access.ADMIN:
        abort(404)
    stored = _remote_signed_copy(cert)
    if stored is not None:
        return send_download(stored, services.filename(cert), "application/pdf")
    try:
        content = signing.sign(cert, services.pdf(cert))
    except SigningError:
        log.exception("Certificate %s could not be signed", cert.number)
        return render_template("certificates/unsigned.html"), 503
    return send_download(content, services.filename(cert), "application/pdf")


def _remote_signed_copy(cert: Certificate) -> bytes | None:
    """With a remote signing service a download cannot be signed on the fly (nobody is there
    to type the passphrase): the copy the last batch signed is served when it is there and
    its signature is intact; otherwise the download is unsigned, as without signing."""
    if not signing.needs_credentials():
        return None
    from monev.certificates.batch import single_key
    from monev.signing.verification import signature_covers_whole
    from monev.storage import get_storage

    storage = get_storage()
    key = single_key(cert)
    if storage.size(key) is None:
        return None
    with storage.open(key) as fh:
        content = fh.read()
    return content if signature_covers_whole(content) else None


@bp.route("/verify")
@access.public
def verify_form():
    """Type the code printed under the QR (a photocopied or damaged code): it opens the
    same verification page."""
    typed = request.args.get("code") or ""
    code = services.canonical(typed) or services.tidy(typed)
    if code:
        return redirect(url_for("certificates.verify", code=code))
    return render_template(
        "certificates/verify.html", cert=None, date=None, asked=False, pdf_form=VerifyPdfForm()
    )


@bp.route("/verify", methods=["POST"])
@access.public
@csrf.exempt  # changes and keeps nothing (VerifyPdfForm)
def verify_upload():
    """Check an uploaded certificate PDF itself: its electronic signature (intact, whole,
    who and when, trusted) and the certificate record its code belongs to. Nothing is kept."""
    form = VerifyPdfForm()
    tz = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    limited = _upload_limited()

    def check():
        if limited is not None:
            raise ServiceError(
                _(
                    "Too many files were checked from your address. Try again in %(n)d "
                    "minute(s); the form is kept below.",
                    n=limited.minutes,
                ),
                status=429,
            )
        if not form.validate_on_submit():
            raise ServiceError(first_error(form, _("Choose the certificate's PDF file.")))
        upload = form.file.data
        max_bytes = int(current_app.config["VERIFY_MAX_MB"]) * 1024 * 1024
        data = pdfcheck.read_upload(upload.stream if upload else _Empty(), max_bytes)
        return pdfcheck.check(data)

    result, error = attempt(check)
    if error is not None:
        attach_error(form, error)
    outcome = pdfcheck.outcome(result, tz) if result is not None else None
    upload = form.file.data
    checked_name = (getattr(upload, "filename", "") or "")[:120]
    status = 200 if error is None else error.status
    headers = {"Retry-After": str(limited.seconds)} if limited is not None else {}
    return (
        render_template(
            "certificates/verify.html",
            cert=None,
            date=None,
            asked=False,
            pdf_form=form,
            outcome=outcome,
            checked_name=checked_name,
        ),
        status,
        headers,
    )


def _upload_limited() -> ratelimit.Limited | None:
    """Visitors who are not signed in may have a limited number of PDFs checked per window
    from one address (each check costs a pyHanko validation); counted before the check."""
    if current_user.is_authenticated:
        return None
    config = current_app.config
    return ratelimit.hit(
        f"verify-pdf:{client_ip() or '-'}",
        limit=int(config["VERIFY_UPLOADS_PER_WINDOW"]),
        window_minutes=int(config["VERIFY_UPLOAD_WINDOW_MINUTES"]),
    )


class _Empty:
    def read(self, _size=-1) -> bytes:
        return b""


@bp.route("/verify/<code>")
@access.public
def verify(code):
    """The page the QR code opens. Its ETag is the certificate's state: revoking or replacing
    it changes the ETag, so no cache keeps showing "Valid". A code that fails its check
    (mistyped, most likely) is told apart from a well-formed code of no certificate."""
    mistyped = not services.valid_signature(code)
    cert = None if mistyped else services.by_code(code)

    def render():
        status = 200 if cert is not None else 404
        date = services.document_date(cert) if cert is not None else None
        return render_template(
            "certificates/verify.html",
            cert=cert,
            date=date,
            asked=True,
            mistyped=mistyped,
            code=services.tidy(code),
            pdf_form=VerifyPdfForm(),
        ), status

    if cert is None:
        return caching.conditional(("mistyped" if mistyped else "unknown",), render)
    state = (
        cert.id,
        cert.number,
        cert.issued_at,
        cert.revoked_at,
        cert.revoke_reason,
        cert.replaced_by_id,
        cert.holder_name,
        cert.holder_detail,
        cert.award,
        cert.category_name,
        cert.event.updated_at,
        cert.event.timezone,
    )
    return caching.conditional(state, render)
