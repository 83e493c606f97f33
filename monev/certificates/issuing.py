"""Issuing, revoking and reissuing certificates. Services flush; requests commit."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from monev.audit.services import record
from monev.auth.models import User
from monev.certificates.codes import new_code
from monev.certificates.models import Certificate, CertificateSettings
from monev.certificates.numbering import format_number, lock_numbering, next_seq
from monev.certificates.recipients import SUBJECTS, Subject, kim_detail
from monev.certificates.settings import settings_for
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.events.models import Event
from monev.extensions import db
from monev.notify import tell


def _create(event: Event, subject: Subject, settings: CertificateSettings, actor) -> Certificate:
    seq = next_seq(event)
    cert = Certificate(
        event_id=event.id,
        kind=subject.kind,
        entry_id=subject.entry_id,
        user_id=subject.user_id,
        subject_key=subject.subject_key,
        holder_name=subject.holder_name,
        holder_detail=subject.holder_detail,
        award=subject.award,
        category_name=subject.category_name,
        seq=seq,
        number=format_number(settings.number_pattern, seq=seq, event=event),
        code=new_code(),
        issued_at=utcnow(),
        issued_by_id=getattr(actor, "id", None),
    )
    db.session.add(cert)
    db.session.flush()
    return cert


def issue(event: Event, kind: str, *, actor=None) -> list[Certificate]:
    """Issue the missing live certificates of ``kind``; issuing twice creates nothing new."""
    if kind not in SUBJECTS:
        raise ServiceError(_("Unknown kind of certificate."))
    subjects = SUBJECTS[kind](event)
    lock_numbering(event)
    live = set(
        db.session.scalars(
            select(Certificate.subject_key).where(
                Certificate.event_id == event.id,
                Certificate.kind == kind,
                Certificate.revoked_at.is_(None),
            )
        )
    )
    settings = settings_for(event)
    created = []
    for subject in subjects:
        if subject.subject_key in live:
            continue
        created.append(_create(event, subject, settings, actor))
        live.add(subject.subject_key)
    if created:
        record(
            "certificates.issue",
            "event",
            event.id,
            {"kind": kind, "numbers": [c.number for c in created]},
            actor=actor,
        )
        tell.certificates_ready(event, created)
    return created


def revoke(cert: Certificate, reason: str, *, actor=None) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Give the reason for revoking."), field="reason")
    if cert.revoked_at is not None:
        raise ServiceError(_("This certificate is already revoked."), status=409)
    cert.revoked_at = utcnow()
    cert.revoke_reason = reason
    db.session.flush()
    record(
        "certificates.revoke",
        "certificate",
        cert.id,
        {"number": cert.number, "reason": reason},
        actor=actor,
    )


def reissue(cert: Certificate, reason: str, *, actor=None) -> Certificate:
    """Revoke ``cert`` and issue its replacement with a new number and code."""
    revoke(cert, reason, actor=actor)
    event = cert.event
    lock_numbering(event)
    subject = Subject(
        kind=cert.kind,
        subject_key=cert.subject_key,
        holder_name=cert.holder_name,
        holder_detail=cert.holder_detail,
        award=cert.award,
        category_name=cert.category_name,
        entry_id=cert.entry_id,
        user_id=cert.user_id,
    )
    if cert.entry is not None:  # a corrected KIM name or village shows on the new one
        subject = Subject(
            **{
                **subject.__dict__,
                "holder_name": cert.entry.kim.name,
                "holder_detail": kim_detail(cert.entry.kim),
            }
        )
    elif cert.user_id is not None:
        user = db.session.get(User, cert.user_id)
        subject = Subject(
            **{**subject.__dict__, "holder_name": user.name, "holder_detail": user.institution}
        )
    new = _create(event, subject, settings_for(event), actor)
    cert.replaced_by_id = new.id
    db.session.flush()
    record(
        "certificates.reissue",
        "certificate",
        cert.id,
        {"number": cert.number, "replaced_by": new.number},
        actor=actor,
    )
    tell.certificates_ready(event, [new])
    return new
