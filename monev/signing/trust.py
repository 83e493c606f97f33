"""Trust settings: the roots the organiser uploads, the configured signing certificate's
subject and expiry, and the warning shown on the admin's home page before it expires.
Services flush; requests commit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from monev.audit.services import record
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.signing.backends import CertInfo, SigningError, backend_name, cert_info, get_backend
from monev.signing.models import TrustRoot

WARN_DAYS = 30
MAX_ROOT_BYTES = 64 * 1024


def roots() -> list[TrustRoot]:
    return list(db.session.scalars(select(TrustRoot).order_by(TrustRoot.id)))


def root_ders() -> list[bytes]:
    return list(db.session.scalars(select(TrustRoot.der).order_by(TrustRoot.id)))


def parse_certificate(data: bytes):
    """An X.509 certificate from PEM or DER bytes (asn1crypto), or ServiceError."""
    from asn1crypto import pem, x509

    try:
        if pem.detect(data):
            kind, _headers, data = pem.unarmor(data)
            if kind != "CERTIFICATE":
                raise ValueError(kind)
        cert = x509.Certificate.load(data)
        cert.subject.human_friendly  # noqa: B018 (parses it now: a broken file fails here)
        cert.not_valid_after  # noqa: B018
    except Exception as exc:
        raise ServiceError(
            _("This file is not a certificate (PEM or DER, .pem/.crt/.cer)."), field="file"
        ) from exc
    return cert


def add_root(data: bytes, *, actor=None) -> TrustRoot:
    if not data:
        raise ServiceError(_("Choose the root certificate file."), field="file")
    if len(data) > MAX_ROOT_BYTES:
        raise ServiceError(_("A certificate file is at most 64 KB."), field="file", status=413)
    cert = parse_certificate(data)
    der = cert.dump()
    fingerprint = hashlib.sha256(der).hexdigest()
    if db.session.scalar(select(TrustRoot.id).where(TrustRoot.fingerprint == fingerprint)):
        raise ServiceError(_("This root certificate is already trusted."), field="file")
    root = TrustRoot(
        subject=cert.subject.human_friendly[:500],
        fingerprint=fingerprint,
        der=der,
        not_after=cert.not_valid_after.astimezone(UTC).replace(tzinfo=None),
        created_at=utcnow(),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(root)
    db.session.flush()
    record("signing.trust_root", "trust_root", root.id, {"subject": root.subject}, actor=actor)
    return root


def remove_root(root_id: int, *, actor=None) -> None:
    root = db.session.get(TrustRoot, root_id)
    if root is None:
        raise ServiceError(_("This root certificate is no longer trusted."), status=404)
    record("signing.untrust_root", "trust_root", root.id, {"subject": root.subject}, actor=actor)
    db.session.delete(root)
    db.session.flush()


@dataclass(frozen=True)
class SigningStatus:
    backend: str  # "" when nothing is signed
    cert: CertInfo | None
    error: str = ""

    @property
    def days_left(self) -> int | None:
        if self.cert is None:
            return None
        return (self.cert.not_after - utcnow()).days

    @property
    def expired(self) -> bool:
        return self.cert is not None and self.cert.not_after <= utcnow()

    @property
    def expiring(self) -> bool:
        return (
            self.cert is not None
            and not self.expired
            and self.cert.not_after - utcnow() <= timedelta(days=WARN_DAYS)
        )


def status(config=None) -> SigningStatus:
    """The configured backend and its certificate (loading it tells whether it works)."""
    config = config if config is not None else current_app.config
    name = backend_name(config)
    if not name:
        return SigningStatus("", None)
    try:
        backend = get_backend(config)
        cert = backend.certificate() if backend is not None else None
    except SigningError as exc:
        return SigningStatus(name, None, str(exc))
    except Exception as exc:  # a token that does not answer, an unreadable file
        return SigningStatus(name, None, f"{type(exc).__name__}: {exc}")
    return SigningStatus(name, cert_info(cert) if cert is not None else None)
