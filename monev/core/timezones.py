"""Convert between an event's local time (e.g. WITA) and the UTC the database stores."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import format_date, format_datetime, get_locale

ZONES = {
    "Asia/Jakarta": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def to_utc(local: datetime | None, tz: str) -> datetime | None:
    """A naive local wall-clock time in ``tz`` -> naive UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


def to_local(utc: datetime | None, tz: str) -> datetime | None:
    """Naive UTC -> naive local wall-clock time in ``tz``."""
    if utc is None:
        return None
    return utc.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def label(tz: str) -> str:
    return ZONES.get(tz, tz)


# One way to write a moment everywhere (pages, e-mails, PDFs): "6 Des 2026, 14.00 WITA".
# Indonesian writes the time with a dot (PUEBI); other languages with a colon.
_PATTERNS = {
    "id": ("d MMM yyyy, HH.mm", "d MMM yyyy", "HH.mm"),
    "en": ("d MMM yyyy, HH:mm", "d MMM yyyy", "HH:mm"),
}


def _patterns() -> tuple[str, str, str]:
    locale = str(get_locale() or "id")
    return _PATTERNS["id" if locale.startswith("id") else "en"]


def format_moment(utc: datetime | None, tz: str, *, with_zone: bool = True) -> str:
    """A UTC moment on ``tz``'s wall clock: "6 Des 2026, 14.00 WITA" ("—" for none)."""
    if utc is None:
        return "—"
    text = format_datetime(to_local(utc, tz), _patterns()[0], rebase=False)
    return f"{text} {label(tz)}" if with_zone else text


def format_day(utc: datetime | None, tz: str) -> str:
    """The day of a UTC moment on ``tz``'s calendar: "6 Des 2026"."""
    if utc is None:
        return "—"
    if not isinstance(utc, datetime):  # a plain date (an SK's date): no clock, no zone
        return format_date(utc, _patterns()[1])
    return format_datetime(to_local(utc, tz), _patterns()[1], rebase=False)


def format_time(utc: datetime | None, tz: str) -> str:
    """The wall-clock time alone: "14.00"."""
    if utc is None:
        return "—"
    return format_datetime(to_local(utc, tz), _patterns()[2], rebase=False)
