"""Images an admin uploads for documents (event logo, certificate background, signatures).

Each is read in chunks up to a size limit, checked like evidence images (type sniffed from
the content, decoded with a pixel limit and re-encoded, so metadata and anything hidden in
the file is dropped), optionally scaled down to fit a box, and stored under a key derived
from its content. The stored file follows the request's transaction: it is removed again
when the request rolls back (``monev.storage.tracking``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from flask_babel import gettext as _

from monev.core.errors import ServiceError
from monev.storage import get_storage, tracking
from monev.storage.inspection import Refused, inspect
from monev.storage.spool import spooled

IMAGE_TYPES = ("png", "jpeg", "webp")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")


def store_image(
    stream,
    prefix: str,
    *,
    field: str,
    max_bytes: int,
    max_pixels: int,
    fit: tuple[int, int] | None = None,
) -> str:
    """Check and store the image read from ``stream``; returns its storage key
    (``<prefix>-<digest>.<ext>``). Raises ServiceError (on ``field``) when it is refused."""

    storage = get_storage()
    cleaned: Path | None = None
    try:
        with spooled(
            stream,
            "image-",
            max_bytes,
            field=field,
            too_large=_("The image may be at most %(mb)d MB.", mb=max_bytes // (1024 * 1024)),
            empty=_("Choose an image file (PNG, JPEG or WebP)."),
        ) as (path, head):
            try:
                checked = inspect(path, head, IMAGE_TYPES, max_pixels=max_pixels)
            except Refused as refused:
                raise ServiceError(refused.message, field=field) from refused
            cleaned = checked.path
            stored_path = _fit(checked.path, fit) if fit is not None else checked.path
            key = f"{prefix}-{checked.sha256[:16]}.{checked.type.ext}"
            if storage.size(key) is not None:
                return key  # the same image is stored already (keys follow the content)
            storage.put(key, stored_path, checked.type.content_type)
            tracking.stored(storage, key)
            return key
    finally:
        if cleaned is not None:
            with contextlib.suppress(FileNotFoundError):
                cleaned.unlink()


def _fit(path: Path, box: tuple[int, int]) -> Path:
    """Scale the (already re-encoded) image at ``path`` down to fit ``box``, in place."""
    from PIL import Image

    with Image.open(path) as img:
        if img.width <= box[0] and img.height <= box[1]:
            return path
        fmt = img.format
        img.thumbnail(box, Image.Resampling.LANCZOS)
        options = {"quality": 88, "optimize": True} if fmt in ("JPEG", "WEBP") else {}
        img.save(path, fmt, **options)
    return path


def forget(key: str | None, prefix: str) -> None:
    """Delete a stored image once the change that dropped it has committed."""
    if key and key.startswith(prefix):
        tracking.delete_after_commit(get_storage(), key)


def read_image(key: str | None) -> tuple[bytes, str] | None:
    """The stored image and its content type, or None when absent."""
    if not key:
        return None
    storage = get_storage()
    if storage.size(key) is None:
        return None
    with storage.open(key) as fh:
        return fh.read(), content_type(key)
