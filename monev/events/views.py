"""Admin pages to set up an event: settings, status, stages, categories and the rubric."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monev.core import access
from monev.core.errors import ServiceError
from monev.core.forms import EmptyForm, form_data
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local, to_utc
from monev.core.views import (
    attempt,
    button_action,
    checked_post,
    event_row,
    form_flow,
    load_event,
    see_other,
)
from monev.events import logo as event_logo
from monev.events import queries, services
from monev.events.forms import CategoryForm, EventForm, StageForm
from monev.events.models import DEFAULT_LADDER, STATUSES, Category, Event, Stage
from monev.rubrics import queries as rubric_queries
from monev.rubrics.messages import describe
from monev.rubrics.validation import rubric_problems, to_decimal

bp = Blueprint("events", __name__, url_prefix="/admin/events")
access.blueprint_roles(bp, access.ADMIN)
load_event(bp, lookup=queries.get_by_slug)


def _tie_breaks(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


@bp.route("/")
def index():
    return render_template("events/index.html", events=queries.all_events())


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = EventForm()
    return form_flow(
        form,
        lambda: services.create_event(form_data(form)),
        render=lambda: render_template("events/new.html", form=form),
        message=_("Event created. Next: add its stages and categories."),
        done=lambda event: redirect(url_for("events.detail", slug=event.slug)),
    )


def _detail_page(event: Event, form=None):
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
    return render_template(
        "events/detail.html",
        event=event,
        form=form,
        moves=moves,
        statuses=STATUSES,
        rubric_problems=problems,
        counts=queries.entry_counts(event.id),
        selections=queries.selection_states(event.id),
        to_local=to_local,
        tz_label=tz_label(event.timezone),
        post_form=EmptyForm(formdata=None),
    )


@bp.route("/<slug>", methods=["GET", "POST"])
def detail(event: Event):
    if request.method == "GET":
        return _detail_page(event)
    form = EventForm()
    return form_flow(
        form,
        lambda: services.update_event(
            event, form_data(form) | {"tie_breaks": _tie_breaks(form.tie_breaks.data)}
        ),
        render=lambda: _detail_page(event, form),
        message=_("The event settings have been saved."),
        done=lambda _result: redirect(url_for("events.detail", slug=event.slug)),
    )


# --- stages -------------------------------------------------------------------------------


@bp.route("/<slug>/stages/new", methods=["GET", "POST"])
@bp.route("/<slug>/stages/<int:stage_id>", methods=["GET", "POST"])
def stage(event: Event, stage_id: int | None = None):
    stage = event_row(event, Stage, stage_id) if stage_id else None
    form = StageForm(obj=stage if request.method == "GET" else None)
    if request.method == "GET" and stage is not None:
        form.weight.data = _plain(stage.weight)
        form.opens_at.data = to_local(stage.opens_at, event.timezone)
        form.closes_at.data = to_local(stage.closes_at, event.timezone)

    def save():
        weight = to_decimal(form.weight.data)
        if weight is None:
            raise ServiceError(_("Enter a number, e.g. 2,5."), field="weight")
        data = form_data(form) | {
            "weight": weight,
            "opens_at": to_utc(form.opens_at.data, event.timezone),
            "closes_at": to_utc(form.closes_at.data, event.timezone),
        }
        services.save_stage(event, stage, data)

    return form_flow(
        form,
        save,
        render=lambda: render_template(
            "events/stage_form.html",
            event=event,
            stage=stage,
            form=form,
            tz_label=tz_label(event.timezone),
        ),
        message=_("The stage has been saved."),
        done=lambda _result: redirect(url_for("events.detail", slug=event.slug) + "#stages"),
    )


@bp.route("/<slug>/stages/<int:stage_id>/delete", methods=["POST"])
def delete_stage(event: Event, stage_id: int):
    stage = event_row(event, Stage, stage_id)
    return _delete(
        lambda: services.delete_stage(event, stage),
        event,
        "stages",
        _("The stage has been deleted."),
    )


def _delete(delete, event: Event, section: str, message: str):
    """A delete button of the event page: back to its ``section`` (303), with the refusal if
    there is one."""
    return button_action(
        delete, to=url_for("events.detail", slug=event.slug) + f"#{section}", message=message
    )


# --- categories ---------------------------------------------------------------------------


@bp.route("/<slug>/categories/new", methods=["GET", "POST"])
@bp.route("/<slug>/categories/<int:category_id>", methods=["GET", "POST"])
def category(event: Event, category_id: int | None = None):
    category = event_row(event, Category, category_id) if category_id else None
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if request.method == "GET":
        if category is not None:
            form.award_ladder.data = "\n".join(category.award_ladder or [])
            form.score_bands.data = "\n".join(
                f"{_plain(b['min'])} {b['label']}" for b in category.score_bands or []
            )
        else:
            form.award_ladder.data = "\n".join(DEFAULT_LADDER)
    return form_flow(
        form,
        lambda: services.save_category(event, category, form_data(form)),
        render=lambda: render_template(
            "events/category_form.html", event=event, category=category, form=form
        ),
        message=_("The category has been saved."),
        done=lambda _result: redirect(url_for("events.detail", slug=event.slug) + "#categories"),
    )


@bp.route("/<slug>/categories/<int:category_id>/delete", methods=["POST"])
def delete_category(event: Event, category_id: int):
    category = event_row(event, Category, category_id)
    return _delete(
        lambda: services.delete_category(event, category),
        event,
        "categories",
        _("The category has been deleted."),
    )


def _plain(value) -> str:
    from decimal import Decimal

    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",")


@bp.route("/<slug>/logo", methods=["POST"])
@checked_post
def logo(event: Event):
    """Upload (or, with ``remove``, delete) the event logo."""

    def change() -> str:
        if request.form.get("remove"):
            event_logo.remove_logo(event)
            return _("The logo has been removed.")
        upload = request.files.get("logo")
        if upload is None or not upload.filename:
            raise ServiceError(_("Choose an image file for the logo."), field="logo")
        event_logo.set_logo(event, upload.stream)
        return _("The logo has been saved.")

    message, error = attempt(change)
    if error is not None:
        flash(error.message, "error")
        return _detail_page(event), error.status
    flash(message, "success")
    return see_other(url_for("events.detail", slug=event.slug) + "#settings")
