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
# Indonesian writes the time with a dot (PUEBI); other languages with a colon. Audit trails
# add the seconds the same way: "6 Des 2026, 14.00.05 WITA".
_PATTERNS = {
    "id": ("d MMM yyyy, HH.mm", "d MMM yyyy", "HH.mm", "d MMM yyyy, HH.mm.ss"),
    "en": ("d MMM yyyy, HH:mm", "d MMM yyyy", "HH:mm", "d MMM yyyy, HH:mm:ss"),
}


def _patterns() -> tuple[str, str, str, str]:
    locale = str(get_locale() or "id")
    return _PATTERNS["id" if locale.startswith("id") else "en"]


def format_moment(
    utc: datetime | None, tz: str, *, with_zone: bool = True, seconds: bool = False
) -> str:
    """A UTC moment on ``tz``'s wall clock: "6 Des 2026, 14.00 WITA" ("—" for none); with
    ``seconds`` (audit trails, where two changes a few seconds apart must read apart):
    "6 Des 2026, 14.00.05 WITA"."""
    if utc is None:
        return "—"
    pattern = _patterns()[3 if seconds else 0]
    text = format_datetime(to_local(utc, tz), pattern, rebase=False)
    return f"{text} {label(tz)}" if with_zone else text


def format_day(utc: datetime | None, tz: str) -> str:
    """The day of a UTC moment on ``tz``'s calendar: "6 Des 2026"."""
    if utc is None:
        return "—"
    if not isinstance(utc, datetime):  # a plain date (an SK's date): no clock, no zone
        return format_date(utc, _patterns()[1])
    return format_datetime(to_local(utc, tz), _patterns()[1], rebase=False)


def format_wall(value, zone: str | None = None) -> str:
    """A date, or a naive wall-clock time as typed into a form (nothing converted), in the
    same format: "6 Des 2026" or "6 Des 2026, 14.00 WITA" (``zone`` is the label to add)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return format_date(value, _patterns()[1])
    text = format_datetime(value, _patterns()[0], rebase=False)
    return f"{text} {zone}" if zone else text


def wall_parts() -> dict[str, str]:
    """What the browser needs to write a date input's value the same way (static/js/app.js):
    the abbreviated month names of the locale and the separator of hours and minutes."""
    locale = get_locale()
    months = locale.months["format"]["abbreviated"] if locale else {}
    separator = _patterns()[2][2]
    return {"months": ",".join(months[m] for m in range(1, 13)), "time_sep": separator}


def format_time(utc: datetime | None, tz: str) -> str:
    """The wall-clock time alone: "14.00"."""
    if utc is None:
        return "—"
    return format_datetime(to_local(utc, tz), _patterns()[2], rebase=False)
