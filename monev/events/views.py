"""Admin pages to set up an event: settings, status, stages, categories and the rubric."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monev.core import access
from monev.core.errors import ServiceError
from monev.core.forms import EmptyForm, attach_error
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local, to_utc
from monev.events import queries, services
from monev.events.forms import CategoryForm, EventForm, StageForm
from monev.events.models import STATUSES, Category, Event, Stage
from monev.extensions import db
from monev.rubrics import queries as rubric_queries
from monev.rubrics.messages import describe
from monev.rubrics.validation import rubric_problems

bp = Blueprint("events", __name__, url_prefix="/admin/events")
access.blueprint_roles(bp, access.ADMIN)


def event_or_404(slug: str) -> Event:
    return queries.get_by_slug(slug) or abort(404)


def _form_data(form) -> dict:
    return {name: f.data for name, f in form._fields.items() if name != "csrf_token"}


def _tie_breaks(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


@bp.route("/")
def index():
    return render_template("events/index.html", events=queries.all_events())


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = EventForm()
    status = 200
    if form.validate_on_submit():
        try:
            event = services.create_event(_form_data(form))
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(_("Event created. Next: add its stages and categories."), "success")
            return redirect(url_for("events.detail", slug=event.slug))
    elif form.is_submitted():
        status = 422
    return render_template("events/new.html", form=form), status


def _detail_page(event: Event, form=None, status=200):
    if form is None:
        form = EventForm(obj=event)
        form.tie_breaks.data = "\n".join(event.tie_breaks or [])
    problems = [describe(p) for p in rubric_problems(rubric_queries.stage_specs(event))]
    moves = [
        (
            target,
            services.readiness_problems(event, target)
            if STATUSES.index(target) > event.status_index()
            else [],
        )
        for target in services.TRANSITIONS.get(event.status, ())
    ]
    return (
        render_template(
            "events/detail.html",
            event=event,
            form=form,
            moves=moves,
            statuses=STATUSES,
            rubric_problems=problems,
            counts=queries.entry_counts(event.id),
            to_local=to_local,
            tz_label=tz_label(event.timezone),
            post_form=EmptyForm(formdata=None),
        ),
        status,
    )


@bp.route("/<slug>", methods=["GET", "POST"])
def detail(slug: str):
    event = event_or_404(slug)
    if request.method == "GET":
        return _detail_page(event)
    form = EventForm()
    if not form.validate_on_submit():
        return _detail_page(event, form, 422)
    data = _form_data(form)
    data["tie_breaks"] = _tie_breaks(form.tie_breaks.data)
    try:
        services.update_event(event, data)
    except ServiceError as error:
        attach_error(form, error)
        return _detail_page(event, form, error.status)
    flash(_("The event settings have been saved."), "success")
    return redirect(url_for("events.detail", slug=event.slug))


# --- stages -------------------------------------------------------------------------------


def _stage_or_404(event: Event, stage_id: int) -> Stage:
    stage = db.session.get(Stage, stage_id)
    if stage is None or stage.event_id != event.id:
        abort(404)
    return stage


@bp.route("/<slug>/stages/new", methods=["GET", "POST"])
@bp.route("/<slug>/stages/<int:stage_id>", methods=["GET", "POST"])
def stage(slug: str, stage_id: int | None = None):
    event = event_or_404(slug)
    stage = _stage_or_404(event, stage_id) if stage_id else None
    form = StageForm(obj=stage if request.method == "GET" else None)
    if request.method == "GET" and stage is not None:
        form.weight.data = _plain(stage.weight)
        form.opens_at.data = to_local(stage.opens_at, event.timezone)
        form.closes_at.data = to_local(stage.closes_at, event.timezone)
    status = 200
    if form.validate_on_submit():
        data = _form_data(form)
        from monev.rubrics.validation import to_decimal

        data["weight"] = to_decimal(form.weight.data)
        data["opens_at"] = to_utc(form.opens_at.data, event.timezone)
        data["closes_at"] = to_utc(form.closes_at.data, event.timezone)
        if data["weight"] is None:
            form.weight.errors = [_("Enter a number, e.g. 2,5.")]
            status = 422
        else:
            try:
                services.save_stage(event, stage, data)
            except ServiceError as error:
                attach_error(form, error)
                status = error.status
            else:
                flash(_("The stage has been saved."), "success")
                return redirect(url_for("events.detail", slug=event.slug) + "#stages")
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "events/stage_form.html",
            event=event,
            stage=stage,
            form=form,
            tz_label=tz_label(event.timezone),
        ),
        status,
    )


@bp.route("/<slug>/stages/<int:stage_id>/delete", methods=["POST"])
def delete_stage(slug: str, stage_id: int):
    event = event_or_404(slug)
    stage = _stage_or_404(event, stage_id)
    try:
        services.delete_stage(event, stage)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("events.detail", slug=event.slug) + "#stages"), 303
    flash(_("The stage has been deleted."), "success")
    return redirect(url_for("events.detail", slug=event.slug) + "#stages"), 303


# --- categories ---------------------------------------------------------------------------


def _category_or_404(event: Event, category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None or category.event_id != event.id:
        abort(404)
    return category


@bp.route("/<slug>/categories/new", methods=["GET", "POST"])
@bp.route("/<slug>/categories/<int:category_id>", methods=["GET", "POST"])
def category(slug: str, category_id: int | None = None):
    event = event_or_404(slug)
    category = _category_or_404(event, category_id) if category_id else None
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if request.method == "GET":
        if category is not None:
            form.award_ladder.data = "\n".join(category.award_ladder or [])
            form.score_bands.data = "\n".join(
                f"{_plain(b['min'])} {b['label']}" for b in category.score_bands or []
            )
        else:
            from monev.events.models import DEFAULT_LADDER

            form.award_ladder.data = "\n".join(DEFAULT_LADDER)
    status = 200
    if form.validate_on_submit():
        try:
            services.save_category(event, category, _form_data(form))
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(_("The category has been saved."), "success")
            return redirect(url_for("events.detail", slug=event.slug) + "#categories")
    elif form.is_submitted():
        status = 422
    return render_template(
        "events/category_form.html", event=event, category=category, form=form
    ), status


@bp.route("/<slug>/categories/<int:category_id>/delete", methods=["POST"])
def delete_category(slug: str, category_id: int):
    event = event_or_404(slug)
    category = _category_or_404(event, category_id)
    try:
        services.delete_category(event, category)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("The category has been deleted."), "success")
    return redirect(url_for("events.detail", slug=event.slug) + "#categories"), 303


def _plain(value) -> str:
    from decimal import Decimal

    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",")


@bp.route("/<slug>/logo", methods=["POST"])
def logo(slug: str):
    """Upload (or, with ``remove``, delete) the event logo."""
    from monev.events import logo as event_logo

    event = event_or_404(slug)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if request.form.get("remove"):
            event_logo.remove_logo(event)
            flash(_("The logo has been removed."), "success")
        else:
            upload = request.files.get("logo")
            if upload is None or not upload.filename:
                raise ServiceError(_("Choose an image file for the logo."), field="logo")
            event_logo.set_logo(event, upload.stream)
            flash(_("The logo has been saved."), "success")
    except ServiceError as error:
        flash(error.message, "error")
        return _detail_page(event, status=error.status)
    return redirect(url_for("events.detail", slug=event.slug) + "#settings", code=303)
