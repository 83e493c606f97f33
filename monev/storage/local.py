"""Files in a folder on this machine (``MONEV_STORAGE_DIR``, outside ``static/``).

Every write goes to a temporary file in the target's folder, is flushed to disk, then renamed
over the final name: a crash or an interrupted upload leaves no half-written file under a
key, only a ``.tmp-*`` file that is never served.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from monev.storage.base import (
    StorageError,
    StorageNotFound,
    StorageUnavailable,
    StoredObject,
    Upload,
    check_key,
)


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class LocalStorage:
    name = "local"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise StorageError(f"key {key!r} leaves the storage folder")
        return path

    def spool_dir(self) -> Path:
        folder = self.root / ".incoming"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def put(self, key: str, path: Path, content_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        path = Path(path)
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())
        try:
            os.replace(path, target)  # same file system: the spool folder is inside root
        except OSError:
            with open(path, "rb") as src:
                self._write_atomic(target, lambda out: shutil.copyfileobj(src, out, 1 << 20))
            path.unlink(missing_ok=True)
        _fsync_dir(target.parent)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._write_atomic(target, lambda out: out.write(data))
        _fsync_dir(target.parent)

    @staticmethod
    def _write_atomic(target: Path, write) -> None:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _reachable(self) -> None:
        if not self.root.is_dir():
            raise StorageUnavailable(f"the storage folder {self.root} is missing (not mounted?)")

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return open(path, "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError as exc:
            self._reachable()
            raise StorageNotFound(f"no file under {key!r}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"could not read {key!r}: {exc}") from exc

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def ping(self) -> None:
        """Cheap readiness: the folder (or, before the first file, its parent) is writable."""
        folder = self.root if self.root.exists() else self.root.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"the storage folder {self.root} is missing or read-only")

    def check(self, *, fix: bool = False) -> str:
        try:
            self.root.mkdir(parents=True, exist_ok=True)  # as the first stored file would
        except OSError as exc:
            raise StorageUnavailable(f"cannot create {self.root}: {exc}") from exc
        self._reachable()
        probe = f"doctor/probe-{os.getpid()}.txt"
        try:
            self.put_bytes(probe, b"monev", "text/plain")
            with self.open(probe) as fh:
                fh.read()
            self.delete(probe)
            self._path(probe).parent.rmdir()
            self.spool_dir()
        except OSError as exc:
            raise StorageUnavailable(f"{self.root} is not writable: {exc}") from exc
        return f"folder {self.root}"

    def keys(self) -> list[str]:
        """Every stored key (for tests and maintenance), temporary files excluded."""
        return sorted(obj.key for obj in self.objects())

    def _files(self) -> Iterator[tuple[Path, os.stat_result]]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            try:
                stat = path.lstat()
            except FileNotFoundError:  # removed meanwhile
                continue
            if path.is_file() and not path.is_symlink():
                yield path, stat

    def objects(self) -> Iterator[StoredObject]:
        for path, stat in self._files():
            parts = path.relative_to(self.root).parts
            if not any(part.startswith(".") for part in parts):
                yield StoredObject("/".join(parts), _utc(stat.st_mtime), stat.st_size)

    def debris(self) -> Iterator[tuple[Path, datetime, int]]:
        for path, stat in self._files():
            parts = path.relative_to(self.root).parts
            if parts[0] == ".incoming" or parts[-1].startswith(".tmp-"):
                yield path, _utc(stat.st_mtime), stat.st_size

    def unfinished_uploads(self) -> Iterator[Upload]:
        return iter(())

    def abort_upload(self, upload: Upload) -> None:
        raise StorageError("a local folder has no multipart uploads")
