"""Password hashing (Argon2id) and the password policy.

The policy follows NIST SP 800-63B: at least 8 characters, no composition rules, and
passwords that are common or easily guessed (zxcvbn's frequency lists and patterns, which
include the account's own name and e-mail) are refused.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 128  # bounds the hashing and zxcvbn work an attacker can ask for


@cache
def _hasher_for(params: tuple[tuple[str, int], ...]) -> tuple[PasswordHasher, str]:
    """The hasher for these parameters, and a fixed hash to verify against when the account
    does not exist, so timing does not reveal which e-mail addresses have accounts."""
    hasher = PasswordHasher(**dict(params))
    return hasher, hasher.hash("monev-dummy-password-for-timing")


def _hasher() -> tuple[PasswordHasher, str]:
    """Argon2's defaults, unless the app's ``ARGON2_PARAMETERS`` say otherwise (testing)."""
    params = current_app.config.get("ARGON2_PARAMETERS") if has_app_context() else None
    return _hasher_for(tuple(sorted((params or {}).items())))


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)


def password_problems(password: str, user_inputs: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Messages (in the user's language) saying why this password is refused; empty if fine."""
    if len(password) < MIN_LENGTH:
        return [_("Use at least %(n)d characters.", n=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("Use at most %(n)d characters.", n=MAX_LENGTH)]
    inputs = [part for value in user_inputs if value for part in _split_inputs(value)]
    result = zxcvbn(password, user_inputs=inputs)
    if result["score"] < 2:
        return [
            _(
                "This password is too common or too easy to guess. A few unrelated words "
                "make a strong password that is easy to remember."
            )
        ]
    return []


def _split_inputs(value: str) -> list[str]:
    # "juri1@demo.monev.id" -> ["juri1@demo.monev.id", "juri1", "demo", "monev", "id"]
    parts = [value, value.split("@")[0]]
    for sep in "@. -_":
        value = value.replace(sep, " ")
    parts.extend(p for p in value.split() if len(p) >= 3)
    return parts
