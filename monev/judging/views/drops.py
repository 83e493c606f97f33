"""The organiser drops a score sheet that is not final, with a reason, through the shared
confirmation step (a page without JavaScript, a <dialog> with htmx), and may restore it
while the event is still judging."""

from __future__ import annotations

from flask import abort, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from monev.core.views import button_action, checked_post, confirmation, form_flow, see_other
from monev.events.models import Event
from monev.judging import drops, services
from monev.judging.forms import DropForm
from monev.judging.views.blueprints import bp


def _progress_url(event: Event, assignment) -> str:
    return url_for("judging.progress", slug=event.slug, stage_id=assignment.stage_id)


def consequences(preview: drops.DropPreview) -> list[str]:
    """What dropping the sheet will do, with numbers, in the user's language."""
    a = preview.assignment
    entry = f"{a.entry.code} · {a.entry.kim.name}"
    lines = [
        _(
            "%(entry)s will be judged by %(counted)d of %(assigned)d judges in stage %(stage)s.",
            entry=entry,
            counted=preview.counted_after,
            assigned=preview.assigned,
            stage=a.stage.name,
        )
    ]
    if preview.counted_after == 0:
        lines.append(
            _(
                "No judge's sheet will count for this entry in this stage: it is ranked as "
                "incomplete."
            )
        )
    if preview.state == "draft":
        lines.append(
            ngettext(
                "The draft of %(judge)s (%(num)d of %(criteria)d criteria scored) is not "
                "counted; the judge can no longer open or change it.",
                "The draft of %(judge)s (%(num)d of %(criteria)d criteria scored) is not "
                "counted; the judge can no longer open or change it.",
                preview.scored,
                judge=a.judge.name,
                criteria=preview.criteria,
            )
        )
    else:
        lines.append(
            _(
                "%(judge)s has not started this sheet; the judge can no longer open it.",
                judge=a.judge.name,
            )
        )
    lines.append(
        _(
            "The panel of stage %(stage)s becomes incomplete: intraclass correlations (ICC) "
            "are not computed for it; Krippendorff's alpha is used.",
            stage=a.stage.name,
        )
    )
    lines.append(
        _(
            "The drop and its reason are stated in the results, the Berita Acara and the audit "
            "log; the public results say only that a judge's sheet was dropped. %(judge)s is "
            "notified.",
            judge=a.judge.name,
        )
    )
    lines.append(_("You can restore the sheet while the event is still in its judging phase."))
    return lines


def _drop_page(event: Event, assignment, form: DropForm):
    preview = drops.preview(event, assignment)
    return confirmation(
        "judging/_drop.html",
        title=_("Drop a score sheet"),
        back_url=_progress_url(event, assignment),
        back_label=_("Progress") + f" · {assignment.stage.name}",
        event=event,
        assignment=assignment,
        preview=preview,
        consequences=consequences(preview),
        blocks=[preview.problem] if preview.problem else [],
        form=form,
    )


def _assignment(event: Event, assignment_id: int):
    return drops.assignment_of(event, assignment_id) or abort(404)


@bp.route("/assignments/<int:assignment_id>/drop", methods=["GET", "POST"])
def drop_sheet(event: Event, assignment_id: int):
    assignment = _assignment(event, assignment_id)
    form = DropForm()
    return form_flow(
        form,
        lambda: services.drop_sheet(
            event,
            assignment.id,
            current_user,
            form.reason.data,
            confirmed=bool(form.confirm.data),
        ),
        render=lambda: _drop_page(event, _assignment(event, assignment_id), form),
        message=_("The sheet is dropped; the results state it with its reason."),
        done=lambda _result: see_other(_progress_url(event, assignment)),
    )


@bp.route("/assignments/<int:assignment_id>/restore", methods=["POST"])
@checked_post
def restore_sheet(event: Event, assignment_id: int):
    assignment = _assignment(event, assignment_id)
    return button_action(
        lambda: services.restore_sheet(event, assignment.id, current_user),
        to=_progress_url(event, assignment),
        message=_("The sheet is restored: its judge can finish it again."),
    )
