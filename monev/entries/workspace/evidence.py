"""Evidence of an entry: files (inspected, scanned, stored under a generated key) and links,
added to and removed from a slot while the submission window is open."""

from __future__ import annotations

import unicodedata
import uuid
from pathlib import Path, PurePosixPath

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monev.audit import services as audit
from monev.core.errors import ServiceError
from monev.entries.models import Entry, Evidence
from monev.entries.workspace.services import (
    NAME_MAX,
    URL_MAX,
    Slot,
    lock_entry,
    require_open,
    require_own,
    touch,
)
from monev.extensions import db
from monev.storage import StorageError, antivirus, get_storage, inspection, tracking
from monev.storage.spool import SpoolFile


def _require_kind(slot: Slot, kind: str) -> None:
    if kind in slot.kinds:
        return
    if kind == "file":
        raise ServiceError(_("This criterion asks for a link, not a file."), field="url")
    raise ServiceError(_("This criterion asks for a file, not a link."), field="file")


def _slot_items(entry: Entry, slot: Slot) -> list[Evidence]:
    stmt = select(Evidence).where(Evidence.entry_id == entry.id)
    if slot.criterion is None:
        stmt = stmt.where(Evidence.criterion_id.is_(None))
    else:
        stmt = stmt.where(Evidence.criterion_id == slot.criterion.id)
    return list(db.session.scalars(stmt.order_by(Evidence.id)))


def _room_for_one_more(slot: Slot, items: list[Evidence]) -> list[Evidence]:
    """The items a new one replaces (the presentation has one); refuses a full criterion."""
    if slot.criterion is None:
        return items
    if len(items) >= slot.max_items:
        raise ServiceError(
            _(
                "This criterion already has %(n)d files and links, the most allowed. Remove one "
                "first.",
                n=len(items),
            ),
            status=409,
        )
    return []


def _remove_rows(items: list[Evidence]) -> None:
    storage = get_storage()
    for item in items:
        for key in (item.storage_key, item.thumbnail_key):
            if key:
                tracking.delete_after_commit(storage, key)
        db.session.delete(item)
    db.session.flush()


def evidence_snapshot(item: Evidence, slot: Slot) -> dict:
    return {
        "slot": slot.criterion.key if slot.criterion else "presentation",
        "kind": item.kind,
        "name": item.original_name,
        "url": item.url,
        "content_type": item.content_type,
        "size": item.size,
        "sha256": item.sha256,
    }


# --- files ---------------------------------------------------------------------------------


def display_name(raw: str | None) -> str:
    """The uploaded name, for display only: last path part, no control or direction
    characters, NFC, at most 255 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = " ".join(name.split()).strip(" .")
    if len(name) > NAME_MAX:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: NAME_MAX - len(suffix)] + suffix
    return name or "file"


def download_name(item: Evidence) -> str:
    """The display name, with the real type's extension when the name claims another."""
    name = item.original_name or "file"
    ext = next(
        (t.ext for t in inspection.TYPES.values() if t.content_type == item.content_type), None
    )
    if ext is None:
        return name
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    if suffix == ext or (ext == "jpg" and suffix in ("jpg", "jpeg")):
        return name
    return f"{name}.{ext}"


def _storage_key(entry: Entry, ext: str) -> str:
    return f"entries/{entry.id}/{uuid.uuid4().hex}.{ext}"


def _check_duplicate(entry: Entry, sha256: str, replaced: list[Evidence]) -> None:
    replaced_ids = {item.id for item in replaced}
    existing = db.session.scalar(
        select(Evidence).where(Evidence.entry_id == entry.id, Evidence.sha256 == sha256)
    )
    if existing is not None and existing.id not in replaced_ids:
        where = Slot(existing.criterion).label
        raise ServiceError(
            _(
                "This file is already part of your entry: “%(name)s” under %(where)s.",
                name=existing.original_name,
                where=where,
            ),
            field="file",
            status=409,
        )


def _scan(path: Path) -> None:
    address = current_app.config.get("CLAMD_ADDRESS")
    if not address:
        return
    try:
        antivirus.scan(path, address)
    except antivirus.VirusFound as exc:
        current_app.logger.warning("Upload refused: virus %s found", exc.signature)
        raise ServiceError(
            _(
                "The virus scanner found %(name)s in this file, so it was refused.",
                name=exc.signature,
            ),
            field="file",
        ) from exc
    except antivirus.ScanError as exc:
        current_app.logger.error("Upload refused: virus scan failed: %s", exc)
        raise ServiceError(
            _(
                "The file could not be checked for viruses just now, so it was not accepted. "
                "Please try again in a few minutes."
            ),
            field="file",
            status=503,
        ) from exc


def add_file(user, entry: Entry, slot: Slot, upload) -> Evidence:
    """Check the uploaded file (a werkzeug FileStorage spooled by ``UploadRequest``) and store
    it for ``slot``; the presentation's previous file or link is replaced."""
    require_own(user, entry)
    entry = lock_entry(entry)
    require_open(entry)
    _require_kind(slot, "file")
    spool = getattr(upload, "stream", None)
    if (
        upload is None
        or not isinstance(spool, SpoolFile)
        or (not upload.filename and not spool.size)
    ):
        raise ServiceError(_("Choose a file to upload."), field="file")
    if spool.size == 0:
        raise ServiceError(_("The file is empty."), field="file")
    replaced = _room_for_one_more(slot, _slot_items(entry, slot))
    spool.flush()
    checked = None
    try:
        try:
            checked = inspection.inspect(
                spool.path,
                spool.head,
                slot.file_types,
                max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
                sha256=spool.sha256,
            )
        except inspection.Refused as exc:
            current_app.logger.info("Upload refused for entry %s: %s", entry.id, exc.message)
            raise ServiceError(exc.message, field="file") from exc
        _scan(checked.path)
        _check_duplicate(entry, checked.sha256, replaced)
        item = _store(user, entry, slot, upload, spool, checked, replaced)
    finally:
        if checked is not None and checked.path != spool.path:
            checked.path.unlink(missing_ok=True)  # a re-encoded image not stored after all
    return item


def _store(user, entry, slot, upload, spool, checked, replaced) -> Evidence:
    storage = get_storage()
    ftype = checked.type
    key = _storage_key(entry, ftype.ext)
    source = spool.claim() if checked.path == spool.path else checked.path
    thumbnail_key = key.rsplit(".", 1)[0] + ".thumb.jpg" if checked.thumbnail else None
    try:
        tracking.stored(storage, key)
        storage.put(key, source, ftype.content_type)
        if thumbnail_key:
            tracking.stored(storage, thumbnail_key)
            storage.put_bytes(thumbnail_key, checked.thumbnail, "image/jpeg")
    except StorageError as exc:
        current_app.logger.error("Could not store an upload of entry %s: %s", entry.id, exc)
        raise ServiceError(
            _("The file could not be stored just now. Please try again in a few minutes."),
            field="file",
            status=503,
        ) from exc
    _remove_rows(replaced)
    item = Evidence(
        entry_id=entry.id,
        criterion_id=slot.criterion.id if slot.criterion else None,
        kind="file",
        storage_key=key,
        thumbnail_key=thumbnail_key,
        original_name=display_name(upload.filename),
        content_type=ftype.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by_id=user.id,
    )
    _insert(item, entry)
    audit.record("evidence.added", "entry", entry.id, evidence_snapshot(item, slot))
    return item


def _insert(item: Evidence, entry: Entry) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(item)
            db.session.flush()
    except IntegrityError as exc:  # the same file added meanwhile by another request
        raise ServiceError(
            _("This file is already part of your entry."), field="file", status=409
        ) from exc
    touch(entry)
    db.session.flush()


# --- links ---------------------------------------------------------------------------------


def clean_url(raw: str | None) -> str:
    from urllib.parse import urlsplit

    url = (raw or "").strip()
    if not url:
        raise ServiceError(_("Enter the link."), field="url")
    if len(url) > URL_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=URL_MAX), field="url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not host
        or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url)
    ):
        raise ServiceError(
            _("Enter a full web address starting with http:// or https://."), field="url"
        )
    return url


def add_link(user, entry: Entry, slot: Slot, raw_url: str | None) -> Evidence:
    require_own(user, entry)
    entry = lock_entry(entry)
    require_open(entry)
    _require_kind(slot, "link")
    url = clean_url(raw_url)
    items = _slot_items(entry, slot)
    replaced = _room_for_one_more(slot, items)
    if any(item.url == url for item in items if item not in replaced):
        raise ServiceError(_("This link is already listed here."), field="url", status=409)
    _remove_rows(replaced)
    item = Evidence(
        entry_id=entry.id,
        criterion_id=slot.criterion.id if slot.criterion else None,
        kind="link",
        url=url,
        uploaded_by_id=user.id,
    )
    _insert(item, entry)
    audit.record("evidence.added", "entry", entry.id, evidence_snapshot(item, slot))
    return item


def remove(user, entry: Entry, evidence_id: int) -> Slot:
    require_own(user, entry)
    entry = lock_entry(entry)
    item = db.session.get(Evidence, evidence_id)
    if item is None or item.entry_id != entry.id:
        raise ServiceError(_("This file or link was not found in your entry."), status=404)
    require_open(entry)
    slot = Slot(item.criterion)
    audit.record("evidence.removed", "entry", entry.id, evidence_snapshot(item, slot))
    _remove_rows([item])
    return slot
