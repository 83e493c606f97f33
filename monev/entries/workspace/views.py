"""The KIM's entry workspace (/entry/<slug>) and the evidence files (/files/<id>).

Each card (profile, one per criterion asking for evidence, the presentation) posts to its own
URL. An htmx request gets just that card back (422 with the refusal in it), and an
``entry-changed`` event that refreshes the checklist; a plain form post gets the whole page,
or a redirect to it after a change. Upload views are exempt from the global CSRF check only
because it would read the body before the view can answer a too-large file: their form
checks the token itself before anything is stored.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from monev.core import access
from monev.core.errors import ServiceError
from monev.core.forms import attach_error
from monev.core.templating import number
from monev.core.views import (
    INVALID,
    attempt,
    checked_post,
    confirmation,
    form_flow,
    see_other,
    swap_in_place,
    wants_fragment,
)
from monev.entries.models import Entry
from monev.entries.workspace import evidence, queries, services
from monev.entries.workspace.forms import LinkForm, ProfileForm, SubmitForm, UploadForm
from monev.extensions import csrf
from monev.storage import inspection
from monev.storage.downloads import send_stored
from monev.storage.spool import MB, UploadTooLarge, accepts_video, upload_limits

bp = Blueprint("workspace", __name__)
access.blueprint_roles(bp, access.KIM)

MAX_ID = 2**31 - 1
CRITERION_ID = f"<int(max={MAX_ID}):criterion_id>"
EVIDENCE_ID = f"<int(max={MAX_ID}):evidence_id>"


def _entry(slug: str) -> Entry:
    entry = queries.kim_entry(slug, current_user.kim_id)
    if entry is None:
        abort(404)  # another KIM's entry, or no accepted entry: nothing here
    return entry


def _slot(entry: Entry, criterion_id: int | None) -> services.Slot:
    try:
        return services.slot_for(entry, criterion_id)
    except ServiceError:
        abort(404)


def _limits() -> dict:
    limit, video = upload_limits(current_app.config)
    return {"file_mb": limit // MB, "video_mb": video // MB, "file": limit, "video": video}


def _common(entry: Entry) -> dict:
    return {
        "entry": entry,
        "event": entry.event,
        "state": services.window(entry),
        "limits": _limits(),
        "types": inspection.TYPES,
        "status_labels": services.STATUS_LABELS,
        "format_when": services.format_when,
        "required_profile": [str(label) for label in services.REQUIRED_PROFILE.values()],
    }


def _page_context(entry: Entry, *, errors=None, values=None, profile_form=None) -> dict:
    criteria = queries.evidence_criteria(entry.event_id)
    entry_items = queries.items(entry.id)
    checks = services.checklist(entry, criteria, entry_items)
    if profile_form is None:
        profile_form = ProfileForm(formdata=None)
        profile_form.fill(services.profile_values(entry))
    return {
        **_common(entry),
        "criteria": criteria,
        "by_slot": queries.items_by_slot(entry_items),
        "checks": checks,
        "missing": services.missing_items(checks),
        "profile_form": profile_form,
        "errors": errors or {},
        "values": values or {},
        "slots": {c.id: services.Slot(c) for c in criteria},
        "presentation": services.Slot(None),
    }


def _checklist_context(entry: Entry) -> dict:
    criteria = queries.evidence_criteria(entry.event_id)
    checks = services.checklist(entry, criteria, queries.items(entry.id))
    return {**_common(entry), "checks": checks, "missing": services.missing_items(checks)}


@bp.route("/entry/<slug>")
def index(slug: str):
    entry = _entry(slug)
    if wants_fragment("checklist"):
        return render_template("workspace/_checklist.html", **_checklist_context(entry))
    return render_template("workspace/index.html", **_page_context(entry))


# --- answers shared by the card views ------------------------------------------------------


def _card_answer(
    entry: Entry, slot: services.Slot, error: ServiceError | None, done: str, *, url=""
):
    if wants_fragment():
        context = {
            **_common(entry),
            "slot": slot,
            "items": _slot_items(entry, slot),
            "error": error.message if error else None,
            "value": url if error else "",
        }
        html = render_template("workspace/_card.html", **context)
        return swap_in_place(html, refused=error is not None, trigger="entry-changed")
    if error:
        context = _page_context(entry, errors={slot.key: error.message}, values={slot.key: url})
        return render_template("workspace/index.html", **context), error.status
    flash(done, "success")
    return see_other(url_for("workspace.index", slug=entry.event.slug, _anchor=slot.key))


def _slot_items(entry: Entry, slot: services.Slot):
    grouped = queries.items_by_slot(queries.items(entry.id))
    return grouped.get(slot.criterion.id if slot.criterion else None, [])


def _expired() -> ServiceError:
    return ServiceError(_("Your form has expired. Reload the page and try again."), status=400)


# --- the profile ---------------------------------------------------------------------------


@bp.route("/entry/<slug>/profile", methods=["POST"])
def profile(slug: str):
    entry = _entry(slug)
    form = ProfileForm()
    error = None
    if not form.validate_on_submit():
        error = _expired() if form.csrf_token.errors else ServiceError("", status=INVALID)
    else:
        _saved, error = attempt(
            lambda: services.save_profile(current_user, entry, form.profile_data())
        )
        if error is not None:
            attach_error(form, error)
    if wants_fragment():
        html = render_template(
            "workspace/_profile_card.html",
            **_common(entry),
            profile_form=form,
            error=error.message if error else None,
            saved=error is None,
        )
        return swap_in_place(html, refused=error is not None, trigger="entry-changed")
    if error:
        context = _page_context(entry, profile_form=form, errors={"profile": error.message})
        return render_template("workspace/index.html", **context), error.status
    flash(_("Your profile has been saved."), "success")
    return see_other(url_for("workspace.index", slug=slug, _anchor="profile"))


# --- files and links -----------------------------------------------------------------------


@bp.app_template_global()
def too_large_message(slot: services.Slot) -> str:
    limits = _limits()
    if slot.accepts_video_file:
        return _(
            "This file is larger than %(mb)d MB, the limit for one file (MP4 videos: up to "
            "%(video)d MB). Make it smaller, or share a large video as a link.",
            mb=limits["file_mb"],
            video=limits["video_mb"],
        )
    return _(
        "This file is larger than %(mb)d MB, the limit for one file. Make it smaller, or "
        "share it as a link.",
        mb=limits["file_mb"],
    )


def _too_large(exc: RequestEntityTooLarge, slot: services.Slot) -> ServiceError:
    limits = _limits()
    if isinstance(exc, UploadTooLarge) and exc.limit_mb == limits["video_mb"] != limits["file_mb"]:
        message = _("This video is larger than %(mb)d MB, the limit for videos.", mb=exc.limit_mb)
    else:
        message = too_large_message(slot)
    return ServiceError(message, field="file", status=413)


@bp.app_template_filter("filesize")
def filesize(size: int | None) -> str:
    if size is None:
        return "—"
    if size < 1024:
        return _("%(n)d bytes", n=size)
    if size < MB:
        return _("%(n)s KB", n=number(round(size / 1024, 1)))
    return _("%(n)s MB", n=number(round(size / MB, 1)))


@bp.app_template_filter("link_host")
def link_host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


@bp.app_template_global()
def type_label(content_type: str | None) -> str:
    for ftype in inspection.TYPES.values():
        if ftype.content_type == content_type:
            return str(ftype.label)
    return content_type or "?"


def _upload(slug: str, criterion_id: int | None):
    entry = _entry(slug)
    slot = _slot(entry, criterion_id)
    try:
        upload = request.files.get("file")  # spooled to disk, its size limit enforced
    except RequestEntityTooLarge as exc:
        return _card_answer(entry, slot, _too_large(exc, slot), "")
    form = UploadForm()
    if not form.validate_on_submit():
        return _card_answer(entry, slot, _expired(), "")
    item, error = attempt(lambda: evidence.add_file(current_user, entry, slot, upload))
    if error is not None:
        return _card_answer(entry, slot, error, "")
    return _card_answer(entry, slot, None, _("“%(name)s” has been added.", name=item.original_name))


@bp.route(f"/entry/<slug>/criteria/{CRITERION_ID}/file", methods=["POST"])
@accepts_video
@csrf.exempt
def upload(slug: str, criterion_id: int):
    return _upload(slug, criterion_id)


@bp.route("/entry/<slug>/presentation/file", methods=["POST"])
@csrf.exempt
def upload_presentation(slug: str):
    return _upload(slug, None)


def _link(slug: str, criterion_id: int | None):
    entry = _entry(slug)
    slot = _slot(entry, criterion_id)
    form = LinkForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            return _card_answer(entry, slot, _expired(), "", url=form.url.data or "")
        message = " ".join(form.url.errors) or _("Enter the link.")
        return _card_answer(entry, slot, ServiceError(message, field="url"), "", url=form.url.data)
    _added, error = attempt(lambda: evidence.add_link(current_user, entry, slot, form.url.data))
    if error is not None:
        return _card_answer(entry, slot, error, "", url=form.url.data)
    return _card_answer(entry, slot, None, _("The link has been added."))


@bp.route(f"/entry/<slug>/criteria/{CRITERION_ID}/link", methods=["POST"])
def add_link(slug: str, criterion_id: int):
    return _link(slug, criterion_id)


@bp.route("/entry/<slug>/presentation/link", methods=["POST"])
def add_presentation_link(slug: str):
    return _link(slug, None)


@bp.route(f"/entry/<slug>/evidence/{EVIDENCE_ID}/remove", methods=["POST"])
@checked_post
def remove(slug: str, evidence_id: int):
    entry = _entry(slug)
    slot, error = attempt(lambda: evidence.remove(current_user, entry, evidence_id))
    if error is not None:
        if error.status == 404:
            abort(404)
        item = next((i for i in queries.items(entry.id) if i.id == evidence_id), None)
        slot = services.Slot(item.criterion if item else None)
        return _card_answer(entry, slot, error, "")
    return _card_answer(entry, slot, None, _("Removed."))


# --- submitting ----------------------------------------------------------------------------


def _submit_step(entry: Entry, form: SubmitForm):
    """The confirmation step of a submit: what is still missing (each with a link to its
    card), or what the submit will do with its numbers and what is worth a last look."""
    preview = services.submit_preview(entry)
    slug = entry.event.slug
    blocks = [preview.closed] if preview.closed else []
    blocks += [
        {
            "message": f"{check.label}: {check.missing}",
            "endpoint": "workspace.index",
            "args": {"slug": slug, "_anchor": check.anchor},
        }
        for check in preview.missing
    ]
    return confirmation(
        "workspace/_submit.html",
        title=_("Submit our entry"),
        back_url=url_for("workspace.index", slug=slug),
        back_label=_("Our entry"),
        entry=entry,
        event=entry.event,
        form=form,
        blocks=blocks,
        consequences=[] if preview.closed else services.submit_consequences(preview, entry.event),
        warnings=[] if preview.blocked else services.submit_warnings(preview),
    )


@bp.route("/entry/<slug>/submit", methods=["GET", "POST"])
def submit(slug: str):
    """GET: the confirmation step (a page, or the fragment htmx puts in a <dialog>);
    POST: the submit, refused without the ticked confirmation."""
    entry = _entry(slug)
    form = SubmitForm()
    return form_flow(
        form,
        lambda: services.submit(current_user, entry, confirmed=bool(form.confirm.data)),
        render=lambda: _submit_step(entry, form),
        message=_(
            "Your entry has been submitted. The organiser will now check it; you will be told by "
            "e-mail if anything needs fixing."
        ),
        done=lambda _submitted: see_other(url_for("workspace.index", slug=slug)),
    )


# --- serving files -------------------------------------------------------------------------

# The served file is never a page of this site: no scripts, no plugins, framed only by our
# own pages (the verification page shows PDFs and images inline).
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _serve(evidence_id: int, *, thumbnail: bool):
    item = queries.readable_evidence(evidence_id, current_user)
    key = (item.thumbnail_key if thumbnail else item.storage_key) if item else None
    if not key:
        abort(404)
    mimetype = "image/jpeg" if thumbnail else item.content_type
    inline = (thumbnail or item.is_pdf or item.is_image) and not request.args.get("download")
    name = evidence.download_name(item)
    if thumbnail:
        name = name.rsplit(".", 1)[0] + "-thumbnail.jpg"
    response = send_stored(key, name, mimetype, inline=inline)
    response.headers["Content-Security-Policy"] = FILE_CSP + ("" if item.is_pdf else "; sandbox")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.route(f"/files/{EVIDENCE_ID}")
@access.roles(access.ADMIN, access.KIM, access.JUDGE)
def file(evidence_id: int):
    return _serve(evidence_id, thumbnail=False)


@bp.route(f"/files/{EVIDENCE_ID}/thumbnail")
@access.roles(access.ADMIN, access.KIM, access.JUDGE)
def thumbnail(evidence_id: int):
    return _serve(evidence_id, thumbnail=True)
