"""The check of an uploaded certificate PDF itself (the verification page and
``flask verify-pdf``): its electronic signature (monev.signing.verification, against the
organiser's trusted roots), and the code it carries: the one printed under the QR code and
the one the QR code encodes, which must agree and belong to an issued certificate whose
state (valid, revoked, replaced) is reported."""

from __future__ import annotations

import re
from dataclasses import dataclass

from monev.certificates.codes import tidy
from monev.certificates.models import Certificate
from monev.certificates.queries import by_code
from monev.signing import trust
from monev.signing.verification import PdfReport, verify

# Either format of code (monev.certificates.codes): the older ``<random>.<signature>``, or
# five groups of four Crockford characters, printed on two lines (three groups, then two)
# and read with whatever the text layer puts between them: a line end, a space, a hyphen,
# or a soft hyphen (PDFium's U+FFFE for a hyphen that ends a line).
_LEGACY = r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"
_GROUPED = r"[0-9A-Za-z]{4}(?:[\s\-\u00ad\ufffe]{0,4}[0-9A-Za-z]{4}){4}(?![0-9A-Za-z])"
CODE_RE = re.compile(rf"Kode:\s*({_LEGACY}|{_GROUPED})")
URL_CODE_RE = re.compile(rf"/verify/({_LEGACY}|{_GROUPED})")


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
    def verdict(self) -> str:
        """unreadable, modified, unsigned, mismatch (QR and printed code differ), expired or
        untrusted (an intact signature nobody trusted vouches for), unknown (no such
        certificate), none (no code), revoked, replaced, or genuine: the first that holds."""
        report = self.report
        if not report.readable:
            return "unreadable"
        if not report.signed:
            return "unsigned"
        if report.modified:
            return "modified"
        if self.codes_disagree:
            return "mismatch"
        if not report.trusted:
            return "expired" if any(s.expired for s in report.signatures) else "untrusted"
        state = self.record_state
        return "genuine" if state == "valid" else state

    @property
    def genuine(self) -> bool:
        """Everything holds: signed, unmodified, trusted, and a valid certificate record."""
        return self.report.trusted and self.record_state == "valid"


def codes_in(data: bytes) -> tuple[str | None, str | None]:
    """(the code printed on the first page, the code its QR code encodes), each in its
    stored form's spelling (see :func:`~monev.certificates.codes.tidy`), so they compare."""
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
        printed = tidy(found.group(1)) if found else None
        image = page.render(scale=2).to_pil()
        for barcode in zxingcpp.read_barcodes(image):
            match = URL_CODE_RE.search(barcode.text or "")
            if match:
                qr = tidy(match.group(1))
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
    cert = by_code(code) if code else None
    return PdfCheck(report=report, printed_code=printed, qr_code=qr, cert=cert)


@dataclass(frozen=True)
class Finding:
    level: str  # ok | bad | warn | info (neutral: what was found, neither good nor bad)
    text: str


@dataclass(frozen=True)
class Verdict:
    """The one answer, first: ``key`` (see :attr:`PdfCheck.verdict`), its level, a short
    headline in capitals ("ASLI") and the reason, naming the signer only when proven."""

    key: str
    level: str  # ok | bad | warn
    title: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    """What the page and ``flask verify-pdf`` show: the verdict, the details under it, and
    the certificate record the code belongs to (label, value) for comparing with the PDF."""

    verdict: Verdict
    findings: list[Finding]
    record: list[tuple[str, str]]


def outcome(result: PdfCheck, tz: str) -> Outcome:
    return Outcome(verdict(result), findings(result, tz), record_rows(result))


def verdict(result: PdfCheck) -> Verdict:
    """The headline, in the order a forgery is ruled out: readable, signed, unchanged since
    signed, its codes agree, a signer the organiser trusts, then the record's state."""
    from flask_babel import gettext as _

    key = result.verdict
    report = result.report
    signer = report.last.signer if report.last else ""
    cert = result.cert
    untrusted = _("NOT VERIFIED")
    not_trusted = _("NOT TRUSTWORTHY")
    if key == "unreadable":
        return Verdict(key, "bad", _("CANNOT BE CHECKED"), _("This PDF cannot be read."))
    if key == "modified":
        return Verdict(
            key,
            "bad",
            not_trusted,
            _(
                "This document was changed after it was signed (dimodifikasi). Do not rely on "
                "what it says; ask for the original file."
            ),
        )
    if key == "unsigned":
        return Verdict(
            key,
            "warn",
            _("NOT SIGNED"),
            _(
                "This PDF carries no electronic signature, so nothing proves its content is "
                "unchanged. Compare what it shows with the record below."
            ),
        )
    if key == "mismatch":
        return Verdict(
            key,
            "bad",
            not_trusted,
            _(
                "The QR code and the code printed under it do not match: the document was "
                "tampered with."
            ),
        )
    if key == "expired":
        return Verdict(
            key,
            "bad",
            untrusted,
            _(
                "The document is unchanged, but the signer's certificate had expired: the "
                "signature does not count."
            ),
        )
    if key == "untrusted":
        return Verdict(
            key,
            "bad",
            untrusted,
            _(
                "The document is unchanged since it was signed, but by a certificate the "
                "organiser does not trust: anyone can make such a signature. Compare what it "
                "shows with the record below."
            ),
        )
    if key == "unknown":
        return Verdict(
            key,
            "bad",
            not_trusted,
            _(
                "Signed by %(name)s, but its code %(code)s does not belong to any certificate "
                "issued by this application.",
                name=signer,
                code=result.code,
            ),
        )
    if key == "none":
        return Verdict(
            key,
            "warn",
            _("SIGNED, NOT A CERTIFICATE"),
            _(
                "This document is unchanged and signed by %(name)s, but it carries no "
                "certificate code to check against the record.",
                name=signer,
            ),
        )
    if key == "revoked":
        return Verdict(
            key,
            "bad",
            _("NO LONGER VALID"),
            _(
                "Genuine and signed by %(name)s, but certificate %(number)s was revoked.",
                name=signer,
                number=cert.number,
            ),
        )
    if key == "replaced":
        return Verdict(
            key,
            "bad",
            _("NO LONGER VALID"),
            _(
                "Genuine and signed by %(name)s, but certificate %(number)s was replaced by "
                "%(new)s.",
                name=signer,
                number=cert.number,
                new=cert.replaced_by.number,
            ),
        )
    return Verdict(
        key,
        "ok",
        _("GENUINE"),
        _(
            "This document is unchanged and signed by %(name)s; certificate %(number)s for "
            "%(holder)s is valid.",
            name=signer,
            number=cert.number,
            holder=cert.holder_name,
        ),
    )


def findings(result: PdfCheck, tz: str) -> list[Finding]:
    """The details under the verdict, in the user's language (Indonesian by default), in
    order: signature intact and whole, who signed and when, trust, and the certificate
    record. Only what was proven is green: a signer is "claimed" unless the signature is
    intact, trust is not asked of a modified file, and the record's "valid" is neutral
    unless the file itself is genuine (a valid record says nothing about a changed copy)."""
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
        if not sig.intact:
            out.append(
                Finding(
                    "info",
                    _(
                        "Claims to be signed by %(name)s, but the signature is broken: who "
                        "signed it cannot be proven.",
                        name=sig.signer or "—",
                    ),
                )
            )
            continue  # a broken signature says nothing about its signer's trust
        if report.modified:
            out.append(
                Finding(
                    "info",
                    _(
                        "The version before the change was signed by %(name)s at %(when)s; "
                        "what was changed afterwards is not covered by that signature.",
                        name=sig.signer,
                        when=when,
                    ),
                )
            )
            continue  # trust is not asked of a modified file
        if not sig.trusted and not sig.expired:
            out.append(
                Finding(
                    "info",
                    _(
                        "Claims to be signed by %(name)s at %(when)s: the certificate carries "
                        "that name, but nobody the organiser trusts vouches for it.",
                        name=sig.signer,
                        when=when,
                    ),
                )
            )
        elif sig.timestamped:
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
    elif state == "valid" and result.genuine:
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
    elif state == "valid":
        out.append(
            Finding(
                "info",
                _(
                    "The code belongs to certificate %(number)s. The record below is what was "
                    "issued: compare it with what this PDF shows. A matching code does not "
                    "make this file genuine.",
                    number=result.cert.number,
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


def record_rows(result: PdfCheck) -> list[tuple[str, str]]:
    """The certificate record the code belongs to, as issued (empty when no record)."""
    from flask_babel import gettext as _

    cert = result.cert
    if cert is None or result.codes_disagree:
        return []
    holder = cert.holder_name + (f" ({cert.holder_detail})" if cert.holder_detail else "")
    rows = [(_("Number"), cert.number), (_("Holder"), holder)]
    if cert.award:
        rows.append((_("Award"), cert.award))
    if cert.category_name:
        rows.append((_("Category"), cert.category_name))
    rows.append((_("Event"), cert.event.title))
    state = result.record_state
    if state == "valid":
        rows.append((_("Status"), _("Valid (not revoked)")))
    elif state == "replaced":
        rows.append((_("Status"), _("Replaced by %(number)s", number=cert.replaced_by.number)))
    else:
        rows.append((_("Status"), _("Revoked")))
    return rows


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
