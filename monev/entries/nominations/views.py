"""Nominations: operators' pages per event (their district only) and the organiser's.

Operator pages live under /nominations/<slug>, the organiser's under
/admin/events/<slug>/. Every view defaults to admins; operator views say so.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core import access
from monev.core.views import (
    INVALID,
    attempt,
    checked_post,
    form_flow,
    load_event,
    page_or_fragment,
    see_other,
    swap_in_place,
    wants_fragment,
)
from monev.entries.models import NOMINATION_STATUSES
from monev.entries.nominations import queries, services
from monev.entries.nominations.forms import (
    DecisionForm,
    NewKimNominationForm,
    NominateForm,
    fill_choices,
)
from monev.events import queries as event_queries
from monev.events import services as event_services
from monev.events.models import Event
from monev.regions import queries as region_queries

bp = Blueprint("nominations", __name__)
access.blueprint_roles(bp, access.ADMIN)
# A draft event is 404 for operators: not announced yet.
load_event(bp, lookup=event_queries.get_by_slug)

ENTRY_ID = f"<int(max={services.MAX_ID}):entry_id>"  # larger numbers are no row: 404
HOME_PROVINCE = "64"  # Kalimantan Timur: the organiser's province, listed first


# --- operators ----------------------------------------------------------------------------


def _district_page(event: Event, *, form=None, new_form=None, error=None):
    district_id = current_user.district_id
    kims = queries.nominable_kims(event.id, district_id)
    form = form or NominateForm(formdata=None)
    new_form = new_form or NewKimNominationForm(formdata=None, prefix="new")
    fill_choices(form, kims, event.categories)
    fill_choices(new_form, None, event.categories)
    quota = queries.quota_for(event.id, district_id)
    used = queries.used_places(event.id, district_id)
    return render_template(
        "nominations/district.html",
        event=event,
        district=current_user.district,
        entries=queries.district_entries(event.id, district_id),
        kims=kims,
        quota=quota,
        used=used,
        is_open=event.status == "nomination",
        form=form,
        new_form=new_form,
        error=error,
    )


@bp.route("/nominations/<slug>")
@access.roles(access.OPERATOR)
def district(event: Event):
    return _district_page(event)


def _nominated(result: services.Nomination):
    entry = result.entry
    flash(
        _("%(kim)s has been nominated as %(code)s.", kim=entry.kim.name, code=entry.code), "success"
    )
    if result.invited is not None:
        flash(
            _(
                "An invitation to the KIM account has been sent to %(email)s.",
                email=result.invited.email,
            ),
            "info",
        )
    return see_other(url_for("nominations.district", slug=entry.event.slug))


@bp.route("/nominations/<slug>/nominate", methods=["POST"])
@access.roles(access.OPERATOR)
def nominate(event: Event):
    form = NominateForm()
    return form_flow(
        form,
        lambda: services.nominate(
            current_user,
            event,
            form.kim_id.data,
            form.category_id.data,
            form.note.data,
            email=form.email.data,
        ),
        render=lambda: _district_page(event, form=form),
        done=_nominated,
    )


@bp.route("/nominations/<slug>/new-kim", methods=["POST"])
@access.roles(access.OPERATOR)
def nominate_new(event: Event):
    form = NewKimNominationForm(prefix="new")
    return form_flow(
        form,
        lambda: services.nominate_new_kim(
            current_user, event, form.kim_data(), form.category_id.data, form.note.data
        ),
        render=lambda: _district_page(event, new_form=form),
        done=_nominated,
    )


@bp.route(f"/nominations/<slug>/{ENTRY_ID}/withdraw", methods=["POST"])
@access.roles(access.OPERATOR)
@checked_post
def withdraw(event: Event, entry_id: int):
    entry = queries.district_entry(event.id, current_user.district_id, entry_id)
    if entry is None:
        abort(404)  # another district's nomination does not exist for this operator
    name = entry.kim.name
    _withdrawn, error = attempt(lambda: services.withdraw(current_user, event, entry))
    if error is not None:
        return _district_page(event, error=error.message), error.status
    flash(_("The nomination of %(kim)s has been withdrawn.", kim=name), "success")
    return see_other(url_for("nominations.district", slug=event.slug))


# --- the organiser ------------------------------------------------------------------------


def _filters() -> tuple[int | None, str | None]:
    try:
        district_id = int(request.args.get("district") or 0) or None
    except ValueError:
        district_id = None
    if district_id is not None and not 0 < district_id <= services.MAX_ID:
        district_id = None
    status = request.args.get("status") or None
    return district_id, status if status in NOMINATION_STATUSES else None


def _filter_args(district_id, status) -> dict:
    """The list's filters as URL arguments, kept across a decision."""
    return {k: v for k, v in (("district", district_id), ("status", status)) if v}


def _admin_context(event: Event, district_id, status, **extra) -> dict:
    return {
        "event": event,
        "rows": queries.district_rows(event.id),
        "entries": queries.event_entries(event.id, district_id, status),
        "district_id": district_id,
        "status": status,
        "filter_args": _filter_args(district_id, status),
        "statuses": NOMINATION_STATUSES,
        "can_decide": event.status in services.DECIDING_STATUSES,
        "row_errors": {},
        "row_notes": {},
        **extra,
    }


@bp.route("/admin/events/<slug>/nominations")
def admin_index(event: Event):
    district_id, status = _filters()
    return page_or_fragment(
        "nominations/admin.html",
        {
            "nomination-results": "nominations/_admin_results.html",
            "district-summary": "nominations/_district_summary.html",
        },
        **_admin_context(event, district_id, status),
    )


@bp.route(f"/admin/events/<slug>/nominations/{ENTRY_ID}/decide", methods=["POST"])
def decide(event: Event, entry_id: int):
    entry = queries.event_entry(event.id, entry_id) or abort(404)
    form = DecisionForm()
    district_id, state = _filters()
    error = None
    status = 200
    if not form.validate_on_submit():
        error = " ".join(e for errors in form.errors.values() for e in errors)
        status = INVALID
    else:
        _decided, refusal = attempt(
            lambda: services.decide(event, entry, form.decision.data, form.note.data)
        )
        if refusal is not None:
            error, status = refusal.message, refusal.status
    if wants_fragment():  # the row comes back in place
        html = render_template(
            "nominations/_entry_row.html",
            event=event,
            entry=entry,
            can_decide=event.status in services.DECIDING_STATUSES,
            row_errors={entry.id: error} if error else {},
            row_notes={entry.id: form.note.data or ""},
            filter_args=_filter_args(district_id, state),
        )
        return swap_in_place(html, refused=bool(error), trigger="nominations-changed")
    if error:
        context = _admin_context(
            event,
            district_id,
            state,
            row_errors={entry.id: error},
            row_notes={entry.id: form.note.data or ""},
        )
        return render_template("nominations/admin.html", **context), status
    if entry.nomination_status == "accepted":
        flash(_("%(kim)s has been accepted.", kim=entry.kim.name), "success")
    else:
        flash(_("%(kim)s has been rejected.", kim=entry.kim.name), "success")
    return see_other(
        url_for("nominations.admin_index", slug=event.slug, **_filter_args(district_id, state))
    )


def _quota_districts(show_all: bool, current: dict[int, int]):
    """The organiser's province first; other provinces on request or when they have a quota."""
    districts = region_queries.districts()
    if show_all:
        return sorted(districts, key=lambda d: (d.province.code != HOME_PROVINCE, d.code))
    return [d for d in districts if d.province.code == HOME_PROVINCE or d.id in current]


@bp.route("/admin/events/<slug>/quotas", methods=["GET", "POST"])
@checked_post
def quotas(event: Event):
    show_all = bool(request.values.get("all"))
    current = queries.quota_values(event.id)
    districts = _quota_districts(show_all, current)
    values = {d.id: str(current.get(d.id, "")) for d in districts}
    field_errors: dict[int, str] = {}
    error = None
    status = 200
    if request.method == "POST":
        parsed: dict[int, int] = {}
        for d in districts:
            raw = (request.form.get(f"quota-{d.id}") or "").strip()
            values[d.id] = raw
            if raw == "":
                parsed[d.id] = 0  # no quota: nothing changes where none was set
            elif raw.isdigit() and len(raw) <= 3:
                parsed[d.id] = int(raw)
            else:
                field_errors[d.id] = _("Enter a whole number from 0 to 100.")
        if field_errors:
            error, status = _("Please correct the marked fields."), INVALID
        else:
            _saved, refusal = attempt(lambda: event_services.set_quotas(event, parsed))
            if refusal is None:
                flash(_("The quotas have been saved."), "success")
                args = {"all": 1} if show_all else {}
                return see_other(url_for("nominations.quotas", slug=event.slug, **args))
            error, status = refusal.message, refusal.status
            field_errors = {k: refusal.message for k, v in parsed.items() if not 0 <= v <= 100}
    return (
        render_template(
            "nominations/quotas.html",
            event=event,
            districts=districts,
            values=values,
            field_errors=field_errors,
            error=error,
            show_all=show_all,
            home_province=HOME_PROVINCE,
        ),
        status,
    )
