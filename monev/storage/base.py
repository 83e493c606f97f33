"""The storage interface every backend implements."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

# Keys are made by the app: lower-case letters, digits, '-', '_', '.', and '/' between parts.
KEY_RE = re.compile(r"^[a-z0-9_-]+(?:/[a-z0-9_-]+)*(?:\.[a-z0-9]+)*$")


@dataclass(frozen=True)
class StoredObject:
    """A file of the storage as the janitor and backups see it (``modified`` in naive UTC)."""

    key: str
    modified: datetime
    size: int


@dataclass(frozen=True)
class Upload:
    """A multipart upload the object store holds unfinished (S3 only)."""

    key: str
    upload_id: str
    initiated: datetime


class StorageError(Exception):
    """The backend could not store, read or delete a file."""


class StorageNotFound(StorageError):
    """There is no file under the key (the storage itself answered)."""


class StorageUnavailable(StorageError):
    """The storage cannot be reached or used now (server down, folder gone, no access):
    a read is answered 503, not 404."""


def check_key(key: str) -> str:
    if not key or len(key) > 200 or not KEY_RE.match(key) or ".." in key:
        raise StorageError(f"invalid storage key {key!r}")
    return key


class Storage(Protocol):
    name: str

    def spool_dir(self) -> Path:
        """Where incoming uploads are written while they arrive: for the local backend a
        folder on the same file system, so storing a file is a rename."""

    def put(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at ``path`` under ``key``, atomically: readers see the whole file or
        nothing. ``path`` is consumed (moved or deleted)."""

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store small content (a thumbnail, a demo file) under ``key``, atomically."""

    def open(self, key: str) -> BinaryIO:
        """A readable stream of the stored file; the caller closes it."""

    def size(self, key: str) -> int | None:
        """The stored size in bytes, or None if there is no such file."""

    def delete(self, key: str) -> None:
        """Remove the file; a missing file is not an error."""

    def local_path(self, key: str) -> Path | None:
        """The file's path when it is on this machine (served with sendfile), else None."""

    def ping(self) -> None:
        """Cheap readiness check (no file written); raises StorageUnavailable."""

    def objects(self) -> Iterator[StoredObject]:
        """Every stored file (temporary and spool files excluded)."""

    def debris(self) -> Iterator[tuple[Path, datetime, int]]:
        """Left-overs on this machine: spooled uploads and half-written temporary files, with
        their modification time (naive UTC) and size."""

    def unfinished_uploads(self) -> Iterator[Upload]:
        """Multipart uploads begun and never completed or aborted (S3; none elsewhere)."""

    def abort_upload(self, upload: Upload) -> None:
        """Abort an unfinished multipart upload (its parts are freed)."""

    def check(self, *, fix: bool = False) -> str:
        """Check that files can be written, read and deleted (a probe file); with ``fix``,
        create what is missing (the folder, the bucket). Returns what was checked; raises
        StorageUnavailable saying what is wrong."""
