"""Time helpers: store UTC, show in the event's zone (WITA by default)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware 'now' in UTC; the database stores it naive (UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)
