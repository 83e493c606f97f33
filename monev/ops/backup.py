"""Backups of a whole installation (database and stored files) and their restore.

``flask --app monev backup --out DIR`` writes, while the app keeps running:

- ``database.sqlite``: SQLite's online backup API (a consistent copy, even with writers), or
  ``database.pgdump``: ``pg_dump --format=custom`` (one consistent snapshot);
- ``files/<key>``: every stored file, read through the storage backend (local or S3);
- ``manifest.json``: what the backup holds, with the SHA-256 and size of every part.

The database is copied first, the files after: a file stored meanwhile is there although no
row of the copy refers to it (the janitor removes it after a restore); a file deleted meanwhile
(its row was deleted after the copy) is listed under ``missing`` in the manifest.

``flask --app monev restore DIR`` checks every digest before it writes anything and refuses a
backup whose parts do not match its manifest; it restores only into an empty database (no
tables) and an empty storage, so it never mixes two installations. The secret key is not in
the backup: keep ``MONEV_SECRET_KEY`` with it (sessions and links are signed with it).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text

from monev.extensions import db
from monev.storage import StorageError, get_storage

FORMAT = "monev-backup/1"
MANIFEST = "manifest.json"
CHUNK = 1 << 20


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class Outcome:
    folder: Path
    manifest: dict
    seconds: float

    @property
    def files(self) -> int:
        return len(self.manifest["files"])

    @property
    def bytes(self) -> int:
        return self.manifest["database"]["size"] + sum(f["size"] for f in self.manifest["files"])


# --- helpers ----------------------------------------------------------------------------------


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(source, target: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _dialect() -> str:
    return db.engine.dialect.name


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("The SQLite database is in memory: there is nothing to back up.")
    return Path(database)


def _libpq(url) -> tuple[str, dict]:
    """A libpq URL without the password (it goes in PGPASSWORD, never on a command line)."""
    plain = url.set(drivername="postgresql")
    env = dict(os.environ)
    if plain.password:
        env["PGPASSWORD"] = plain.password
    return plain.set(password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"`{name}` is not installed: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) of the server's version or newer."
        )
    return found


def _revision() -> str | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


# --- backup -----------------------------------------------------------------------------------


def backup(out: Path) -> Outcome:
    """Write a backup into the folder ``out`` (made; it must be empty if it exists)."""
    started = time.monotonic()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: give a new folder for each backup.")
    (out / "files").mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "revision": _revision(),
        "database": _backup_database(out),
        "storage": get_storage().name,
        "files": [],
        "missing": [],
    }
    db.session.remove()  # the files are read outside any transaction
    storage = get_storage()
    for obj in sorted(storage.objects(), key=lambda o: o.key):
        target = out / "files" / obj.key
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            source = storage.open(obj.key)
        except StorageError:  # deleted since it was listed
            manifest["missing"].append(obj.key)
            continue
        try:
            digest, size = _copy_hashing(source, target)
        finally:
            source.close()
        manifest["files"].append({"key": obj.key, "sha256": digest, "size": size})
    _write_json(out / MANIFEST, manifest)
    return Outcome(out, manifest, time.monotonic() - started)


def _backup_database(out: Path) -> dict:
    if _dialect() == "sqlite":
        target = out / "database.sqlite"
        source = sqlite3.connect(f"file:{_sqlite_path()}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # SQLite's online backup: consistent while others write
        finally:
            copy.close()
            source.close()
        kind = "sqlite"
    elif _dialect() == "postgresql":
        target = out / "database.pgdump"
        url, env = _libpq(db.engine.url)
        result = subprocess.run(  # noqa: S603 - our own tool and settings
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
            + ["--file", str(target), "--dbname", url],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()[-2000:]}")
        kind = "postgresql"
    else:
        raise BackupError(f"Backups of a {_dialect()} database are not supported.")
    return {
        "dialect": kind,
        "file": target.name,
        "sha256": _sha256_of(target),
        "size": target.stat().st_size,
    }


def _write_json(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# --- restore ----------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{path} is missing: this is not a Monev backup folder.") from exc
    except ValueError as exc:
        raise BackupError(f"{path} is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a {FORMAT} manifest.")
    return manifest


def verify(folder: Path, manifest: dict) -> list[str]:
    """Every part whose digest or size differs from the manifest (or that is missing)."""
    folder = Path(folder)
    parts = [(manifest["database"]["file"], manifest["database"])]
    parts += [(f"files/{f['key']}", f) for f in manifest["files"]]
    problems = []
    for name, expected in parts:
        path = folder / name
        if ".." in Path(name).parts or not path.resolve().is_relative_to(folder.resolve()):
            problems.append(f"{name}: a path outside the backup")
        elif not path.is_file():
            problems.append(f"{name}: missing")
        elif path.stat().st_size != expected["size"] or _sha256_of(path) != expected["sha256"]:
            problems.append(f"{name}: its SHA-256 does not match the manifest")
    return problems


def _database_is_empty() -> bool:
    with db.engine.connect() as conn:
        return not inspect(conn).get_table_names()


def restore(folder: Path) -> Outcome:
    """Restore the backup in ``folder`` into this app's empty database and storage."""
    started = time.monotonic()
    folder = Path(folder)
    manifest = read_manifest(folder)
    problems = verify(folder, manifest)
    if problems:
        raise BackupError(
            "The backup does not match its manifest; nothing was restored:\n  "
            + "\n  ".join(problems)
        )
    dialect = manifest["database"]["dialect"]
    if dialect != _dialect():
        raise BackupError(
            f"The backup holds a {dialect} database, this app uses {_dialect()}: restore it "
            "into the same kind of database (move events with `event export` / `event import`)."
        )
    if not _database_is_empty():
        raise BackupError(
            "The database is not empty: restore only into a new, empty database "
            "(DATABASE_URL), so two installations never mix."
        )
    storage = get_storage()
    if next(iter(storage.objects()), None) is not None:
        raise BackupError("The file storage is not empty: restore only into an empty one.")
    db.session.remove()
    _restore_database(folder / manifest["database"]["file"], dialect)
    spool = storage.spool_dir()
    for item in manifest["files"]:
        fd, tmp = tempfile.mkstemp(dir=spool, prefix=".restore-")
        os.close(fd)
        shutil.copyfile(folder / "files" / item["key"], tmp)
        kind = mimetypes.guess_type(item["key"])[0] or "application/octet-stream"
        storage.put(item["key"], Path(tmp), kind)  # consumes the copy
    return Outcome(folder, manifest, time.monotonic() - started)


def _restore_database(source: Path, dialect: str) -> None:
    db.engine.dispose()
    if dialect == "sqlite":
        target = sqlite3.connect(_sqlite_path())
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            backup_db.backup(target)
        finally:
            backup_db.close()
            target.close()
        return
    url, env = _libpq(db.engine.url)
    result = subprocess.run(  # noqa: S603 - our own tool and settings
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
        + ["--dbname", url, str(source)],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[-2000:]}")


def describe(outcome: Outcome) -> str:
    size = outcome.bytes / (1024 * 1024)
    return (
        f"{outcome.manifest['database']['dialect']} database and {outcome.files} file(s), "
        f"{size:.1f} MB, in {outcome.seconds:.1f} s"
    )
