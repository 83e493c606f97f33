"""Certificates signed electronically (TTE) when a signing backend is configured: after the
QR code is drawn (any later change breaks the signature), with a visible field above the
last signatory's name. A certificate that cannot be signed is not stored or served unsigned:
the error goes up (the batch fails on it and can be retried; a download answers 503).

With a remote service (BSrE style) the signatory's NIK and passphrase or code are needed for
every signing: the batch asks the admin who starts it and signs with them in memory
(monev.certificates.batch); a single download then serves the copy the batch signed
(certificates.views), or the unsigned certificate when there is none."""

from __future__ import annotations

from flask import current_app

from monev.certificates.models import Certificate
from monev.certificates.settings import settings_for
from monev.signing.backends import (
    Backend,
    Credentials,
    SigningError,
    backend_name,
    get_backend,
    sign_many,
)
from monev.signing.placement import Box, above_name


def batch_backend() -> Backend | None:
    """The backend a certificate batch signs with (any configured one), or None."""
    if not backend_name(current_app.config):
        return None
    return get_backend(current_app.config)


def backend() -> Backend | None:
    """The backend a single download is signed with on the fly: a local one (PKCS#12,
    PKCS#11). A remote service needs its signatory's passphrase for every signing, which a
    download cannot ask for (README)."""
    found = batch_backend()
    return None if found is None or found.needs_credentials else found


def needs_credentials() -> bool:
    """Whether a batch must be given the signatory's NIK and passphrase or code."""
    found = batch_backend()
    return found is not None and found.needs_credentials


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


def sign_each(
    certs: list[Certificate],
    pdfs: list[bytes],
    *,
    processes: int = 1,
    credentials: Credentials | None = None,
    beat=None,
) -> list[bytes | SigningError]:
    """The batch step's PDFs signed, in order: each signed PDF, or the SigningError of a
    certificate that could not be signed (never its unsigned PDF). A local backend signs in
    ``processes`` worker processes; a remote service gets one request per certificate with
    ``credentials`` (``beat()`` after each, the batch's heartbeat), and after its first
    refusal the rest fail alike without being sent (the same passphrase would be refused
    again). Without a signing backend the PDFs are returned as they are."""
    using = batch_backend()
    if using is None:
        return list(pdfs)
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
    if not using.needs_credentials:
        return sign_many(current_app.config, items, processes=processes)
    results: list[bytes | SigningError] = []
    for index, (pdf, name, reason, place) in enumerate(items):
        try:
            results.append(
                using.sign(
                    pdf, signer_name=name, reason=reason, credentials=credentials, place=place
                )
            )
        except SigningError as exc:
            results.extend(SigningError(str(exc), exc.code) for _item in items[index:])
            break
        if beat is not None:
            beat()
    return results


def sign_all(certs: list[Certificate], pdfs: list[bytes], *, processes: int = 1) -> list[bytes]:
    """``sign_each``, raising SigningError naming the first certificate that could not be
    signed (nothing is returned unsigned)."""
    results = sign_each(certs, pdfs, processes=processes)
    for cert, result in zip(certs, results, strict=True):
        if isinstance(result, SigningError):
            raise SigningError(f"certificate {cert.number} could not be signed: {result}")
    return results  # type: ignore[return-value]
