"""Results pages.

Admin (blueprint ``results``, ``/admin/events/<slug>/results``): the live ranking with its
breakdowns, fairness figures and charts, one entry's sheets, publishing and corrections,
exports. Judges never reach these (blind judging); nobody but admins sees unpublished
results.

Public (blueprint ``results_public``, ``/events/<slug>/results``): the published snapshot
only (podium, full table, district filter, versions with their changes), never recomputed.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from threading import Lock

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
from flask_login import current_user

from monev.core import access, caching
from monev.core.forms import choices
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local, to_utc
from monev.core.views import (
    attempt,
    checked_post,
    confirmation,
    download,
    form_flow,
    load_event,
)
from monev.events import queries as event_queries
from monev.events.models import Event
from monev.judging import queries as judging_queries
from monev.results import (
    acknowledgements,
    confirmations,
    exports,
    objections,
    pages,
    queries,
    services,
)
from monev.results.forms import (
    AcknowledgeForm,
    AnnounceForm,
    ObjectionForm,
    PublishForm,
    ResolveForm,
    SpecialAwardForm,
)

bp = Blueprint("results", __name__, url_prefix="/admin/events/<slug>/results")
access.blueprint_roles(bp, access.ADMIN)
load_event(bp, lookup=event_queries.get_by_slug)

public_bp = Blueprint("results_public", __name__, url_prefix="/events/<slug>/results")
access.blueprint_roles(public_bp)  # public: reads published snapshots only
load_event(public_bp, lookup=queries.event_by_slug)  # the event alone: pages read snapshots

kim_bp = Blueprint("results_kim", __name__, url_prefix="/my/results/<slug>")
access.blueprint_roles(kim_bp, access.KIM)  # a finalist KIM: provisional results, objections
load_event(kim_bp, lookup=queries.event_by_slug)


# --- admin --------------------------------------------------------------------------------


def _versions_with_changes(history) -> list[tuple]:
    """(version, its changes from the version before it) for each version, newest first."""
    out = []
    for i, version in enumerate(history):
        before = history[i + 1] if i + 1 < len(history) else None
        changes = (
            [
                pages.describe_change(c)
                for c in services.snapshot_changes(before.snapshot, version.snapshot)
            ]
            if before
            else []
        )
        out.append((version, changes))
    return out


def _pages_asked() -> dict[str, int]:
    """The page of each category's tables: ``?page-<category key>=N`` (N a whole number)."""
    out = {}
    for name, value in request.args.items():
        if name.startswith("page-") and value.isdigit() and len(value) < 7:
            out[name[len("page-") :]] = int(value)
    return out


def _index_page(event: Event, **forms):
    computed = services.compute(event)
    view = pages.admin_results(computed, _pages_asked()) if computed.results else None
    history = queries.versions(event.id)
    pending = None
    if history and computed.results:
        live = services.build_snapshot(computed)
        pending = [
            pages.describe_change(c) for c in services.snapshot_changes(history[0].snapshot, live)
        ]
    return render_template(
        "results/index.html",
        event=event,
        computed=computed,
        view=view,
        versions=_versions_with_changes(history),
        pending=pending,
        unfinished=services.unfinished_sheets(computed.data),
        can_publish=event.status in services.PUBLISHABLE,
        checks={c.key: c for c in acknowledgements.checks(computed)},
        ack_forms=forms.get("ack_forms", {}),
        **_jury_context(event, computed, forms),
    )


def _jury_context(event: Event, computed, forms: dict) -> dict:
    """Special awards, provisional results and objections for the admin page."""
    entries = {e.id: e for e in computed.data.entries}
    award_form = forms.get("award_form") or SpecialAwardForm(formdata=None)
    award_form.entry_id.choices = choices(
        [("", "—")] + [(e.id, f"{e.code} {e.kim}") for e in computed.data.entries]
    )
    announce_form = forms.get("announce_form") or AnnounceForm(formdata=None)
    provisional = queries.latest_provisional(event.id)
    return {
        "awards": [(a, entries.get(a.entry_id)) for a in computed.data.special_awards],
        "award_form": award_form,
        "announce_form": announce_form,
        "provisional": provisional,
        "window_open": objections.window_open(event, provisional),
        "objections": queries.objections(event.id),
        "resolve_forms": forms.get("resolve_forms", {}),
        "to_local": to_local,
        "tz_label": tz_label(event.timezone),
    }


# --- special awards, provisional results, objections --------------------------------------


def _back_to(event: Event, anchor: str | None = None):
    return lambda _result: redirect(url_for("results.index", slug=event.slug, _anchor=anchor))


@bp.route("/special-awards", methods=["POST"])
def add_special_award(event: Event):
    form = SpecialAwardForm()
    form.entry_id.choices = []
    return form_flow(
        form,
        lambda: services.add_special_award(
            event,
            entry_id=form.entry_id.data,
            title=form.title.data,
            justification=form.justification.data,
            actor=current_user,
        ),
        render=lambda: _index_page(event, award_form=form),
        message=_("The special award is recorded; it is published with the next version."),
        done=_back_to(event, "special-awards"),
    )


@bp.route("/special-awards/<int:award_id>/delete", methods=["POST"])
@checked_post
def remove_special_award(event: Event, award_id: int):
    _removed, error = attempt(lambda: services.remove_special_award(event, award_id))
    if error is not None:
        abort(error.status)
    flash(_("The special award is withdrawn."), "success")
    return redirect(url_for("results.index", slug=event.slug, _anchor="special-awards"))


def _closes_at(event: Event, form: AnnounceForm):
    value = form.closes_at.data
    return to_utc(value, event.timezone) if value else None


def _announce_page(event: Event, form: AnnounceForm):
    preview = objections.announce_preview(event, _closes_at(event, form))
    return confirmation(
        "results/_announce.html",
        title=_("Announce the provisional results"),
        back_url=url_for("results.index", slug=event.slug, _anchor="objections"),
        back_label=_("Results"),
        event=event,
        preview=preview,
        consequences=confirmations.announce_lines(preview, event.timezone),
        blocks=preview.problems,
        form=form,
        tz_label=tz_label(event.timezone),
    )


@bp.route("/provisional", methods=["GET", "POST"])
def announce(event: Event):
    """The confirmation step (GET, with the closing time chosen on the results page), then
    the announcement (POST)."""
    form = AnnounceForm() if request.method == "POST" else AnnounceForm(request.args)
    return form_flow(
        form,
        lambda: objections.announce(
            event,
            closes_at=_closes_at(event, form),
            actor=current_user,
            confirmed=bool(form.confirm.data),
        ),
        render=lambda: _announce_page(event, form),
        message=_("The provisional results are announced to the finalists."),
        done=_back_to(event, "objections"),
    )


@bp.route("/fairness/acknowledge", methods=["POST"])
def acknowledge(event: Event):
    """The organiser's note on one "Check:" of the fairness panel (publishing needs one on
    every check, for the current scores)."""
    form = AcknowledgeForm()
    return form_flow(
        form,
        lambda: services.acknowledge(event, form.key.data, form.note.data, current_user),
        render=lambda: _index_page(event, ack_forms={form.key.data: form}),
        message=_("The check is acknowledged; your note is kept with it."),
        done=_back_to(event, "fairness"),
    )


@bp.route("/objections/<int:objection_id>", methods=["POST"])
def resolve(event: Event, objection_id: int):
    form = ResolveForm(prefix=f"o{objection_id}")
    return form_flow(
        form,
        lambda: objections.resolve_objection(
            event,
            objection_id,
            decision=form.decision.data,
            note=form.note.data,
            reopen=form.reopen.data,
            admin=current_user,
        ),
        render=lambda: _index_page(event, resolve_forms={objection_id: form}),
        message=_("The objection is resolved; the KIM sees the decision."),
        done=_back_to(event, "objections"),
    )


@bp.route("/")
def index(event: Event):
    return _index_page(event)


def _published_message(published) -> str:
    if published.version == 1:
        return _("The results are published.")
    return _("Correction published as version %(v)d.", v=published.version)


def _publish_page(event: Event, form: PublishForm):
    preview = services.publish_preview(event)
    correction = preview.previous is not None
    return confirmation(
        "results/_publish.html",
        title=_("Publish a correction (ralat)") if correction else _("Publish the results"),
        back_url=url_for("results.index", slug=event.slug, _anchor="publication"),
        back_label=_("Results"),
        event=event,
        preview=preview,
        correction=correction,
        consequences=confirmations.publish_lines(preview),
        blocks=preview.problems,
        form=form,
    )


@bp.route("/publish", methods=["GET", "POST"])
def publish(event: Event):
    """The confirmation step of publishing or of a correction (GET), then the new version
    (POST); refused at the server without the confirmation or while a problem remains."""
    form = PublishForm()
    return form_flow(
        form,
        lambda: services.publish(
            event,
            actor=current_user,
            reason=form.reason.data,
            confirmed=bool(form.confirm.data),
        ),
        render=lambda: _publish_page(event, form),
        message=_published_message,
        done=_back_to(event),
    )


@bp.route("/entries/<int:entry_id>")
def entry(event: Event, entry_id: int):
    """One entry's full set of sheets: every judge's criterion scores and comments."""
    computed = services.compute(event, fairness=False)
    data = computed.data
    found = next((e for e in data.entries if e.id == entry_id), None)
    if found is None:
        abort(404)
    row = computed.results.row(entry_id) if computed.results else None
    values = {
        (sheet, cid): (value, comment)
        for sheet, cid, value, comment in queries.entry_scores(entry_id)
    }
    sheets = [s for s in data.sheets if s.entry_id == entry_id]
    drop_lines = pages.drop_lines(data)
    drops = [
        (d.stage_id, line)
        for d, line in zip(data.drops, drop_lines, strict=True)
        if d.entry_id == entry_id
    ]
    stages = []
    for stage in data.stages:
        stage_sheets = sorted(
            (s for s in sheets if s.stage_id == stage.id), key=lambda s: s.judge_id
        )
        criteria = [c for c in data.criteria if c.stage_id == stage.id]
        judge_totals = {j.judge: j for j in (row.stages[stage.key].judges if row else ())}
        stages.append(
            {
                "stage": stage,
                "sheets": [
                    (s, data.judges.get(s.judge_id, ""), judge_totals.get(s.judge_id))
                    for s in stage_sheets
                ],
                "criteria": criteria,
                "score": row.stages[stage.key] if row else None,
                "drops": [line for stage_id, line in drops if stage_id == stage.id],
            }
        )
    category = next(c for c in data.categories if c.id == found.category_id)
    visits = judging_queries.entry_visits(entry_id)
    visit_stages = [s.id for s in data.stages if s.is_visit]
    # A visit stage's evidence per judge and criterion: the checklist and the photos taken.
    checks = judging_queries.entry_visit_checks(entry_id) if visit_stages else {}
    required = judging_queries.criteria_photos_required(visit_stages)
    for item in stages:
        visit = visits.get(item["stage"].id)
        item["visit"] = visit
        item["photos"] = (
            judging_queries.visit_photos(visit.stage_id, entry_id) if visit is not None else []
        )
        item["names"] = {c.id: c.name for c in item["criteria"]}
        item["photo_counts"] = Counter(
            (p.photo.sheet_id, p.photo.criterion_id) for p in item["photos"]
        )
    return render_template(
        "results/entry.html",
        event=event,
        entry=found,
        category=category,
        row=row,
        stages=stages,
        values=values,
        checks=checks,
        photos_required=required,
        problem=computed.problem,
    )


@bp.route("/recap.xlsx")
def export_excel(event: Event):
    computed = services.compute(event, fairness=False)
    if computed.results is None:
        flash(computed.problem, "error")
        return redirect(url_for("results.index", slug=event.slug))
    return download(
        exports.recap_workbook(computed),
        f"rekap-nilai-{event.slug}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.route("/scores.csv")
def export_csv(event: Event):
    computed = services.compute(event, fairness=False)
    return download(
        exports.scores_csv(computed).encode("utf-8"),
        f"nilai-{event.slug}.csv",
        "text/csv; charset=utf-8",
    )


# --- public -------------------------------------------------------------------------------


def _public_view(event_id: int, shown, category_key: str | None):
    """The display form of one published version and its changes from the version before
    (None: no such category).

    Published rows never change (the database refuses it), so what is derived from one is
    kept per app, keyed by the row's id and digest: a request for a published page then
    reads only the event and the version list. Bounded: the least recently used go first.
    """
    cache = current_app.extensions.setdefault("monev_published_views", _LRU(128))
    key = (shown.id, shown.digest, category_key)
    found = cache.get(key)
    if found is None:
        snapshot = shown.snapshot  # deferred: loads this version's snapshot only
        if category_key is not None and not any(
            c["key"] == category_key for c in snapshot["categories"]
        ):
            return None
        previous = queries.version(event_id, shown.version - 1) if shown.version > 1 else None
        changes = services.snapshot_changes(previous.snapshot, snapshot) if previous else []
        found = (pages.public_results(snapshot, category_key=category_key), changes)
        cache.put(key, found)
    return found


class _LRU:
    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def _public_page(event: Event, category_key: str | None, number: int | None = None):
    """A published version's page. Its ETag is the event's stamp and the versions' ids and
    digests: a ralat (a new version) or an edit of the event's title changes it; the page
    is rendered once per ETag (:func:`monev.core.caching.conditional`)."""
    history = queries.version_list(event.id)  # snapshots deferred
    if not history:
        abort(404)
    latest = history[0]
    number = latest.version if number is None else number
    shown = next((v for v in history if v.version == number), None) or abort(404)

    def render():
        view, changes = _public_view(event.id, shown, category_key) or abort(404)
        return render_template(
            "results/public.html",
            event=event,
            published=shown,
            latest=latest,
            history=history,
            changes=[pages.describe_change(c) for c in changes],
            view=pages.for_district(view, request.args.get("district") or None),
            category_key=category_key,
        )

    version = (event.id, event.status, event.updated_at, [(v.id, v.digest) for v in history])
    return caching.conditional(version, render)


@public_bp.route("")
def public_index(event: Event):
    return _public_page(event, None)


@public_bp.route("/<category_key>")
def public_category(event: Event, category_key: str):
    return _public_page(event, category_key)


@public_bp.route("/versions/<int:version>")
def public_version(event: Event, version: int):
    return _public_page(event, None, version)


# --- finalist KIMs ------------------------------------------------------------------------


def _kim_entry(event: Event):
    return queries.kim_entry(event.id, current_user.kim_id) or abort(404)


def _kim_page(event: Event, entry, form: ObjectionForm | None = None):
    provisional = queries.latest_provisional(event.id)
    view = None
    if provisional is not None:
        view = pages.public_results(provisional.snapshot)
    return render_template(
        "results/kim.html",
        event=event,
        entry=entry,
        provisional=provisional,
        view=view,
        window_open=objections.window_open(event, provisional),
        published=event.status in ("published", "archived"),
        objections=queries.objections(event.id, entry.id),
        form=form or ObjectionForm(formdata=None),
        to_local=to_local,
        tz_label=tz_label(event.timezone),
    )


@kim_bp.route("")
def kim_index(event: Event):
    """The finalist's view: provisional results, the objection window, its objections."""
    return _kim_page(event, _kim_entry(event))


@kim_bp.route("/objections", methods=["POST"])
def kim_object(event: Event):
    entry = _kim_entry(event)
    form = ObjectionForm()
    return form_flow(
        form,
        lambda: objections.file_objection(
            event,
            entry,
            reason=form.reason.data,
            evidence_url=form.evidence_url.data,
            user=current_user,
        ),
        render=lambda: _kim_page(event, entry, form),
        message=_("Your objection is filed; the organiser will answer it here."),
        done=lambda _result: redirect(url_for("results_kim.kim_index", slug=event.slug)),
    )
