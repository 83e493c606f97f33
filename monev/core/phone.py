"""Indonesian mobile numbers, as WhatsApp gateways want them."""

from __future__ import annotations

import re


def normalise_phone(raw: str | None) -> str | None:
    """Digits with the country code 62 ("0812-5500 1234" and "+62 812 5500 1234" →
    "6281255001234"); None when it is not a plausible Indonesian number."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    if not digits.startswith("62") or not 10 <= len(digits) <= 15:
        return None
    return digits
