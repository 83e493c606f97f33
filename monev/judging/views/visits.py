"""Field visits: the organiser's visits board and visit form of a visit stage, a visit's
page for its KIM, its team and the organiser, the judge's visit checklist and photos on the
sheet, and the photos themselves (for the visit's team and the organiser only)."""

from __future__ import annotations

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from monev.core import access, geo
from monev.core.errors_views import answer_errors_under, render_error
from monev.core.timeutil import utcnow
from monev.core.timezones import format_moment, to_local
from monev.core.timezones import label as tz_label
from monev.core.views import attempt, confirmation, download, event_row, form_flow
from monev.entries.models import Entry
from monev.events.models import Event
from monev.judging import minutes, queries, visits
from monev.judging.forms import ConfirmVisitForm, DeletePhotoForm, VisitForm
from monev.judging.models import Visit, VisitPhoto
from monev.judging.views.blueprints import bp, judge_bp, schedule_bp, stage_of
from monev.storage.downloads import send_stored
from monev.storage.images import RENDITIONS, content_type, ensure_rendition, rendition_size


def _visit_stage(event: Event, stage_id: int):
    stage = stage_of(event, stage_id)
    if stage.kind != "visit":
        abort(404)
    return stage


@bp.route("/stages/<int:stage_id>/visits")
def visits_board(event: Event, stage_id: int):
    stage = _visit_stage(event, stage_id)
    return render_template(
        "judging/visits.html",
        event=event,
        stage=stage,
        rows=queries.visit_board(stage, queries.visit_candidates(event.id), utcnow()),
        tz=tz_label(event.timezone),
    )


@bp.route("/stages/<int:stage_id>/visits/<int:entry_id>", methods=["GET", "POST"])
def edit_visit(event: Event, stage_id: int, entry_id: int):
    stage = _visit_stage(event, stage_id)
    entry = event_row(event, Entry, entry_id)
    visit = queries.stage_visits(stage.id).get(entry.id)
    form = VisitForm()
    if not form.is_submitted() and visit is not None:
        form.start.data = to_local(visit.starts_at, event.timezone)
        form.address.data = visit.address
        form.latitude.data = str(visit.latitude) if visit.latitude is not None else ""
        form.longitude.data = str(visit.longitude) if visit.longitude is not None else ""
    return form_flow(
        form,
        lambda: visits.save_visit(
            stage,
            entry_id=entry.id,
            start=form.start.data,
            address=form.address.data,
            latitude=form.latitude.data,
            longitude=form.longitude.data,
        ),
        render=lambda: render_template(
            "judging/visit_form.html",
            event=event,
            stage=stage,
            entry=entry,
            visit=visit,
            form=form,
            team=queries.team(stage.id, entry.id),
            tz=tz_label(event.timezone),
        ),
        message=_("The visit has been saved; the KIM is told of a new date or place."),
        done=lambda _v: redirect(
            url_for("judging.visits_board", slug=event.slug, stage_id=stage.id)
            + f"#visit-{entry.id}"
        ),
    )


def _visit_for_reader(visit_id: int) -> Visit:
    """The visit if the signed-in user may read it: the KIM of its entry, a judge of its
    team, the organiser; 404 for anyone else (and for a visit of an unannounced event)."""
    found = queries.get_visit(visit_id)
    if found is None or found.stage.kind != "visit" or found.stage.event.status == "draft":
        abort(404)
    if current_user.role == access.KIM:
        if found.entry.kim_id != current_user.kim_id:
            abort(404)
    elif current_user.role == access.JUDGE:
        if not queries.on_team(found.stage_id, found.entry_id, current_user.id):
            abort(404)
    elif current_user.role != access.ADMIN:
        abort(404)
    return found


@schedule_bp.route("/visits/<int:visit_id>")
@access.roles(access.JUDGE, access.KIM, access.ADMIN)
def visit(visit_id: int):
    """A visit's page: for the KIM of its entry, the judges of its team and the organiser.
    The photos are shown to the team and the organiser, not to the KIM."""
    found = _visit_for_reader(visit_id)
    return render_template(
        "judging/visit.html",
        visit=found,
        event=found.stage.event,
        team=queries.team(found.stage_id, found.entry_id),
        aspects=queries.stage_criteria(found.stage_id),
        label=found.entry.kim.name
        if current_user.role != access.JUDGE
        else queries.entry_label_for_judges(found.entry, found.stage.event),
        photos=[]
        if current_user.role == access.KIM
        else queries.visit_photos(found.stage_id, found.entry_id),
        names=_criterion_names(found.stage_id),
        can_confirm=current_user.role == access.JUDGE
        and found.confirmed_at is None
        and found.stage.event.status == "judging",
        confirm_opens=visits.confirm_opens_at(found),
        confirm_early=utcnow() < visits.confirm_opens_at(found),
        minutes_open=_minutes_open(found),
    )


def _criterion_names(stage_id: int) -> dict[int, str]:
    return {c.id: c.name for a in queries.stage_criteria(stage_id) for c in a.criteria}


def _minutes_open(found: Visit) -> bool:
    """The Berita Acara visitasi: for the team and the organiser always (a draft until the
    representative confirms), for the KIM once its representative has confirmed it."""
    return current_user.role != access.KIM or found.confirmed_at is not None


@schedule_bp.route("/visits/<int:visit_id>/confirm", methods=["GET", "POST"])
@access.roles(access.JUDGE)
def confirm_visit(visit_id: int):
    """The KIM's representative confirms the visit on the team judge's device."""
    found = _visit_for_reader(visit_id)
    form = ConfirmVisitForm()
    event = found.stage.event
    return form_flow(
        form,
        lambda: visits.confirm_visit(
            found.id,
            current_user,
            name=form.name.data,
            signature=form.signature.data,
            typed_confirmation=bool(form.typed.data),
        ),
        render=lambda: render_template(
            "judging/visit_confirm.html",
            visit=found,
            event=event,
            form=form,
            team=queries.team(found.stage_id, found.entry_id),
            label=queries.entry_label_for_judges(found.entry, event),
            kim=found.entry.kim.name,
            confirm_opens=visits.confirm_opens_at(found),
            confirm_early=utcnow() < visits.confirm_opens_at(found),
        ),
        message=_("The KIM's representative has confirmed the visit."),
        done=lambda _v: redirect(url_for("schedule.visit", visit_id=found.id), code=303),
    )


@schedule_bp.route("/visits/<int:visit_id>/berita-acara.pdf")
@access.roles(access.JUDGE, access.KIM, access.ADMIN)
def visit_minutes(visit_id: int):
    """The Berita Acara visitasi (PDF), signed when a signing backend is configured."""
    found = _visit_for_reader(visit_id)
    if not _minutes_open(found):
        abort(404)
    pdf, error = attempt(lambda: minutes.minutes_pdf(found))
    if error is not None:
        return render_error(error.status, error.message)
    return download(pdf, f"berita-acara-visitasi-{found.entry.code}.pdf", "application/pdf")


@judge_bp.route("/sheets/<int:assignment_id>/visit/<int:criterion_id>", methods=["POST"])
def save_visit_check(assignment_id: int, criterion_id: int):
    assignment = queries.judge_assignment(current_user.id, assignment_id) or abort(404)
    result, error = attempt(
        lambda: visits.save_visit_check(
            assignment.id,
            current_user,
            criterion_id=criterion_id,
            mark=request.form.get("mark"),
            note=request.form.get("note"),
            client_key=request.form.get("client_key"),
        )
    )
    if error is not None:
        if error.status == 404:
            abort(404)
        from monev.judging.views.sheets import checklist_refused

        return checklist_refused(assignment, criterion_id, error)
    flash(
        _("The checklist has been saved.")
        if result.applied
        else _("This checklist line was already saved."),
        "success",
    )
    return redirect(
        url_for("judge.sheet", assignment_id=assignment.id) + f"#check-{criterion_id}", code=303
    )


# --- photos -------------------------------------------------------------------------------


def wants_json() -> bool:
    """The request prefers a JSON answer (an offline phone's sync) to a page."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def place_of(photo: VisitPhoto, visit: Visit | None) -> geo.PhotoPlace:
    return geo.photo_place(
        photo.distance_m,
        has_position=photo.latitude is not None,
        visit_located=visit is not None and visit.latitude is not None,
        far_m=current_app.config.get("VISIT_PHOTO_FAR_M", geo.FAR_DEFAULT_M),
    )


def photo_json(photo: VisitPhoto, visit: Visit | None) -> dict:
    return {
        "id": photo.id,
        "taken_at": photo.taken_at.isoformat() + "Z",
        "distance_m": photo.distance_m,
        "distance_text": place_of(photo, visit).full,
        "url": url_for("schedule.visit_photo", photo_id=photo.id),
        "thumbnail_url": url_for("schedule.visit_photo", photo_id=photo.id, size="small"),
    }


def _json_status(status: int) -> int:
    """The photo endpoint answers 400 (bad input), 404 (not yours, not there) or 409 (the
    sheet or the stage does not take changes now)."""
    if status in (404, 409):
        return status
    return 409 if status == 403 else 400


def _json_refusal(message: str, field: str | None, status: int):
    return jsonify(ok=False, field=field, message=message), _json_status(status)


def _photo_error_answer(status: int, error):
    """Errors met before or around the photo view (CSRF, a file over the limit, a crash):
    JSON, not a page, for a client that asked for JSON."""
    if request.endpoint != "judge.save_visit_photo" or not wants_json():
        return None
    if isinstance(error, RequestEntityTooLarge):
        limit = getattr(error, "limit_mb", current_app.config["MAX_UPLOAD_MB"])
        return _json_refusal(_("The image may be at most %(mb)d MB.", mb=limit), "photo", 400)
    if status >= 500:
        return jsonify(
            ok=False,
            field=None,
            message=_("An unexpected error occurred. Nothing was saved. Please try again."),
        ), status
    if status == 400:
        message = _(
            "Your form has expired or was sent without its security token. Reload the page "
            "and try again."
        )
    elif status == 403:
        message = _("Your account does not have access to this page.")
    else:
        message = _("This entry is not assigned to you; nothing was saved.")
    return _json_refusal(message, None, status)


@judge_bp.record_once
def _register_error_answers(state) -> None:
    app: Flask = state.app
    answer_errors_under(app, "/judge/sheets/", _photo_error_answer)


@judge_bp.route("/sheets/<int:assignment_id>/visit/<int:criterion_id>/photos", methods=["POST"])
def save_visit_photo(assignment_id: int, criterion_id: int):
    """A photo for a criterion of a visit sheet: JSON for a client that asks for it (201 new,
    200 already stored), else back to the sheet (the form without JavaScript)."""
    as_json = wants_json()
    assignment = queries.judge_assignment(current_user.id, assignment_id)
    if assignment is None:
        if as_json:
            return _json_refusal(
                _("This entry is not assigned to you; nothing was saved."), None, 404
            )
        abort(404)
    upload = request.files.get("photo")
    form = request.form
    result, error = attempt(
        lambda: visits.save_visit_photo(
            assignment.id,
            current_user,
            criterion_id=criterion_id,
            stream=upload.stream if upload is not None and upload.filename else None,
            taken_at=form.get("taken_at"),
            latitude=form.get("latitude"),
            longitude=form.get("longitude"),
            accuracy=form.get("accuracy"),
            client_key=form.get("client_key"),
        )
    )
    if error is not None:
        if as_json:
            return _json_refusal(error.message, error.field, error.status)
        if error.status == 404:
            abort(404)
        from monev.judging.views.sheets import photo_refused

        return photo_refused(assignment, criterion_id, error)
    if as_json:
        visit = visits.visit_of(assignment)
        return jsonify(ok=True, applied=result.applied, photo=photo_json(result.photo, visit)), (
            201 if result.applied else 200
        )
    flash(
        _("The photo has been saved.") if result.applied else _("This photo was already saved."),
        "success",
    )
    return redirect(
        url_for("judge.sheet", assignment_id=assignment.id) + f"#photos-{criterion_id}", code=303
    )


@judge_bp.route("/sheets/<int:assignment_id>/photos/<int:photo_id>/delete", methods=["GET", "POST"])
def delete_visit_photo(assignment_id: int, photo_id: int):
    """Remove a photo from the judge's draft sheet, after a confirmation step."""
    assignment = queries.judge_assignment(current_user.id, assignment_id) or abort(404)
    located = queries.locate_photo(photo_id)
    if located is None or located.photo.sheet_id != getattr(assignment.sheet, "id", None):
        abort(404)
    form = DeletePhotoForm()
    back = url_for("judge.sheet", assignment_id=assignment.id) + (
        f"#photos-{located.photo.criterion_id}"
    )

    page_sheet = assignment.sheet
    blocks = (
        [_("This sheet is final and locked; only the organiser can reopen it.")]
        if page_sheet is not None and page_sheet.status == "final"
        else []
    )

    def step():
        return confirmation(
            "judging/_delete_photo.html",
            title=_("Remove the photo"),
            back_url=back,
            back_label=queries.entry_label_for_judges(assignment.entry, assignment.stage.event),
            form=form,
            assignment=assignment,
            photo=located.photo,
            stamp=format_moment(located.photo.taken_at, assignment.stage.event.timezone),
            blocks=blocks,
            consequences=[]
            if blocks
            else [
                _("The photo is removed from your sheet and from the Berita Acara."),
                _("It cannot be brought back: take it again on site if you still need it."),
            ],
        )

    return form_flow(
        form,
        lambda: visits.delete_visit_photo(
            assignment.id, current_user, photo_id, confirmed=bool(form.confirm.data)
        ),
        render=step,
        message=_("The photo has been removed."),
        done=lambda _r: redirect(back, code=303),
    )


@schedule_bp.route("/visits/photos/<int:photo_id>")
@access.roles(access.JUDGE, access.ADMIN)
def visit_photo(photo_id: int):
    """A visit photo, for the judges of the visit's team and the organiser; nobody else (not
    the KIM, not the public). ``?size=small`` (the pages' thumbnails) or ``?size=print``
    answers a smaller JPEG copy instead. Private: only the browser may keep it."""
    located = queries.locate_photo(photo_id)
    if located is None:
        abort(404)
    if current_user.role != access.ADMIN and not queries.on_team(
        located.stage_id, located.entry_id, current_user.id
    ):
        abort(404)
    key = located.photo.storage_key
    size = request.args.get("size")
    if size is not None:
        if size not in RENDITIONS:
            abort(404)
        # a photo stored before renditions existed gets its copy now, kept for next time
        key = ensure_rendition(key, size) or key
    response = send_stored(
        key,
        f"foto-visitasi-{photo_id}{'-' + size if size else ''}.{key.rsplit('.', 1)[-1]}",
        content_type(key),
        inline=True,
    )
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@schedule_bp.app_context_processor
def _photo_helpers():
    def photo_stamp(photo: VisitPhoto, tz: str) -> str:
        return format_moment(photo.taken_at, tz)

    def photo_thumb(photo: VisitPhoto) -> dict:
        """The small copy a page shows: its address and size (for width and height)."""
        width, height = rendition_size(photo.width, photo.height, "small")
        return {
            "src": url_for("schedule.visit_photo", photo_id=photo.id, size="small"),
            "width": width,
            "height": height,
        }

    return {
        "photo_thumb": photo_thumb,
        "photo_place": place_of,
        "photo_stamp": photo_stamp,
        # what a photo form sends as its time without JavaScript: when the page was made
        "now_iso": utcnow().replace(microsecond=0).isoformat() + "+00:00",
    }
