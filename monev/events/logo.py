"""The event logo: an image the admin uploads, checked like evidence images (decoded with a
pixel limit and re-encoded, metadata stripped), stored through the storage backend, shown on
the public event page and on certificates."""

from __future__ import annotations

from monev.audit import services as audit
from monev.events.models import Event
from monev.storage import get_storage, tracking
from monev.storage.images import read_image, store_image

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000
IMAGE_TYPES = ("png", "jpeg", "webp")


def set_logo(event: Event, stream) -> None:
    """Store the uploaded image (a file-like ``stream``) as the event's logo."""
    key = store_image(
        stream,
        f"events/{event.id}/logo",
        field="logo",
        max_bytes=MAX_BYTES,
        max_pixels=MAX_PIXELS,
    )
    old = event.logo_path
    if old == key:
        return  # the same image again
    _forget(old)
    event.logo_path = key
    audit.record("event.logo_set", "event", event.id, {"logo": [old, key]})


def remove_logo(event: Event) -> None:
    if event.logo_path:
        audit.record("event.logo_removed", "event", event.id, {"logo": [event.logo_path, None]})
        _forget(event.logo_path)
        event.logo_path = None


def _forget(key: str | None) -> None:
    """Delete a stored logo once the change that dropped it has committed."""
    if key and key.startswith("events/"):
        tracking.delete_after_commit(get_storage(), key)


def logo_bytes(event: Event) -> tuple[bytes, str] | None:
    """The stored logo and its content type, or None (no logo, or a bundled static path)."""
    key = event.logo_path
    if not key or not key.startswith("events/"):
        return None
    return read_image(key)
