"""Faults on one machine, with real processes: a background worker killed (SIGKILL) in the
middle of a certificate batch; the next worker resumes it and every certificate is rendered
and stored once. (The S3 server and Redis going away are in tests/test_ops.py; a process
killed between storing a file and its commit in tests/test_janitor.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from monev import jobs
from monev.certificates.batch import CertificateBatch
from monev.extensions import db
from monev.jobs.models import WorkerHeartbeat
from tests.conftest import post, sign_in
from tests.submission_fixtures import finalist, kim_client, make_finalist  # noqa: F401
from tests.test_certificate_batch import KIMS, _assert_complete, _batches, setup  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
STALE = 3


def _worker(app, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONEV_", "FLASK_"))}
    env.update(
        MONEV_ENV="development",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        MONEV_INSTANCE_PATH=app.instance_path,
        MONEV_STORAGE_DIR=app.config["STORAGE_DIR"],
        MONEV_OUTBOX_DIR=app.config["OUTBOX_DIR"],
        MONEV_HUEY_SQLITE_PATH=app.config["HUEY_SQLITE_PATH"],
        MONEV_HUEY_NAME=app.config["HUEY_NAME"],
        MONEV_HUEY_IMMEDIATE="0",
        MONEV_CERTIFICATE_BATCH_CHUNK="1",
        MONEV_CERTIFICATE_BATCH_STALE_SECONDS=str(STALE),
        MONEV_CERTIFICATE_PROCESSES="1",
        MONEV_WORKER_HEARTBEAT_SECONDS="1",
    )
    out = open(log, "ab")  # noqa: SIM115 - closed with the process below
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "monev", "worker", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _batch(app) -> CertificateBatch:
    with app.app_context():
        row = db.session.scalar(select(CertificateBatch))
        db.session.expunge(row)
        return row


def _wait(condition, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")


@pytest.mark.real_commits
def test_a_worker_killed_mid_batch_is_resumed_and_renders_every_certificate_once(
    app,
    setup,  # noqa: F811
    tmp_path,
):
    app.config.update(
        HUEY_IMMEDIATE=False,
        HUEY_SQLITE_PATH=str(tmp_path / "queue.db"),
        HUEY_NAME=f"fault-{uuid.uuid4().hex[:8]}",
        CERTIFICATE_BATCH_STALE_SECONDS=STALE,
    )
    jobs.init_app(app)
    admin = app.test_client()
    sign_in(admin, setup.admin.email)
    assert post(admin, f"/admin/events/{setup.slug}/certificates/batch").status_code == 303
    log = tmp_path / "workers.log"

    first = _worker(app, log)
    try:
        _wait(lambda: _batch(app).done_count >= 2, 90, "two certificates", log)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # mid-batch, without any goodbye
        first.wait(10)
    killed_at = _batch(app)
    assert killed_at.status == "running" and 2 <= killed_at.done_count < KIMS + 1
    with app.app_context():  # the killed worker's heartbeat stays, and grows old
        (silent,) = db.session.scalars(select(WorkerHeartbeat.worker)).all()
        assert silent.endswith(f":{first.pid}")

    time.sleep(STALE + 0.5)  # the batch's own heartbeat is now stale: the next worker resumes
    second = _worker(app, log)
    try:
        _wait(lambda: _batch(app).status == "done", 120, "the resumed batch", log)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)

    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)  # N single files, merged N pages, ZIP of N
    assert batch["attempts"] == 2
    assert sorted(batch["rendered_ids"]) == sorted(set(batch["rendered_ids"]))
    text = log.read_text()
    assert f"attempt 2, {len(killed_at.rendered_ids)} already rendered" in text
    with app.app_context():  # the stopped worker said goodbye; the killed one did not
        assert db.session.scalars(select(WorkerHeartbeat.worker)).all() == [silent]


def test_s3_server_killed_then_back_reads_503_uploads_refused_then_everything_recovers(
    app,
    finalist,  # noqa: F811
    kim_client,  # noqa: F811
    tmp_path,
):
    """A SeaweedFS of this test's own, killed and started again on the same data."""
    from tests import s3_server
    from tests.conftest import t
    from tests.submission_fixtures import rows, send_file, use_s3
    from tests.upload_corpus import pdf

    server = s3_server.start(tmp_path / "seaweedfs")
    try:
        use_s3(app, server)
        send_file(kim_client, finalist.file_url("a1"), pdf(), "sk.pdf")
        (item,) = rows(app)
        s3_server.kill(server)

        read = kim_client.get(f"/files/{item.id}")
        assert read.status_code == 503
        assert "Penyimpanan berkas sedang tidak tersedia" in read.get_data(as_text=True)
        upload = send_file(kim_client, finalist.file_url("a3"), pdf("Lain"), "laporan.pdf")
        assert upload.status_code == 503
        assert t(
            app, "The file could not be stored just now. Please try again in a few minutes."
        ) in upload.get_data(as_text=True)
        assert kim_client.get("/readyz").get_json()["failing"] == ["storage"]
        assert len(rows(app)) == 1

        s3_server.restart(server)
        assert kim_client.get(f"/files/{item.id}").status_code == 200
        again = send_file(kim_client, finalist.file_url("a3"), pdf("Lain"), "laporan.pdf")
        assert again.status_code < 400
        assert len(rows(app)) == 2
        assert kim_client.get("/readyz").status_code == 200
    finally:
        s3_server.stop(server)
