"""Issue, revoke, reissue, verify and render certificates. Services flush; requests commit.

A certificate's public code is a random id signed with the app's secret key
(``<random>.<signature>``): a forged or mistyped code fails the signature check before any
database lookup, and a valid signature still has to match an issued row.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import zxingcpp
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
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from monev.judging.models import EventJudge
from monev.pdf.rendering import ASSET_SCHEME, data_uri

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
    # Special awards (e.g. "KIM Terinovatif"): a certificate of their own, also for an entry
    # that already has a rank award; one per entry and title.
    for award in published.snapshot.get("special_awards", []):
        entry = by_code.get(award.get("code"))
        if entry is None or not award.get("title"):
            continue
        digest = hashlib.sha256(award["title"].encode("utf-8")).hexdigest()[:12]
        subjects.append(
            Subject(
                kind="winner",
                subject_key=f"special:{entry.id}:{digest}",
                holder_name=entry.kim.name,
                holder_detail=_kim_detail(entry.kim),
                award=award["title"],
                category_name=entry.category.name,
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


# Where the QR code sits on a certificate (mm from the page's top-left corner); the template
# leaves this box empty and rendering.py draws the code there as PDF vector operators.
QR_BOX = {"left": 24, "top": 153, "size": 30}
QR_BORDER = 2  # quiet zone, in modules


def qr_matrix(url: str) -> list[list[bool]]:
    """The modules of the QR code of ``url`` (error correction M, best mask), dark = True.
    Encoded by zxing-cpp (C++): 0.4 ms a code, where a pure-Python encoder took 14 ms."""
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = code.to_image(scale=1, add_quiet_zones=False)
    width = image.shape[1]
    pixels = bytes(image)
    return [[pixels[r * width + c] < 128 for c in range(width)] for r in range(image.shape[0])]


def _runs(matrix: list[list[bool]]):
    """(row, first column, length) of each horizontal run of dark modules."""
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                yield r, start, c - start
            else:
                c += 1


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as inline SVG: one ``<path>``, no external references."""
    matrix = qr_matrix(url)
    size = len(matrix) + 2 * QR_BORDER
    path = "".join(f"M{c + QR_BORDER} {r + QR_BORDER}h{n}v1h-{n}z" for r, c, n in _runs(matrix))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}">'
        f'<path fill="#000" d="{path}"/></svg>'
    )


def qr_operators(url: str, page_height_mm: float = 210) -> bytes:
    """PDF content operators drawing the QR code of ``url`` in ``QR_BOX``: one filled path
    of rectangles, each row's neighbouring dark modules merged into one."""
    matrix = qr_matrix(url)
    mm = 72 / 25.4
    unit = QR_BOX["size"] * mm / (len(matrix) + 2 * QR_BORDER)
    left = QR_BOX["left"] * mm
    top = (page_height_mm - QR_BOX["top"]) * mm
    parts = ["q 0 g"]
    for r, c, n in _runs(matrix):
        x = left + (c + QR_BORDER) * unit
        y = top - (r + QR_BORDER + 1) * unit
        parts.append(f"{x:.3f} {y:.3f} {n * unit:.3f} {unit:.3f} re")
    parts.append("f Q")
    return "\n".join(parts).encode("ascii")


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
    from monev.pdf.rendering import RefusedURL, asset_path

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


TEMPLATE = "certificates/certificate.html"
DEFAULT_TEXT_COLOUR = "#1d1d1f"
CHUNK = 100  # certificates laid out per WeasyPrint document (memory stays flat)
MIN_RUN = 10  # fewer certificates per document are not worth a worker process


def stored_image(key: str | None) -> str | None:
    """A stored image (signature, background) as a data URI, or None when absent."""
    from monev.storage.images import read_image

    stored = read_image(key)
    return data_uri(*stored) if stored is not None else None


def design(event: Event, kind: str, settings: CertificateSettings | None = None) -> dict:
    """What every certificate of ``kind`` in ``event`` shares, as plain values."""
    settings = settings or settings_for(event)
    return {
        "kind": kind,
        "doc_title": event.title,
        "title": settings.title or DEFAULT_TITLES[kind],
        "organiser": event.organiser,
        "primary_colour": settings.primary_colour,
        "accent_colour": settings.accent_colour,
        "text_colour": settings.text_colour or DEFAULT_TEXT_COLOUR,
        "logo": _logo(event),
        "background": stored_image(settings.background_key),
        "signatories": [
            {
                "name": s.get("name", ""),
                "title": s.get("title", ""),
                "nip": s.get("nip", ""),
                "signature": stored_image(s.get("signature_key")),
            }
            for s in settings.signatories or []
        ],
        "font_url": ASSET_SCHEME + "fonts/noto-sans/",
        "qr_box": QR_BOX,
    }


def page_fields(cert: Certificate, settings: CertificateSettings, url: str | None = None) -> dict:
    """What differs from one certificate to the next, as plain values."""
    url = url or verify_url(cert)
    texts = {
        "winner": settings.winner_text,
        "participant": settings.participant_text,
        "judge": settings.judge_text,
    }
    return {
        "number": cert.number,
        "intro": "diberikan kepada",
        "holder_name": cert.holder_name,
        "holder_detail": cert.holder_detail or "",
        "text": texts[cert.kind] or DEFAULT_TEXTS[cert.kind],
        "award": cert.award or "",
        "category_name": cert.category_name or "",
        "event_title": cert.event.title,
        "place": settings.place or "",
        "date": document_date(cert),
        "verify_url": url,
    }


def context(cert: Certificate) -> dict:
    """Everything one certificate shows: its design and its own fields."""
    settings = settings_for(cert.event)
    return {**design(cert.event, cert.kind, settings), **page_fields(cert, settings)}


def one_pass_html(cert: Certificate, settings: CertificateSettings | None = None) -> str:
    """The whole certificate as one HTML page (QR code as inline SVG): the plain way,
    one document per certificate, kept as the benchmark's baseline."""
    from flask import render_template

    settings = settings or settings_for(cert.event)
    fields = page_fields(cert, settings)
    fields["qr_svg"] = Markup(qr_svg(fields["verify_url"]))  # noqa: S704  (segno's own SVG)
    return render_template(
        TEMPLATE, layer="all", pages=[fields], **design(cert.event, cert.kind, settings)
    )


def pdf(cert: Certificate) -> bytes:
    return pdfs([cert])[0]


def pdfs(certs: list[Certificate], *, processes: int = 1) -> list[bytes]:
    """One PDF per certificate, in order. The design of each event and kind is rendered
    once, the changing parts of up to ``CHUNK`` certificates are laid out together, and with
    ``processes`` > 1 the chunks are rendered in that many worker processes (for batches;
    see bench/certificates.py)."""
    from monev.pdf.rendering import layered_job, render_many

    jobs, slots = [], []
    for (_event, kind), group in _groups(certs).items():
        event = group[0][1].event
        settings = settings_for(event)
        shared = design(event, kind, settings)
        for chunk in _chunks(group, processes):
            pages = [page_fields(cert, settings) for _index, cert in chunk]
            marks = [qr_operators(page["verify_url"]) for page in pages]
            jobs.append(layered_job(TEMPLATE, shared, pages, marks))
            slots.append([index for index, _cert in chunk])
    out: list[bytes | None] = [None] * len(certs)
    for indexes, singles in zip(slots, render_many(jobs, processes), strict=True):
        for index, content in zip(indexes, singles, strict=True):
            out[index] = content
    return out  # type: ignore[return-value]


def _chunks(items: list, processes: int) -> list[list]:
    """``items`` in runs of at most ``CHUNK`` and of even length; with ``processes`` > 1, as
    many runs as a multiple of ``processes`` (each process gets the same amount of work)
    unless the runs would be tiny."""
    count = -(-len(items) // CHUNK)
    if processes > 1:
        count = max(count, min(processes, len(items) // MIN_RUN))
        count = -(-count // processes) * processes if count > 1 else count
    size = -(-len(items) // max(count, 1))
    return [items[i : i + size] for i in range(0, len(items), size)]


def write_files(certs: list[Certificate], folder, *, run: int, processes: int = 1, progress=None):
    """Write one PDF per certificate into ``folder``, ``run`` certificates at a time (memory
    stays flat); ``progress(n)`` after each run. Returns the paths, in order."""
    from pathlib import Path

    paths = []
    for start in range(0, len(certs), run):
        part = certs[start : start + run]
        for cert, content in zip(part, pdfs(part, processes=processes), strict=True):
            path = Path(folder) / filename(cert)
            path.write_bytes(content)
            paths.append(path)
        if progress is not None:
            progress(len(part))
    return paths


def merge(documents: Iterable[bytes]) -> bytes:
    """The pages of ``documents`` (PDF bytes, read one at a time) in one PDF, in order.
    Fonts and images the documents share (the design under every certificate) are kept once,
    so merging 500 single certificates costs about what one multi-page document does."""
    from monev.pdf.rendering import merge_documents

    return merge_documents(documents)


def _groups(certs: list[Certificate]) -> dict[tuple[int, str], list[tuple[int, Certificate]]]:
    groups: dict[tuple[int, str], list[tuple[int, Certificate]]] = {}
    for index, cert in enumerate(certs):
        groups.setdefault((cert.event_id, cert.kind), []).append((index, cert))
    return groups


def filename(cert: Certificate) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in cert.number).strip("-")
    return f"sertifikat-{safe}.pdf"


SIGNATURE_BOX = (1200, 500)  # signature images are scaled down to fit (pixels)
BACKGROUND_BOX = (3508, 2480)  # A4 landscape at 300 dpi
IMAGE_MAX_BYTES = 8 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000
SETTINGS_TEXT_FIELDS = (
    "number_pattern",
    "place",
    "title",
    "winner_text",
    "participant_text",
    "judge_text",
    "primary_colour",
    "accent_colour",
    "text_colour",
)


def _store_image(stream, event: Event, name: str, field: str, box) -> str:
    from monev.storage.images import store_image

    return store_image(
        stream,
        f"certificates/{event.id}/{name}",
        field=field,
        max_bytes=IMAGE_MAX_BYTES,
        max_pixels=IMAGE_MAX_PIXELS,
        fit=box,
    )


def _signatory_rows(current: list[dict], rows: list[dict]) -> list[dict]:
    """The signatories to keep from the form ``rows`` (row i shows ``current[i]``): named
    rows, in order, each with its signature image unless it was removed."""
    kept = []
    for index, row in enumerate(rows):
        name = (row.get("name") or "").strip()
        if not name:
            continue
        old = current[index] if index < len(current) else {}
        key = None if row.get("remove_signature") else old.get("signature_key")
        kept.append(
            {
                "name": name,
                "title": (row.get("title") or "").strip(),
                "nip": " ".join((row.get("nip") or "").split()),
                "signature_key": key,
            }
        )
    return kept


def apply_settings(row: CertificateSettings, data: dict, event: Event) -> CertificateSettings:
    """Copy the form's values (not its files) onto ``row``; checks the number pattern."""
    format_number(data["number_pattern"], seq=1, event=event)
    for name in SETTINGS_TEXT_FIELDS:
        setattr(row, name, (data.get(name) or "").strip() or None)
    row.number_pattern = row.number_pattern or DEFAULT_NUMBER_PATTERN
    row.signatories = _signatory_rows(list(row.signatories or []), data.get("signatories") or [])
    if data.get("remove_background"):
        row.background_key = None
    return row


def save_settings(
    event: Event,
    data: dict,
    *,
    background=None,
    signatures: dict[int, object] | None = None,
    actor=None,
) -> CertificateSettings:
    """Save the certificate design. ``background`` and ``signatures`` (form row index →
    file stream) are uploaded images, checked and stored; replaced ones are deleted after
    the commit, and a refused image changes nothing."""
    from monev.storage.images import forget

    row = settings_for(event)
    before = list(row.signatories or [])
    old_background = row.background_key
    old_keys = {s.get("signature_key") for s in before} - {None}
    uploaded: dict[int, str] = {}
    for index, stream in (signatures or {}).items():
        uploaded[index] = _store_image(
            stream,
            event,
            f"signature-{index + 1}",
            f"signatories-{index}-signature",
            SIGNATURE_BOX,
        )
    new_background = (
        _store_image(background, event, "background", "background", BACKGROUND_BOX)
        if background is not None
        else None
    )
    rows = [dict(r) for r in data.get("signatories") or []]
    for index, key in uploaded.items():
        if index < len(rows):
            rows[index]["_new_signature"] = key
    apply_settings(row, {**data, "signatories": rows}, event)
    # Attach the new signature images to the rows they were uploaded with.
    named = [i for i, r in enumerate(rows) if (r.get("name") or "").strip()]
    for position, index in enumerate(named):
        if "_new_signature" in rows[index]:
            row.signatories[position]["signature_key"] = rows[index]["_new_signature"]
    for index in set(uploaded) - set(named):  # uploaded on a row without a name
        forget(uploaded[index], "certificates/")
    if new_background is not None:
        row.background_key = new_background
    kept_keys = {s.get("signature_key") for s in row.signatories} - {None}
    for key in old_keys - kept_keys:
        forget(key, "certificates/")
    if old_background and old_background != row.background_key:
        forget(old_background, "certificates/")
    db.session.add(row)
    db.session.flush()
    record(
        "certificates.settings",
        "event",
        event.id,
        {
            "number_pattern": row.number_pattern,
            "signatories": [s["name"] for s in row.signatories],
            "background": [old_background, row.background_key],
        },
        actor=actor,
    )
    return row


# --- live preview ----------------------------------------------------------------------------


@dataclass
class SampleCertificate:
    """A certificate that is not issued: what the preview shows."""

    event: Event
    kind: str
    number: str
    holder_name: str
    holder_detail: str | None
    award: str | None
    category_name: str | None
    issued_at: object
    code: str = "contoh"


def sample_certificate(event: Event, kind: str, settings: CertificateSettings) -> SampleCertificate:
    """The newest live certificate of ``kind`` as an unsaved copy, or a made-up one."""
    live = db.session.scalar(
        select(Certificate)
        .where(
            Certificate.event_id == event.id,
            Certificate.kind == kind,
            Certificate.revoked_at.is_(None),
        )
        .order_by(Certificate.seq.desc())
        .limit(1)
    )
    number = format_number(settings.number_pattern, seq=_next_seq(event), event=event)
    if live is not None:
        return SampleCertificate(
            event,
            kind,
            number,
            live.holder_name,
            live.holder_detail,
            live.award,
            live.category_name,
            utcnow(),
        )
    category = event.categories[0].name if getattr(event, "categories", None) else None
    if kind == "judge":
        return SampleCertificate(
            event,
            kind,
            number,
            "Dr. Nama Juri Contoh, M.Si",
            "Universitas Mulawarman",
            None,
            None,
            utcnow(),
        )
    return SampleCertificate(
        event,
        kind,
        number,
        "KIM Contoh Maju Bersama",
        "Desa Contoh, Kabupaten Contoh",
        "Juara I" if kind == "winner" else None,
        category,
        utcnow(),
    )


_PDFIUM_LOCK = threading.Lock()  # pdfium is not thread-safe


def preview_png(event: Event, data: dict, kind: str, *, width: int = 1200) -> bytes:
    """A picture of a certificate with the unsaved settings ``data``, drawn by the same code
    that makes the PDFs (layers, QR operators), then rasterised with pdfium."""
    import io

    import pypdfium2

    from monev.pdf.rendering import pdf_bytes, render_layered

    current = settings_for(event)
    draft = CertificateSettings(
        event_id=event.id,
        background_key=current.background_key,
        signatories=[dict(s) for s in current.signatories or []],
    )
    apply_settings(draft, data, event)
    if kind not in DEFAULT_TITLES:
        kind = "winner"
    sample = sample_certificate(event, kind, draft)
    fields = page_fields(sample, draft)
    document = render_layered(
        TEMPLATE, design(event, kind, draft), [fields], [qr_operators(fields["verify_url"])]
    )
    content = pdf_bytes(document)
    document.close()
    with _PDFIUM_LOCK:
        pdf = pypdfium2.PdfDocument(content)
        try:
            page = pdf[0]
            scale = width / page.get_width()
            image = page.render(scale=scale).to_pil()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()
