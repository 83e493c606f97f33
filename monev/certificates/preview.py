"""The live preview of the certificate design: a sample certificate drawn with unsaved
settings by the same code that makes the PDFs, rasterised with pdfium."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select

from monev.certificates.design import DEFAULT_TITLES, TEMPLATE, design, page_fields
from monev.certificates.models import Certificate, CertificateSettings
from monev.certificates.numbering import format_number, next_seq
from monev.certificates.qr import qr_operators
from monev.certificates.settings import apply_settings, settings_for
from monev.core.timeutil import utcnow
from monev.events.models import Event
from monev.extensions import db
from monev.pdf.rendering import pdf_bytes, render_layered


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
    code: str = "7K3P-Q9XD-2MWT-5RVA-H4CN"  # an example of the printed format, no real code


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
    number = format_number(settings.number_pattern, seq=next_seq(event), event=event)
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
