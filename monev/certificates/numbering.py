"""Certificate numbers: the event's pattern filled with the next sequence number, numbering
serialised per event."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from monev.certificates.models import Certificate
from monev.core.errors import ServiceError
from monev.events.models import Event
from monev.extensions import db


def format_number(pattern: str, *, seq: int, event: Event) -> str:
    try:
        return pattern.format(seq=seq, year=event.year, slug=event.slug)
    except (KeyError, IndexError, ValueError) as exc:
        raise ServiceError(
            _("The number pattern may use only %(fields)s.", fields="{seq}, {year}, {slug}"),
            field="number_pattern",
        ) from exc


def lock_numbering(event: Event) -> None:
    """Serialise numbering per event on PostgreSQL (SQLite writers are serialised already)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())


def next_seq(event: Event) -> int:
    current = db.session.scalar(
        select(func.max(Certificate.seq)).where(Certificate.event_id == event.id)
    )
    return (current or 0) + 1
