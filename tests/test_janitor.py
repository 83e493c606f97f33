"""The storage janitor (``flask --app monev storage sweep``): old spool files, unfinished
multipart uploads and stored files no row refers to are removed; a referenced file never is,
including after a process was killed between storing a file and committing its row. On the
local folder and on S3 (SeaweedFS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import String

from monev import jobs
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.ops import janitor
from monev.storage import get_storage
from tests.submission_fixtures import *  # noqa: F403  (its fixtures)
from tests.submission_fixtures import rows, send_file, stored_keys
from tests.upload_corpus import pdf

ROOT = Path(__file__).resolve().parent.parent
LATER = timedelta(days=2)  # "now" for a sweep run two days after the files were made
# Columns named like storage keys that hold something else.
NOT_STORAGE_KEYS = {  # idempotency keys
    "certificates.subject_key",
    "visit_checks.client_key",
    "visit_photos.client_key",
    "sheet_sync_keys.client_key",
    "visits.confirm_key",
}
STORAGE_KEY_COLUMNS = {
    "evidence.storage_key",
    "evidence.thumbnail_key",
    "events.logo_path",
    "certificate_settings.background_key",
    "certificate_batches.merged_key",
    "certificate_batches.zip_key",
    "signed_documents.storage_key",
    "visit_photos.storage_key",
    "visits.representative_signature_key",
}


def test_every_column_that_holds_a_storage_key_is_read_by_the_janitor():
    """A new ``*_key`` / ``*_path`` column must be added to ``janitor.referenced_keys`` (and
    here), or the janitor would delete the files it names."""
    found = {
        f"{table.name}.{column.name}"
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String) and column.name.endswith(("_key", "_path"))
    }
    assert found - NOT_STORAGE_KEYS == STORAGE_KEY_COLUMNS


def _sweep(app, **kwargs) -> janitor.SweepReport:
    with app.app_context():
        return janitor.sweep(**kwargs)


def _put_orphan(app, key: str = "entries/99/orphan.pdf") -> str:
    with app.app_context():
        get_storage().put_bytes(key, b"%PDF-1.7 no row", "application/pdf")
    return key


def test_sweep_removes_old_orphans_and_keeps_every_referenced_file(
    app, backend, finalist, kim_client
):
    send_file(kim_client, finalist.file_url("a1"), pdf(), "sk.pdf")
    (item,) = rows(app)
    orphan = _put_orphan(app)

    dry = _sweep(app, dry_run=True, now=utcnow() + LATER)
    assert (dry.orphans, dry.referenced) == (1, 1)
    assert dry.removed_keys == [orphan]
    assert sorted(stored_keys(app)) == sorted([item.storage_key, orphan])  # nothing removed

    report = _sweep(app, now=utcnow() + LATER)
    assert (report.orphans, report.referenced, report.young) == (1, 1, 0)
    assert stored_keys(app) == [item.storage_key]
    assert kim_client.get(f"/files/{item.id}").status_code == 200


def test_a_young_orphan_is_kept_for_the_grace_period(app, backend):
    orphan = _put_orphan(app)  # its request may still be about to commit
    report = _sweep(app)
    assert (report.orphans, report.young) == (0, 1)
    assert stored_keys(app) == [orphan]


def test_old_spool_files_and_temporary_files_are_removed(app, backend):
    with app.app_context():
        storage = get_storage()
        spool = storage.spool_dir()
        old = spool / ".upload-killed"
        old.write_bytes(b"\0" * 4096)
        fresh = spool / ".upload-arriving"
        fresh.write_bytes(b"\0" * 10)
        two_days_ago = time.time() - 2 * 86400
        os.utime(old, (two_days_ago, two_days_ago))
        half_written = None
        if backend == "local":  # an interrupted atomic write leaves .tmp-* beside the key
            folder = storage.root / "entries" / "7"
            folder.mkdir(parents=True)
            half_written = folder / ".tmp-abc123"
            half_written.write_bytes(b"half")
            os.utime(half_written, (two_days_ago, two_days_ago))
    report = _sweep(app)
    expected = 2 if backend == "local" else 1
    assert report.spool_files == expected
    assert report.spool_bytes == 4096 + (4 if backend == "local" else 0)
    assert not old.exists() and fresh.exists()
    assert half_written is None or not half_written.exists()


def test_unfinished_multipart_uploads_are_aborted(app, s3):
    from tests.submission_fixtures import use_s3

    use_s3(app, s3)
    with app.app_context():
        storage = get_storage()
        key = storage.prefix + "entries/5/video.mp4"
        started = storage.client.create_multipart_upload(Bucket=storage.bucket, Key=key)
        storage.client.upload_part(
            Bucket=storage.bucket,
            Key=key,
            UploadId=started["UploadId"],
            PartNumber=1,
            Body=b"\0" * (5 << 20),
        )
        assert [u.key for u in storage.unfinished_uploads()] == ["entries/5/video.mp4"]
    assert _sweep(app).uploads_aborted == 0  # begun just now: perhaps still arriving
    report = _sweep(app, now=utcnow() + LATER)
    assert report.uploads_aborted == 1
    with app.app_context():
        assert list(get_storage().unfinished_uploads()) == []
    assert stored_keys(app) == []


def test_the_sweep_command_reports_counts(app, runner):
    _put_orphan(app)
    app.config["SWEEP_AGE_HOURS"] = 0
    result = runner.invoke(args=["storage", "sweep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "stored files no row refers to: would remove 1" in result.output
    assert stored_keys(app) != []
    result = runner.invoke(args=["storage", "sweep"])
    assert "stored files no row refers to: removed 1" in result.output
    assert stored_keys(app) == []


def test_the_sweep_runs_as_a_periodic_job():
    periodic = {task.__name__ for task in jobs.huey._registry._periodic_tasks}
    assert any(name.endswith("sweep_storage") for name in periodic)


KILLED_UPLOAD = """
import json, os, signal, sys
from monev import create_app
from monev.entries.workspace import evidence
from tests.conftest import sign_in
from tests.submission_fixtures import send_file
from tests.upload_corpus import pdf

config, email, url = json.loads(sys.argv[1])
app = create_app(config)
real_store = evidence._store

def store_then_die(*args, **kwargs):
    item = real_store(*args, **kwargs)  # the file is in the storage, its row not committed
    os.kill(os.getpid(), signal.SIGKILL)

evidence._store = store_then_die
client = app.test_client()
sign_in(client, email)
send_file(client, url, pdf("killed"), "killed.pdf")
"""


@pytest.mark.real_commits
def test_a_process_killed_between_storing_and_commit_leaves_an_orphan_the_sweep_removes(
    app, backend, finalist, kim_client
):
    send_file(kim_client, finalist.file_url("a1"), pdf(), "sk.pdf")
    (kept,) = rows(app)
    keys = (
        "ENV_NAME",
        "SQLALCHEMY_DATABASE_URI",
        "STORAGE_DIR",
        "OUTBOX_DIR",
        "STORAGE_BACKEND",
        "S3_ENDPOINT_URL",
        "S3_BUCKET",
        "S3_PREFIX",
        "S3_ACCESS_KEY",
        "S3_SECRET_KEY",
        "STORAGE_SPOOL_DIR",
    )
    config = {key: app.config.get(key) for key in keys}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_UPLOAD]
        + [json.dumps([config, finalist.email, finalist.file_url("a3")])],
        cwd=ROOT,
        env={**os.environ, "MONEV_INSTANCE_PATH": app.instance_path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert len(rows(app)) == 1  # the killed request's row never committed
    orphans = sorted(set(stored_keys(app)) - {kept.storage_key})
    assert len(orphans) == 1 and orphans[0].startswith(f"entries/{finalist.entry_id}/")

    assert _sweep(app).orphans == 0  # within the grace period: left alone
    report = _sweep(app, now=utcnow() + LATER)
    assert report.removed_keys == orphans
    assert stored_keys(app) == [kept.storage_key]
    assert kim_client.get(f"/files/{kept.id}").status_code == 200
