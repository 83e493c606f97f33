"""Trust settings: the roots the organiser uploads, the configured signing certificate's
subject and expiry, and the warning shown on the admin's home page before it expires.
Services flush; requests commit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from monev.audit.services import record
from monev.core.errors import ServiceError, require_confirmation
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.signing.backends import CertInfo, SigningError, backend_name, cert_info, get_backend
from monev.signing.models import TrustRoot
from monev.signing.names import describe

WARN_DAYS = 30
MAX_ROOT_BYTES = 64 * 1024


def roots() -> list[TrustRoot]:
    return list(db.session.scalars(select(TrustRoot).order_by(TrustRoot.id)))


@dataclass(frozen=True)
class ShownRoot:
    root: TrustRoot
    subject: str  # labelled in the user's language, from the certificate itself


def shown_roots() -> list[ShownRoot]:
    """The trusted roots with their subjects read from the stored certificate (rows stored
    before the labels were Indonesian show the same way as new ones)."""
    from asn1crypto import x509

    out = []
    for root in roots():
        try:
            subject = describe(x509.Certificate.load(root.der).subject)
        except Exception:  # a row that no longer parses: what was stored
            subject = root.subject
        out.append(ShownRoot(root, subject))
    return out


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
        subject=describe(cert.subject)[:500],
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


def removal_consequences(root_id: int) -> list[str]:
    """What removing the root does, for its confirmation step (more strongly for the last)."""
    others = db.session.scalar(
        select(func.count()).select_from(TrustRoot).where(TrustRoot.id != root_id)
    )
    lines = [
        _(
            "A signed PDF whose signer chains to this root is reported on the verification page "
            "as not verified, including genuine certificates already handed out."
        )
    ]
    if not others:
        lines.insert(
            0,
            _(
                "This is the only trusted root: after removing it, EVERY signed PDF checked on "
                "the verification page, genuine or not, is reported as not verified."
            ),
        )
    lines.append(
        _(
            "The removal is recorded in the audit log. Uploading the same root again restores "
            "the checks."
        )
    )
    return lines


def remove_root(root_id: int, *, confirmed: bool, actor=None) -> None:
    """Stop trusting a root, after its confirmation step was ticked."""
    root = db.session.get(TrustRoot, root_id)
    if root is None:
        raise ServiceError(_("This root certificate is no longer trusted."), status=404)
    require_confirmation(confirmed)
    record("signing.untrust_root", "trust_root", root.id, {"subject": root.subject}, actor=actor)
    db.session.delete(root)
    db.session.flush()


@dataclass(frozen=True)
class SigningStatus:
    backend: str  # "" when nothing is signed
    cert: CertInfo | None
    error: str = ""
    tsa_url: str = ""  # the timestamp service (TSA) signatures ask, "" when none

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
    tsa = _without_secrets(config.get("SIGNING_TSA_URL") or "")
    if not name:
        return SigningStatus("", None, tsa_url=tsa)
    try:
        backend = get_backend(config)
        cert = backend.certificate() if backend is not None else None
    except SigningError as exc:
        return SigningStatus(name, None, str(exc), tsa_url=tsa)
    except Exception as exc:  # a token that does not answer, an unreadable file
        return SigningStatus(name, None, f"{type(exc).__name__}: {exc}", tsa_url=tsa)
    return SigningStatus(name, cert_info(cert) if cert is not None else None, tsa_url=tsa)


def _without_secrets(url: str) -> str:
    """A URL to show on a page: without a user name, password or query (they may hold a key)."""
    from urllib.parse import urlsplit

    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else ""
