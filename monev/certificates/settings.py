"""An event's certificate settings: number pattern, wording, colours, signatories with
their signature images, and the background image."""

from __future__ import annotations

from sqlalchemy import select

from monev.audit.services import record
from monev.certificates.models import DEFAULT_NUMBER_PATTERN, CertificateSettings
from monev.certificates.numbering import format_number
from monev.events.models import Event
from monev.extensions import db
from monev.storage.images import forget, store_image


def settings_for(event: Event) -> CertificateSettings:
    """The event's settings row, or unsaved defaults."""
    row = db.session.scalar(
        select(CertificateSettings).where(CertificateSettings.event_id == event.id)
    )
    if row is None:
        row = CertificateSettings(
            event_id=event.id,
            number_pattern=DEFAULT_NUMBER_PATTERN,
            primary_colour="#0b4f6c",
            accent_colour="#c9a227",
            signatories=[],
        )
    return row


SIGNATURE_BOX = (1200, 500)  # signature images are scaled down to fit (pixels)
BACKGROUND_BOX = (3508, 2480)  # A4 landscape at 300 dpi
IMAGE_MAX_BYTES = 8 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000
SETTINGS_TEXT_FIELDS = (
    "number_pattern",
    "place",
    "title",
    "winner_text",
    "participant_text",
    "judge_text",
    "primary_colour",
    "accent_colour",
    "text_colour",
)


def _store_image(stream, event: Event, name: str, field: str, box) -> str:

    return store_image(
        stream,
        f"certificates/{event.id}/{name}",
        field=field,
        max_bytes=IMAGE_MAX_BYTES,
        max_pixels=IMAGE_MAX_PIXELS,
        fit=box,
    )


def _signatory_rows(current: list[dict], rows: list[dict]) -> list[dict]:
    """The signatories to keep from the form ``rows`` (row i shows ``current[i]``): named
    rows, in order, each with its signature image unless it was removed."""
    kept = []
    for index, row in enumerate(rows):
        name = (row.get("name") or "").strip()
        if not name:
            continue
        old = current[index] if index < len(current) else {}
        key = None if row.get("remove_signature") else old.get("signature_key")
        kept.append(
            {
                "name": name,
                "title": (row.get("title") or "").strip(),
                "nip": " ".join((row.get("nip") or "").split()),
                "signature_key": key,
            }
        )
    return kept


def apply_settings(row: CertificateSettings, data: dict, event: Event) -> CertificateSettings:
    """Copy the form's values (not its files) onto ``row``; checks the number pattern."""
    format_number(data["number_pattern"], seq=1, event=event)
    for name in SETTINGS_TEXT_FIELDS:
        setattr(row, name, (data.get(name) or "").strip() or None)
    row.number_pattern = row.number_pattern or DEFAULT_NUMBER_PATTERN
    row.signatories = _signatory_rows(list(row.signatories or []), data.get("signatories") or [])
    if data.get("remove_background"):
        row.background_key = None
    return row


def save_settings(
    event: Event,
    data: dict,
    *,
    background=None,
    signatures: dict[int, object] | None = None,
    actor=None,
) -> CertificateSettings:
    """Save the certificate design. ``background`` and ``signatures`` (form row index →
    file stream) are uploaded images, checked and stored; replaced ones are deleted after
    the commit, and a refused image changes nothing."""

    row = settings_for(event)
    before = list(row.signatories or [])
    old_background = row.background_key
    old_keys = {s.get("signature_key") for s in before} - {None}
    uploaded: dict[int, str] = {}
    for index, stream in (signatures or {}).items():
        uploaded[index] = _store_image(
            stream,
            event,
            f"signature-{index + 1}",
            f"signatories-{index}-signature",
            SIGNATURE_BOX,
        )
    new_background = (
        _store_image(background, event, "background", "background", BACKGROUND_BOX)
        if background is not None
        else None
    )
    rows = [dict(r) for r in data.get("signatories") or []]
    for index, key in uploaded.items():
        if index < len(rows):
            rows[index]["_new_signature"] = key
    apply_settings(row, {**data, "signatories": rows}, event)
    # Attach the new signature images to the rows they were uploaded with.
    named = [i for i, r in enumerate(rows) if (r.get("name") or "").strip()]
    for position, index in enumerate(named):
        if "_new_signature" in rows[index]:
            row.signatories[position]["signature_key"] = rows[index]["_new_signature"]
    for index in set(uploaded) - set(named):  # uploaded on a row without a name
        forget(uploaded[index], "certificates/")
    if new_background is not None:
        row.background_key = new_background
    kept_keys = {s.get("signature_key") for s in row.signatories} - {None}
    for key in old_keys - kept_keys:
        forget(key, "certificates/")
    if old_background and old_background != row.background_key:
        forget(old_background, "certificates/")
    db.session.add(row)
    db.session.flush()
    record(
        "certificates.settings",
        "event",
        event.id,
        {
            "number_pattern": row.number_pattern,
            "signatories": [s["name"] for s in row.signatories],
            "background": [old_background, row.background_key],
        },
        actor=actor,
    )
    return row
