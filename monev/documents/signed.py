"""Signing the official documents (TTE): the Berita Acara, the SK (signing it marks it final:
no DRAF mark; unsigned it stays the draft) and each rapor. Signed once, when the admin asks
(with a remote service the signatory types NIK and passphrase or code then; they are passed
to the service and never stored), kept per published version and served instead of the
unsigned render. A signing failure refuses the whole action: nothing is stored unsigned.
Services flush; requests commit."""

from __future__ import annotations

import hashlib

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from monev.audit.services import record
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.documents import services
from monev.documents.formatting import document_signatories
from monev.documents.models import SignedDocument
from monev.events.models import Event
from monev.extensions import db
from monev.results.models import PublishedResult
from monev.signing.backends import (
    Backend,
    Credentials,
    SigningError,
    backend_name,
    cert_info,
    get_backend,
)
from monev.storage import get_storage, tracking

REASONS = {
    "berita-acara": "Berita Acara Penilaian",
    "sk": "Keputusan penetapan pemenang",
    "rapor": "Rapor pembinaan",
}


def backend() -> Backend | None:
    if not backend_name(current_app.config):
        return None
    return get_backend(current_app.config)


def needs_credentials() -> bool:
    found = backend()
    return found is not None and found.needs_credentials


def signed(published: PublishedResult, kind: str, entry_id: int | None = None):
    return db.session.scalar(
        select(SignedDocument).where(
            SignedDocument.published_id == published.id,
            SignedDocument.kind == kind,
            SignedDocument.entry_id.is_(None)
            if entry_id is None
            else SignedDocument.entry_id == entry_id,
        )
    )


def signed_kinds(published: PublishedResult) -> dict[str, SignedDocument]:
    """{kind: one signed copy of that kind} for the admin's page."""
    rows = db.session.scalars(
        select(SignedDocument).where(SignedDocument.published_id == published.id)
    )
    return {row.kind: row for row in rows}


def content(row: SignedDocument) -> bytes:
    with get_storage().open(row.storage_key) as fh:
        return fh.read()


def rapor_zip(event: Event, published: PublishedResult) -> bytes | None:
    """A ZIP of the signed rapor of ``published`` (named by entry code), or None when none
    is signed. Stored uncompressed: PDFs hardly compress."""
    import io
    import zipfile

    rows = list(
        db.session.scalars(
            select(SignedDocument)
            .where(SignedDocument.published_id == published.id, SignedDocument.kind == "rapor")
            .order_by(SignedDocument.entry_id)
        )
    )
    if not rows:
        return None
    codes = {entry_id: code for code, entry_id in services.entry_codes(event.id).items()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for row in rows:
            name = services.filename("rapor", event, codes.get(row.entry_id, str(row.entry_id)))
            archive.writestr(name, content(row))
    return out.getvalue()


def _signer_name(event: Event) -> str | None:
    names = [s["name"] for s in document_signatories(event) if s["name"]]
    return names[-1] if names else None


def sign(
    event: Event,
    published: PublishedResult,
    kind: str,
    *,
    credentials: Credentials | None = None,
    actor=None,
) -> int:
    """Render and sign the documents of ``kind``; returns how many were signed."""
    using = backend()
    if using is None:
        raise ServiceError(_("No signing is configured."), status=409)
    if kind not in REASONS:
        raise ServiceError(_("Unknown kind of document."))
    if using.needs_credentials and credentials is None:
        raise ServiceError(_("Enter the signatory's NIK and passphrase or one-time code."))
    if kind == "rapor":
        items = [
            (entry_id, services.rapor_pdf(event, published, entry_id))
            for entry_id in sorted(services.entry_codes(event.id).values())
        ]
        items = [(entry_id, pdf) for entry_id, pdf in items if pdf is not None]
    elif kind == "sk":
        items = [(None, services.decree_pdf(event, published, final=True))]
    else:
        items = [(None, services.berita_acara_pdf(event, published))]
    name = _signer_name(event)
    storage = get_storage()
    done = []
    for entry_id, pdf in items:
        try:
            document = using.sign(
                pdf, signer_name=name, reason=REASONS[kind], credentials=credentials
            )
        except SigningError as exc:
            current_app.logger.warning("Signing %s of %s failed: %s", kind, event.slug, exc)
            raise ServiceError(
                _("The document could not be signed: %(error)s", error=str(exc)), status=502
            ) from exc
        digest = hashlib.sha256(document).hexdigest()[:24]
        key = f"documents/event-{event.id}/v{published.version}-{kind}-{digest}.pdf"
        storage.put_bytes(key, document, "application/pdf")
        tracking.stored(storage, key)
        done.append((entry_id, key))
    signer = _signer_subject(using)
    for entry_id, key in done:
        old = signed(published, kind, entry_id)
        if old is not None:
            tracking.delete_after_commit(storage, old.storage_key)
            db.session.execute(delete(SignedDocument).where(SignedDocument.id == old.id))
        db.session.add(
            SignedDocument(
                event_id=event.id,
                published_id=published.id,
                kind=kind,
                entry_id=entry_id,
                storage_key=key,
                signer=signer[:500],
                signed_at=utcnow(),
                signed_by_id=getattr(actor, "id", None),
            )
        )
    db.session.flush()
    record(
        "documents.sign",
        "event",
        event.id,
        {"kind": kind, "count": len(done), "version": published.version},
        actor=actor,
    )
    return len(done)


def _signer_subject(using: Backend) -> str:
    try:
        cert = using.certificate()
    except Exception:
        cert = None
    return cert_info(cert).subject if cert is not None else using.name
