"""The check of a PDF itself: is each signature intact, does the last one cover the whole file
(nothing appended or changed since), who signed and when (the timestamp authority's time, or
the signer's claimed time: labelled as such), and does the signer chain to a root the
organiser trusts. Plain values, for the verification page and ``flask verify-pdf``."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

MAX_SIGNATURES = 10  # Monev signs once; a PDF with more is not one of its documents


@dataclass
class SignatureReport:
    intact: bool  # the signed bytes are unchanged and the cryptographic signature checks
    whole: bool  # the signature covers the whole file (nothing appended after it)
    signer: str  # the signer's name (common name) or subject
    subject: str
    issuer: str
    time: datetime | None  # when signed: the timestamp's time, else the signer's claim
    timestamped: bool  # True: ``time`` comes from a time-stamping authority
    trusted: bool  # chains to a configured trust root (and valid then)
    expired: bool  # the signer's certificate had expired when it signed (or has now, unstamped)
    not_after: datetime | None
    problem: str = ""  # pyHanko's indication when not trusted (for the log / CLI)

    @property
    def issuer_name(self) -> str:
        """The issuer's common name, as people say it ("Root CA …"), else the whole name."""
        for part in self.issuer.split(", "):
            if part.startswith("Common Name: "):
                return part.removeprefix("Common Name: ")
        return self.issuer

    @property
    def unmodified(self) -> bool:
        return self.intact and self.whole


@dataclass
class PdfReport:
    readable: bool
    signatures: list[SignatureReport] = field(default_factory=list)
    error: str = ""

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def last(self) -> SignatureReport | None:
        return self.signatures[-1] if self.signatures else None

    @property
    def modified(self) -> bool:
        """Changed after it was signed: a broken signature, or bytes after the last one."""
        return (
            self.signed
            and not all(s.unmodified for s in self.signatures[-1:])
            or any(not s.intact for s in self.signatures)
        )

    @property
    def trusted(self) -> bool:
        return self.signed and not self.modified and all(s.trusted for s in self.signatures)


def off_loop(call):
    from monev.signing.backends import off_loop as run

    return run(call)


def _roots(trust_roots):
    from asn1crypto import pem, x509

    out = []
    for data in trust_roots:
        if isinstance(data, x509.Certificate):
            out.append(data)
            continue
        if pem.detect(data):
            data = pem.unarmor(data)[2]
        out.append(x509.Certificate.load(data))
    return out


def verify(data: bytes, trust_roots=()) -> PdfReport:
    """Check the signatures of the PDF ``data`` against ``trust_roots`` (DER or PEM bytes)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:
        return PdfReport(readable=False, error=str(exc))
    if len(embedded) > MAX_SIGNATURES:  # each costs a validation: not for an uploaded file
        return PdfReport(readable=False, error=f"more than {MAX_SIGNATURES} signatures")
    roots = _roots(trust_roots)
    reports = []
    for sig in embedded:
        try:
            context = ValidationContext(
                trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
            )
            status = off_loop(
                lambda sig=sig, context=context: validate_pdf_signature(
                    sig, signer_validation_context=context, ts_validation_context=context
                )
            )
        except Exception as exc:
            reports.append(_broken(sig, str(exc)))
            continue
        reports.append(_report(status))
    return PdfReport(readable=True, signatures=reports)


def _report(status) -> SignatureReport:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    cert = status.signing_cert
    ts = status.timestamp_validity
    stamped = ts is not None and ts.intact and ts.valid and ts.trusted
    when = ts.timestamp if stamped else status.signer_reported_dt
    not_after = cert.not_valid_after
    expired = not_after is not None and (when or datetime.now(UTC)) > not_after
    if not stamped and not_after is not None and datetime.now(UTC) > not_after:
        expired = True
    problem = str(status.trust_problem_indic or "")
    return SignatureReport(
        intact=bool(status.intact and status.valid),
        whole=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=_common_name(cert),
        subject=cert.subject.human_friendly,
        issuer=cert.issuer.human_friendly,
        time=when,
        timestamped=stamped,
        trusted=bool(status.trusted and status.intact and status.valid and not expired),
        expired=expired,
        not_after=not_after,
        problem=problem,
    )


def _broken(sig, error: str) -> SignatureReport:
    try:
        cert = sig.signer_cert
        signer, subject, issuer = (
            _common_name(cert),
            cert.subject.human_friendly,
            cert.issuer.human_friendly,
        )
        not_after = cert.not_valid_after
    except Exception:
        signer = subject = issuer = ""
        not_after = None
    return SignatureReport(
        intact=False,
        whole=False,
        signer=signer,
        subject=subject,
        issuer=issuer,
        time=None,
        timestamped=False,
        trusted=False,
        expired=False,
        not_after=not_after,
        problem=error,
    )


def _common_name(cert) -> str:
    native = cert.subject.native
    return native.get("common_name") or cert.subject.human_friendly


def signature_covers_whole(data: bytes) -> bool:
    """The PDF carries at least one signature and the last is intact over the whole file
    (trust is not asked: used to refuse what a remote service returns unsigned)."""
    report = verify(data)
    return report.readable and report.signed and not report.modified
