"""Certificate codes: the public code printed under a certificate's QR code, which the QR's
URL (/verify/<code>) carries and a person may type on the verification page.

A new code is made to be read off paper and typed: 16 random characters (80 bits) and a
4-character check, in Crockford's base32 (digits and capitals without I, L, O and U, so
nothing looks like something else), printed in groups of four: ``7K3P-Q9XD-2MWT-5RVA-H4CN``.
The check is an HMAC of the random part under the app's secret key, cut to 20 bits: a forged
or mistyped code (one wrong character, two swapped) is refused before any database lookup,
and a code that passes still has to match an issued row. Typed input is read leniently:
upper or lower case, spaces and hyphens anywhere, I and L read as 1, O as 0.

Certificates issued before kept their older code, ``<random>.<signature>`` (itsdangerous,
case-sensitive, about 44 characters): a printed paper stays verifiable, so both are accepted.
The stored form of a new code is the grouped one, which is also what is printed."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app
from itsdangerous import BadSignature, Signer

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
RANDOM_CHARS = 16  # 80 bits
CHECK_CHARS = 4  # 20 bits of HMAC
GROUP = 4
LENGTH = RANDOM_CHARS + CHECK_CHARS
MAX_INPUT = 80  # longer input is not a code (the old format is about 44 characters)

_SALT = "monev.certificate"
_CHECK_SALT = b"monev.certificate.code|"
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
# Spaces, hyphens and dashes, soft hyphens (U+00AD, and U+FFFE as PDFium reads one).
_IGNORED = re.compile(r"[\s\-\u00ad\u2010-\u2015\u2212\ufffe]+")


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=_SALT)


def _check(body: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode("utf-8") if isinstance(key, str) else key
    digest = hmac.new(key, _CHECK_SALT + body.encode("ascii"), hashlib.sha256).digest()
    value = int.from_bytes(digest[:4], "big") >> (32 - 5 * CHECK_CHARS)
    return _encode(value, CHECK_CHARS)


def _encode(value: int, chars: int) -> str:
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(chars)))


def grouped(chars: str) -> str:
    return "-".join(chars[i : i + GROUP] for i in range(0, len(chars), GROUP))


def new_code() -> str:
    """A new certificate's code, grouped as printed (24 characters with the hyphens)."""
    body = _encode(secrets.randbits(5 * RANDOM_CHARS), RANDOM_CHARS)
    return grouped(body + _check(body))


def is_legacy(code: str) -> bool:
    """The older ``<random>.<signature>`` format (it alone holds a dot)."""
    return "." in code


def tidy(code: str) -> str:
    """Typed input as it should read: an old code without its spaces; anything else in
    capitals, read the Crockford way, without spaces and hyphens, grouped when it has the
    length of a code. Not a check: see :func:`canonical`."""
    code = (code or "")[: MAX_INPUT * 2]
    if is_legacy(code):
        return "".join(code.split())
    chars = _IGNORED.sub("", code).upper().translate(_READ_AS)
    return grouped(chars) if len(chars) == LENGTH else chars


def canonical(code: str) -> str | None:
    """The stored form of a typed or scanned code if it passes its check, else None (forged,
    mistyped, or not a code): no database is asked."""
    if not code or len(code) > MAX_INPUT:
        return None
    code = tidy(code)
    if is_legacy(code):
        try:
            _signer().unsign(code.encode("utf-8"))
        except (BadSignature, UnicodeError):
            return None
        return code
    chars = code.replace("-", "")
    if len(chars) != LENGTH or any(c not in ALPHABET for c in chars):
        return None
    body, check = chars[:RANDOM_CHARS], chars[RANDOM_CHARS:]
    return code if hmac.compare_digest(check, _check(body)) else None


def valid_signature(code: str) -> bool:
    """Whether ``code`` (either format, as typed) passes its check."""
    return canonical(code) is not None
