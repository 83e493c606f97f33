"""Formatting shared by the official documents: Indonesian numbers and dates, the common
heading of every document, the signatories."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from monev.certificates.design import DOCUMENT_LOCALE
from monev.certificates.settings import settings_for
from monev.events.models import Event
from monev.pdf.rendering import ASSET_SCHEME
from monev.results.models import PublishedResult

FONT_URL = ASSET_SCHEME + "fonts/noto-sans/"


def decimal(value: float | None, digits: int = 2) -> str:
    """A number with a fixed count of decimals, Indonesian style: 78.5 -> '78,50'."""
    if value is None:
        return "—"
    text = f"{float(value):.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace(".", ",")


def long_date(moment: datetime, timezone: str | None) -> str:
    """A UTC moment as an Indonesian long date in the event's time zone: '23 November 2026'."""
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone or "Asia/Makassar"))
    return format_date(local.date(), "d MMMM y", locale=DOCUMENT_LOCALE)


def weekday(moment: datetime, timezone: str | None) -> str:
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone or "Asia/Makassar"))
    return format_date(local.date(), "EEEE", locale=DOCUMENT_LOCALE)


def rank_text(row: dict) -> str:
    return f"{row['rank']}*" if row.get("shared") else str(row["rank"])


def document_signatories(event: Event) -> list[dict]:
    return [
        {"name": s.get("name") or "", "title": s.get("title") or "", "nip": s.get("nip") or ""}
        for s in settings_for(event).signatories or []
    ]


def common_context(event: Event, published: PublishedResult, title: str) -> dict:
    return {
        "doc_title": title,
        "font_url": FONT_URL,
        "event_title": event.title,
        "organiser": event.organiser,
        "year": event.year,
        "version": published.version,
        "digest": published.digest,
        "published_date": long_date(published.created_at, event.timezone),
    }
