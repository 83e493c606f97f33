"""What judges do (/judge/…): their assignments, score sheets (whole-sheet saves and the
autosave of one criterion), conflicts of interest and blank paper forms."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from monev.core.forms import EmptyForm, attach_error
from monev.core.timeutil import utcnow
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local
from monev.core.views import (
    attempt,
    commit_before_answer,
    confirmation,
    form_flow,
    reads_first,
    see_other,
    start_writing,
    wants_fragment,
)
from monev.events.models import Event, Stage
from monev.judging import paper, queries, services
from monev.judging.forms import DeclareConflictForm, FinaliseForm
from monev.judging.models import Assignment
from monev.judging.views.blueprints import judge_bp, printable
from monev.scoring import sheet_total


@judge_bp.route("/", endpoint="index")
def judge_index():
    return render_template(
        "judging/judge_index.html",
        progress=queries.judge_progress(current_user.id),
        has_visits=queries.judge_has_visits(current_user.id),
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
    checks: dict = field(default_factory=dict)  # a field visit's checklist, by criterion id
    visit: object = None  # the field visit of the entry, when the stage is one
    photos: dict = field(default_factory=dict)  # the visit photos, by criterion id
    missing_photos: list = field(default_factory=list)  # criteria short of required photos


def _sheet_page(assignment: Assignment) -> SheetPage:
    stage, event = assignment.stage, assignment.stage.event
    sheet = assignment.sheet
    aspects = queries.stage_criteria(stage.id)
    scores = queries.sheet_scores(sheet.id if sheet else None)
    conflict = queries.has_conflict(assignment.entry_id, current_user.id)
    closed_reason = services.closed_reason(assignment, utcnow())
    return SheetPage(
        assignment=assignment,
        event=event,
        stage=stage,
        label=queries.entry_label_for_judges(assignment.entry, event),
        aspects=aspects,
        scores=scores,
        evidence={}
        if conflict or assignment.dropped_at is not None
        else queries.evidence_for(assignment.entry),
        version=sheet.version if sheet else 0,
        status=sheet.status if sheet else "draft",
        conflict=conflict,
        open_now=closed_reason is None,
        closed_reason=closed_reason,
        total=sheet_total(
            queries.criterion_rules(aspects), {cid: s.value for cid, s in scores.items()}
        ),
        tz=tz_label(event.timezone),
        deadline=services.format_moment(stage.closes_at, event.timezone),
        checks=queries.sheet_checks(sheet.id if sheet else None) if stage.is_visit else {},
        visit=queries.stage_visits(stage.id).get(assignment.entry_id) if stage.is_visit else None,
        photos=queries.sheet_photos(sheet.id if sheet else None) if stage.is_visit else {},
        missing_photos=queries.missing_photos(stage.id, sheet.id if sheet else None)
        if stage.is_visit
        else [],
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
        if assignment.dropped_at is not None:  # nothing of the entry is shown any more
            return render_template(
                "judging/sheet_dropped.html",
                assignment=assignment,
                label=queries.entry_label_for_judges(assignment.entry, assignment.stage.event),
            )
        page = _sheet_page(assignment)
        return render_template(
            "judging/sheet.html", page=page, errors={}, submitted=None, form=EmptyForm()
        )
    return _save_whole_sheet(assignment)


def _finalise_step(assignment: Assignment, form: FinaliseForm, page: SheetPage | None = None):
    """The confirmation step of finalising: the sheet as stored (autosave has sent every
    change before the button can be used; without JavaScript the sheet was saved first), or
    why it cannot be finalised, each with the way back to the sheet."""
    page = page or _sheet_page(assignment)
    blocks: list = []
    if page.conflict:
        blocks.append(
            _("You declared a conflict of interest with this entry, so you cannot score it.")
        )
    elif page.status == "final":
        blocks.append(_("This sheet is final and locked; only the organiser can reopen it."))
    elif page.closed_reason:
        blocks.append(page.closed_reason)
    elif not page.total.complete:
        missing = len(page.total.missing)
        blocks.append(
            {
                "message": ngettext(
                    "%(num)d criterion has no score yet: score it before finalising.",
                    "%(num)d criteria have no score yet: score them before finalising.",
                    missing,
                ),
                "endpoint": "judge.sheet",
                "args": {
                    "assignment_id": assignment.id,
                    "_anchor": f"criterion-{page.total.missing[0]}",
                },
            }
        )
    open_draft = not (page.conflict or page.status == "final" or page.closed_reason)
    if open_draft and page.missing_photos:
        blocks.append(
            {
                "message": _(
                    "Finalise needs the photos the visit requires; missing: %(list)s.",
                    list=services.missing_photos_text(page.missing_photos),
                ),
                "endpoint": "judge.sheet",
                "args": {
                    "assignment_id": assignment.id,
                    "_anchor": f"photos-{page.missing_photos[0].criterion_id}",
                },
            }
        )
    return confirmation(
        "judging/_finalise.html",
        title=_("Finalise the sheet"),
        back_url=url_for("judge.sheet", assignment_id=assignment.id),
        back_label=page.label,
        page=page,
        form=form,
        blocks=blocks,
        consequences=[] if blocks else services.finalise_consequences(page.total, page.scores),
    )


@judge_bp.route("/sheets/<int:assignment_id>/finalise", methods=["GET", "POST"])
def finalise(assignment_id: int):
    """GET: the confirmation step (a page, or the fragment htmx puts in a <dialog>).
    POST: finalise, refused without the ticked confirmation; the sheet's scores may come
    with it (saved first, all or nothing), else the sheet is finalised as stored."""
    assignment = _own_assignment(assignment_id)
    form = FinaliseForm()
    if not form.is_submitted():
        return _finalise_step(assignment, form)
    if not form.validate():  # the CSRF token
        return _finalise_step(assignment, form), 400
    page = _sheet_page(assignment)
    raw = _raw_sheet(request.form, page.aspects)
    _result, error = attempt(
        lambda: services.save_sheet(
            assignment.id,
            current_user,
            raw,
            version=_version(request.form),
            finalise=True,
            confirmed=bool(form.confirm.data),
        )
    )
    if error is None:
        flash(_("The score sheet is final. Thank you!"), "success")
        return redirect(url_for("judge.index"))
    if raw and error.field != "confirm":  # scores sent with it: the refusals beside them
        return _refused_sheet(assignment, error, form)
    attach_error(form, error)
    return _finalise_step(_own_assignment(assignment.id), form), error.status


def _refused_sheet(assignment: Assignment, error, form):
    """The sheet as stored, the input as sent, the refusals beside it."""
    return (
        render_template(
            "judging/sheet.html",
            page=_sheet_page(_own_assignment(assignment.id)),
            errors=getattr(error, "errors", {}),
            refusal=error.message,
            submitted=request.form,
            form=form,
        ),
        error.status,
    )


def _sheet_refused(assignment: Assignment, error, **shown):
    """The sheet again with a refused part's message and input (``shown``), as ``error``'s
    status."""
    return (
        render_template(
            "judging/sheet.html",
            page=_sheet_page(_own_assignment(assignment.id)),
            errors={},
            submitted=None,
            form=EmptyForm(),
            **shown,
        ),
        error.status,
    )


def checklist_refused(assignment: Assignment, criterion_id: int, error):
    """The sheet with a refused checklist line: its message beside it, the input kept."""
    return _sheet_refused(
        assignment,
        error,
        check_errors={criterion_id: error.message},
        check_submitted={criterion_id: (request.form.get("mark"), request.form.get("note", ""))},
    )


def photo_refused(assignment: Assignment, criterion_id: int, error):
    """The sheet with a refused photo: its message beside the criterion's photo form."""
    return _sheet_refused(assignment, error, photo_errors={criterion_id: error.message})


def _save_whole_sheet(assignment: Assignment):
    """The whole sheet as one form (without JavaScript). Its Finalise button saves it first
    (``then=finalise``), then shows the confirmation step with the numbers as saved."""
    form = EmptyForm()
    page = _sheet_page(assignment)
    if not form.validate_on_submit():
        return render_template(
            "judging/sheet.html", page=page, errors={}, submitted=request.form, form=form
        ), 400
    raw = _raw_sheet(request.form, page.aspects)
    start_writing()  # the autosave's URL without htmx reads first (see save_score)
    result, error = attempt(
        lambda: services.save_sheet(
            assignment.id, current_user, raw, version=_version(request.form)
        )
    )
    if error is not None:
        return _refused_sheet(assignment, error, form)
    if request.form.get("then") == "finalise":
        if result.changed:
            flash(_("Saved."), "success")
        return see_other(url_for("judge.finalise", assignment_id=assignment.id))
    flash(
        _("Saved.") if result.changed else _("Nothing had changed; the sheet is as it was."),
        "success",
    )
    return redirect(url_for("judge.sheet", assignment_id=assignment.id))


@judge_bp.route("/sheets/<int:assignment_id>/scores/<int:criterion_id>", methods=["POST"])
@reads_first
def save_score(assignment_id: int, criterion_id: int):
    """Autosave of one criterion (htmx); without htmx it answers like the whole-sheet save.

    The busiest write of judging day, so it holds SQLite's write lock only while it writes:
    the session is read before (``reads_first``), the service checks everything (that the
    sheet is the judge's own too) under its locks, and the answer is rendered after the
    commit."""
    form = request.form
    if not wants_fragment():
        return _save_whole_sheet(_own_assignment(assignment_id))
    start_writing()
    result, error = attempt(
        lambda: services.save_score(
            assignment_id,
            current_user,
            criterion_id=criterion_id,
            value=form.get(f"value-{criterion_id}", form.get("value")),
            comment=form.get(f"comment-{criterion_id}", form.get("comment")),
            version=_version(form),
        ),
        savepoint=False,  # the one write of the request; a refusal is rolled back with it
    )
    if error is not None:
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
    commit_before_answer()
    return render_template(
        "judging/_save_state.html",
        criterion_id=criterion_id,
        error=None,
        version=result.sheet.version,
        total=result.total,
        saved_at=utcnow(),
        tz=result.assignment.stage.event.timezone,
        to_local=to_local,
    )


def _conflict_step(assignment: Assignment, form: DeclareConflictForm):
    """The confirmation step of a conflict of interest: the reason and what it does."""
    event = assignment.stage.event
    label = queries.entry_label_for_judges(assignment.entry, event)
    already = queries.has_conflict(assignment.entry_id, current_user.id)
    return confirmation(
        "judging/_declare_conflict.html",
        title=_("Declare a conflict of interest"),
        back_url=url_for("judge.sheet", assignment_id=assignment.id),
        back_label=label,
        form=form,
        assignment=assignment,
        label=label,
        blocks=[_("You have already declared a conflict with this entry.")] if already else [],
        consequences=[] if already else services.conflict_consequences(assignment),
    )


@judge_bp.route("/assignments/<int:assignment_id>/conflict", methods=["GET", "POST"])
def declare_conflict(assignment_id: int):
    assignment = _own_assignment(assignment_id)
    form = DeclareConflictForm()
    return form_flow(
        form,
        lambda: services.declare_conflict(
            assignment.id, current_user, form.reason.data, confirmed=bool(form.confirm.data)
        ),
        render=lambda: _conflict_step(assignment, form),
        message=_(
            "Your conflict of interest is recorded; the organiser will assign another judge."
        ),
        done=lambda _result: redirect(url_for("judge.index")),
    )


@judge_bp.route("/sheets/<int:assignment_id>/paper-form")
def paper_form(assignment_id: int):
    """The judge's own blank paper form for an assigned entry (no scores on it)."""
    assignment = _own_assignment(assignment_id)
    event = assignment.stage.event
    return printable(
        paper.printable_form(
            event,
            assignment.stage,
            assignment.entry,
            label=queries.entry_label_for_judges(assignment.entry, event),
            judge=current_user,
        )
    )


# --- template helpers (the judge's home is rendered by public.home) ----------------------

SHEET_STATE_LABELS = {
    "empty": _l("Not started"),
    "draft": _l("Draft"),
    "final": _l("Final"),
    "conflict": _l("Conflict"),
    "dropped": _l("Dropped"),
}


@judge_bp.app_context_processor
def _judging_helpers():
    def deadline_of(progress) -> str:
        return services.format_moment(progress.stage.closes_at, progress.event.timezone)

    def slot_time(progress, moment) -> str:
        return services.format_moment(moment, progress.event.timezone)

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
