"""The accepted file types, the limits of the checks, and what an inspection returns."""

from __future__ import annotations

import hashlib
import re
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
SNIFFED = {
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
MARKUP_MIMES = {
    "text/html",
    "image/svg+xml",
    "application/xml",
    "text/xml",
    "application/xhtml+xml",
}
MARKUP_EXTS = {".html", ".htm", ".xhtml", ".svg", ".svgz", ".xml", ".hta"}
PROGRAM_EXTS = {".exe", ".dll", ".com", ".scr", ".msi", ".ocx", ".sys", ".cpl", ".elf", ".jar"}

# Web-page markup that has no business in a PDF (browsers would run it if they sniffed).
MARKUP_RE = re.compile(rb"<\s*(?:!doctype\s+html|html|script|body|iframe|svg|object|embed)\b", re.I)
SCAN_CHUNK = 1 << 20
SCAN_OVERLAP = 64

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


def type_list(keys) -> str:
    return ", ".join(str(TYPES[k].label) for k in keys)


def markup_message() -> str:
    return _(
        "This file is a web page or an SVG/XML document. These are never accepted, whatever "
        "their name: save it as PDF first."
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(SCAN_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
