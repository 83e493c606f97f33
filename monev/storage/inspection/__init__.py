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

from pathlib import Path

from flask_babel import gettext as _

from monev.storage.inspection.filetypes import (
    CONTENT_TYPES,
    EVIDENCE_TYPES,
    OFFICE_PARTS,
    PRESENTATION_TYPES,
    TYPES,
    FileType,
    Inspected,
    Refused,
    sha256_of,
    type_list,
)
from monev.storage.inspection.image import reencode_image
from monev.storage.inspection.mp4 import check_mp4
from monev.storage.inspection.office import office_type
from monev.storage.inspection.pdf import check_pdf
from monev.storage.inspection.sniffing import sniff

__all__ = [
    "CONTENT_TYPES",
    "EVIDENCE_TYPES",
    "PRESENTATION_TYPES",
    "TYPES",
    "FileType",
    "Inspected",
    "Refused",
    "inspect",
    "sniff",
]


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
    key = sniff(head, accepted)
    if key == "zip":
        key = office_type(path)
    elif key not in accepted:
        raise Refused(_not_here(key, accepted))
    if key not in accepted:
        raise Refused(_not_here(key, accepted))
    ftype = TYPES[key]
    if key == "pdf":
        check_pdf(path)
    elif key in OFFICE_PARTS:
        pass  # checked by office_type
    elif key == "mp4":
        check_mp4(path)
    elif ftype.is_image:
        return reencode_image(path, ftype, max_pixels)
    return Inspected(ftype, path, path.stat().st_size, sha256 or sha256_of(path))


def _not_here(key: str, accepted) -> str:
    return _(
        "A %(type)s is not accepted here. Accepted: %(types)s.",
        type=TYPES[key].label,
        types=type_list(accepted),
    )
