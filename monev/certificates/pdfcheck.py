"""The check of an uploaded certificate PDF itself (the verification page and
``flask verify-pdf``): its electronic signature (monev.signing.verification, against the
organiser's trusted roots), and the code it carries: the one printed under the QR code and
the one the QR code encodes, which must agree and belong to an issued certificate whose
state (valid, revoked, replaced) is reported."""

from __future__ import annotations

import re
from dataclasses import dataclass

from monev.certificates.codes import valid_signature
from monev.certificates.models import Certificate
from monev.certificates.queries import by_code
from monev.signing import trust
from monev.signing.verification import PdfReport, verify

CODE_RE = re.compile(r"Kode:\s*([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
URL_CODE_RE = re.compile(r"/verify/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


@dataclass
class PdfCheck:
    report: PdfReport
    printed_code: str | None
    qr_code: str | None
    cert: Certificate | None

    @property
    def code(self) -> str | None:
        return self.printed_code or self.qr_code

    @property
    def codes_disagree(self) -> bool:
        return bool(self.printed_code and self.qr_code and self.printed_code != self.qr_code)

    @property
    def record_state(self) -> str:
        """none (no code found), mismatch (QR and printed code differ), unknown (no such
        certificate), valid, revoked or replaced."""
        if self.code is None:
            return "none"
        if self.codes_disagree:
            return "mismatch"
        if self.cert is None:
            return "unknown"
        if self.cert.revoked_at is None:
            return "valid"
        return "replaced" if self.cert.replaced_by_id else "revoked"

    @property
    def genuine(self) -> bool:
        """Everything holds: signed, unmodified, trusted, and a valid certificate record."""
        return self.report.trusted and self.record_state == "valid"


def codes_in(data: bytes) -> tuple[str | None, str | None]:
    """(the code printed on the first page, the code its QR code encodes)."""
    import pypdfium2 as pdfium
    import zxingcpp

    printed = qr = None
    doc = pdfium.PdfDocument(data)
    try:
        if len(doc) == 0:
            return None, None
        page = doc[0]
        text = page.get_textpage()
        try:
            found = CODE_RE.search(text.get_text_range())
        finally:
            text.close()
        printed = found.group(1) if found else None
        image = page.render(scale=2).to_pil()
        for barcode in zxingcpp.read_barcodes(image):
            match = URL_CODE_RE.search(barcode.text or "")
            if match:
                qr = match.group(1)
                break
    finally:
        doc.close()
    return printed, qr


def check(data: bytes) -> PdfCheck:
    report = verify(data, trust.root_ders())
    try:
        printed, qr = codes_in(data)
    except Exception:  # an unreadable page: the signature report still says what it can
        printed = qr = None
    code = printed or qr
    cert = by_code(code) if code and valid_signature(code) else None
    return PdfCheck(report=report, printed_code=printed, qr_code=qr, cert=cert)


@dataclass(frozen=True)
class Finding:
    level: str  # ok | bad | warn
    text: str


def findings(result: PdfCheck, tz: str) -> list[Finding]:
    """What the check found, in the user's language (Indonesian by default), in order:
    signature intact and whole, who signed and when, trust, and the certificate record."""
    from flask_babel import gettext as _

    from monev.core.timezones import format_moment

    out: list[Finding] = []
    report = result.report
    if not report.readable:
        return [Finding("bad", _("This PDF cannot be read."))]
    if not report.signed:
        out.append(
            Finding(
                "bad",
                _(
                    "This PDF carries no electronic signature: it cannot prove it is "
                    "unchanged. Only the code below can be checked."
                ),
            )
        )
    elif report.modified:
        out.append(
            Finding(
                "bad",
                _(
                    "Modified: this PDF was changed after it was signed (dimodifikasi). Do not "
                    "rely on what it says."
                ),
            )
        )
    else:
        out.append(
            Finding(
                "ok",
                _(
                    "The signature is intact and covers the whole document: unchanged since it "
                    "was signed."
                ),
            )
        )
    for sig in report.signatures:
        when = format_moment(_naive(sig.time), tz) if sig.time else "—"
        if sig.timestamped:
            out.append(
                Finding(
                    "ok",
                    _(
                        "Signed by %(name)s at %(when)s (time from a trusted timestamp authority).",
                        name=sig.signer,
                        when=when,
                    ),
                )
            )
        else:
            out.append(
                Finding(
                    "warn",
                    _(
                        "Signed by %(name)s at %(when)s (the signer's own claimed time, not "
                        "confirmed by a timestamp).",
                        name=sig.signer,
                        when=when,
                    ),
                )
            )
        if not sig.intact:
            continue  # a broken signature says nothing about its signer's trust
        if sig.expired:
            out.append(
                Finding(
                    "bad",
                    _(
                        "The signer's certificate had expired (valid until %(date)s).",
                        date=format_moment(_naive(sig.not_after), tz),
                    ),
                )
            )
        if sig.trusted:
            out.append(
                Finding("ok", _("The signer's certificate chains to a root the organiser trusts."))
            )
        elif not sig.expired:
            out.append(
                Finding(
                    "bad",
                    _(
                        "The signer's certificate does not chain to any root the organiser trusts "
                        "(issued by %(issuer)s).",
                        issuer=sig.issuer_name,
                    ),
                )
            )
    state = result.record_state
    if state == "none":
        out.append(Finding("warn", _("No certificate code was found in this PDF.")))
    elif state == "mismatch":
        out.append(
            Finding(
                "bad",
                _(
                    "The QR code and the code printed under it do not match: the document was "
                    "tampered with."
                ),
            )
        )
    elif state == "unknown":
        out.append(
            Finding(
                "bad",
                _(
                    "The code %(code)s does not belong to any certificate issued by this "
                    "application.",
                    code=result.code,
                ),
            )
        )
    elif state == "valid":
        out.append(
            Finding(
                "ok",
                _(
                    "The code matches certificate %(number)s for %(holder)s, which is valid.",
                    number=result.cert.number,
                    holder=result.cert.holder_name,
                ),
            )
        )
    elif state == "replaced":
        out.append(
            Finding(
                "bad",
                _(
                    "The code matches certificate %(number)s, which was replaced by %(new)s: it "
                    "is no longer valid.",
                    number=result.cert.number,
                    new=result.cert.replaced_by.number,
                ),
            )
        )
    else:
        out.append(
            Finding(
                "bad",
                _(
                    "The code matches certificate %(number)s, which was revoked: it is no longer "
                    "valid.",
                    number=result.cert.number,
                ),
            )
        )
    return out


def _naive(moment):
    from datetime import UTC

    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def read_upload(stream, max_bytes: int) -> bytes:
    """The uploaded PDF, checked like every upload (type from the content, no web-page code,
    readable, no scripts run on opening), at most ``max_bytes``; raises ServiceError."""
    from flask_babel import gettext as _

    from monev.core.errors import ServiceError
    from monev.storage.inspection import Refused, inspect
    from monev.storage.spool import spooled

    with spooled(
        stream,
        "verify-",
        max_bytes,
        field="file",
        too_large=_("The PDF may be at most %(mb)d MB.", mb=max_bytes // (1024 * 1024)),
        empty=_("Choose the certificate's PDF file."),
    ) as (path, head):
        try:
            inspect(path, head, ("pdf",), max_pixels=1)
        except Refused as refused:
            raise ServiceError(refused.message, field="file") from refused
        return path.read_bytes()
