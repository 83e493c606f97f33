"""Import and export: whole events as packages (JSON) and rubrics (JSON or Excel).

Uploads are read whole (at most 20 MB), checked, and written in this request's transaction;
any problem answers 422 with every problem and its path, so the request rolls back and
nothing is kept.
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from monev.core import access
from monev.core.documents import DocumentError, dumps
from monev.core.errors import ServiceError
from monev.events import queries as event_queries
from monev.events.models import Event
from monev.rubrics.services import structure_locked_reason
from monev.transfer import package
from monev.transfer import rubric as rubric_transfer
from monev.transfer.forms import PackageUploadForm, RubricUploadForm

bp = Blueprint("transfer", __name__, url_prefix="/admin/transfer")
access.blueprint_roles(bp, access.ADMIN)

MAX_UPLOAD = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.url_value_preprocessor
def _limit_upload(_endpoint, _values):
    # URL value preprocessors run before every before_request hook, so the limit applies
    # when CSRF protection reads the body; larger uploads get the 413 page.
    request.max_content_length = MAX_UPLOAD


def _event(slug: str) -> Event:
    return event_queries.get_by_slug(slug) or abort(404)


def _download(data: bytes, name: str, mimetype: str):
    return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


def _index_page(form, problems=(), status: int = 200):
    return (
        render_template(
            "transfer/index.html",
            form=form,
            problems=problems,
            events=package.events_for_transfer(),
            max_mb=MAX_UPLOAD // (1024 * 1024),
        ),
        status,
    )


@bp.route("/")
def index():
    return _index_page(PackageUploadForm())


@bp.route("/import", methods=["POST"])
def import_package():
    form = PackageUploadForm()
    if not form.validate_on_submit():
        return _index_page(form, status=422)
    try:
        event = package.import_package(package.parse(form.file.data.read()))
    except DocumentError as error:
        form.form_errors.append(error.message)
        return _index_page(form, error.problems, status=error.status)
    flash(_("Event %(title)s has been imported.", title=event.title), "success")
    return redirect(url_for("transfer.index"))


@bp.route("/<slug>/event.json")
def export_package(slug: str):
    event = _event(slug)
    data = dumps(package.export_event(event)).encode()
    return _download(data, f"{event.slug}.monev-event.json", "application/json")


def _rubric_page(event: Event, form, problems=(), status: int = 200):
    return (
        render_template(
            "transfer/rubric.html",
            event=event,
            form=form,
            problems=problems,
            locked=structure_locked_reason(event),
            max_mb=MAX_UPLOAD // (1024 * 1024),
        ),
        status,
    )


@bp.route("/<slug>/rubric", methods=["GET", "POST"])
def rubric(slug: str):
    event = _event(slug)
    form = RubricUploadForm()
    if request.method == "GET":
        return _rubric_page(event, form)
    if not form.validate_on_submit():
        return _rubric_page(event, form, status=422)
    try:
        count = rubric_transfer.import_file(event, form.file.data.read())
    except DocumentError as error:
        form.form_errors.append(error.message)
        return _rubric_page(event, form, error.problems, status=error.status)
    except ServiceError as error:
        form.form_errors.append(error.message)
        return _rubric_page(event, form, status=error.status)
    flash(_("The rubric has been imported: %(n)d criteria.", n=count), "success")
    return redirect(url_for("transfer.rubric", slug=event.slug))


@bp.route("/<slug>/rubric.json")
def export_rubric_json(slug: str):
    event = _event(slug)
    data = dumps(rubric_transfer.export_json(event)).encode()
    return _download(data, f"{event.slug}.rubric.json", "application/json")


@bp.route("/<slug>/rubric.xlsx")
def export_rubric_excel(slug: str):
    event = _event(slug)
    return _download(rubric_transfer.export_excel(event), f"{event.slug}.rubric.xlsx", XLSX)
