"""The organiser's lifecycle pages.

- The confirmation step of every phase move: the checklist, the consequences with numbers,
  then the move. A full page without JavaScript; the event page opens it in a ``<dialog>``
  through htmx.
- One entry's standing: what it is and why, its history, and the audited actions
  (disqualify with a reason category, withdraw, reinstate).
- The selection between stages: the rule per category, the provisional list, its
  confirmation step (a page, or a ``<dialog>`` through htmx) and its undoing.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from monev.audit.models import AuditEntry
from monev.core import access
from monev.core.forms import choices
from monev.core.templating import STATUS_LABELS
from monev.core.views import confirmation, event_row, form_flow, load_event, see_other
from monev.entries import standing
from monev.entries.models import Entry
from monev.events import queries as event_queries
from monev.events.models import STATUSES, Category, Event, Stage
from monev.extensions import db
from monev.judging import queries as judging_queries
from monev.lifecycle import selection, transitions
from monev.lifecycle.forms import (
    DisqualifyForm,
    MoveForm,
    SelectionConfirmForm,
    SelectionRuleForm,
    SelectionUndoForm,
    StandingNoteForm,
)

bp = Blueprint("lifecycle", __name__, url_prefix="/admin/events")
access.blueprint_roles(bp, access.ADMIN)
load_event(bp, lookup=event_queries.get_by_slug)


def _page(event, target, form):
    check = transitions.preview(event, target)
    form.fill(check.warnings)
    return confirmation(
        "lifecycle/_move.html",
        title=_("Phase of %(event)s", event=event.title),
        back_url=url_for("events.detail", slug=event.slug),
        back_label=event.title,
        event=event,
        target=target,
        target_label=STATUS_LABELS.get(target, target),
        forward=transitions.is_forward(event, target),
        check=check,
        form=form,
    )


@bp.route("/<slug>/phase/<target>", methods=["GET", "POST"])
def move(event: Event, target: str):
    if target not in STATUSES:
        abort(404)
    form = MoveForm()
    return form_flow(
        form,
        lambda: transitions.move(
            current_user,
            event,
            target,
            acknowledged=set(form.acknowledge.data or ()),
            confirmed=bool(form.confirm.data),
        ),
        render=lambda: _page(event, target, form),
        message=_(
            "The event is now in the %(status)s phase.", status=STATUS_LABELS.get(target, target)
        ),
        done=lambda _result: see_other(url_for("events.detail", slug=event.slug)),
    )


# --- an entry's standing ------------------------------------------------------------------


def _disqualify(form, entry):
    standing.disqualify(current_user, entry, form.reason.data, form.note.data)


def _withdraw(form, entry):
    standing.withdraw(current_user, entry, form.note.data)


def _reinstate(form, entry):
    standing.reinstate(current_user, entry, form.note.data)


# action -> (form class, form prefix, service call)
ACTIONS = {
    "disqualify": (DisqualifyForm, "", _disqualify),
    "withdraw": (StandingNoteForm, "withdraw", _withdraw),
    "reinstate": (StandingNoteForm, "reinstate", _reinstate),
}


def _entry(event: Event, entry_id: int) -> Entry:
    entry = event_row(event, Entry, entry_id)
    if entry.nomination_status != "accepted":
        abort(404)
    return entry


def _standing_page(entry: Entry, forms: dict | None = None):
    forms = forms or {}
    history = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "entry",
            AuditEntry.object_id == str(entry.id),
            AuditEntry.action == "entry.standing_changed",
        )
        .order_by(AuditEntry.seq)
    ).all()
    return render_template(
        "lifecycle/standing.html",
        event=entry.event,
        entry=entry,
        now=standing.standing_of(entry),
        history=history,
        labels=standing.LABELS,
        reasons=standing.REASONS,
        forms={
            action: forms.get(action) or form_class(formdata=None, prefix=prefix)
            for action, (form_class, prefix, _act) in ACTIONS.items()
        },
    )


@bp.route("/<slug>/entries/<int:entry_id>/standing")
def standing_page(event: Event, entry_id: int):
    return _standing_page(_entry(event, entry_id))


@bp.route("/<slug>/entries/<int:entry_id>/standing/<action>", methods=["POST"])
def change_standing(event: Event, entry_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    entry = _entry(event, entry_id)
    form_class, prefix, act = ACTIONS[action]
    form = form_class(prefix=prefix)
    return form_flow(
        form,
        lambda: act(form, entry),
        render=lambda: _standing_page(entry, {action: form}),
        message=lambda _result: _(
            "The standing of %(code)s is now: %(standing)s.",
            code=entry.code,
            standing=standing.standing_of(entry).label,
        ),
        done=lambda _result: see_other(
            url_for("lifecycle.standing_page", slug=event.slug, entry_id=entry.id)
        ),
    )


# --- the selection between stages --------------------------------------------------------


def _selection_url(event: Event, stage: Stage, anchor: str | None = None) -> str:
    url = url_for("lifecycle.selection_page", slug=event.slug, stage_id=stage.id)
    return f"{url}#{anchor}" if anchor else url


def _rule_form(category: Category, row, entries, formdata=None) -> SelectionRuleForm:
    """The rule form of one category: filled from its rule (or, posted, from the request)."""
    data = {}
    if row is not None:
        data = {
            "kind": row.kind,
            "count": row.count,
            "min_score": row.min_score,
            "chosen": [str(i) for i in row.chosen_ids or ()],
            "reason": row.reason,
        }
    form = SelectionRuleForm(formdata=formdata, prefix=f"c{category.id}", data=data)
    form.chosen.choices = choices(
        (str(e.id), f"{e.code} · {e.kim.name}") for e in entries if e.category_id == category.id
    )
    return form


def _selection_page(event: Event, stage: Stage, forms=None, undo_form=None):
    forms = forms or {}
    listed = selection.selection_list(stage)
    rows = selection.rules_of(stage)
    entries = judging_queries.judged_entries(event.id)
    return render_template(
        "lifecycle/selection.html",
        event=event,
        stage=stage,
        listed=listed,
        lists={c.category.id: c for c in listed.categories},
        rows=rows,
        forms={
            c.id: forms.get(c.id) or _rule_form(c, rows.get(c.id), entries)
            for c in event.categories
        },
        undo_form=undo_form or SelectionUndoForm(formdata=None),
        undo_problems=selection.undo_problems(stage) if listed.confirmed else (),
        rule_text=selection.rule_text,
    )


@bp.route("/<slug>/stages/<int:stage_id>/selection")
def selection_page(event: Event, stage_id: int):
    return _selection_page(event, event_row(event, Stage, stage_id))


@bp.route("/<slug>/stages/<int:stage_id>/selection/<int:category_id>", methods=["POST"])
def selection_rule(event: Event, stage_id: int, category_id: int):
    stage = event_row(event, Stage, stage_id)
    category = event_row(event, Category, category_id)
    form = _rule_form(category, None, judging_queries.judged_entries(event.id), request.form)
    return form_flow(
        form,
        lambda: selection.set_rule(
            current_user,
            stage,
            category,
            kind=form.kind.data,
            count=form.count.data,
            min_score=form.min_score.data,
            chosen_ids=form.chosen.data or (),
            reason=form.reason.data,
        ),
        render=lambda: _selection_page(event, stage, {category.id: form}),
        message=lambda row: _(
            "%(category)s: %(rule)s", category=category.name, rule=selection.rule_text(row)
        ),
        done=lambda _row: see_other(_selection_url(event, stage, f"category-{category.key}")),
    )


def _confirm_page(event: Event, stage: Stage, form):
    return confirmation(
        "lifecycle/_selection_confirm.html",
        title=_("Confirm the selection after %(stage)s", stage=stage.name),
        back_url=_selection_url(event, stage),
        back_label=_("Selection after %(stage)s", stage=stage.name),
        event=event,
        stage=stage,
        check=selection.preview_confirm(stage),
        form=form,
    )


@bp.route("/<slug>/stages/<int:stage_id>/selection/confirm", methods=["GET", "POST"])
def selection_confirm(event: Event, stage_id: int):
    stage = event_row(event, Stage, stage_id)
    form = SelectionConfirmForm()
    return form_flow(
        form,
        lambda: selection.confirm(current_user, stage, confirmed=bool(form.confirm.data)),
        render=lambda: _confirm_page(event, stage, form),
        message=lambda listed: ngettext(
            "The selection is confirmed: %(num)d entry advances to %(stage)s.",
            "The selection is confirmed: %(num)d entries advance to %(stage)s.",
            listed.advancing,
            stage=listed.next_stage.name,
        ),
        done=lambda _listed: see_other(_selection_url(event, stage)),
    )


@bp.route("/<slug>/stages/<int:stage_id>/selection/undo", methods=["POST"])
def selection_undo(event: Event, stage_id: int):
    stage = event_row(event, Stage, stage_id)
    form = SelectionUndoForm()
    return form_flow(
        form,
        lambda: selection.undo(current_user, stage, form.note.data),
        render=lambda: _selection_page(event, stage, undo_form=form),
        message=lambda n: ngettext(
            "The confirmation is undone: %(num)d entry is active again.",
            "The confirmation is undone: %(num)d entries are active again.",
            n,
        ),
        done=lambda _n: see_other(_selection_url(event, stage)),
    )
