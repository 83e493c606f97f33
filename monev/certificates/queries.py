"""Reading certificates: by public code, of an event, of a KIM or judge, and who may
download one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from monev.certificates.codes import canonical
from monev.certificates.models import Certificate
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db


def by_code(code: str) -> Certificate | None:
    """The certificate of a public code (either format, as typed: see
    :func:`~monev.certificates.codes.canonical`), or None for forged, mistyped or unknown
    codes; only a code that passes its check is looked up."""
    stored = canonical(code)
    if stored is None:
        return None
    return db.session.scalar(
        select(Certificate)
        .where(Certificate.code == stored)
        .options(joinedload(Certificate.event))  # the verification page shows its title
    )


def for_event(event: Event) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.event_id == event.id)
            .options(joinedload(Certificate.replaced_by))
            .order_by(Certificate.seq)
        )
    )


def for_user(user) -> list[Certificate]:
    """The live certificates a KIM or a judge may download, newest first."""
    query = select(Certificate).options(joinedload(Certificate.event))
    if user.role == "kim":
        query = query.join(Entry, Entry.id == Certificate.entry_id).where(
            Entry.kim_id == user.kim_id
        )
    elif user.role == "judge":
        query = query.where(Certificate.user_id == user.id)
    else:
        return []
    query = query.where(Certificate.revoked_at.is_(None)).order_by(Certificate.issued_at.desc())
    return list(db.session.scalars(query))


def may_download(user, cert: Certificate) -> bool:
    if user.role == "admin":
        return True
    if user.role == "kim":
        return cert.entry is not None and cert.entry.kim_id == user.kim_id
    if user.role == "judge":
        return cert.user_id == user.id
    return False
