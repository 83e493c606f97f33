"""The presentation schedule: everyone's own slots (/schedule/, judges and KIMs) and the
organiser's schedule of a stage (generate it, move one slot)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core import access
from monev.core.forms import EmptyForm
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local
from monev.core.views import first_error, form_flow
from monev.events.models import Event, Stage
from monev.judging import queries, services
from monev.judging.forms import ScheduleForm, SlotForm
from monev.judging.views.blueprints import bp, schedule_bp, stage_of


@schedule_bp.route("/")
def mine():
    if current_user.role == access.KIM:
        slots = queries.kim_schedule(current_user.kim_id)
        visits = sorted(queries.kim_visits(current_user.kim_id).values(), key=lambda v: v.starts_at)
    else:
        slots = queries.judge_schedule(current_user.id)
        visits = queries.judge_visits(current_user.id)
    return render_template(
        "judging/my_schedule.html",
        slots=slots,
        visits=visits,
        to_local=to_local,
        tz_label=tz_label,
    )


def _schedule_url(event: Event, stage: Stage) -> str:
    return url_for("judging.schedule", slug=event.slug, stage_id=stage.id)


@bp.route("/stages/<int:stage_id>/schedule", methods=["GET", "POST"])
def schedule(event: Event, stage_id: int):
    stage = stage_of(event, stage_id)
    form = ScheduleForm()
    if not form.is_submitted() and stage.opens_at:
        form.start.data = to_local(stage.opens_at, event.timezone)
    return form_flow(
        form,
        lambda: services.generate_schedule(
            stage,
            start=form.start.data,
            minutes=form.minutes.data,
            gap=form.gap.data or 0,
            room=form.room.data,
        ),
        render=lambda: _schedule_page(event, stage, form),
        message=lambda n: _("Schedule made: %(n)d slots.", n=n),
        done=lambda _n: redirect(_schedule_url(event, stage)),
    )


def _schedule_page(event: Event, stage: Stage, form, slot_errors=None):
    return render_template(
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
    )


@bp.route("/stages/<int:stage_id>/schedule/<int:entry_id>", methods=["POST"])
def edit_slot(event: Event, stage_id: int, entry_id: int):
    stage = stage_of(event, stage_id)
    form = SlotForm()
    return form_flow(
        form,
        lambda: services.save_slot(
            stage,
            entry_id=entry_id,
            start=form.start.data,
            minutes=form.minutes.data,
            room=form.room.data,
        ),
        render=lambda: _schedule_page(
            event,
            stage,
            ScheduleForm(formdata=None),
            {entry_id: first_error(form, _("Check the slot."))},
        ),
        message=_("The slot has been saved."),
        done=lambda _result: redirect(_schedule_url(event, stage) + f"#slot-{entry_id}"),
    )
