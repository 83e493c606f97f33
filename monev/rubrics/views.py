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
from monev.core.forms import EmptyForm, form_data
from monev.core.templating import number
from monev.core.views import (
    attempt,
    button_action,
    form_flow,
    load_event,
    page_or_fragment,
    see_other,
)
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
load_event(bp, lookup=event_queries.get_by_slug)


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
    return see_other(url_for("rubrics.index", slug=event.slug) + f"#{anchor}")


def _refused(event: Event, error: ServiceError):
    if htmx:
        response = make_response(
            render_template("rubrics/_refusal.html", message=error.message), error.status
        )
        response.headers["HX-Retarget"] = "#rubric-messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    flash(error.message, "error")
    return see_other(url_for("rubrics.index", slug=event.slug))


def _act(event: Event, action, stage: Stage, anchor, message: str | None = None):
    """Run a builder action: the changed stage, or the refusal (see :func:`_changed`)."""
    result, error = attempt(action)
    if error is not None:
        return _refused(event, error)
    return _changed(event, stage, anchor(result) if callable(anchor) else anchor, message)


@bp.route("/")
def index(event: Event):
    others = [e for e in event_queries.all_events() if e.id != event.id]
    return render_template(
        "rubrics/index.html",
        event=event,
        grouped=queries.aspects_by_stage(event),
        summary=_summary(event),
        others=others,
        copy_form=EmptyForm(formdata=None),
        post_form=EmptyForm(formdata=None),
        aspect_form=AspectForm(formdata=None),
    )


@bp.route("/summary")
def summary(event: Event):
    return render_template("rubrics/_summary.html", event=event, summary=_summary(event))


@bp.route("/stages/<int:stage_id>/aspects", methods=["POST"])
def add_aspect(event: Event, stage_id: int):
    stage = _owned(Stage, stage_id, event)
    form = AspectForm()

    def add():
        if not form.validate_on_submit():
            raise ServiceError(" ".join(form.name.errors or [_("Give the aspect a name.")]))
        return services.save_aspect(stage, None, form.name.data)

    return _act(event, add, stage, lambda aspect: f"aspect-{aspect.id}", _("Aspect added."))


@bp.route("/aspects/<int:aspect_id>", methods=["GET", "POST"])
def edit_aspect(event: Event, aspect_id: int):
    aspect = _owned(Aspect, aspect_id, event)
    form = AspectForm(obj=aspect if request.method == "GET" else None)
    return form_flow(
        form,
        lambda: services.save_aspect(aspect.stage, aspect, form.name.data),
        render=lambda: page_or_fragment(
            "rubrics/aspect_form.html",
            "rubrics/_aspect_form.html",
            event=event,
            aspect=aspect,
            form=form,
        ),
        done=lambda _result: _changed(
            event, aspect.stage, f"aspect-{aspect.id}", _("Aspect renamed.")
        ),
    )


@bp.route("/aspects/<int:aspect_id>/delete", methods=["POST"])
def delete_aspect(event: Event, aspect_id: int):
    aspect = _owned(Aspect, aspect_id, event)
    return _delete(event, aspect, services.delete_aspect, _("Aspect deleted."))


@bp.route("/aspects/<int:aspect_id>/move", methods=["POST"])
def move_aspect(event: Event, aspect_id: int):
    aspect = _owned(Aspect, aspect_id, event)
    return _move(event, aspect, f"aspect-{aspect.id}")


def _delete(event: Event, item, delete, message: str):
    """Delete an aspect or a criterion; its stage comes back without it."""
    stage = item.stage
    return _act(event, lambda: delete(item), stage, f"stage-{stage.id}", message)


def _move(event: Event, item, anchor: str):
    """Move an aspect or a criterion one place up or down within its parent."""
    services.move(item, -1 if request.form.get("direction") == "up" else 1)
    return _changed(event, item.stage, anchor)


def _criterion_form_page(event, aspect, criterion, form):
    locked = services.structure_locked_reason(event, [criterion.id] if criterion else None)
    return page_or_fragment(
        "rubrics/criterion_form.html",
        "rubrics/_criterion_form.html",
        event=event,
        aspect=aspect,
        criterion=criterion,
        form=form,
        locked=locked,
    )


@bp.route("/aspects/<int:aspect_id>/criteria/new", methods=["GET", "POST"])
def new_criterion(event: Event, aspect_id: int):
    aspect = _owned(Aspect, aspect_id, event)
    form = CriterionForm()
    if request.method == "GET":
        form.key.data = f"c{len(queries.criterion_keys(event.id)) + 1}"
        form.min_score.data, form.max_score.data, form.step.data = "1", "10", "1"
    return form_flow(
        form,
        lambda: services.save_criterion(aspect, None, form_data(form)),
        render=lambda: _criterion_form_page(event, aspect, None, form),
        done=lambda criterion: _changed(
            event, aspect.stage, f"criterion-{criterion.id}", _("Criterion added.")
        ),
    )


@bp.route("/criteria/<int:criterion_id>", methods=["GET", "POST"])
def edit_criterion(event: Event, criterion_id: int):
    criterion = _owned(Criterion, criterion_id, event)
    form = CriterionForm(obj=criterion if request.method == "GET" else None)
    if request.method == "GET":
        for name in ("weight", "min_score", "max_score", "step"):
            getattr(form, name).data = number(getattr(criterion, name))
        form.descriptors.data = services.descriptors_text(criterion.descriptors)
    return form_flow(
        form,
        lambda: services.save_criterion(criterion.aspect, criterion, form_data(form)),
        render=lambda: _criterion_form_page(event, criterion.aspect, criterion, form),
        done=lambda _result: _changed(
            event, criterion.stage, f"criterion-{criterion.id}", _("Criterion saved.")
        ),
    )


@bp.route("/criteria/<int:criterion_id>/row")
def criterion_row(event: Event, criterion_id: int):
    """The read-only row again (the inline form's Cancel)."""
    criterion = _owned(Criterion, criterion_id, event)
    if not htmx:
        return redirect(url_for("rubrics.index", slug=event.slug) + f"#criterion-{criterion.id}")
    return render_template(
        "rubrics/_criterion_row.html", event=event, c=criterion, post_form=EmptyForm(formdata=None)
    )


@bp.route("/criteria/<int:criterion_id>/delete", methods=["POST"])
def delete_criterion(event: Event, criterion_id: int):
    criterion = _owned(Criterion, criterion_id, event)
    return _delete(event, criterion, services.delete_criterion, _("Criterion deleted."))


@bp.route("/criteria/<int:criterion_id>/move", methods=["POST"])
def move_criterion(event: Event, criterion_id: int):
    criterion = _owned(Criterion, criterion_id, event)
    return _move(event, criterion, f"criterion-{criterion.id}")


@bp.route("/copy", methods=["POST"])
def copy(event: Event):
    source = event_queries.get_by_slug(request.form.get("source", ""))

    def copy_rubric() -> int:
        if source is None or source.id == event.id:
            raise ServiceError(_("Choose the event to copy the rubric from."))
        return services.copy_rubric(source, event)

    return button_action(
        copy_rubric,
        to=url_for("rubrics.index", slug=event.slug),
        message=lambda n: _("%(n)d criteria copied from %(event)s.", n=n, event=source.title),
    )
