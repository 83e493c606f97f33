"""Signed, expiring links for password resets, invitations and sign-in by e-mail.

A token carries the user id and a fingerprint of the current password hash, so it stops
working as soon as it has been used (the hash changes) — no token table needed.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

RESET, INVITE, SIGN_IN = "password-reset", "invitation", "sign-in"


class TokenError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "expired" or "invalid"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"monev-{purpose}")


def _fingerprint(user, purpose: str) -> str:
    material = user.password_hash or "no-password"
    if purpose == SIGN_IN:  # a sign-in link dies with the sign-in it gives
        material += f"|{user.last_login_at.isoformat() if user.last_login_at else '-'}"
    return hashlib.sha256(material.encode()).hexdigest()[:20]


def make_token(user, purpose: str) -> str:
    return _serializer(purpose).dumps([user.id, _fingerprint(user, purpose)])


def max_age(purpose: str) -> int:
    cfg = current_app.config
    if purpose == RESET:
        return cfg["PASSWORD_RESET_HOURS"] * 3600
    if purpose == SIGN_IN:
        return cfg["LOGIN_LINK_MINUTES"] * 60
    return cfg["INVITATION_DAYS"] * 86400


def read_token(token: str, purpose: str, load_user) -> object:
    """Return the user the token was made for, or raise TokenError.

    ``load_user(id)`` returns the user or None; the token is refused when the account is gone,
    deactivated, or its password changed since the token was made (used tokens die).
    """
    try:
        user_id, fingerprint = _serializer(purpose).loads(token, max_age=max_age(purpose))
    except SignatureExpired as exc:
        raise TokenError("expired") from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise TokenError("invalid") from exc
    user = load_user(user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or fingerprint != _fingerprint(user, purpose):
        raise TokenError("invalid")
    return user
