"""Production operations: the doctor, health and readiness, the storage that is down, and
background jobs that fail loudly (the queue unreachable, no worker running, heartbeats)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from monev import jobs
from monev.certificates.batch import CertificateBatch
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.jobs import heartbeat
from monev.jobs.models import WorkerHeartbeat
from monev.ops import checks
from tests.conftest import count_queries, post, sign_in, t
from tests.submission_fixtures import *  # noqa: F403  (its fixtures)
from tests.submission_fixtures import rows, send_file, use_s3
from tests.test_certificate_batch import queue, setup  # noqa: F401  (fixtures)
from tests.upload_corpus import pdf

UNAVAILABLE = "File storage is temporarily unavailable. Please try again in a few minutes."
NO_WORKER = (
    "No background worker is running: the batch waits until one starts. Start one with "
    "flask --app monev worker; the administration's System page lists the workers."
)
NOT_QUEUED = (
    "The certificates are not being generated: the background-job queue (%(where)s) "
    "cannot be reached. Check it with flask --app monev doctor, then press Try again."
)
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _lines(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        status, _sep, rest = line.partition("  ")
        if status.strip() in ("OK", "FAIL"):
            name = rest.split()[0]
            found[name] = line
    return found


# --- doctor -----------------------------------------------------------------------------------


def test_doctor_says_ok_for_each_check_of_a_sound_installation(app, runner):
    result = runner.invoke(args=["doctor"])
    lines = _lines(result.output)
    assert set(lines) == {
        "database",
        "storage",
        "queue",
        "secret",
        "url",
        "fonts",
        "mail",
        "signing",
        "clock",
    }, result.output
    assert all(line.startswith("OK") for line in lines.values()), result.output
    assert "migrated to the head" in lines["database"]
    assert result.exit_code == 0
    assert "All 9 checks passed." in result.output


def test_doctor_in_production_says_what_to_do_and_exits_non_zero(app, runner):
    app.config.update(ENV_NAME="production", PUBLIC_BASE_URL=None, SMTP_HOST=None)
    result = runner.invoke(args=["doctor"])
    lines = _lines(result.output)
    assert result.exit_code == 1
    assert lines["url"].startswith("FAIL") and "set MONEV_PUBLIC_URL" in lines["url"]
    assert lines["mail"].startswith("FAIL") and "MONEV_SMTP_HOST" in lines["mail"]
    assert lines["secret"].startswith("OK")  # the test config's key counts as set
    app.config.update(PUBLIC_BASE_URL="http://monev.example.id", SESSION_COOKIE_SECURE=True)
    lines = _lines(runner.invoke(args=["doctor"]).output)
    assert lines["url"].startswith("FAIL") and "use https://" in lines["url"]


def test_doctor_names_unreachable_smtp_and_bad_time_zone(app, runner):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, BABEL_DEFAULT_TIMEZONE="Asia/Nowhere")
    lines = _lines(runner.invoke(args=["doctor"]).output)
    assert lines["mail"].startswith("FAIL") and "127.0.0.1:1" in lines["mail"]
    assert lines["clock"].startswith("FAIL") and "MONEV_TIMEZONE" in lines["clock"]


@pytest.mark.real_commits
def test_doctor_on_an_empty_database_says_to_upgrade(app, runner):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(revision="k1drops")
    try:
        lines = _lines(runner.invoke(args=["doctor"]).output)
    finally:
        with app.app_context():
            upgrade()  # on PostgreSQL the next tests share this database
    assert lines["database"].startswith("FAIL")
    assert "run `flask --app monev db upgrade`" in lines["database"]
    assert "k1drops" in lines["database"]


def test_doctor_with_the_queue_unreachable(app, runner):
    app.config.update(REDIS_URL=DEAD_REDIS, HUEY_IMMEDIATE=False)
    jobs.init_app(app)
    try:
        lines = _lines(runner.invoke(args=["doctor"]).output)
    finally:
        app.config.update(REDIS_URL=None, HUEY_IMMEDIATE=True)
        jobs.init_app(app)
    assert lines["queue"].startswith("FAIL")
    assert "Redis 127.0.0.1:1" in lines["queue"] and "REDIS_URL" in lines["queue"]


def test_doctor_finds_a_missing_bucket_and_creates_it_with_fix(app, runner, s3):
    use_s3(app, s3)
    bucket = f"monev-doctor-{uuid.uuid4().hex[:8]}"
    app.config["S3_BUCKET"] = bucket
    lines = _lines(runner.invoke(args=["doctor"]).output)
    assert lines["storage"].startswith("FAIL")
    assert f"bucket '{bucket}'" in lines["storage"] and "--fix" in lines["storage"]
    app.extensions.pop("monev_storage", None)
    lines = _lines(runner.invoke(args=["doctor", "--fix"]).output)
    assert lines["storage"].startswith("OK") and "(created)" in lines["storage"]
    client = s3.client()
    client.head_bucket(Bucket=bucket)
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0  # probe removed
    client.delete_bucket(Bucket=bucket)


def test_web_server_start_logs_the_checks(app, caplog):
    app.config.update(ENV_NAME="production", PUBLIC_BASE_URL=None)
    with caplog.at_level(logging.INFO, logger="monev.doctor"):
        results = checks.log_startup(app)
    assert len(results) == 9
    messages = [r.getMessage() for r in caplog.records if r.name == "monev.doctor"]
    assert any(m.startswith("doctor: OK    database") for m in messages)
    assert any("FAIL  url" in m for m in messages)
    assert any("run `flask --app monev doctor`" in m for m in messages)


# --- health and readiness ---------------------------------------------------------------------


def test_healthz_answers_without_the_database(app, client):
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert statements == []


def test_readyz_reports_each_part_with_its_latency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "storage", "queue"}
    for part in body["checks"].values():
        assert part["ok"] is True and part["ms"] >= 0


def test_readyz_names_the_failing_storage(app, client, tmp_path):
    app.config["STORAGE_DIR"] = str(tmp_path / "unmounted" / "files")  # no parent folder
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["storage"]
    assert body["checks"]["database"]["ok"] and body["checks"]["queue"]["ok"]
    assert "missing" in body["checks"]["storage"]["error"]


def test_readyz_names_an_unreachable_queue(app, client):
    app.config.update(REDIS_URL=DEAD_REDIS, HUEY_IMMEDIATE=False)
    jobs.init_app(app)
    try:
        response = client.get("/readyz")
    finally:
        app.config.update(REDIS_URL=None, HUEY_IMMEDIATE=True)
        jobs.init_app(app)
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["queue"]


# --- storage down -----------------------------------------------------------------------------


def test_files_answer_503_while_the_local_storage_is_gone_then_recover(app, finalist, kim_client):
    send_file(kim_client, finalist.file_url("a1"), pdf(), "sk.pdf")
    (item,) = rows(app)
    folder = Path(app.config["STORAGE_DIR"])
    hidden = folder.with_name("files-unmounted")
    folder.rename(hidden)  # the mount went away
    try:
        response = kim_client.get(f"/files/{item.id}")
        assert response.status_code == 503
        assert t(app, UNAVAILABLE) in response.get_data(as_text=True)
        assert "Penyimpanan berkas sedang tidak tersedia" in response.get_data(as_text=True)
    finally:
        hidden.rename(folder)
    assert kim_client.get(f"/files/{item.id}").status_code == 200
    (folder / item.storage_key).unlink()  # one file gone, the storage there: 404
    assert kim_client.get(f"/files/{item.id}").status_code == 404


def test_s3_down_gives_503_on_reads_and_a_clear_message_on_uploads_then_recovers(
    app, finalist, kim_client, s3
):
    use_s3(app, s3)
    send_file(kim_client, finalist.file_url("a1"), pdf(), "sk.pdf")
    (item,) = rows(app)
    endpoint = app.config["S3_ENDPOINT_URL"]
    app.config["S3_ENDPOINT_URL"] = "http://127.0.0.1:1"  # the S3 server stopped
    app.extensions.pop("monev_storage", None)
    response = kim_client.get(f"/files/{item.id}")
    assert response.status_code == 503
    assert "Penyimpanan berkas sedang tidak tersedia" in response.get_data(as_text=True)
    upload = send_file(kim_client, finalist.file_url("a3"), pdf("Laporan lain"), "laporan.pdf")
    assert upload.status_code == 503
    assert t(
        app, "The file could not be stored just now. Please try again in a few minutes."
    ) in upload.get_data(as_text=True)
    assert kim_client.get("/readyz").get_json()["failing"] == ["storage"]

    app.config["S3_ENDPOINT_URL"] = endpoint  # back
    app.extensions.pop("monev_storage", None)
    assert kim_client.get(f"/files/{item.id}").status_code == 200
    assert send_file(
        kim_client, finalist.file_url("a3"), pdf("Laporan lain"), "laporan.pdf"
    ).status_code in (
        200,
        302,
        303,
    )
    assert len(rows(app)) == 2
    assert kim_client.get("/readyz").status_code == 200


# --- background jobs fail loudly --------------------------------------------------------------


def _admin_client(app, setup):  # noqa: F811
    client = app.test_client()
    sign_in(client, setup.admin.email)
    return client


def _latest(app, setup) -> CertificateBatch:  # noqa: F811
    with app.app_context():
        row = db.session.scalar(
            select(CertificateBatch)
            .where(CertificateBatch.event_id == setup.event_id)
            .order_by(CertificateBatch.id.desc())
        )
        db.session.expunge(row)
        return row


def test_a_batch_the_queue_refuses_fails_with_the_reason_and_a_retry_button(app, setup):  # noqa: F811
    app.config.update(REDIS_URL=DEAD_REDIS, HUEY_IMMEDIATE=False)
    jobs.init_app(app)
    client = _admin_client(app, setup)
    try:
        response = post(client, f"/admin/events/{setup.slug}/certificates/batch")
        assert response.status_code == 303
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    finally:
        app.config.update(REDIS_URL=None, HUEY_IMMEDIATE=True)
        jobs.init_app(app)
    row = _latest(app, setup)
    assert row.status == "failed"
    assert "could not queue the batch (Redis 127.0.0.1:1)" in row.error
    assert t(app, NOT_QUEUED, where="Redis 127.0.0.1:1") in page
    assert t(app, "The certificates are being generated; this page shows the progress.") not in (
        page
    )
    assert t(app, "waiting for the background worker") not in page
    assert t(app, "Try again") in page

    # Once the queue is back, the same button starts a new batch that runs.
    response = post(client, f"/admin/events/{setup.slug}/certificates/batch")
    assert response.status_code == 303
    assert _latest(app, setup).status == "done"


def test_a_batch_waiting_while_no_worker_runs_says_so(app, setup, queue):  # noqa: F811
    client = _admin_client(app, setup)
    post(client, f"/admin/events/{setup.slug}/certificates/batch")
    row = _latest(app, setup)
    assert row.status == "queued"
    progress = f"/admin/events/{setup.slug}/certificates/batch"
    fragment = client.get(progress, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert t(app, "waiting for the background worker") in fragment  # not waited long yet
    assert t(app, NO_WORKER) not in fragment

    with app.app_context():
        db.session.execute(
            update(CertificateBatch)
            .where(CertificateBatch.id == row.id)
            .values(created_at=utcnow() - timedelta(seconds=app.config["JOBS_WAIT_SECONDS"] + 5))
        )
        db.session.commit()
    fragment = client.get(progress, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert t(app, NO_WORKER) in fragment

    with app.app_context():  # a worker starts: its heartbeat is recent
        heartbeat.beat("host-a:1234", app.config["HUEY_NAME"], 2, "thread", utcnow())
    fragment = client.get(progress, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert t(app, NO_WORKER) not in fragment
    assert t(app, "waiting for the background worker") in fragment


def test_workers_heartbeats_are_on_the_system_page(app, setup, queue):  # noqa: F811
    client = _admin_client(app, setup)
    page = client.get("/admin/system").get_data(as_text=True)
    assert (
        t(
            app,
            "No background worker is running: certificate batches and notifications "
            "wait until one starts. Start one on a server with flask --app monev worker.",
        )
        in page
    )

    with heartbeat.Heartbeat(app, 2, "thread") as beating:
        page = client.get("/admin/system").get_data(as_text=True)
        assert beating.ident in page
        assert t(app, "Running") in page
        with app.app_context():
            assert [w.worker for w in heartbeat.alive()] == [beating.ident]
    with app.app_context():  # stopped: its row is gone
        assert db.session.scalar(select(WorkerHeartbeat)) is None

    with app.app_context():  # a worker killed outright: its row stays, silent
        heartbeat.beat("host-b:99", app.config["HUEY_NAME"], 1, "process", utcnow())
        db.session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    page = client.get("/admin/system").get_data(as_text=True)
    assert "host-b:99" in page and t(app, "Silent (stopped or killed)") in page


def test_the_system_page_is_for_admins_only(app, client, login_as):
    login_as("judge")
    assert client.get("/admin/system").status_code == 403


def test_old_heartbeats_are_forgotten_after_a_day(app):
    with app.app_context():
        heartbeat.beat("old:1", "monev", 1, "thread", utcnow())
        db.session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(days=2)))
        db.session.commit()
        heartbeat.beat("new:2", "monev", 1, "thread", utcnow())
        assert [w.worker for w in heartbeat.recent()] == ["new:2"]
