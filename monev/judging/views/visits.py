"""Field visits: the organiser's visits board and visit form of a visit stage, a visit's
page for its KIM and its team, and the judge's visit checklist on the sheet."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core import access
from monev.core.timeutil import utcnow
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local
from monev.core.views import attempt, event_row, form_flow
from monev.entries.models import Entry
from monev.events.models import Event
from monev.judging import queries, visits
from monev.judging.forms import VisitForm
from monev.judging.views.blueprints import bp, judge_bp, schedule_bp, stage_of


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
        rows=queries.visit_board(stage, queries.judged_entries(event.id), utcnow()),
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


@schedule_bp.route("/visits/<int:visit_id>")
def visit(visit_id: int):
    """A visit's page: for the KIM of its entry and the judges of its team, nobody else."""
    found = queries.get_visit(visit_id)
    if found is None or found.stage.kind != "visit" or found.stage.event.status == "draft":
        abort(404)
    if current_user.role == access.KIM:
        if found.entry.kim_id != current_user.kim_id:
            abort(404)
    elif not queries.on_team(found.stage_id, found.entry_id, current_user.id):
        abort(404)
    return render_template(
        "judging/visit.html",
        visit=found,
        event=found.stage.event,
        team=queries.team(found.stage_id, found.entry_id),
        aspects=queries.stage_criteria(found.stage_id),
        label=found.entry.kim.name
        if current_user.role == access.KIM
        else queries.entry_label_for_judges(found.entry, found.stage.event),
    )


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
