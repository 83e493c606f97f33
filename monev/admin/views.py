"""The organiser's dashboard, user accounts and the mail outbox."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monev.admin import queries
from monev.admin.forms import EditUserForm, EmptyForm, InviteForm, RemoveRootForm, TrustRootForm
from monev.auth import services as auth_services
from monev.auth.models import ROLES, User
from monev.core import access
from monev.core.forms import choices
from monev.core.templating import ROLE_LABELS
from monev.core.timeutil import utcnow
from monev.core.views import button_action, confirmation, form_flow, page_or_fragment
from monev.directory import queries as directory_queries
from monev.extensions import db
from monev.home import services as home_services
from monev.mail import services as mail
from monev.regions import queries as region_queries
from monev.signing import trust

bp = Blueprint("admin", __name__, url_prefix="/admin")
access.blueprint_roles(bp, access.ADMIN)


@bp.route("/")
def index():
    return render_template(
        "admin/index.html",
        stats=queries.dashboard_stats(),
        cockpits=home_services.admin_cockpits(utcnow()),
        signing=trust.status(),
    )


def _fill_choices(form) -> None:
    form.role.choices = choices((role, str(ROLE_LABELS[role])) for role in ROLES)
    form.district_id.choices = choices(
        [("", "—")] + [(d.id, f"{d.short_label} ({d.code})") for d in region_queries.districts()]
    )
    form.kim_id.choices = choices(
        [("", "—")]
        + [(k.id, f"{k.name} — {k.district.short_label}") for k in directory_queries.all_kims()]
    )


@bp.route("/users")
def users():
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    rows = queries.users(q, role if role in ROLES else "")
    return page_or_fragment(
        "admin/users.html", "admin/_users_rows.html", users=rows, q=q, role=role, roles=ROLES
    )


@bp.route("/users/new", methods=["GET", "POST"])
def invite_user():
    form = InviteForm()
    _fill_choices(form)
    return form_flow(
        form,
        lambda: auth_services.invite_user(
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            district_id=form.district_id.data,
            kim_id=form.kim_id.data,
            institution=form.institution.data,
        ),
        render=lambda: render_template("admin/user_new.html", form=form),
        message=lambda user: _("Invitation sent to %(email)s.", email=user.email),
        done=lambda user: redirect(url_for("admin.edit_user", user_id=user.id)),
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.active.data = user.active
    _fill_choices(form)
    return form_flow(
        form,
        lambda: auth_services.update_user(
            user,
            current_user,
            name=form.name.data,
            role=form.role.data,
            district_id=form.district_id.data,
            kim_id=form.kim_id.data,
            institution=form.institution.data,
            active=form.active.data,
        ),
        render=lambda: render_template(
            "admin/user_edit.html",
            form=form,
            user=user,
            resend_form=EmptyForm(formdata=None),
            sessions=auth_services.active_sessions(user),
        ),
        message=_("The account has been saved."),
        done=lambda _result: redirect(url_for("admin.edit_user", user_id=user.id)),
    )


@bp.route("/users/<int:user_id>/resend-invitation", methods=["POST"])
def resend_invitation(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    return button_action(
        lambda: auth_services.send_invitation(user),
        to=url_for("admin.edit_user", user_id=user.id),
        message=_("A new invitation has been sent to %(email)s.", email=user.email),
        code=302,
    )


@bp.route("/outbox")
def outbox():
    q = request.args.get("q", "").strip()[:100]
    messages = mail.list_outbox(q)
    return page_or_fragment("admin/outbox.html", "admin/_outbox_rows.html", messages=messages, q=q)


@bp.route("/outbox/<name>")
def outbox_message(name: str):
    message = mail.read_outbox(name) or abort(404)
    return render_template("admin/outbox_message.html", message=message)


@bp.route("/signing", methods=["GET", "POST"])
def signing():
    """Electronic signatures: the signing certificate in use, and the trusted roots a signed
    PDF uploaded to /verify must chain to."""
    form = TrustRootForm()

    def add():
        upload = form.file.data
        return trust.add_root(upload.read(64 * 1024 + 1) if upload else b"", actor=current_user)

    return form_flow(
        form,
        add,
        render=lambda: render_template(
            "admin/signing.html",
            form=form,
            status=trust.status(),
            roots=trust.shown_roots(),
        ),
        message=lambda root: _("Trusted: %(subject)s.", subject=root.subject),
        done=lambda _root: redirect(url_for("admin.signing"), 303),
    )


@bp.route("/signing/roots/<int:root_id>/remove", methods=["GET", "POST"])
def remove_trust_root(root_id: int):
    """Stop trusting a root, after a confirmation step that says what it does to every
    check on the verification page (a dialog with htmx, a page of its own without)."""
    shown = next((r for r in trust.shown_roots() if r.root.id == root_id), None) or abort(404)
    form = RemoveRootForm()
    back = url_for("admin.signing")
    return form_flow(
        form,
        lambda: trust.remove_root(root_id, confirmed=bool(form.confirm.data), actor=current_user),
        render=lambda: confirmation(
            "admin/_remove_root.html",
            title=_("Stop trusting this root"),
            back_url=back,
            back_label=_("Electronic signatures"),
            form=form,
            shown=shown,
            consequences=trust.removal_consequences(root_id),
        ),
        message=_("The root certificate is no longer trusted."),
        done=lambda _r: redirect(back, 303),
    )
