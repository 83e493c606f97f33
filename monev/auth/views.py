"""Sign in and out, forgotten password, invitations, the account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from monev.audit.services import client_ip
from monev.auth import services, tokens
from monev.auth.forms import (
    ChangePasswordForm,
    ChannelsForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    SetPasswordForm,
)
from monev.core import access
from monev.core.errors import ServiceError
from monev.core.forms import EmptyForm, choices
from monev.core.templating import one_stop
from monev.core.views import form_flow

bp = Blueprint("auth", __name__)
access.blueprint_roles(bp)  # public by default; the account pages say otherwise


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None  # browsers read "/\host" as "//host": another site
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("public.home"))
    form = LoginForm()
    return form_flow(
        form,
        lambda: services.authenticate(form.email.data, form.password.data, client_ip() or "-"),
        render=lambda: render_template("auth/login.html", form=form),
        done=_signed_in,
        keep_changes=True,  # failed attempts must be counted
    )


def _signed_in(user):
    session.clear()
    session.permanent = True
    services.start_session(user, client_ip(), request.user_agent.string)
    login_user(user)
    flash(one_stop(_("Welcome, %(name)s.", name=user.name)), "success")
    return redirect(_safe_next(request.args.get("next")) or url_for("public.home"))


@bp.route("/logout", methods=["POST"])
@access.signed_in
def logout():
    services.end_session(current_user, "logout")
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    return form_flow(
        form,
        lambda: services.request_password_reset(form.email.data),
        render=lambda: render_template(
            "auth/ask_link.html",
            form=form,
            title=_("Forgot your password?"),
            intro=_(
                "Enter the e-mail address of your account. We will send you a link to choose "
                "a new password."
            ),
        ),
        message=lambda _result: _(
            "If an account exists for %(email)s, we have sent it a link to set a new "
            "password. The link is valid for %(hours)d hours.",
            email=form.email.data.strip(),
            hours=current_app.config["PASSWORD_RESET_HOURS"],
        ),
        done=lambda _result: redirect(url_for("auth.login")),
    )


@bp.route("/login/link", methods=["GET", "POST"])
def request_sign_in_link():
    """Sign in without the password: a single-use link mailed to the account (the way in
    for an owner whose sign-in is throttled by someone else's guesses)."""
    form = ForgotPasswordForm()
    return form_flow(
        form,
        lambda: services.request_sign_in_link(form.email.data),
        render=lambda: render_template(
            "auth/ask_link.html",
            form=form,
            title=_("Sign in with a link by e-mail"),
            intro=_(
                "Enter the e-mail address of your account. We will send you a link that signs "
                "you in once, even while sign-in with the password is paused after failed "
                "attempts."
            ),
        ),
        message=lambda _result: _(
            "If an account exists for %(email)s, we have sent it a sign-in link. The link is "
            "valid for %(minutes)d minutes and works once.",
            email=form.email.data.strip(),
            minutes=current_app.config["LOGIN_LINK_MINUTES"],
        ),
        done=lambda _result: redirect(url_for("auth.login")),
    )


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def sign_in_link(token: str):
    """The link from the e-mail: a button to sign in (a GET changes nothing, so a mail
    scanner that opens links does not use it up)."""
    try:
        user = services.user_from_token(token, tokens.SIGN_IN)
    except ServiceError as error:
        return render_template("auth/token_invalid.html", message=error.message), error.status
    form = EmptyForm()
    return form_flow(
        form,
        lambda: services.sign_in_with_link(token),
        render=lambda: render_template("auth/sign_in_confirm.html", form=form, user=user),
        done=_signed_in,
    )


def _token_page(token: str, purpose: str, template: str, apply):
    try:
        user = services.user_from_token(token, purpose)
        if purpose == tokens.INVITE and user.has_password:
            raise ServiceError(_("This link is not valid or has already been used."), status=404)
    except ServiceError as error:
        return render_template("auth/token_invalid.html", message=error.message), error.status
    form = SetPasswordForm()
    return form_flow(
        form,
        lambda: apply(token, form.password.data, form.confirm.data),
        render=lambda: render_template(template, form=form, user=user),
        message=_("Your password has been set. You can sign in now."),
        done=lambda _user: redirect(url_for("auth.login")),
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _token_page(token, tokens.RESET, "auth/reset.html", services.reset_password)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _token_page(token, tokens.INVITE, "auth/invitation.html", services.accept_invitation)


def _profile_form() -> ProfileForm:
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    form.locale.choices = choices(
        [("", _("Follow the site default"))] + list(current_app.config["LANGUAGES"].items())
    )
    if request.method == "GET":
        form.locale.data = current_user.locale or ""
    return form


def _channels_form() -> ChannelsForm:
    if request.method == "GET":
        return ChannelsForm(obj=current_user)
    return ChannelsForm(formdata=None, obj=current_user)


def _account_page(profile_form=None, password_form=None, channels_form=None):
    return render_template(
        "auth/account.html",
        profile_form=profile_form or _profile_form(),
        channels_form=channels_form or _channels_form(),
        whatsapp_on=bool(current_app.config.get("WHATSAPP_URL")),
        password_form=password_form or ChangePasswordForm(formdata=None),
        sessions=services.active_sessions(current_user),
        current=services.current_session(current_user),
    )


@bp.route("/account", methods=["GET"])
@access.signed_in
def account():
    return _account_page()


@bp.route("/account/profile", methods=["POST"])
@access.signed_in
def update_profile():
    form = _profile_form()
    return form_flow(
        form,
        lambda: services.update_own_profile(current_user, form.name.data, form.locale.data),
        render=lambda: _account_page(profile_form=form),
        message=_("Your profile has been saved."),
        done=lambda _result: redirect(url_for("auth.account")),
    )


@bp.route("/account/channels", methods=["POST"])
@access.signed_in
def update_channels():
    form = ChannelsForm()
    return form_flow(
        form,
        lambda: services.update_channels(
            current_user,
            email=form.notify_email.data,
            whatsapp=form.notify_whatsapp.data,
            phone=form.phone.data,
        ),
        render=lambda: _account_page(channels_form=form),
        message=_("Your notification settings have been saved."),
        done=lambda _result: redirect(url_for("auth.account", _anchor="channels")),
    )


@bp.route("/account/password", methods=["POST"])
@access.signed_in
def change_password():
    form = ChangePasswordForm()
    return form_flow(
        form,
        lambda: services.change_password(
            current_user, form.current.data, form.password.data, form.confirm.data
        ),
        render=lambda: _account_page(password_form=form),
        message=_("Your password has been changed. Your other sessions have been signed out."),
        done=lambda _result: redirect(url_for("auth.account")),
    )


@bp.route("/account/sessions/end-others", methods=["POST"])
@access.signed_in
def end_other_sessions():
    ended = services.end_sessions(current_user, "signed-out-elsewhere", keep_current=True)
    flash(_("%(n)d other sessions have been signed out.", n=ended), "success")
    return redirect(url_for("auth.account"))


@bp.route("/lang/<code>", methods=["GET", "POST"])
def set_language(code: str):
    """Choose the interface language. A visitor follows a plain link (GET): the session
    cookie is made only now, so public pages send none until someone picks a language. A
    signed-in user posts the footer's form, which also keeps the choice in their profile."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if request.method == "POST" and current_user.is_authenticated:
            services.update_own_profile(current_user, current_user.name, code)
    target = request.form.get("next") if request.method == "POST" else request.args.get("next")
    return redirect(_safe_next(target) or url_for("public.home"), 303)
