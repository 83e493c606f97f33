"""The event logo: an image the admin uploads, checked like evidence images (decoded with a
pixel limit and re-encoded, metadata stripped), stored through the storage backend, shown on
the public event page and on certificates."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from flask_babel import gettext as _

from monev.audit import services as audit
from monev.core.errors import ServiceError
from monev.events.models import Event
from monev.storage import get_storage, tracking

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000
IMAGE_TYPES = ("png", "jpeg", "webp")


def set_logo(event: Event, stream) -> None:
    """Store the uploaded image (a file-like ``stream``) as the event's logo."""
    from monev.entries.inspection import Refused, inspect

    storage = get_storage()
    fd, name = tempfile.mkstemp(dir=storage.spool_dir(), prefix="logo-")
    path = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(64 * 1024):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise ServiceError(
                        _("The logo may be at most %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)),
                        field="logo",
                        status=413,
                    )
                out.write(chunk)
        if size == 0:
            raise ServiceError(_("Choose an image file for the logo."), field="logo")
        with path.open("rb") as fh:
            head = fh.read(4096)
        try:
            checked = inspect(path, head, IMAGE_TYPES, max_pixels=MAX_PIXELS)
        except Refused as refused:
            raise ServiceError(refused.message, field="logo") from refused
        key = f"events/{event.id}/logo-{checked.sha256[:16]}.{checked.type.ext}"
        old = event.logo_path
        if old == key:
            return  # the same image again
        storage.put(key, checked.path, checked.type.content_type)
        tracking.stored(storage, key)  # removed again if the request rolls back
        _forget(old)
        event.logo_path = key
        audit.record("event.logo_set", "event", event.id, {"logo": [old, key]})
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def remove_logo(event: Event) -> None:
    if event.logo_path:
        audit.record("event.logo_removed", "event", event.id, {"logo": [event.logo_path, None]})
        _forget(event.logo_path)
        event.logo_path = None


def _forget(key: str | None) -> None:
    """Delete a stored logo once the change that dropped it has committed."""
    if key and key.startswith("events/"):
        tracking.delete_after_commit(get_storage(), key)


def content_type(key: str) -> str:
    return {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}.get(
        key.rsplit(".", 1)[-1], "application/octet-stream"
    )


def logo_bytes(event: Event) -> tuple[bytes, str] | None:
    """The stored logo and its content type, or None (no logo, or a bundled static path)."""
    key = event.logo_path
    if not key or not key.startswith("events/"):
        return None
    storage = get_storage()
    if storage.size(key) is None:
        return None
    with storage.open(key) as fh:
        return fh.read(), content_type(key)
