"""Paper score forms for the organiser: the stage's page, its Excel template, the blank form
of one entry, and the import of filled templates (preview, then apply)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core.views import button_action, checked_post, download, event_row, form_flow
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.judging import paper, queries
from monev.judging.forms import PaperUploadForm
from monev.judging.views.blueprints import bp, printable, stage_of


def _paper_page(event: Event, stage: Stage, form, preview=None):
    return render_template(
        "judging/paper.html",
        event=event,
        stage=stage,
        form=form,
        entries=queries.judged_entries(event.id),
        preview=preview,
    )


@bp.route("/stages/<int:stage_id>/paper")
def paper_index(event: Event, stage_id: int):
    return _paper_page(event, stage_of(event, stage_id), PaperUploadForm(formdata=None))


@bp.route("/stages/<int:stage_id>/paper/template.xlsx")
def paper_template(event: Event, stage_id: int):
    data, name = paper.template_file(event, stage_of(event, stage_id))
    return download(data, name, paper.XLSX)


@bp.route("/stages/<int:stage_id>/paper/forms/<int:entry_id>")
def paper_entry_form(event: Event, stage_id: int, entry_id: int):
    stage = stage_of(event, stage_id)
    entry = event_row(event, Entry, entry_id)
    return printable(
        paper.printable_form(
            event, stage, entry, label=f"{entry.code} · {entry.kim.name}", judge=None
        )
    )


@bp.route("/stages/<int:stage_id>/paper/import", methods=["POST"])
def paper_import(event: Event, stage_id: int):
    """Read a filled template and show what it would change (nothing is written yet)."""
    stage = stage_of(event, stage_id)
    form = PaperUploadForm()
    return form_flow(
        form,
        lambda: paper.preview_upload(event, stage, form.file.data, finalise=form.finalise.data),
        render=lambda: _paper_page(event, stage, form),
        refused=lambda error: _paper_page(event, stage, form, getattr(error, "preview", None)),
        done=lambda preview: _paper_page(event, stage, form, preview),
    )


def _imported(result) -> str:
    return _(
        "Paper scores imported: %(scores)d scores changed on %(sheets)d sheets, "
        "%(final)d finalised.",
        scores=result.scores,
        sheets=result.sheets,
        final=result.finalised,
    )


@bp.route("/stages/<int:stage_id>/paper/apply", methods=["POST"])
@checked_post
def paper_apply(event: Event, stage_id: int):
    stage = stage_of(event, stage_id)
    return button_action(
        lambda: paper.apply_upload(event, stage, request.form.get("token", ""), current_user),
        to=url_for("judging.progress", slug=event.slug, stage_id=stage.id),
        refused_to=url_for("judging.paper_index", slug=event.slug, stage_id=stage.id),
        message=_imported,
    )
