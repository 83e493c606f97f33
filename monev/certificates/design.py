"""A certificate's content as plain values: the design every certificate of a kind shares
(wording, colours, logo, background, signatories) and each certificate's own fields."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from markupsafe import Markup

from monev.auth.services import external_url
from monev.certificates.models import Certificate, CertificateSettings
from monev.certificates.qr import QR_BOX, qr_svg, verify_url
from monev.certificates.settings import settings_for
from monev.events.logo import logo_bytes
from monev.events.models import Event
from monev.pdf.rendering import ASSET_SCHEME, RefusedURL, asset_path, data_uri
from monev.signing.backends import backend_name
from monev.storage.images import read_image

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


def document_date(cert: Certificate) -> str:
    tz = ZoneInfo(cert.event.timezone or "Asia/Makassar")
    local = cert.issued_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)
    return format_date(local.date(), "d MMMM y", locale=DOCUMENT_LOCALE)


def _logo(event: Event) -> str | None:
    """The event logo as a bundled-asset URL when it is a file under ``static/img``."""
    if not event.logo_path:
        return None

    stored = logo_bytes(event)
    if stored is not None:  # an uploaded logo: embedded, nothing fetched while rendering
        return data_uri(*stored)

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


def stored_image(key: str | None) -> str | None:
    """A stored image (signature, background) as a data URI, or None when absent."""

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
        "signatories": _signatories(settings.signatories or []),
        "font_url": ASSET_SCHEME + "fonts/noto-sans/",
        "qr_box": QR_BOX,
    }


def _signatories(signatories: list[dict]) -> list[dict]:
    """The signatories as the certificate shows them. When certificates are signed
    electronically, the signer (the last one with a name, as monev.certificates.signing
    signs) gets the box of the electronic signature (TTE) in the space of a wet signature,
    and the scanned signature image is left out there: the box never sits on it."""
    electronic = bool(backend_name(current_app.config))
    named = [i for i, s in enumerate(signatories) if s.get("name")]
    signer = named[-1] if electronic and named else None
    return [
        {
            "name": s.get("name", ""),
            "title": s.get("title", ""),
            "nip": s.get("nip", ""),
            "signature": None if index == signer else stored_image(s.get("signature_key")),
        }
        for index, s in enumerate(signatories)
    ]


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
        # Printed under the QR, for a photocopied or damaged code: where to type it, and it.
        "verify_base": external_url("certificates.verify_form"),
        "code": cert.code,
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
