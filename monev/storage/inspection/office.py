"""PPTX/DOCX/XLSX: the expected parts of the package, no macros, and bounded archives (no zip
bombs)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from flask_babel import gettext as _

from monev.storage.inspection.filetypes import (
    EVIDENCE_TYPES,
    MAX_ENTRY_RATIO,
    MAX_RATIO,
    MAX_UNCOMPRESSED,
    MAX_ZIP_ENTRIES,
    OFFICE_PARTS,
    RATIO_FLOOR,
    SCAN_CHUNK,
    Refused,
    type_list,
)


def office_type(path: Path) -> str:
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
                    types=type_list(EVIDENCE_TYPES),
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
                for chunk in iter(lambda m=member: m.read(SCAN_CHUNK), b""):
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
