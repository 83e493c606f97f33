"""Backup and restore of a whole instance against a plain copy of the same bytes.

A fresh instance (migrated SQLite, local storage) holds an event with ``--entries`` entries,
each with ``--files`` evidence files of ``--kb`` KB of incompressible bytes (rows and files
as an upload leaves them). Measured in the same run, twice each, the better time kept:

plain    the floor: the database file and every stored file copied to another folder,
         each file written and fsynced (what any backup has to do at least)
backup   ``flask --app monev backup`` (``monev.ops.backup.backup``): SQLite's online backup
         API, every file read through the storage and written with its SHA-256 (fsynced),
         the manifest
restore  ``flask --app monev restore`` into a new empty instance: every part's digest
         checked first, then the database and every file restored through the storage

    .venv/bin/python bench/ops.py [--entries 500] [--files 2] [--kb 200]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_app(instance: Path):
    from monev import create_app

    os.environ["MONEV_INSTANCE_PATH"] = str(instance)
    return create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'monev.db'}",
            "STORAGE_DIR": str(instance / "files"),
        }
    )


def build(app, entries: int, files: int, kb: int) -> int:
    """The event, its entries and their evidence files; returns the bytes stored."""
    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select

    from monev.directory.models import Kim
    from monev.entries.models import Entry, Evidence
    from monev.events.models import Category, Event
    from monev.extensions import db
    from monev.regions.models import District
    from monev.storage import get_storage

    with app.app_context():
        upgrade()
        s = db.session
        event = Event(
            slug="bench-ops",
            title="Monev KIM Bench",
            year=2026,
            organiser="Diskominfo Provinsi Kalimantan Timur",
            status="submission",
        )
        s.add(event)
        s.flush()
        category = Category(event_id=event.id, key="desa", name="KIM Desa", position=0)
        s.add(category)
        s.flush()
        districts = list(s.scalars(select(District.id).limit(10)))
        first_kim = (s.scalar(select(func.max(Kim.id))) or 0) + 1
        s.execute(
            insert(Kim),
            [
                {"name": f"KIM Bench {i}", "district_id": districts[i % 10], "search_text": ""}
                for i in range(entries)
            ],
        )
        s.execute(
            insert(Entry),
            [
                {
                    "event_id": event.id,
                    "kim_id": first_kim + i,
                    "category_id": category.id,
                    "code": f"B-{i:04d}",
                    "nomination_status": "accepted",
                }
                for i in range(entries)
            ],
        )
        entry_ids = list(s.scalars(select(Entry.id).where(Entry.event_id == event.id)))
        storage = get_storage()
        rows, total = [], 0
        for entry_id in entry_ids:
            for n in range(files):
                data = os.urandom(kb * 1024)
                key = f"entries/{entry_id}/{hashlib.sha256(data).hexdigest()[:32]}.pdf"
                storage.put_bytes(key, data, "application/pdf")
                total += len(data)
                rows.append(
                    {
                        "entry_id": entry_id,
                        "kind": "file",
                        "storage_key": key,
                        "original_name": f"bukti-{n}.pdf",
                        "content_type": "application/pdf",
                        "size": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                )
        s.execute(insert(Evidence), rows)
        s.commit()
        db.engine.dispose()
    return total


def plain_copy(instance: Path, out: Path) -> float:
    started = time.perf_counter()
    (out / "files").mkdir(parents=True)
    shutil.copyfile(instance / "monev.db", out / "monev.db")
    root = instance / "files"
    for path in root.rglob("*"):
        if path.is_file():
            target = out / "files" / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            with open(target, "rb+") as fh:
                os.fsync(fh.fileno())
    return time.perf_counter() - started


def timed_backup(app, out: Path) -> float:
    from monev.ops import backup

    started = time.perf_counter()
    with app.app_context():
        backup.backup(out)
    return time.perf_counter() - started


def timed_restore(source: Path, instance: Path) -> float:
    from monev.extensions import db
    from monev.ops import backup

    instance.mkdir()
    app = make_app(instance)
    started = time.perf_counter()
    with app.app_context():
        backup.restore(source)
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--files", type=int, default=2)
    parser.add_argument("--kb", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="monev-bench-ops-") as tmp:
        tmp = Path(tmp)
        instance = tmp / "instance"
        instance.mkdir()
        app = make_app(instance)
        t0 = time.perf_counter()
        stored = build(app, args.entries, args.files, args.kb)
        db_size = (instance / "monev.db").stat().st_size
        mb = (stored + db_size) / (1024 * 1024)
        print(
            f"instance: {args.entries} entries x {args.files} files x {args.kb} KB = "
            f"{stored / (1024 * 1024):.1f} MB of files + {db_size / 1024:.0f} KB database "
            f"(built in {time.perf_counter() - t0:.1f} s)"
        )
        plain_copy(instance, tmp / "warm")  # the page cache warm for every measurement
        shutil.rmtree(tmp / "warm")
        plains, backups = [], []
        for run in range(2):
            plains.append(plain_copy(instance, tmp / f"plain-{run}"))
            backups.append(timed_backup(app, tmp / f"backup-{run}"))
        restores = [timed_restore(tmp / "backup-0", tmp / f"restored-{run}") for run in range(2)]
        plain, taken, restore = min(plains), min(backups), min(restores)
        for name, seconds in (("plain copy", plain), ("backup", taken), ("restore", restore)):
            ratio = "(the floor)" if name == "plain copy" else f"{seconds / plain:.2f}x the floor"
            print(f"{name:<12} {seconds:6.2f} s  {mb / seconds:7.1f} MB/s   {ratio}")


if __name__ == "__main__":
    main()
