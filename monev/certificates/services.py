"""Issue, revoke, reissue, verify and render certificates. Services flush; requests commit.

A certificate's public code is a random id signed with the app's secret key
(``<random>.<signature>``): a forged or mistyped code fails the signature check before any
database lookup, and a valid signature still has to match an issued row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_date
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, Signer
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from monev.audit.services import record
from monev.auth.models import User
from monev.auth.services import external_url
from monev.certificates.models import DEFAULT_NUMBER_PATTERN, Certificate, CertificateSettings
from monev.certificates.rendering import ASSET_SCHEME, data_uri, render_pdf
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from monev.judging.models import EventJudge

_SALT = "monev.certificate"
DOCUMENT_LOCALE = "id"  # certificates are official documents in Bahasa Indonesia

# Default wording (document content in Indonesian, like the default award ladder); each
# event can override it in its certificate settings.
DEFAULT_TITLES = {
    "winner": "PIAGAM PENGHARGAAN",
    "participant": "SERTIFIKAT",
    "judge": "SERTIFIKAT",
}
DEFAULT_TEXTS = {
    "winner": "atas prestasinya sebagai",
    "participant": "atas partisipasinya sebagai Peserta",
    "judge": "atas pengabdiannya sebagai Dewan Juri",
}


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=_SALT)


def new_code() -> str:
    return _signer().sign(secrets.token_urlsafe(12)).decode("ascii")


def valid_signature(code: str) -> bool:
    try:
        _signer().unsign(code.encode("utf-8"))
    except (BadSignature, UnicodeError):
        return False
    return True


# --- settings and numbers ---------------------------------------------------------------------


def settings_for(event: Event) -> CertificateSettings:
    """The event's settings row, or unsaved defaults."""
    row = db.session.scalar(
        select(CertificateSettings).where(CertificateSettings.event_id == event.id)
    )
    if row is None:
        row = CertificateSettings(
            event_id=event.id,
            number_pattern=DEFAULT_NUMBER_PATTERN,
            primary_colour="#0b4f6c",
            accent_colour="#c9a227",
            signatories=[],
        )
    return row


def format_number(pattern: str, *, seq: int, event: Event) -> str:
    try:
        return pattern.format(seq=seq, year=event.year, slug=event.slug)
    except (KeyError, IndexError, ValueError) as exc:
        raise ServiceError(
            _("The number pattern may use only %(fields)s.", fields="{seq}, {year}, {slug}"),
            field="number_pattern",
        ) from exc


def _lock_event(event: Event) -> None:
    """Serialise numbering per event on PostgreSQL (SQLite writers are serialised already)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())


def _next_seq(event: Event) -> int:
    current = db.session.scalar(
        select(func.max(Certificate.seq)).where(Certificate.event_id == event.id)
    )
    return (current or 0) + 1


# --- issuing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    kind: str
    subject_key: str
    holder_name: str
    holder_detail: str | None
    award: str | None = None
    category_name: str | None = None
    entry_id: int | None = None
    user_id: int | None = None


def _kim_detail(kim: Kim) -> str:
    parts = [kim.village.label] if kim.village is not None else []
    parts.append(kim.district.label)
    return ", ".join(parts)


def _entries(event: Event, *, accepted_only: bool = True) -> list[Entry]:
    query = (
        select(Entry)
        .where(Entry.event_id == event.id)
        .options(
            joinedload(Entry.category),
            joinedload(Entry.kim).joinedload(Kim.village),
            joinedload(Entry.kim).joinedload(Kim.district),
        )
        .order_by(Entry.code)
    )
    if accepted_only:
        query = query.where(Entry.nomination_status == "accepted")
    return list(db.session.scalars(query).unique())


def participant_subjects(event: Event) -> list[Subject]:
    return [
        Subject(
            kind="participant",
            subject_key=f"entry:{e.id}",
            holder_name=e.kim.name,
            holder_detail=_kim_detail(e.kim),
            category_name=e.category.name,
            entry_id=e.id,
        )
        for e in _entries(event)
    ]


def judge_subjects(event: Event) -> list[Subject]:
    rows = db.session.execute(
        select(User)
        .join(EventJudge, EventJudge.user_id == User.id)
        .where(EventJudge.event_id == event.id)
        .order_by(User.name)
    ).scalars()
    return [
        Subject(
            kind="judge",
            subject_key=f"judge:{u.id}",
            holder_name=u.name,
            holder_detail=u.institution,
            user_id=u.id,
        )
        for u in rows
    ]


def winner_subjects(event: Event) -> list[Subject]:
    """Entries with an award in the latest published results (none before publication)."""
    from monev.results.queries import latest

    published = latest(event.id)
    if published is None:
        raise ServiceError(_("Publish the results before issuing winner certificates."))
    by_code = {e.code: e for e in _entries(event, accepted_only=False)}
    subjects = []
    for category in published.snapshot.get("categories", []):
        for row in category.get("entries", []):
            entry = by_code.get(row.get("code"))
            if entry is None or not row.get("award"):
                continue
            subjects.append(
                Subject(
                    kind="winner",
                    subject_key=f"entry:{entry.id}",
                    holder_name=entry.kim.name,
                    holder_detail=_kim_detail(entry.kim),
                    award=row["award"],
                    category_name=category.get("name") or entry.category.name,
                    entry_id=entry.id,
                )
            )
    return subjects


SUBJECTS = {"participant": participant_subjects, "judge": judge_subjects, "winner": winner_subjects}


def _create(event: Event, subject: Subject, settings: CertificateSettings, actor) -> Certificate:
    seq = _next_seq(event)
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
    _lock_event(event)
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
    _lock_event(event)
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
                "holder_detail": _kim_detail(cert.entry.kim),
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
    return new


# --- reading -----------------------------------------------------------------------------


def by_code(code: str) -> Certificate | None:
    """The certificate of a public code, or None for forged, mistyped or unknown codes."""
    if len(code) > 80 or not valid_signature(code):
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


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


# --- documents -----------------------------------------------------------------------------


def verify_url(cert: Certificate) -> str:
    return external_url("certificates.verify", code=cert.code)


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as segno's inline SVG: one ``<path>``, no external references."""
    return segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000", light=None)


def document_date(cert: Certificate) -> str:
    tz = ZoneInfo(cert.event.timezone or "Asia/Makassar")
    local = cert.issued_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)
    return format_date(local.date(), "d MMMM y", locale=DOCUMENT_LOCALE)


def _logo(event: Event) -> str | None:
    """The event logo as a bundled-asset URL when it is a file under ``static/img``."""
    if not event.logo_path:
        return None
    from monev.events.logo import logo_bytes

    stored = logo_bytes(event)
    if stored is not None:  # an uploaded logo: embedded, nothing fetched while rendering
        return data_uri(*stored)
    from monev.certificates.rendering import RefusedURL, asset_path

    url = ASSET_SCHEME + event.logo_path.lstrip("/").removeprefix("static/")
    try:
        path = asset_path(url)
    except RefusedURL:
        return None
    mime = {
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".svg": "image/svg+xml",
    }
    if path.suffix.lower() not in mime:
        return None
    return data_uri(path.read_bytes(), mime[path.suffix.lower()])


def context(cert: Certificate) -> dict:
    """Everything the certificate template shows, as plain values."""
    event = cert.event
    settings = settings_for(event)
    url = verify_url(cert)
    texts = {"winner": settings.winner_text, "participant": settings.participant_text}
    texts["judge"] = settings.judge_text
    return {
        "kind": cert.kind,
        "title": settings.title or DEFAULT_TITLES[cert.kind],
        "intro": "diberikan kepada",
        "holder_name": cert.holder_name,
        "holder_detail": cert.holder_detail or "",
        "text": texts[cert.kind] or DEFAULT_TEXTS[cert.kind],
        "award": cert.award or "",
        "category_name": cert.category_name or "",
        "event_title": event.title,
        "organiser": event.organiser,
        "number": cert.number,
        "place": settings.place or "",
        "date": document_date(cert),
        "signatories": [
            {"name": s.get("name", ""), "title": s.get("title", ""), "nip": s.get("nip", "")}
            for s in settings.signatories or []
        ],
        "primary_colour": settings.primary_colour,
        "accent_colour": settings.accent_colour,
        "logo": _logo(event),
        "verify_url": url,
        "qr_svg": Markup(qr_svg(url)),  # noqa: S704  (segno's own SVG of our URL)
        "font_url": ASSET_SCHEME + "fonts/noto-sans/",
    }


def pdf(cert: Certificate) -> bytes:
    return render_pdf("certificates/certificate.html", context(cert))


def filename(cert: Certificate) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in cert.number).strip("-")
    return f"sertifikat-{safe}.pdf"


def parse_signatories(text: str) -> list[dict]:
    rows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + ["", ""]
        rows.append({"name": parts[0], "title": parts[1], "nip": parts[2]})
    if len(rows) > 3:
        raise ServiceError(
            _("At most three signatories fit on a certificate."), field="signatories"
        )
    return rows


def signatories_text(rows: list[dict]) -> str:
    return "\n".join(
        " | ".join([r.get("name", ""), r.get("title", ""), r.get("nip", "")]) for r in rows
    )


def save_settings(event: Event, data: dict, *, actor=None) -> CertificateSettings:
    format_number(data["number_pattern"], seq=1, event=event)  # refuses a broken pattern
    row = settings_for(event)
    signatories = parse_signatories(data.get("signatories") or "")
    for name in (
        "number_pattern",
        "place",
        "title",
        "winner_text",
        "participant_text",
        "judge_text",
        "primary_colour",
        "accent_colour",
    ):
        setattr(row, name, (data.get(name) or "").strip() or None)
    row.signatories = signatories
    db.session.add(row)
    db.session.flush()
    record(
        "certificates.settings",
        "event",
        event.id,
        {"number_pattern": row.number_pattern},
        actor=actor,
    )
    return row
