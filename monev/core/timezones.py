"""Convert between an event's local time (e.g. WITA) and the UTC the database stores."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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
