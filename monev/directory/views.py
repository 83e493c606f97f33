"""The KIM directory: admins see all districts, operators their own, a KIM itself."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.core import access
from monev.core.forms import choices, form_data
from monev.core.views import form_flow, page_or_fragment
from monev.directory import queries, services
from monev.directory.forms import KimForm
from monev.regions import queries as region_queries

bp = Blueprint("directory", __name__, url_prefix="/kim")
access.blueprint_roles(bp, access.ADMIN, access.OPERATOR)


def _visible_kim(kim_id: int):
    kim = queries.get_kim(kim_id)
    if kim is None or not services.can_manage(current_user, kim):
        abort(404)  # another district's KIM does not exist for this user
    return kim


def _district_filter() -> int | None:
    if current_user.role == access.OPERATOR:
        return current_user.district_id
    try:
        return int(request.args.get("district") or 0) or None
    except ValueError:
        return None


@bp.route("/")
def index():
    q = request.args.get("q", "").strip()[:100]
    try:
        page_no = int(request.args.get("page", 1))
    except ValueError:
        page_no = 1
    district_id = _district_filter()
    page = queries.search_kims(q, district_id, page_no)
    districts = region_queries.districts() if current_user.role == access.ADMIN else []
    return page_or_fragment(
        "directory/index.html",
        {"kim-results": "directory/_rows.html"},
        page=page,
        q=q,
        district_id=district_id,
        districts=districts,
    )


def _form_choices(form: KimForm) -> None:
    """Admins choose the district; everyone else works in their own (shown, not editable)."""
    if current_user.role != access.ADMIN:
        del form.district_id
    else:
        form.district_id.choices = choices(
            [("", _("— choose —"))]
            + [(d.id, f"{d.label} ({d.province.name})") for d in region_queries.districts()]
        )


def _form_data(form: KimForm) -> dict:
    data = form_data(form)
    if current_user.role == access.OPERATOR:
        data["district_id"] = current_user.district_id
    return data


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = KimForm()
    _form_choices(form)
    return form_flow(
        form,
        lambda: services.create_kim(current_user, _form_data(form)),
        render=lambda: render_template(
            "directory/form.html", form=form, kim=None, district=current_user.district
        ),
        message=lambda kim: _("KIM %(name)s has been added.", name=kim.name),
        done=lambda kim: redirect(url_for("directory.detail", kim_id=kim.id)),
    )


@bp.route("/<int:kim_id>")
@access.roles(access.ADMIN, access.OPERATOR, access.KIM)
def detail(kim_id: int):
    return render_template("directory/detail.html", kim=_visible_kim(kim_id))


@bp.route("/<int:kim_id>/edit", methods=["GET", "POST"])
@access.roles(access.ADMIN, access.OPERATOR, access.KIM)
def edit(kim_id: int):
    kim = _visible_kim(kim_id)
    form = KimForm(obj=kim if request.method == "GET" else None)
    _form_choices(form)
    if request.method == "GET":
        form.kecamatan.data = kim.kecamatan.name if kim.kecamatan else ""
        form.village.data = kim.village.name if kim.village else ""
        form.village_kind.data = kim.village.kind if kim.village else "desa"
        form.social_links.data = "\n".join(kim.social_links or [])
    return form_flow(
        form,
        lambda: services.update_kim(current_user, kim, _form_data(form)),
        render=lambda: render_template(
            "directory/form.html", form=form, kim=kim, district=kim.district
        ),
        message=_("The KIM profile has been saved."),
        done=lambda _result: redirect(url_for("directory.detail", kim_id=kim.id)),
    )
