"""Certificate codes. A certificate's public code is a random id signed with the app's
secret key (``<random>.<signature>``): a forged or mistyped code fails the signature check
before any database lookup, and a valid signature still has to match an issued row."""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, Signer

_SALT = "monev.certificate"


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=_SALT)


def new_code() -> str:
    return _signer().sign(secrets.token_urlsafe(12)).decode("ascii")


def valid_signature(code: str) -> bool:
    try:
        _signer().unsign(code.encode("utf-8"))
    except (BadSignature, UnicodeError):
        return False
    return True
