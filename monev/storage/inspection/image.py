"""JPEG/PNG/WebP: bounded pixels, decoded fully, turned upright and re-encoded without
metadata, with a thumbnail."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import tempfile
import threading
from pathlib import Path

from flask_babel import gettext as _

from monev.storage.inspection.filetypes import (
    THUMBNAIL_SIZE,
    FileType,
    Inspected,
    Refused,
    sha256_of,
)

# --- images --------------------------------------------------------------------------------

_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
# Kept from the original: colour profile and palette transparency; EXIF, GPS, XMP, text go.
_KEPT_INFO = ("icc_profile", "transparency")


def reencode_image(path: Path, ftype: FileType, max_pixels: int) -> Inspected:
    from PIL import Image, ImageOps

    damaged = _("This image is damaged and cannot be read. Save it again and re-upload it.")
    fmt = _PIL_FORMATS[ftype.key]
    try:
        # Opening reads the header only; the pixel count is checked before any decoding.
        # (Pillow refuses by itself beyond twice its own limit, before we get to look.)
        with Image.open(path, formats=[fmt]) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise Refused(_pixel_flood(width, height, max_pixels))
            with _strict_decoding():
                img.load()
            img = ImageOps.exif_transpose(img)  # upright, as the camera meant it
    except Refused:
        raise
    except Image.DecompressionBombError as exc:
        raise Refused(_pixel_flood(0, 0, max_pixels)) from exc
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, MemoryError) as exc:
        raise Refused(damaged) from exc
    img.info = {k: v for k, v in img.info.items() if k in _KEPT_INFO}
    clean_fd, clean_name = tempfile.mkstemp(dir=path.parent, prefix=".image-")
    clean = Path(clean_name)
    try:
        with os.fdopen(clean_fd, "wb") as out:
            _save_clean(img, fmt, out)
        thumbnail = _thumbnail(img)
    except Exception:
        clean.unlink(missing_ok=True)
        raise
    path.unlink(missing_ok=True)  # the original (with its metadata) is not kept
    return Inspected(ftype, clean, clean.stat().st_size, sha256_of(clean), thumbnail)


_STRICT = threading.Lock()


@contextlib.contextmanager
def _strict_decoding():
    """Refuse truncated images even when another library (WeasyPrint does, on import) has
    told Pillow to accept them: that setting is process-wide, so it is held off here."""
    from PIL import ImageFile

    with _STRICT:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _save_clean(img, fmt: str, out) -> None:
    icc = img.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L", "CMYK"):
            img = img.convert("RGB")
        img.save(out, "JPEG", quality=90, optimize=True, **extra)
    elif fmt == "PNG":
        img.save(out, "PNG", **extra)
    else:
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.mode or img.mode == "P" else "RGB")
        img.save(out, "WEBP", quality=90, **extra)


def _thumbnail(img) -> bytes:
    from PIL import Image

    thumb = img.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    if thumb.mode in ("RGBA", "LA", "P"):
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _pixel_flood(width: int, height: int, max_pixels: int) -> str:
    if width and height:
        return _(
            "This image claims %(w)d × %(h)d pixels, more than the %(max)d million allowed. "
            "Resize it and re-upload it.",
            w=width,
            h=height,
            max=max_pixels // 1_000_000,
        )
    return _(
        "This image has more pixels than the %(max)d million allowed. Resize it and re-upload it.",
        max=max_pixels // 1_000_000,
    )
