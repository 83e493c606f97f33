"""The rubric builder. Every action works as a plain form post (full pages, redirects) and,
with htmx, edits inline: mutations answer with the re-rendered stage and an
``HX-Trigger: rubric-changed`` event that refreshes the validation summary."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from monev.core import access
from monev.core.errors import ServiceError
from monev.core.forms import EmptyForm, attach_error
from monev.core.templating import number
from monev.events import queries as event_queries
from monev.events.forms import AspectForm, CriterionForm
from monev.events.models import Event, Stage
from monev.extensions import db, htmx
from monev.rubrics import queries, services
from monev.rubrics.messages import describe
from monev.rubrics.models import Aspect, Criterion
from monev.rubrics.validation import rubric_problems

bp = Blueprint("rubrics", __name__, url_prefix="/admin/events/<slug>/rubric")
access.blueprint_roles(bp, access.ADMIN)


def _event(slug: str) -> Event:
    return event_queries.get_by_slug(slug) or abort(404)


def _owned(model, item_id: int, event: Event):
    item = db.session.get(model, item_id)
    if item is None:
        abort(404)
    event_id = item.stage.event_id if isinstance(item, Aspect) else item.event_id
    if event_id != event.id:
        abort(404)
    return item


def _summary(event: Event) -> dict:
    specs = queries.stage_specs(event)
    return {
        "problems": [describe(p) for p in rubric_problems(specs)],
        "totals": {spec.key: sum((c.weight for c in spec.criteria), 0) for spec in specs},
        "stage_total": sum((s.weight for s in event.stages), 0),
        "locked": services.structure_locked_reason(event),
    }


def _stage_html(event: Event, stage: Stage) -> str:
    grouped = queries.aspects_by_stage(event)
    return render_template(
        "rubrics/_stage.html",
        event=event,
        stage=stage,
        aspects=grouped.get(stage.id, []),
        summary=_summary(event),
        post_form=EmptyForm(formdata=None),
        aspect_form=AspectForm(formdata=None),
    )


def _changed(event: Event, stage: Stage, anchor: str, message: str | None = None):
    """After a change: the stage fragment for htmx, a redirect otherwise."""
    if htmx:
        response = make_response(_stage_html(event, stage))
        response.headers["HX-Trigger"] = "rubric-changed"
        response.headers["HX-Retarget"] = f"#stage-{stage.id}"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    if message:
        flash(message, "success")
    return redirect(url_for("rubrics.index", slug=event.slug) + f"#{anchor}", code=303)


def _refused(event: Event, error: ServiceError):
    if htmx:
        response = make_response(
            render_template("rubrics/_refusal.html", message=error.message), error.status
        )
        response.headers["HX-Retarget"] = "#rubric-messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    flash(error.message, "error")
    return redirect(url_for("rubrics.index", slug=event.slug), code=303)


@bp.route("/")
def index(slug: str):
    event = _event(slug)
    others = [e for e in event_queries.all_events() if e.id != event.id]
    copy_form = EmptyForm(formdata=None)
    return render_template(
        "rubrics/index.html",
        event=event,
        grouped=queries.aspects_by_stage(event),
        summary=_summary(event),
        others=others,
        copy_form=copy_form,
        post_form=EmptyForm(formdata=None),
        aspect_form=AspectForm(formdata=None),
    )


@bp.route("/summary")
def summary(slug: str):
    event = _event(slug)
    return render_template("rubrics/_summary.html", event=event, summary=_summary(event))


@bp.route("/stages/<int:stage_id>/aspects", methods=["POST"])
def add_aspect(slug: str, stage_id: int):
    event = _event(slug)
    stage = _owned(Stage, stage_id, event)
    form = AspectForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(form.name.errors or [_("Give the aspect a name.")]))
        aspect = services.save_aspect(stage, None, form.name.data)
    except ServiceError as error:
        return _refused(event, error)
    return _changed(event, stage, f"aspect-{aspect.id}", _("Aspect added."))


@bp.route("/aspects/<int:aspect_id>", methods=["GET", "POST"])
def edit_aspect(slug: str, aspect_id: int):
    event = _event(slug)
    aspect = _owned(Aspect, aspect_id, event)
    form = AspectForm(obj=aspect if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            services.save_aspect(aspect.stage, aspect, form.name.data)
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            return _changed(event, aspect.stage, f"aspect-{aspect.id}", _("Aspect renamed."))
    elif form.is_submitted():
        status = 422
    template = "rubrics/_aspect_form.html" if htmx else "rubrics/aspect_form.html"
    return render_template(template, event=event, aspect=aspect, form=form), status


@bp.route("/aspects/<int:aspect_id>/delete", methods=["POST"])
def delete_aspect(slug: str, aspect_id: int):
    event = _event(slug)
    aspect = _owned(Aspect, aspect_id, event)
    stage = aspect.stage
    try:
        services.delete_aspect(aspect)
    except ServiceError as error:
        return _refused(event, error)
    return _changed(event, stage, f"stage-{stage.id}", _("Aspect deleted."))


@bp.route("/aspects/<int:aspect_id>/move", methods=["POST"])
def move_aspect(slug: str, aspect_id: int):
    event = _event(slug)
    aspect = _owned(Aspect, aspect_id, event)
    services.move(aspect, -1 if request.form.get("direction") == "up" else 1)
    return _changed(event, aspect.stage, f"aspect-{aspect.id}")


def _criterion_form_page(event, aspect, criterion, form, status):
    template = "rubrics/_criterion_form.html" if htmx else "rubrics/criterion_form.html"
    locked = services.structure_locked_reason(event, [criterion.id] if criterion else None)
    return (
        render_template(
            template, event=event, aspect=aspect, criterion=criterion, form=form, locked=locked
        ),
        status,
    )


def _criterion_data(form: CriterionForm) -> dict:
    return {name: f.data for name, f in form._fields.items() if name != "csrf_token"}


@bp.route("/aspects/<int:aspect_id>/criteria/new", methods=["GET", "POST"])
def new_criterion(slug: str, aspect_id: int):
    event = _event(slug)
    aspect = _owned(Aspect, aspect_id, event)
    form = CriterionForm()
    if request.method == "GET":
        form.key.data = f"c{len(queries.criterion_keys(event.id)) + 1}"
        form.min_score.data, form.max_score.data, form.step.data = "1", "10", "1"
    status = 200
    if form.validate_on_submit():
        try:
            criterion = services.save_criterion(aspect, None, _criterion_data(form))
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            return _changed(event, aspect.stage, f"criterion-{criterion.id}", _("Criterion added."))
    elif form.is_submitted():
        status = 422
    return _criterion_form_page(event, aspect, None, form, status)


@bp.route("/criteria/<int:criterion_id>", methods=["GET", "POST"])
def edit_criterion(slug: str, criterion_id: int):
    event = _event(slug)
    criterion = _owned(Criterion, criterion_id, event)
    form = CriterionForm(obj=criterion if request.method == "GET" else None)
    if request.method == "GET":
        for name in ("weight", "min_score", "max_score", "step"):
            getattr(form, name).data = number(getattr(criterion, name))
        form.descriptors.data = services.descriptors_text(criterion.descriptors)
    status = 200
    if form.validate_on_submit():
        try:
            services.save_criterion(criterion.aspect, criterion, _criterion_data(form))
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            return _changed(
                event, criterion.stage, f"criterion-{criterion.id}", _("Criterion saved.")
            )
    elif form.is_submitted():
        status = 422
    return _criterion_form_page(event, criterion.aspect, criterion, form, status)


@bp.route("/criteria/<int:criterion_id>/row")
def criterion_row(slug: str, criterion_id: int):
    """The read-only row again (the inline form's Cancel)."""
    event = _event(slug)
    criterion = _owned(Criterion, criterion_id, event)
    if not htmx:
        return redirect(url_for("rubrics.index", slug=event.slug) + f"#criterion-{criterion.id}")
    return render_template(
        "rubrics/_criterion_row.html", event=event, c=criterion, post_form=EmptyForm(formdata=None)
    )


@bp.route("/criteria/<int:criterion_id>/delete", methods=["POST"])
def delete_criterion(slug: str, criterion_id: int):
    event = _event(slug)
    criterion = _owned(Criterion, criterion_id, event)
    stage = criterion.stage
    try:
        services.delete_criterion(criterion)
    except ServiceError as error:
        return _refused(event, error)
    return _changed(event, stage, f"stage-{stage.id}", _("Criterion deleted."))


@bp.route("/criteria/<int:criterion_id>/move", methods=["POST"])
def move_criterion(slug: str, criterion_id: int):
    event = _event(slug)
    criterion = _owned(Criterion, criterion_id, event)
    services.move(criterion, -1 if request.form.get("direction") == "up" else 1)
    return _changed(event, criterion.stage, f"criterion-{criterion.id}")


@bp.route("/copy", methods=["POST"])
def copy(slug: str):
    event = _event(slug)
    source = event_queries.get_by_slug(request.form.get("source", ""))
    if source is None or source.id == event.id:
        flash(_("Choose the event to copy the rubric from."), "error")
        return redirect(url_for("rubrics.index", slug=event.slug), code=303)
    try:
        copied = services.copy_rubric(source, event)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("%(n)d criteria copied from %(event)s.", n=copied, event=source.title), "success")
    return redirect(url_for("rubrics.index", slug=event.slug), code=303)
