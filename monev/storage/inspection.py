"""What an uploaded file really is, and whether it is safe to keep and show.

The type comes from the content (puremagic reads the leading bytes), never from the name.
Sniffing alone would accept dangerous files, so each accepted type is then checked for what
it claims to be:

- PDF: no web-page markup anywhere in the file (a PDF/HTML polyglot), parsed with pikepdf
  (qpdf): refused when it cannot be read, is password-protected, has no pages, or carries
  JavaScript, a Launch action, an OpenAction or additional actions (/AA) that run an action
  when opened (an OpenAction that only names the first page to show is harmless and kept);
- PPTX/DOCX/XLSX: a ZIP archive with the package's expected parts, no macros, a bounded
  number of entries, bounded total uncompressed size and compression ratio (declared sizes
  are checked first, then every entry is decompressed in chunks, counted and CRC-checked, so
  a lying header does not help a zip bomb);
- JPEG/PNG/WebP: the declared pixel count is checked before decoding (a pixel flood), the
  image is decoded fully, turned upright, and re-encoded without its metadata (EXIF, GPS,
  XMP, text chunks); a thumbnail is made from it;
- MP4: the top-level boxes must chain exactly to the end of the file, starting with 'ftyp'
  and including 'moov'.

HTML, SVG, XML and programs are never accepted, whatever they are named. Refusals raise
:class:`Refused` with a message in the user's language.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import struct
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


class Refused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FileType:
    key: str
    label: object  # a lazy string
    content_type: str
    ext: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


TYPES = {
    t.key: t
    for t in (
        FileType("pdf", _l("PDF"), "application/pdf", "pdf"),
        FileType("jpeg", _l("JPEG image"), "image/jpeg", "jpg"),
        FileType("png", _l("PNG image"), "image/png", "png"),
        FileType("webp", _l("WebP image"), "image/webp", "webp"),
        FileType(
            "pptx",
            _l("PowerPoint presentation (PPTX)"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "pptx",
        ),
        FileType(
            "docx",
            _l("Word document (DOCX)"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        FileType(
            "xlsx",
            _l("Excel workbook (XLSX)"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        FileType("mp4", _l("MP4 video"), "video/mp4", "mp4"),
    )
}
# What each slot of an entry accepts.
EVIDENCE_TYPES = ("pdf", "jpeg", "png", "webp", "pptx", "docx", "xlsx", "mp4")
PRESENTATION_TYPES = ("pdf", "pptx")
CONTENT_TYPES = {t.content_type for t in TYPES.values()}

# Sniffed MIME type -> our type ("zip": an Office package, told apart by its parts).
_SNIFFED = {
    "application/pdf": "pdf",
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    TYPES["pptx"].content_type: "zip",
    TYPES["docx"].content_type: "zip",
    TYPES["xlsx"].content_type: "zip",
}
_MARKUP_MIMES = {
    "text/html",
    "image/svg+xml",
    "application/xml",
    "text/xml",
    "application/xhtml+xml",
}
_MARKUP_EXTS = {".html", ".htm", ".xhtml", ".svg", ".svgz", ".xml", ".hta"}
_PROGRAM_EXTS = {".exe", ".dll", ".com", ".scr", ".msi", ".ocx", ".sys", ".cpl", ".elf", ".jar"}

# Web-page markup that has no business in a PDF (browsers would run it if they sniffed).
_MARKUP_RE = re.compile(
    rb"<\s*(?:!doctype\s+html|html|script|body|iframe|svg|object|embed)\b", re.I
)
_SCAN_CHUNK = 1 << 20
_SCAN_OVERLAP = 64

# Office packages.
OFFICE_PARTS = {
    "pptx": "ppt/presentation.xml",
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
}
MAX_ZIP_ENTRIES = 5000
MAX_UNCOMPRESSED = 300 * 1024 * 1024
MAX_RATIO = 100  # whole archive, uncompressed / compressed
MAX_ENTRY_RATIO = 250  # one entry larger than RATIO_FLOOR
RATIO_FLOOR = 2 * 1024 * 1024  # small entries (highly repetitive XML) may compress more

THUMBNAIL_SIZE = (480, 480)


@dataclass
class Inspected:
    type: FileType
    path: Path  # the file to store: the upload itself, or the re-encoded image
    size: int
    sha256: str
    thumbnail: bytes | None = None


def _type_list(keys) -> str:
    return ", ".join(str(TYPES[k].label) for k in keys)


# --- sniffing ------------------------------------------------------------------------------


def sniff(head: bytes) -> str:
    """Our type key for the leading bytes ("zip" for an Office package), or a refusal."""
    import puremagic

    if not head:
        raise Refused(_("The file is empty."))
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    except Exception:  # a sniffer bug must not become a 500
        matches = []
    if not matches:
        if _MARKUP_RE.search(head[:4096]):
            raise Refused(_markup_message())
        raise Refused(
            _(
                "The type of this file could not be recognised from its content. "
                "Accepted: %(types)s.",
                types=_type_list(EVIDENCE_TYPES),
            )
        )
    top = matches[0]
    best = [m for m in matches if m.confidence >= top.confidence]
    if any(m.mime_type in _MARKUP_MIMES or m.extension.lower() in _MARKUP_EXTS for m in best):
        raise Refused(_markup_message())
    if any(
        m.extension.lower() in _PROGRAM_EXTS or "executable" in (m.name or "").lower()
        for m in matches
    ) and not any(m.mime_type in _SNIFFED for m in best):
        raise Refused(
            _(
                "This file is a program (%(what)s). Programs are never accepted, whatever "
                "their name.",
                what=_what(matches),
            )
        )
    for match in best:
        key = _SNIFFED.get(match.mime_type)
        if key:
            return key
    raise Refused(
        _(
            "This file is not one of the accepted types (its content looks like: %(what)s). "
            "Accepted: %(types)s.",
            what=_what(matches),
            types=_type_list(EVIDENCE_TYPES),
        )
    )


def _what(matches) -> str:
    top = matches[0]
    return (top.name or top.extension or "?").strip()[:80]


def _markup_message() -> str:
    return _(
        "This file is a web page or an SVG/XML document. These are never accepted, whatever "
        "their name: save it as PDF first."
    )


# --- the whole check -----------------------------------------------------------------------


def inspect(
    path: Path,
    head: bytes,
    accepted: tuple[str, ...],
    *,
    max_pixels: int,
    sha256: str | None = None,
) -> Inspected:
    """Check the spooled upload at ``path`` (``head``: its first bytes) for a slot accepting
    the ``accepted`` type keys. Returns what to store; raises :class:`Refused`. ``sha256``:
    the file's digest when already known (computed while it arrived)."""
    key = sniff(head)
    if key == "zip":
        key = _office_type(path)
    elif key not in accepted:
        raise Refused(_not_here(key, accepted))
    if key not in accepted:
        raise Refused(_not_here(key, accepted))
    ftype = TYPES[key]
    if key == "pdf":
        _check_pdf(path)
    elif key in OFFICE_PARTS:
        pass  # checked by _office_type
    elif key == "mp4":
        _check_mp4(path)
    elif ftype.is_image:
        return _reencode_image(path, ftype, max_pixels)
    return Inspected(ftype, path, path.stat().st_size, sha256 or _sha256(path))


def _not_here(key: str, accepted) -> str:
    return _(
        "A %(type)s is not accepted here. Accepted: %(types)s.",
        type=TYPES[key].label,
        types=_type_list(accepted),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_SCAN_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- PDF -----------------------------------------------------------------------------------


def _contains_markup(path: Path) -> bool:
    tail = b""
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_SCAN_CHUNK), b""):
            if _MARKUP_RE.search(tail + chunk):
                return True
            tail = chunk[-_SCAN_OVERLAP:]
    return False


def _check_pdf(path: Path) -> None:
    import pikepdf

    if _contains_markup(path):
        raise Refused(
            _(
                "This PDF also contains web-page code (HTML or script), so it is refused. "
                "Export the document to PDF again from its original program."
            )
        )
    try:
        with pikepdf.open(path) as pdf:
            if len(pdf.pages) == 0:
                raise Refused(_("This PDF has no pages."))
            active = _active_content(pdf)
    except pikepdf.PasswordError as exc:
        raise Refused(
            _(
                "This PDF is protected by a password. Save it without the password and "
                "upload it again."
            )
        ) from exc
    except (pikepdf.PdfError, RecursionError, ValueError, KeyError, TypeError) as exc:
        raise Refused(
            _("This PDF is damaged and cannot be read. Export it to PDF again and re-upload it.")
        ) from exc
    if active:
        raise Refused(
            _(
                "This PDF contains %(what)s, which could run when it is opened, so it is refused. "
                "Print it to a new PDF (or export it again without scripts) and re-upload it.",
                what=active,
            )
        )


def _active_content(pdf) -> str | None:
    """A description of the first active content found, or None."""
    import pikepdf

    names = pikepdf.Name
    root = pdf.Root
    open_action = root.get("/OpenAction")
    if isinstance(open_action, pikepdf.Dictionary):
        return _("an action run on opening (OpenAction)")
    if "/AA" in root:
        return _("actions run on opening (AA)")
    name_tree = root.get("/Names")
    if isinstance(name_tree, pikepdf.Dictionary) and "/JavaScript" in name_tree:
        return _("JavaScript")
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if not isinstance(obj, pikepdf.Dictionary):
            continue
        if "/JS" in obj or obj.get("/S") == names.JavaScript:
            return _("JavaScript")
        if obj.get("/S") in (names.Launch, names.ImportData):
            return _("an action that starts a program (Launch)")
        if "/AA" in obj:
            return _("actions run automatically (AA)")
    return None


# --- Office --------------------------------------------------------------------------------


def _office_type(path: Path) -> str:
    """pptx/docx/xlsx for a well-formed, bounded Office package; refuses anything else."""
    damaged = _("This Office file is damaged and cannot be read. Save it again and re-upload it.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Refused(damaged) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise Refused(_too_big_archive())
        names = {info.filename for info in infos}
        key = next((k for k, part in OFFICE_PARTS.items() if part in names), None)
        if "[Content_Types].xml" not in names or key is None:
            raise Refused(
                _(
                    "This ZIP archive is not a PowerPoint, Word or Excel file. "
                    "Accepted: %(types)s.",
                    types=_type_list(EVIDENCE_TYPES),
                )
            )
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise Refused(
                _(
                    "This Office file contains macros, which are not accepted. Save it as a "
                    "normal .pptx, .docx or .xlsx file without macros."
                )
            )
        if any(n.startswith(("/", "\\")) or ".." in n.replace("\\", "/").split("/") for n in names):
            raise Refused(damaged)
        declared = sum(info.file_size for info in infos)
        packed = sum(info.compress_size for info in infos) or 1
        if declared > MAX_UNCOMPRESSED or (
            declared > RATIO_FLOOR and declared / packed > MAX_RATIO
        ):
            raise Refused(_too_big_archive())
        for info in infos:
            if (
                info.file_size > RATIO_FLOOR
                and info.file_size / max(info.compress_size, 1) > MAX_ENTRY_RATIO
            ):
                raise Refused(_too_big_archive())
        _read_all(archive, infos, damaged)
    return key


def _read_all(archive: zipfile.ZipFile, infos, damaged: str) -> None:
    """Decompress every entry in chunks: real sizes bounded, CRCs checked."""
    total = 0
    try:
        for info in infos:
            if info.is_dir():
                continue
            with archive.open(info) as member:
                for chunk in iter(lambda m=member: m.read(_SCAN_CHUNK), b""):
                    total += len(chunk)
                    if total > MAX_UNCOMPRESSED:
                        raise Refused(_too_big_archive())
    except Refused:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression.
        raise Refused(damaged) from exc


def _too_big_archive() -> str:
    return _(
        "This Office file unpacks to far more data than it appears to hold (a 'zip bomb'), "
        "so it is refused. Save it again from PowerPoint, Word or Excel and re-upload it."
    )


# --- images --------------------------------------------------------------------------------

_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
# Kept from the original: colour profile and palette transparency; EXIF, GPS, XMP, text go.
_KEPT_INFO = ("icc_profile", "transparency")


def _reencode_image(path: Path, ftype: FileType, max_pixels: int) -> Inspected:
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
    return Inspected(ftype, clean, clean.stat().st_size, _sha256(clean), thumbnail)


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


# --- MP4 -----------------------------------------------------------------------------------

_BOX_TYPE_RE = re.compile(rb"^[A-Za-z0-9 \xa9_-]{4}$")  # \xa9: the copyright sign


def _check_mp4(path: Path) -> None:
    """Top-level ISO-BMFF boxes chain exactly to the end; 'ftyp' first, 'moov' present."""
    damaged = _("This video is damaged or incomplete. Export it again as MP4 and re-upload it.")
    size = path.stat().st_size
    seen = []
    offset = 0
    with open(path, "rb") as fh:
        while offset < size:
            fh.seek(offset)
            header = fh.read(8)
            if len(header) < 8:
                raise Refused(damaged)
            box_size, box_type = struct.unpack(">I4s", header)
            if box_size == 1:
                large = fh.read(8)
                if len(large) < 8:
                    raise Refused(damaged)
                box_size = struct.unpack(">Q", large)[0]
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8 or offset + box_size > size or not _BOX_TYPE_RE.match(box_type):
                raise Refused(damaged)
            seen.append(box_type)
            offset += box_size
            if len(seen) > 100_000:
                raise Refused(damaged)
    if not seen or seen[0] != b"ftyp" or b"moov" not in seen:
        raise Refused(damaged)
