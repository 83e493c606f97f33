"""Import and export: whole events as packages (JSON) and rubrics (JSON or Excel).

Uploads are read whole (at most 20 MB), checked, and written in this request's transaction;
any problem answers 422 with every problem and its path, so the request rolls back and
nothing is kept.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monev.core import access
from monev.core.documents import dumps
from monev.core.views import download, form_flow, load_event
from monev.events import queries as event_queries
from monev.events.models import Event
from monev.rubrics.services import structure_locked_reason
from monev.transfer import package
from monev.transfer import rubric as rubric_transfer
from monev.transfer.forms import PackageUploadForm, RubricUploadForm

bp = Blueprint("transfer", __name__, url_prefix="/admin/transfer")
access.blueprint_roles(bp, access.ADMIN)
load_event(bp, lookup=event_queries.get_by_slug)

MAX_UPLOAD = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.url_value_preprocessor
def _limit_upload(_endpoint, _values):
    # URL value preprocessors run before every before_request hook, so the limit applies
    # when CSRF protection reads the body; larger uploads get the 413 page.
    request.max_content_length = MAX_UPLOAD


def _index_page(form, problems=()):
    return render_template(
        "transfer/index.html",
        form=form,
        problems=problems,
        events=package.events_for_transfer(),
        max_mb=MAX_UPLOAD // (1024 * 1024),
    )


def _problems(error) -> list:
    return getattr(error, "problems", [])


@bp.route("/")
def index():
    return _index_page(PackageUploadForm())


@bp.route("/import", methods=["POST"])
def import_package():
    form = PackageUploadForm()
    return form_flow(
        form,
        lambda: package.import_package(package.parse(form.file.data.read())),
        render=lambda: _index_page(form),
        refused=lambda error: _index_page(form, _problems(error)),
        message=lambda event: _("Event %(title)s has been imported.", title=event.title),
        done=lambda _event: redirect(url_for("transfer.index")),
    )


@bp.route("/<slug>/event.json")
def export_package(event: Event):
    data = dumps(package.export_event(event)).encode()
    return download(data, f"{event.slug}.monev-event.json", "application/json")


def _rubric_page(event: Event, form, problems=()):
    return render_template(
        "transfer/rubric.html",
        event=event,
        form=form,
        problems=problems,
        locked=structure_locked_reason(event),
        max_mb=MAX_UPLOAD // (1024 * 1024),
    )


@bp.route("/<slug>/rubric", methods=["GET", "POST"])
def rubric(event: Event):
    form = RubricUploadForm()
    return form_flow(
        form,
        lambda: rubric_transfer.import_file(event, form.file.data.read()),
        render=lambda: _rubric_page(event, form),
        refused=lambda error: _rubric_page(event, form, _problems(error)),
        message=lambda n: _("The rubric has been imported: %(n)d criteria.", n=n),
        done=lambda _n: redirect(url_for("transfer.rubric", slug=event.slug)),
    )


@bp.route("/<slug>/rubric.json")
def export_rubric_json(event: Event):
    data = dumps(rubric_transfer.export_json(event)).encode()
    return download(data, f"{event.slug}.rubric.json", "application/json")


@bp.route("/<slug>/rubric.xlsx")
def export_rubric_excel(event: Event):
    return download(rubric_transfer.export_excel(event), f"{event.slug}.rubric.xlsx", XLSX)
