"""Account rules: sign-in with throttling, server-side sessions, invitations, resets.

Services flush and never commit: the request (or CLI command) commits once at its end.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update

from monev.audit import services as audit
from monev.audit.models import AuditEntry
from monev.auth import tokens
from monev.auth.models import LoginAttempt, User, UserSession
from monev.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from monev.core.errors import ServiceError
from monev.core.phone import normalise_phone
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.mail import services as mail


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


# --- sign-in throttling -------------------------------------------------------------------


@dataclass(frozen=True)
class Throttled:
    minutes: int


def _window_start():
    return utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


def throttle_state(email: str, ip: str) -> Throttled | None:
    """None when a sign-in may be tried now; otherwise how long to wait.

    Failures are counted in the database, so every worker process sees the same counters:
    per account from this address, per address, and per account from every address (a much
    higher limit). An account's count restarts after a successful sign-in; a locked-out
    owner signs in from a link mailed to the account (:func:`request_sign_in_link`).
    """
    cfg = current_app.config
    since = _window_start()
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    account_since = max(since, last_success) if last_success else since
    failed = (
        LoginAttempt.email == email,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.created_at > account_since,
    )
    counted = select(func.count(), func.min(LoginAttempt.created_at))
    account_here = db.session.execute(counted.where(*failed, LoginAttempt.ip == ip)).one()
    account_total = db.session.execute(counted.where(*failed)).one()
    address = db.session.execute(
        select(func.count(), func.min(LoginAttempt.created_at)).where(
            LoginAttempt.ip == ip,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at > since,
        )
    ).one()
    for (failures, oldest), limit in (
        (account_here, cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        (address, cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
        (account_total, cfg["LOGIN_MAX_FAILURES_ACCOUNT_TOTAL"]),
    ):
        if failures >= limit:
            free_at = oldest + timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
            return Throttled(max(1, math.ceil((free_at - utcnow()).total_seconds() / 60)))
    return None


def authenticate(email: str, password: str, ip: str) -> User:
    """The user these credentials belong to, or ServiceError (wrong, throttled, inactive)."""
    email = normalise_email(email)
    throttled = throttle_state(email, ip)
    if throttled:
        raise ServiceError(
            _(
                "Too many failed sign-in attempts. Try again in %(n)d minutes, or ask for a "
                "sign-in link by e-mail below.",
                n=throttled.minutes,
            ),
            status=429,
        )
    user = user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    db.session.add(LoginAttempt(email=email, ip=ip, succeeded=ok and user.active))
    if not ok:
        raise ServiceError(_("The e-mail address or password is wrong."))
    if not user.active:
        raise ServiceError(_("This account has been deactivated. Contact the organiser."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def prune_login_attempts(days: int = 30) -> int:
    result = db.session.execute(
        LoginAttempt.__table__.delete().where(
            LoginAttempt.created_at < utcnow() - timedelta(days=days)
        )
    )
    return result.rowcount or 0


# --- server-side sessions -----------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, ip: str | None, user_agent: str | None) -> str:
    token = secrets.token_urlsafe(32)
    days = current_app.config["SESSION_LIFETIME_DAYS"]
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_hash_token(token),
            expires_at=utcnow() + timedelta(days=days),
            ip=ip,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    user.session_token = token
    db.session.flush()
    return token


@functools.cache
def _session_user_statement():
    """Built once: every request of a signed-in user runs it (building a statement and its
    cache key each time cost more than running it)."""
    return (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.token_hash == bindparam("token_hash"),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > bindparam("now"),
            User.active.is_(True),
        )
    )


def load_session_user(token: str | None) -> User | None:
    """The user of a live session token; None when revoked, expired or deactivated."""
    if not token:
        return None
    row = db.session.execute(
        _session_user_statement(), {"token_hash": _hash_token(token), "now": utcnow()}
    ).first()
    if row is None:
        return None
    user = row.User
    user.session_token = token
    return user


def current_session(user: User) -> UserSession | None:
    if not user.session_token:
        return None
    return db.session.scalar(
        select(UserSession).where(UserSession.token_hash == _hash_token(user.session_token))
    )


def active_sessions(user: User) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > utcnow(),
            )
            .order_by(UserSession.created_at.desc())
        )
    )


def end_session(user: User, reason: str = "logout") -> None:
    if user.session_token:
        _revoke(UserSession.token_hash == _hash_token(user.session_token), reason=reason)


def end_sessions(user: User, reason: str, *, keep_current: bool) -> int:
    """Revoke the user's sessions (all, or all but the one making this request)."""
    condition = [UserSession.user_id == user.id]
    if keep_current and user.session_token:
        condition.append(UserSession.token_hash != _hash_token(user.session_token))
    return _revoke(*condition, reason=reason)


def _revoke(*conditions, reason: str) -> int:
    result = db.session.execute(
        update(UserSession)
        .where(*conditions, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --- passwords ----------------------------------------------------------------------------


def check_new_password(user: User, password: str, confirm: str) -> None:
    problems = password_problems(password, [user.email, user.name])
    if problems:
        raise ServiceError(problems[0], field="password")
    if password != confirm:
        raise ServiceError(_("The two passwords are not the same."), field="confirm")


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    if not verify_password(user.password_hash, current):
        raise ServiceError(_("The current password is wrong."), field="current")
    check_new_password(user, new, confirm)
    set_password(user, new)
    ended = end_sessions(user, "password-changed", keep_current=True)
    audit.record("user.password_changed", "user", user.id, {"other_sessions_ended": ended})


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an active account; say nothing either way."""
    user = user_by_email(email)
    if user is None or not user.active:
        return
    token = tokens.make_token(user, tokens.RESET)
    link = external_url("auth.reset_password", token=token)
    mail.send_template(
        user.email,
        _("Reset your Monev password"),
        "mail/password_reset.txt",
        user=user,
        link=link,
        hours=current_app.config["PASSWORD_RESET_HOURS"],
    )
    audit.record("user.password_reset_requested", "user", user.id, actor=user)


def request_sign_in_link(email: str) -> None:
    """Mail a single-use sign-in link to an active account (also while its sign-in is
    throttled); say nothing either way. At most three links per account per window."""
    user = user_by_email(email)
    if user is None or not user.active:
        return
    since = _window_start()
    sent = db.session.scalar(
        select(func.count()).where(
            AuditEntry.action == "user.sign_in_link_sent",
            AuditEntry.object_id == str(user.id),
            AuditEntry.created_at > since,
        )
    )
    if sent >= 3:
        return
    link = external_url("auth.sign_in_link", token=tokens.make_token(user, tokens.SIGN_IN))
    mail.send_template(
        user.email,
        _("Your Monev sign-in link"),
        "mail/sign_in_link.txt",
        user=user,
        link=link,
        minutes=current_app.config["LOGIN_LINK_MINUTES"],
    )
    audit.record("user.sign_in_link_sent", "user", user.id, actor=user)


def sign_in_with_link(token: str) -> User:
    """The user of a valid sign-in link; the link dies with the sign-in it gives."""
    user = user_from_token(token, tokens.SIGN_IN)
    user.last_login_at = utcnow()  # changes the link's fingerprint: used once
    audit.record("user.signed_in_by_link", "user", user.id, actor=user)
    return user


def user_from_token(token: str, purpose: str) -> User:
    try:
        return tokens.read_token(token, purpose, lambda uid: db.session.get(User, uid))
    except tokens.TokenError as exc:
        if exc.reason == "expired":
            raise ServiceError(
                _("This link has expired. Ask for a new one.")
                if purpose == tokens.RESET
                else _("This invitation has expired. Ask the organiser to send a new one."),
                status=410,
            ) from exc
        raise ServiceError(
            _("This link is not valid or has already been used."), status=404
        ) from exc


def reset_password(token: str, password: str, confirm: str) -> User:
    user = user_from_token(token, tokens.RESET)
    check_new_password(user, password, confirm)
    set_password(user, password)
    ended = end_sessions(user, "password-reset", keep_current=False)
    audit.record("user.password_reset", "user", user.id, {"sessions_ended": ended}, actor=user)
    return user


def accept_invitation(token: str, password: str, confirm: str) -> User:
    user = user_from_token(token, tokens.INVITE)
    if user.has_password:
        raise ServiceError(_("This link is not valid or has already been used."), status=404)
    check_new_password(user, password, confirm)
    set_password(user, password)
    audit.record("user.invitation_accepted", "user", user.id, actor=user)
    return user


# --- account administration ---------------------------------------------------------------


def external_url(endpoint: str, **values) -> str:
    """An absolute link for e-mails: MONEV_PUBLIC_URL when set, else the request's host
    (outside a request, e.g. the CLI, http://127.0.0.1:5000 as `make run` serves it)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not has_request_context():
        with current_app.test_request_context(base_url=base or "http://127.0.0.1:5000"):
            return url_for(endpoint, _external=True, **values)
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def user_snapshot(user: User) -> dict:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "district_id": user.district_id,
        "kim_id": user.kim_id,
        "institution": user.institution,
        "active": user.active,
    }


def _check_binding(role: str, district_id: int | None, kim_id: int | None) -> None:
    if role == "operator" and not district_id:
        raise ServiceError(_("An operator must belong to a kabupaten/kota."), field="district_id")
    if role == "kim" and not kim_id:
        raise ServiceError(_("A KIM account must belong to a KIM."), field="kim_id")


def invite_user(
    *,
    email: str,
    name: str,
    role: str,
    district_id: int | None = None,
    kim_id: int | None = None,
    institution: str | None = None,
) -> User:
    email = normalise_email(email)
    if user_by_email(email) is not None:
        raise ServiceError(_("An account with this e-mail address already exists."), field="email")
    _check_binding(role, district_id, kim_id)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        district_id=district_id if role == "operator" else None,
        kim_id=kim_id if role == "kim" else None,
        institution=(institution or "").strip() or None,
        active=True,
        invited_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    send_invitation(user)
    audit.record("user.invited", "user", user.id, user_snapshot(user))
    return user


def send_invitation(user: User) -> None:
    if user.has_password:
        raise ServiceError(_("This person has already set a password."))
    user.invited_at = utcnow()
    token = tokens.make_token(user, tokens.INVITE)
    mail.send_template(
        user.email,
        _("Invitation to Monev KIM"),
        "mail/invitation.txt",
        user=user,
        link=external_url("auth.accept_invitation", token=token),
        days=current_app.config["INVITATION_DAYS"],
    )


def update_user(user: User, acting: User, **fields) -> None:
    before = user_snapshot(user)
    role = fields.get("role", user.role)
    _check_binding(role, fields.get("district_id"), fields.get("kim_id"))
    if user.id == acting.id and (role != user.role or fields.get("active") is False):
        raise ServiceError(_("You cannot change your own role or deactivate yourself."))
    user.name = fields["name"].strip()
    user.role = role
    user.district_id = fields.get("district_id") if role == "operator" else None
    user.kim_id = fields.get("kim_id") if role == "kim" else None
    user.institution = (fields.get("institution") or "").strip() or None
    if fields.get("active") is not None:
        user.active = fields["active"]
    changes = audit.diff(before, user_snapshot(user))
    if not user.active and before["active"]:
        changes["sessions_ended"] = end_sessions(user, "deactivated", keep_current=False)
    if changes:
        audit.record("user.updated", "user", user.id, changes)


def update_channels(user: User, *, email: bool, whatsapp: bool, phone: str | None) -> None:
    """The person's notification channels (the in-app list is always on). WhatsApp needs a
    valid Indonesian mobile number; it is stored as typed, sent normalised."""
    phone = (phone or "").strip() or None
    if phone and normalise_phone(phone) is None:
        raise ServiceError(
            _("Enter an Indonesian mobile number, like 0812 5500 1234."), field="phone"
        )
    if whatsapp and not phone:
        raise ServiceError(_("Enter the number that receives WhatsApp messages."), field="phone")
    before = {"email": user.notify_email, "whatsapp": user.notify_whatsapp, "phone": user.phone}
    user.notify_email, user.notify_whatsapp, user.phone = bool(email), bool(whatsapp), phone
    after = {"email": user.notify_email, "whatsapp": user.notify_whatsapp, "phone": user.phone}
    changes = audit.diff(before, after)
    if changes:
        audit.record("user.channels_updated", "user", user.id, changes)


def update_own_profile(user: User, name: str, locale: str | None) -> None:
    before = {"name": user.name, "locale": user.locale}
    user.name = name.strip()
    user.locale = locale or None
    changes = audit.diff(before, {"name": user.name, "locale": user.locale})
    if changes:
        audit.record("user.profile_updated", "user", user.id, changes)
