"""Uploads are written to disk as they arrive, with their size limit enforced on the way.

``UploadRequest`` is the app's request class. Werkzeug's form parser hands each file part to
``_get_file_stream``; here that is a :class:`SpoolFile`, which writes the part's chunks (64 KB
at a time) into the storage's spool folder, hashes them and counts them, and stops the request
with 413 as soon as the part is larger than allowed. So no upload is ever held in memory, and
one over the limit is not read further. The whole body is also capped (``max_content_length``)
before any of it is read when its Content-Length is too large.

Limits: ``MAX_UPLOAD_MB`` per file, ``MAX_VIDEO_MB`` for an MP4 sent to a view marked with
:func:`accepts_video`. Spool files that no view claims are deleted when the request ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge

from monev.core.errors import ServiceError
from monev.storage import get_storage

MB = 1024 * 1024
HEAD_BYTES = 64 * 1024  # kept in memory for type sniffing
FORM_OVERHEAD = MB  # room for the other fields and the multipart framing
_VIDEO_ATTR = "_monev_accepts_video"


def accepts_video(view):
    """Let this view receive MP4 files up to ``MAX_VIDEO_MB``."""
    setattr(view, _VIDEO_ATTR, True)
    return view


class UploadTooLarge(RequestEntityTooLarge):
    """A file part went over its limit; ``limit_mb`` says which."""

    def __init__(self, limit_mb: int):
        super().__init__(f"file larger than {limit_mb} MB")
        self.limit_mb = limit_mb


def looks_like_mp4(head: bytes) -> bool:
    """ISO base media (MP4): the first box is 'ftyp'. The full check is done later."""
    return len(head) >= 12 and head[4:8] == b"ftyp"


class SpoolFile:
    """A file-like object werkzeug writes an uploaded part into (see module docstring)."""

    def __init__(self, folder: Path, limit: int, video_limit: int | None):
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".upload-")
        self.path = Path(name)
        self._fh = os.fdopen(fd, "w+b")
        self._limit = limit
        self._video_limit = video_limit
        self._hash = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.claimed = False

    # -- written by werkzeug -----------------------------------------------------------------
    def write(self, data: bytes) -> int:
        if len(self.head) < HEAD_BYTES:
            self.head += bytes(data[: HEAD_BYTES - len(self.head)])
        self.size += len(data)
        if self.size > self._limit:
            if self._video_limit is None or not looks_like_mp4(self.head):
                self._refuse(self._limit)
            elif self.size > self._video_limit:
                self._refuse(self._video_limit)
        self._hash.update(data)
        return self._fh.write(data)

    def _refuse(self, limit: int):
        self.discard()
        raise UploadTooLarge(limit // MB)

    # -- read by the view --------------------------------------------------------------------
    def read(self, size: int = -1) -> bytes:
        return self._fh.read(size)

    def readline(self, size: int = -1) -> bytes:
        return self._fh.readline(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def flush(self) -> None:
        self._fh.flush()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self._fh.closed

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def claim(self) -> Path:
        """Hand the file over (it is about to be moved into storage): not deleted at close."""
        self._fh.flush()
        self.claimed = True
        return self.path

    def discard(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        if not self.claimed:
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        self.discard()

    def __del__(self):  # a parser error may drop us without close()
        with contextlib.suppress(Exception):  # e.g. at interpreter shutdown
            self.discard()


@contextlib.contextmanager
def spooled(
    stream, prefix: str, max_bytes: int, *, field: str, too_large: str, empty: str
) -> Iterator[tuple[Path, bytes]]:
    """Copy ``stream`` (an upload read in a service, such as an image or the PDF to verify)
    into a file of the spool folder, 64 KB at a time, and yield its path and its first 4 KB
    for :func:`monev.storage.inspection.inspect`; the file is deleted afterwards. More than
    ``max_bytes`` is refused with ``too_large`` (413) and nothing at all with ``empty``, as a
    ServiceError on ``field``."""
    fd, name = tempfile.mkstemp(dir=get_storage().spool_dir(), prefix=prefix)
    path = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ServiceError(too_large, field=field, status=413)
                out.write(chunk)
        if size == 0:
            raise ServiceError(empty, field=field)
        with path.open("rb") as fh:
            head = fh.read(4096)
        yield path, head
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def upload_limits(config) -> tuple[int, int]:
    """(per-file limit, video limit) in bytes."""
    return int(config["MAX_UPLOAD_MB"]) * MB, int(config["MAX_VIDEO_MB"]) * MB


class UploadRequest(Request):
    """The app's request class: file parts spooled to disk under their limit."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        if not current_app:
            return super().max_content_length
        explicit = current_app.config.get("MAX_CONTENT_LENGTH")
        if explicit is not None:
            return explicit
        limit, video_limit = upload_limits(current_app.config)
        return max(limit, video_limit) + FORM_OVERHEAD

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _video_allowed(self) -> bool:
        view = current_app.view_functions.get(self.endpoint or "")
        return bool(getattr(view, _VIDEO_ATTR, False))

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ):
        limit, video_limit = upload_limits(current_app.config)
        spool = SpoolFile(
            get_storage().spool_dir(), limit, video_limit if self._video_allowed() else None
        )
        self.__dict__.setdefault("_monev_spools", []).append(spool)
        return spool

    def close(self) -> None:
        try:
            super().close()
        finally:
            for spool in self.__dict__.pop("_monev_spools", []):
                spool.discard()
