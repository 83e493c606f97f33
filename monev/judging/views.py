"""Judging pages: the judge's assignments and score sheets (/judge/…), the presentation
schedule for judges and KIMs (/schedule/), and the organiser's judging pages
(/admin/events/<slug>/judging/…): panel, conflicts, assignments, progress board, sheets and
their trail, schedule and paper forms."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from monev.core import access
from monev.core.errors import ServiceError
from monev.core.forms import EmptyForm, attach_error, choices
from monev.core.timeutil import utcnow
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local
from monev.events import queries as event_queries
from monev.events.models import Event, Stage
from monev.extensions import db, htmx
from monev.judging import paper, queries, services
from monev.judging.forms import (
    AssignForm,
    ConflictForm,
    DeclareConflictForm,
    EditJudgeForm,
    JudgeForm,
    PaperUploadForm,
    ReopenForm,
    ScheduleForm,
    SettingsForm,
    SlotForm,
)
from monev.judging.models import Assignment, Conflict, EventJudge
from monev.regions import queries as region_queries
from monev.scoring import sheet_total

judge_bp = Blueprint("judge", __name__, url_prefix="/judge")
access.blueprint_roles(judge_bp, access.JUDGE)

schedule_bp = Blueprint("schedule", __name__, url_prefix="/schedule")
access.blueprint_roles(schedule_bp, access.JUDGE, access.KIM)

bp = Blueprint("judging", __name__, url_prefix="/admin/events/<slug>/judging")
access.blueprint_roles(bp, access.ADMIN)


def _fragment_or_page(fragment: str, page: str, **context):
    """One URL, full page or fragment (htmx asks for the fragment)."""
    return render_template(fragment if htmx else page, **context)


# === judges ===============================================================================


@judge_bp.route("/", endpoint="index")
def judge_index():
    return render_template(
        "judging/judge_index.html", progress=queries.judge_progress(current_user.id)
    )


def _own_assignment(assignment_id: int) -> Assignment:
    return queries.judge_assignment(current_user.id, assignment_id) or abort(404)


@dataclass
class SheetPage:
    assignment: Assignment
    event: Event
    stage: Stage
    label: str
    aspects: list
    scores: dict
    evidence: dict
    version: int
    status: str
    conflict: bool
    open_now: bool
    closed_reason: str | None
    total: object
    tz: str
    deadline: str


def _sheet_page(assignment: Assignment) -> SheetPage:
    stage, event = assignment.stage, assignment.stage.event
    sheet = assignment.sheet
    aspects = queries.stage_criteria(stage.id)
    scores = queries.sheet_scores(sheet.id if sheet else None)
    conflict = queries.has_conflict(assignment.entry_id, current_user.id)
    now = utcnow()
    closed_reason = None
    if event.status != "judging":
        closed_reason = _("Scoring is closed: the event is not in its judging phase.")
    elif stage.opens_at and now < stage.opens_at:
        closed_reason = _(
            "Scoring for this stage opens on %(when)s.",
            when=services._when(stage.opens_at, event.timezone),
        )
    elif stage.closes_at and now > stage.closes_at:
        closed_reason = _(
            "The scoring deadline passed on %(when)s.",
            when=services._when(stage.closes_at, event.timezone),
        )
    return SheetPage(
        assignment=assignment,
        event=event,
        stage=stage,
        label=queries.entry_label_for_judges(assignment.entry, event),
        aspects=aspects,
        scores=scores,
        evidence=queries.evidence_for(assignment.entry),
        version=sheet.version if sheet else 0,
        status=sheet.status if sheet else "draft",
        conflict=conflict,
        open_now=closed_reason is None,
        closed_reason=closed_reason,
        total=sheet_total(
            queries.criterion_rules(aspects), {cid: s.value for cid, s in scores.items()}
        ),
        tz=tz_label(event.timezone),
        deadline=services._when(stage.closes_at, event.timezone),
    )


def _raw_sheet(form, aspects) -> dict:
    return {
        c.id: (form.get(f"value-{c.id}"), form.get(f"comment-{c.id}"))
        for a in aspects
        for c in a.criteria
        if f"value-{c.id}" in form or f"comment-{c.id}" in form
    }


def _version(form) -> int | None:
    try:
        return int(form.get("version", ""))
    except ValueError:
        return None


@judge_bp.route("/sheets/<int:assignment_id>", methods=["GET", "POST"])
def sheet(assignment_id: int):
    assignment = _own_assignment(assignment_id)
    if request.method == "GET":
        page = _sheet_page(assignment)
        return render_template(
            "judging/sheet.html", page=page, errors={}, submitted=None, form=EmptyForm()
        )
    return _save_whole_sheet(assignment, finalise=False)


@judge_bp.route("/sheets/<int:assignment_id>/finalise", methods=["POST"])
def finalise(assignment_id: int):
    assignment = _own_assignment(assignment_id)
    return _save_whole_sheet(assignment, finalise=True)


def _save_whole_sheet(assignment: Assignment, *, finalise: bool):
    form = EmptyForm()
    page = _sheet_page(assignment)
    if not form.validate_on_submit():
        return render_template(
            "judging/sheet.html", page=page, errors={}, submitted=request.form, form=form
        ), 400
    raw = _raw_sheet(request.form, page.aspects)
    try:
        result = services.save_sheet(
            assignment.id, current_user, raw, version=_version(request.form), finalise=finalise
        )
    except ServiceError as error:
        db.session.rollback()
        errors = getattr(error, "errors", {})
        assignment = _own_assignment(assignment.id)
        page = _sheet_page(assignment)
        return (
            render_template(
                "judging/sheet.html",
                page=page,
                errors=errors,
                refusal=error.message,
                submitted=request.form,
                form=form,
            ),
            error.status,
        )
    if finalise:
        flash(_("The score sheet is final. Thank you!"), "success")
        return redirect(url_for("judge.index"))
    flash(
        _("Saved.") if result.changed else _("Nothing had changed; the sheet is as it was."),
        "success",
    )
    return redirect(url_for("judge.sheet", assignment_id=assignment.id))


@judge_bp.route("/sheets/<int:assignment_id>/scores/<int:criterion_id>", methods=["POST"])
def save_score(assignment_id: int, criterion_id: int):
    """Autosave of one criterion (htmx); without htmx it answers like the whole-sheet save."""
    assignment = _own_assignment(assignment_id)
    form = request.form
    if not htmx:
        return _save_whole_sheet(assignment, finalise=False)
    try:
        result = services.save_score(
            assignment.id,
            current_user,
            criterion_id=criterion_id,
            value=form.get(f"value-{criterion_id}", form.get("value")),
            comment=form.get(f"comment-{criterion_id}", form.get("comment")),
            version=_version(form),
        )
    except ServiceError as error:
        return (
            render_template(
                "judging/_save_state.html",
                criterion_id=criterion_id,
                error=error.message,
                version=None,
                total=None,
            ),
            error.status,
        )
    return render_template(
        "judging/_save_state.html",
        criterion_id=criterion_id,
        error=None,
        version=result.sheet.version,
        total=result.total,
        saved_at=utcnow(),
        tz=assignment.stage.event.timezone,
        to_local=to_local,
    )


@judge_bp.route("/assignments/<int:assignment_id>/conflict", methods=["GET", "POST"])
def declare_conflict(assignment_id: int):
    assignment = _own_assignment(assignment_id)
    event = assignment.stage.event
    form = DeclareConflictForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.declare_conflict(assignment.id, current_user, form.reason.data)
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(
                _(
                    "Your conflict of interest is recorded; "
                    "the organiser will assign another judge."
                ),
                "success",
            )
            return redirect(url_for("judge.index"))
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "judging/declare_conflict.html",
            form=form,
            assignment=assignment,
            label=queries.entry_label_for_judges(assignment.entry, event),
            already=queries.has_conflict(assignment.entry_id, current_user.id),
        ),
        status,
    )


@judge_bp.route("/sheets/<int:assignment_id>/paper-form")
def paper_form(assignment_id: int):
    """The judge's own blank paper form for an assigned entry (no scores on it)."""
    assignment = _own_assignment(assignment_id)
    event = assignment.stage.event
    return paper.printable_form(
        event,
        assignment.stage,
        assignment.entry,
        label=queries.entry_label_for_judges(assignment.entry, event),
        judge=current_user,
    )


@schedule_bp.route("/")
def mine():
    if current_user.role == access.KIM:
        slots = queries.kim_schedule(current_user.kim_id)
    else:
        slots = queries.judge_schedule(current_user.id)
    return render_template(
        "judging/my_schedule.html", slots=slots, to_local=to_local, tz_label=tz_label
    )


# === organiser ============================================================================


def _event(slug: str) -> Event:
    return event_queries.get_by_slug(slug) or abort(404)


def _stage(event: Event, stage_id: int) -> Stage:
    stage = db.session.get(Stage, stage_id)
    if stage is None or stage.event_id != event.id:
        abort(404)
    return stage


def _district_choices():
    return choices(
        [("", "—")] + [(d.id, f"{d.short_label} ({d.code})") for d in region_queries.districts()]
    )


@bp.route("/", methods=["GET", "POST"])
def index(slug: str):
    event = _event(slug)
    form = SettingsForm(obj=event if request.method == "GET" else None)
    if form.validate_on_submit():
        services.set_judges_see_names(event, form.judges_see_names.data)
        flash(_("The judging settings have been saved."), "success")
        return redirect(url_for("judging.index", slug=slug))
    panel = queries.event_panel(event.id)
    return render_template(
        "judging/admin_index.html",
        event=event,
        form=form,
        panel=panel,
        conflicts=queries.event_conflicts(event.id),
        boards={s.id: queries.progress_board(s).counts for s in event.stages},
    )


@bp.route("/judges", methods=["GET", "POST"])
def judges(slug: str):
    event = _event(slug)
    form = JudgeForm()
    form.home_district_id.choices = _district_choices()
    form.stages.choices = choices((s.id, s.name) for s in event.stages)
    if request.method == "GET":
        form.stages.data = [s.id for s in event.stages]
    status = 200
    if form.validate_on_submit():
        try:
            judge = services.add_judge(
                event,
                email=form.email.data,
                name=form.name.data,
                institution=form.institution.data,
                home_district_id=form.home_district_id.data,
                stage_ids=form.stages.data,
            )
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(_("%(name)s is on the panel.", name=judge.user.name), "success")
            return redirect(url_for("judging.judges", slug=slug))
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "judging/judges.html",
            event=event,
            form=form,
            panel=queries.event_panel(event.id),
            stages_of=queries.panel_stages(event),
            post_form=EmptyForm(formdata=None),
        ),
        status,
    )


def _panel_member(event: Event, judge_id: int) -> EventJudge:
    return queries.event_judge(event.id, judge_id) or abort(404)


@bp.route("/judges/<int:judge_id>", methods=["GET", "POST"])
def edit_judge(slug: str, judge_id: int):
    event = _event(slug)
    member = _panel_member(event, judge_id)
    form = EditJudgeForm(obj=member if request.method == "GET" else None)
    form.home_district_id.choices = _district_choices()
    form.stages.choices = choices((s.id, s.name) for s in event.stages)
    if request.method == "GET":
        form.stages.data = sorted(queries.panel_stages(event).get(judge_id, set()))
    status = 200
    if form.validate_on_submit():
        try:
            services.update_judge(
                event,
                member,
                home_district_id=form.home_district_id.data,
                stage_ids=form.stages.data,
            )
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(_("The judge's panels have been saved."), "success")
            return redirect(url_for("judging.judges", slug=slug))
    elif form.is_submitted():
        status = 422
    return render_template("judging/judge_edit.html", event=event, member=member, form=form), status


@bp.route("/judges/<int:judge_id>/remove", methods=["POST"])
def remove_judge(slug: str, judge_id: int):
    event = _event(slug)
    member = _panel_member(event, judge_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.remove_judge(event, member)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("The judge has left the panel."), "success")
    return redirect(url_for("judging.judges", slug=slug)), 303


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
def conflicts(slug: str):
    event = _event(slug)
    form = _conflict_form(event)
    status = 200
    if form.validate_on_submit():
        try:
            if not form.judge_id.data or not form.entry_id.data:
                raise ServiceError(_("Choose a judge and an entry."), field="entry_id")
            services.add_conflict(
                event,
                judge_id=form.judge_id.data,
                entry_id=form.entry_id.data,
                reason=form.reason.data,
            )
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(_("The conflict of interest is recorded."), "success")
            return redirect(url_for("judging.conflicts", slug=slug))
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "judging/conflicts.html",
            event=event,
            form=form,
            conflicts=queries.event_conflicts(event.id),
            post_form=EmptyForm(formdata=None),
        ),
        status,
    )


@bp.route("/conflicts/<int:conflict_id>/delete", methods=["POST"])
def delete_conflict(slug: str, conflict_id: int):
    event = _event(slug)
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or conflict.entry.event_id != event.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.remove_conflict(event, conflict)
    flash(_("The conflict of interest is removed."), "success")
    return redirect(url_for("judging.conflicts", slug=slug)), 303


def _assign_form(event: Event, stage: Stage) -> AssignForm:
    form = AssignForm()
    form.entry_id.choices = choices(
        [("", "—")] + [(e.id, f"{e.code} · {e.kim.name}") for e in queries.judged_entries(event.id)]
    )
    form.judge_id.choices = choices(
        [("", "—")] + [(j.user_id, j.user.name) for j in queries.stage_panel(stage)]
    )
    return form


def _assignments_page(event, stage, form, status=200):
    assignments = queries.stage_assignments(stage.id)
    by_entry: dict[int, list[Assignment]] = {}
    for a in assignments:
        by_entry.setdefault(a.entry_id, []).append(a)
    return (
        render_template(
            "judging/assignments.html",
            event=event,
            stage=stage,
            form=form,
            entries=queries.judged_entries(event.id),
            by_entry=by_entry,
            conflicts=queries.conflict_pairs(event.id),
            post_form=EmptyForm(formdata=None),
        ),
        status,
    )


@bp.route("/stages/<int:stage_id>/assignments", methods=["GET", "POST"])
def assignments(slug: str, stage_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    form = _assign_form(event, stage)
    if request.method == "GET":
        return _assignments_page(event, stage, form)
    if not form.validate_on_submit():
        return _assignments_page(event, stage, form, 422)
    try:
        if not form.entry_id.data or not form.judge_id.data:
            raise ServiceError(_("Choose an entry and a judge."), field="entry_id")
        services.assign(stage, entry_id=form.entry_id.data, judge_id=form.judge_id.data)
    except ServiceError as error:
        attach_error(form, error)
        return _assignments_page(event, stage, form, error.status)
    flash(_("The judge is assigned."), "success")
    return redirect(url_for("judging.assignments", slug=slug, stage_id=stage.id))


@bp.route("/stages/<int:stage_id>/assignments/<int:assignment_id>/delete", methods=["POST"])
def unassign(slug: str, stage_id: int, assignment_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.unassign(assignment_id, stage)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("The assignment is removed."), "success")
    return redirect(url_for("judging.assignments", slug=slug, stage_id=stage.id)), 303


@bp.route("/stages/<int:stage_id>/auto", methods=["GET", "POST"])
def auto_assign(slug: str, stage_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    status = 200
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        try:
            plan = services.apply_plan(stage, request.form.get("fingerprint", ""))
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            flash(
                _(
                    "Plan applied: %(added)d assignments added, %(removed)d released.",
                    added=len(plan.add),
                    removed=len(plan.remove),
                ),
                "success",
            )
            return redirect(url_for("judging.assignments", slug=slug, stage_id=stage.id))
    preview = services.plan_stage(stage)
    return (
        render_template(
            "judging/auto_assign.html",
            event=event,
            stage=stage,
            preview=preview,
            post_form=EmptyForm(formdata=None),
        ),
        status,
    )


@bp.route("/stages/<int:stage_id>/progress")
def progress(slug: str, stage_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    board = queries.progress_board(stage)
    return _fragment_or_page(
        "judging/_board.html",
        "judging/progress.html",
        event=event,
        stage=stage,
        board=board,
        post_form=EmptyForm(formdata=None),
        now=utcnow(),
        to_local=to_local,
        tz=tz_label(event.timezone),
    )


@bp.route("/stages/<int:stage_id>/remind", methods=["POST"])
def remind(slug: str, stage_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    n = services.send_reminders(stage)
    flash(
        _("Reminders sent to %(n)d judges.", n=n) if n else _("No judge has sheets missing."),
        "success",
    )
    return redirect(url_for("judging.progress", slug=slug, stage_id=stage.id)), 303


@bp.route("/sheets/<int:sheet_id>", methods=["GET", "POST"])
def sheet_detail(slug: str, sheet_id: int):
    event = _event(slug)
    sheet = queries.admin_sheet(sheet_id, event.id) or abort(404)
    form = ReopenForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.reopen_sheet(sheet.id, event, current_user, form.reason.data)
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(_("The sheet is open again for its judge."), "success")
            return redirect(url_for("judging.sheet_detail", slug=slug, sheet_id=sheet.id))
    elif form.is_submitted():
        status = 422
    aspects = queries.stage_criteria(sheet.assignment.stage_id)
    scores = queries.sheet_scores(sheet.id)
    return (
        render_template(
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
        ),
        status,
    )


@bp.route("/changes")
def changes(slug: str):
    event = _event(slug)
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


@bp.route("/stages/<int:stage_id>/schedule", methods=["GET", "POST"])
def schedule(slug: str, stage_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    form = ScheduleForm()
    if request.method == "GET" and stage.opens_at:
        form.start.data = to_local(stage.opens_at, event.timezone)
    status = 200
    if form.validate_on_submit():
        try:
            n = services.generate_schedule(
                stage,
                start=form.start.data,
                minutes=form.minutes.data,
                gap=form.gap.data or 0,
                room=form.room.data,
            )
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(_("Schedule made: %(n)d slots.", n=n), "success")
            return redirect(url_for("judging.schedule", slug=slug, stage_id=stage.id))
    elif form.is_submitted():
        status = 422
    return _schedule_page(event, stage, form, status)


def _schedule_page(event, stage, form, status=200, slot_errors=None):
    return (
        render_template(
            "judging/schedule.html",
            event=event,
            stage=stage,
            form=form,
            entries=queries.judged_entries(event.id),
            slots=queries.stage_schedule(stage.id),
            slot_errors=slot_errors or {},
            to_local=to_local,
            tz=tz_label(event.timezone),
            post_form=EmptyForm(formdata=None),
        ),
        status,
    )


@bp.route("/stages/<int:stage_id>/schedule/<int:entry_id>", methods=["POST"])
def edit_slot(slug: str, stage_id: int, entry_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    form = SlotForm()
    if not form.validate_on_submit():
        message = next(iter(e for errs in form.errors.values() for e in errs), _("Check the slot."))
        return _schedule_page(event, stage, ScheduleForm(formdata=None), 422, {entry_id: message})
    try:
        services.save_slot(
            stage,
            entry_id=entry_id,
            start=form.start.data,
            minutes=form.minutes.data,
            room=form.room.data,
        )
    except ServiceError as error:
        return _schedule_page(
            event, stage, ScheduleForm(formdata=None), error.status, {entry_id: error.message}
        )
    flash(_("The slot has been saved."), "success")
    return redirect(url_for("judging.schedule", slug=slug, stage_id=stage.id) + f"#slot-{entry_id}")


# --- paper forms --------------------------------------------------------------------------


@bp.route("/stages/<int:stage_id>/paper")
def paper_index(slug: str, stage_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    return render_template(
        "judging/paper.html",
        event=event,
        stage=stage,
        form=PaperUploadForm(formdata=None),
        entries=queries.judged_entries(event.id),
        preview=None,
    )


@bp.route("/stages/<int:stage_id>/paper/template.xlsx")
def paper_template(slug: str, stage_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    return paper.template_response(event, stage)


@bp.route("/stages/<int:stage_id>/paper/forms/<int:entry_id>")
def paper_entry_form(slug: str, stage_id: int, entry_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    entry = db.session.get(queries.Entry, entry_id)
    if entry is None or entry.event_id != event.id:
        abort(404)
    return paper.printable_form(
        event, stage, entry, label=f"{entry.code} · {entry.kim.name}", judge=None
    )


@bp.route("/stages/<int:stage_id>/paper/import", methods=["POST"])
def paper_import(slug: str, stage_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    form = PaperUploadForm()
    status = 200
    preview = None
    if form.validate_on_submit():
        try:
            preview = paper.preview_upload(
                event, stage, form.file.data, finalise=form.finalise.data
            )
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
            preview = getattr(error, "preview", None)
    else:
        status = 422
    return (
        render_template(
            "judging/paper.html",
            event=event,
            stage=stage,
            form=form,
            entries=queries.judged_entries(event.id),
            preview=preview,
        ),
        status,
    )


@bp.route("/stages/<int:stage_id>/paper/apply", methods=["POST"])
def paper_apply(slug: str, stage_id: int):
    event = _event(slug)
    stage = _stage(event, stage_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        result = paper.apply_upload(event, stage, request.form.get("token", ""), current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("judging.paper_index", slug=slug, stage_id=stage.id)), 303
    flash(
        _(
            "Paper scores imported: %(scores)d scores changed on %(sheets)d sheets, "
            "%(final)d finalised.",
            scores=result.scores,
            sheets=result.sheets,
            final=result.finalised,
        ),
        "success",
    )
    return redirect(url_for("judging.progress", slug=slug, stage_id=stage.id)), 303


# --- template helpers (the judge's home is rendered by public.home) ----------------------

SHEET_STATE_LABELS = {
    "empty": _l("Not started"),
    "draft": _l("Draft"),
    "final": _l("Final"),
    "conflict": _l("Conflict"),
}


@judge_bp.app_context_processor
def _judging_helpers():
    def deadline_of(progress) -> str:
        return services._when(progress.stage.closes_at, progress.event.timezone)

    def slot_time(progress, moment) -> str:
        return services._when(moment, progress.event.timezone)

    def evidence_url(item) -> str | None:
        """The evidence file's address, served (with its own access check) by the
        submissions part of the app; links have no file."""
        if item.kind != "file" or "workspace.file" not in current_app.view_functions:
            return None
        return url_for("workspace.file", evidence_id=item.id)

    return {
        "sheet_state_labels": SHEET_STATE_LABELS,
        "deadline_of": deadline_of,
        "slot_time": slot_time,
        "evidence_url": evidence_url,
    }
