"""Certificates signed electronically (TTE) when a signing backend is configured: after the
QR code is drawn (any later change breaks the signature), with a visible field above the
last signatory's name. A certificate that cannot be signed is not stored or served unsigned:
the error goes up (the batch fails on it and can be retried; a download answers 503)."""

from __future__ import annotations

from flask import current_app

from monev.certificates.models import Certificate
from monev.certificates.settings import settings_for
from monev.signing.backends import Backend, SigningError, backend_name, get_backend, sign_many
from monev.signing.placement import Box, above_name


def backend() -> Backend | None:
    """The backend certificates are signed with: a local one (PKCS#12, PKCS#11). A remote
    service needs its signatory's passphrase for every signing, which a background batch
    cannot ask for, so with it certificates stay unsigned (README)."""
    if not backend_name(current_app.config):
        return None
    found = get_backend(current_app.config)
    return None if found is None or found.needs_credentials else found


def signer_name(cert: Certificate) -> str | None:
    signatories = settings_for(cert.event).signatories or []
    names = [s.get("name") for s in signatories if s.get("name")]
    return names[-1] if names else None


def sign(cert: Certificate, pdf: bytes, *, using: Backend | None = None) -> bytes:
    """``pdf`` signed (raises SigningError), or as it is when nothing signs certificates."""
    using = using or backend()
    if using is None:
        return pdf
    return using.sign(pdf, signer_name=signer_name(cert), reason=f"Sertifikat {cert.number}")


def sign_all(certs: list[Certificate], pdfs: list[bytes], *, processes: int = 1) -> list[bytes]:
    """The batch step's PDFs signed (in ``processes`` worker processes), in order; the first
    certificate that cannot be signed raises SigningError naming it (nothing is returned
    unsigned). Without a signing backend the PDFs are returned as they are."""
    if backend() is None:
        return pdfs
    # Every certificate of an event and kind has the same design: the signatory's place is
    # found once (a text search in the PDF) and reused.
    places: dict[tuple[int, str], tuple[str | None, Box]] = {}
    items = []
    for cert, pdf in zip(certs, pdfs, strict=True):
        key = (cert.event_id, cert.kind)
        if key not in places:
            name = signer_name(cert)
            places[key] = (name, above_name(pdf, name))
        name, place = places[key]
        items.append((pdf, name, f"Sertifikat {cert.number}", place))
    results = sign_many(current_app.config, items, processes=processes)
    for cert, result in zip(certs, results, strict=True):
        if isinstance(result, SigningError):
            raise SigningError(f"certificate {cert.number} could not be signed: {result}")
    return results  # type: ignore[return-value]
