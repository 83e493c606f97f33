"""MP4: the top-level boxes chain exactly to the end of the file ('ftyp' first, 'moov' present)."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from flask_babel import gettext as _

from monev.storage.inspection.filetypes import Refused

# --- MP4 -----------------------------------------------------------------------------------

_BOX_TYPE_RE = re.compile(rb"^[A-Za-z0-9 \xa9_-]{4}$")  # \xa9: the copyright sign


def check_mp4(path: Path) -> None:
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
