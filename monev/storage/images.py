"""Images an admin uploads for documents (event logo, certificate background, signatures).

Each is read in chunks up to a size limit, checked like evidence images (type sniffed from
the content, decoded with a pixel limit and re-encoded, so metadata and anything hidden in
the file is dropped), optionally scaled down to fit a box, and stored under a key derived
from its content. The stored file follows the request's transaction: it is removed again
when the request rolls back (``monev.storage.tracking``).
"""

from __future__ import annotations

import contextlib
import io
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


# --- renditions: smaller JPEG copies of a stored photo, kept next to it -------------------
#
# A rendition's key is the original's with ``.<name>.jpg`` in place of its extension
# (``visit-photo-ab12.jpg`` -> ``visit-photo-ab12.small.jpg``), in the same storage. It is
# made from the stored (already re-encoded, metadata-free) file and saved without metadata.

RENDITIONS: dict[str, tuple[int, int]] = {
    "small": (400, 70),  # long side in pixels, JPEG quality: thumbnails on the pages
    "print": (800, 80),  # the Berita Acara: ~250 dpi at the 80 mm it is printed
}


def rendition_key(key: str, name: str) -> str:
    return f"{key.rsplit('.', 1)[0]}.{name}.jpg"


def rendition_keys(key: str) -> list[str]:
    return [rendition_key(key, name) for name in RENDITIONS]


def rendition_size(width: int, height: int, name: str) -> tuple[int, int]:
    """The size of the rendition of a ``width`` x ``height`` image (never enlarged)."""
    side = RENDITIONS[name][0]
    longest = max(width, height, 1)
    if longest <= side:
        return max(width, 1), max(height, 1)
    scale = side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _render(key: str, name: str) -> bytes:
    from PIL import Image

    quality = RENDITIONS[name][1]
    with get_storage().open(key) as fh, Image.open(fh) as img:
        img.load()
        size = rendition_size(img.width, img.height, name)
        if img.mode in ("RGBA", "LA", "P"):  # a PNG or WebP photo: transparency on white
            rgba = img.convert("RGBA")
            small = Image.new("RGB", img.size, "white")
            small.paste(rgba, mask=rgba.getchannel("A"))
        else:
            small = img.convert("RGB")
        if small.size != size:
            small = small.resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def store_renditions(key: str) -> None:
    """Make the renditions of the stored image ``key`` that are not there yet; the ones made
    follow the request's transaction like the original (removed again on a rollback)."""
    storage = get_storage()
    for name in RENDITIONS:
        target = rendition_key(key, name)
        if storage.size(target) is None:
            storage.put_bytes(target, _render(key, name), "image/jpeg")
            tracking.stored(storage, target)


def ensure_rendition(key: str, name: str) -> str | None:
    """The key of a rendition of ``key``, made (and kept) now when a photo stored before
    renditions existed has none; None when the original is gone."""
    storage = get_storage()
    target = rendition_key(key, name)
    if storage.size(target) is not None:
        return target
    if storage.size(key) is None:
        return None
    storage.put_bytes(target, _render(key, name), "image/jpeg")
    return target


def forget(key: str | None, prefix: str, *, renditions: bool = False) -> None:
    """Delete a stored image (and, with ``renditions``, its renditions) once the change that
    dropped it has committed."""
    if key and key.startswith(prefix):
        storage = get_storage()
        tracking.delete_after_commit(storage, key)
        for target in rendition_keys(key) if renditions else []:
            tracking.delete_after_commit(storage, target)


def read_image(key: str | None) -> tuple[bytes, str] | None:
    """The stored image and its content type, or None when absent."""
    if not key:
        return None
    storage = get_storage()
    if storage.size(key) is None:
        return None
    with storage.open(key) as fh:
        return fh.read(), content_type(key)
