"""The organiser's judging pages (/admin/events/<slug>/judging/…): settings, the panel of
judges, conflicts of interest, assignments (by hand and planned), one sheet with its trail,
and the log of score changes. The progress board is in :mod:`monev.judging.views.board`."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core.errors import ServiceError
from monev.core.forms import EmptyForm, choices
from monev.core.timezones import to_local
from monev.core.views import (
    attempt,
    button_action,
    checked_post,
    form_flow,
    see_other,
)
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import queries, services
from monev.judging.forms import (
    AssignForm,
    ConflictForm,
    EditJudgeForm,
    JudgeForm,
    ReopenForm,
    SettingsForm,
)
from monev.judging.models import Assignment, Conflict, EventJudge
from monev.judging.views.blueprints import bp, stage_of
from monev.regions import queries as region_queries
from monev.scoring import sheet_total


def _district_choices():
    return choices(
        [("", "—")] + [(d.id, f"{d.short_label} ({d.code})") for d in region_queries.districts()]
    )


def _stage_choices(event: Event):
    return choices((s.id, s.name) for s in event.stages)


@bp.route("/", methods=["GET", "POST"])
def index(event: Event):
    form = SettingsForm(obj=event if request.method == "GET" else None)
    return form_flow(
        form,
        lambda: services.set_judges_see_names(event, form.judges_see_names.data),
        render=lambda: render_template(
            "judging/admin_index.html",
            event=event,
            form=form,
            panel=queries.event_panel(event.id),
            conflicts=queries.event_conflicts(event.id),
            boards={s.id: queries.progress_board(s).counts for s in event.stages},
        ),
        message=_("The judging settings have been saved."),
        done=lambda _result: redirect(url_for("judging.index", slug=event.slug)),
    )


@bp.route("/judges", methods=["GET", "POST"])
def judges(event: Event):
    form = JudgeForm()
    form.home_district_id.choices = _district_choices()
    form.stages.choices = _stage_choices(event)
    if request.method == "GET":
        form.stages.data = [s.id for s in event.stages]
    return form_flow(
        form,
        lambda: services.add_judge(
            event,
            email=form.email.data,
            name=form.name.data,
            institution=form.institution.data,
            home_district_id=form.home_district_id.data,
            stage_ids=form.stages.data,
        ),
        render=lambda: render_template(
            "judging/judges.html",
            event=event,
            form=form,
            panel=queries.event_panel(event.id),
            stages_of=queries.panel_stages(event),
            post_form=EmptyForm(formdata=None),
        ),
        message=lambda judge: _("%(name)s is on the panel.", name=judge.user.name),
        done=lambda _judge: redirect(url_for("judging.judges", slug=event.slug)),
    )


def _panel_member(event: Event, judge_id: int) -> EventJudge:
    return queries.event_judge(event.id, judge_id) or abort(404)


@bp.route("/judges/<int:judge_id>", methods=["GET", "POST"])
def edit_judge(event: Event, judge_id: int):
    member = _panel_member(event, judge_id)
    form = EditJudgeForm(obj=member if request.method == "GET" else None)
    form.home_district_id.choices = _district_choices()
    form.stages.choices = _stage_choices(event)
    if request.method == "GET":
        form.stages.data = sorted(queries.panel_stages(event).get(judge_id, set()))
    return form_flow(
        form,
        lambda: services.update_judge(
            event,
            member,
            home_district_id=form.home_district_id.data,
            stage_ids=form.stages.data,
        ),
        render=lambda: render_template(
            "judging/judge_edit.html", event=event, member=member, form=form
        ),
        message=_("The judge's panels have been saved."),
        done=lambda _result: redirect(url_for("judging.judges", slug=event.slug)),
    )


@bp.route("/judges/<int:judge_id>/remove", methods=["POST"])
@checked_post
def remove_judge(event: Event, judge_id: int):
    member = _panel_member(event, judge_id)
    return button_action(
        lambda: services.remove_judge(event, member),
        to=url_for("judging.judges", slug=event.slug),
        message=_("The judge has left the panel."),
    )


def _conflict_form(event: Event) -> ConflictForm:
    form = ConflictForm()
    form.judge_id.choices = choices(
        [("", "—")] + [(j.user_id, j.user.name) for j in queries.event_panel(event.id)]
    )
    form.entry_id.choices = choices(
        [("", "—")] + [(e.id, f"{e.code} · {e.kim.name}") for e in queries.judged_entries(event.id)]
    )
    return form


@bp.route("/conflicts", methods=["GET", "POST"])
def conflicts(event: Event):
    form = _conflict_form(event)

    def add():
        if not form.judge_id.data or not form.entry_id.data:
            raise ServiceError(_("Choose a judge and an entry."), field="entry_id")
        services.add_conflict(
            event,
            judge_id=form.judge_id.data,
            entry_id=form.entry_id.data,
            reason=form.reason.data,
        )

    return form_flow(
        form,
        add,
        render=lambda: render_template(
            "judging/conflicts.html",
            event=event,
            form=form,
            conflicts=queries.event_conflicts(event.id),
            post_form=EmptyForm(formdata=None),
        ),
        message=_("The conflict of interest is recorded."),
        done=lambda _result: redirect(url_for("judging.conflicts", slug=event.slug)),
    )


@bp.route("/conflicts/<int:conflict_id>/delete", methods=["POST"])
@checked_post
def delete_conflict(event: Event, conflict_id: int):
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or conflict.entry.event_id != event.id:
        abort(404)
    return button_action(
        lambda: services.remove_conflict(event, conflict),
        to=url_for("judging.conflicts", slug=event.slug),
        message=_("The conflict of interest is removed."),
    )


def _assign_form(event: Event, stage: Stage) -> AssignForm:
    form = AssignForm()
    form.entry_id.choices = choices(
        [("", "—")] + [(e.id, f"{e.code} · {e.kim.name}") for e in queries.judged_entries(event.id)]
    )
    form.judge_id.choices = choices(
        [("", "—")] + [(j.user_id, j.user.name) for j in queries.stage_panel(stage)]
    )
    return form


def _assignments_page(event: Event, stage: Stage, form):
    by_entry: dict[int, list[Assignment]] = {}
    for a in queries.stage_assignments(stage.id):
        by_entry.setdefault(a.entry_id, []).append(a)
    return render_template(
        "judging/assignments.html",
        event=event,
        stage=stage,
        form=form,
        entries=queries.judged_entries(event.id),
        by_entry=by_entry,
        conflicts=queries.conflict_pairs(event.id),
        post_form=EmptyForm(formdata=None),
        waiting=queries.selection_pending(stage),
    )


def _assignments_url(event: Event, stage: Stage) -> str:
    return url_for("judging.assignments", slug=event.slug, stage_id=stage.id)


@bp.route("/stages/<int:stage_id>/assignments", methods=["GET", "POST"])
def assignments(event: Event, stage_id: int):
    stage = stage_of(event, stage_id)
    form = _assign_form(event, stage)

    def assign():
        if not form.entry_id.data or not form.judge_id.data:
            raise ServiceError(_("Choose an entry and a judge."), field="entry_id")
        services.assign(stage, entry_id=form.entry_id.data, judge_id=form.judge_id.data)

    return form_flow(
        form,
        assign,
        render=lambda: _assignments_page(event, stage, form),
        message=_("The judge is assigned."),
        done=lambda _result: redirect(_assignments_url(event, stage)),
    )


@bp.route("/stages/<int:stage_id>/assignments/<int:assignment_id>/delete", methods=["POST"])
@checked_post
def unassign(event: Event, stage_id: int, assignment_id: int):
    stage = stage_of(event, stage_id)
    return button_action(
        lambda: services.unassign(assignment_id, stage),
        to=_assignments_url(event, stage),
        message=_("The assignment is removed."),
    )


def _plan_message(plan) -> str:
    return _(
        "Plan applied: %(added)d assignments added, %(removed)d released.",
        added=len(plan.add),
        removed=len(plan.remove),
    )


@bp.route("/stages/<int:stage_id>/auto", methods=["GET", "POST"])
@checked_post
def auto_assign(event: Event, stage_id: int):
    stage = stage_of(event, stage_id)
    status = 200
    if request.method == "POST":
        plan, error = attempt(
            lambda: services.apply_plan(stage, request.form.get("fingerprint", ""))
        )
        if error is None:
            flash(_plan_message(plan), "success")
            return redirect(_assignments_url(event, stage))
        flash(error.message, "error")  # and the new plan is shown
        status = error.status
    return (
        render_template(
            "judging/auto_assign.html",
            event=event,
            stage=stage,
            preview=services.plan_stage(stage),
            post_form=EmptyForm(formdata=None),
            waiting=queries.selection_pending(stage),
        ),
        status,
    )


@bp.route("/stages/<int:stage_id>/remind", methods=["POST"])
@checked_post
def remind(event: Event, stage_id: int):
    stage = stage_of(event, stage_id)
    n = services.send_reminders(stage)
    flash(
        _("Reminders sent to %(n)d judges.", n=n) if n else _("No judge has sheets missing."),
        "success",
    )
    return see_other(url_for("judging.progress", slug=event.slug, stage_id=stage.id))


@bp.route("/sheets/<int:sheet_id>", methods=["GET", "POST"])
def sheet_detail(event: Event, sheet_id: int):
    sheet = queries.admin_sheet(sheet_id, event.id) or abort(404)
    form = ReopenForm()
    return form_flow(
        form,
        lambda: services.reopen_sheet(sheet.id, event, current_user, form.reason.data),
        render=lambda: _sheet_detail_page(event, sheet, form),
        message=_("The sheet is open again for its judge."),
        done=lambda _result: redirect(
            url_for("judging.sheet_detail", slug=event.slug, sheet_id=sheet.id)
        ),
    )


def _sheet_detail_page(event: Event, sheet, form):
    aspects = queries.stage_criteria(sheet.assignment.stage_id)
    scores = queries.sheet_scores(sheet.id)
    return render_template(
        "judging/admin_sheet.html",
        event=event,
        sheet=sheet,
        aspects=aspects,
        scores=scores,
        total=sheet_total(
            queries.criterion_rules(aspects), {cid: s.value for cid, s in scores.items()}
        ),
        trail=queries.sheet_trail(sheet.id),
        conflict=queries.has_conflict(sheet.assignment.entry_id, sheet.assignment.judge_id),
        form=form,
        to_local=to_local,
        checks=queries.sheet_checks(sheet.id) if sheet.assignment.stage.is_visit else {},
        photos=queries.sheet_photos(sheet.id) if sheet.assignment.stage.is_visit else {},
        visit=queries.stage_visits(sheet.assignment.stage_id).get(sheet.assignment.entry_id)
        if sheet.assignment.stage.is_visit
        else None,
    )


@bp.route("/changes")
def changes(event: Event):
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = queries.event_changes(event.id, page)
    return render_template(
        "judging/changes.html",
        event=event,
        rows=rows,
        page=page,
        pages=max(1, -(-total // 50)),
        total=total,
        to_local=to_local,
    )
