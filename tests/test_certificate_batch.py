"""Certificate batches: background generation of an event's certificate files (single PDFs,
one merged PDF, one ZIP) through Huey, immediate and queued (SQLite and Redis); restart
safety (crash and resume, stale batches re-enqueued, no duplicate files); one active batch
per event; the progress fragment; admin-only downloads."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pikepdf
import pytest
from sqlalchemy import func, select, update

from monev import jobs
from monev.certificates import batch as batches
from monev.certificates import services
from monev.certificates.batch import CertificateBatch
from monev.certificates.models import Certificate
from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.storage import get_storage
from tests.conftest import login, post, t
from tests.factories import make_event

KIMS = 6  # + 1 judge = 7 certificates, rendered in chunks of 3: 3 + 3 + 1
CHUNK = 3


@dataclass
class Setup:
    slug: str
    event_id: int
    admin: object


@pytest.fixture
def setup(app, make_kim, make_user) -> Setup:
    from monev.entries.models import Entry
    from monev.judging.models import EventJudge

    app.config["CERTIFICATE_BATCH_CHUNK"] = CHUNK
    kims = [make_kim(name=f"KIM Batch {i}", village=f"Batch {i}") for i in range(KIMS)]
    judge = make_user("judge", name="Dr. Rahmawati Sulistyo")
    admin = make_user("admin")
    with app.test_request_context(), write_intent():
        built = make_event("monev-2026", title="Monev KIM 2026")
        event, category = built.event, built.categories["desa"]
        for i, kim in enumerate(kims):
            db.session.add(
                Entry(
                    event_id=event.id,
                    kim_id=kim.id,
                    category_id=category.id,
                    code=f"P-{i + 1:02d}",
                    nomination_status="accepted",
                    submission_status="verified",  # judged entries were submitted and verified
                )
            )
        db.session.add(EventJudge(event_id=event.id, user_id=judge.id))
        db.session.flush()
        services.issue(event, "participant")
        services.issue(event, "judge")
        db.session.commit()
        return Setup(event.slug, event.id, admin)


class SimulatedCrash(BaseException):
    """Like a killed process: not an ``Exception``, so the job cannot record a failure."""


@pytest.fixture
def queue(app, request, tmp_path):
    """The app's Huey switched from immediate mode to a real queue (SQLite or Redis) with a
    name of its own; flushed afterwards."""
    backend = getattr(request, "param", "sqlite")
    name = f"monev-test-{uuid.uuid4().hex[:10]}"
    overrides = {"HUEY_IMMEDIATE": False, "HUEY_NAME": name}
    if backend == "redis":
        url = os.environ.get("MONEV_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        try:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        except Exception:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip("Redis is not reachable at 127.0.0.1:6379")
        overrides["REDIS_URL"] = url
    else:
        overrides["HUEY_SQLITE_PATH"] = str(tmp_path / "huey.db")
    app.config.update(overrides)
    jobs.init_app(app)
    yield jobs.huey
    jobs.huey.flush()
    app.config.update(HUEY_IMMEDIATE=True, REDIS_URL=None)
    jobs.init_app(app)


def _drain(huey) -> int:
    """Run every queued task the way a consumer does (dequeue, execute); returns how many."""
    count = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        count += 1
    return count


def _queued_batch(app, setup) -> int:
    """Start a batch without running its task (as if the worker had not taken it yet)."""
    from monev.events.models import Event

    with app.test_request_context(), write_intent():
        batch_id = batches.start(db.session.get(Event, setup.event_id)).id
        db.session().info.pop("monev_jobs_after_commit")  # the task is not enqueued
        db.session.commit()
    return batch_id


def _admin_client(app, setup):
    client = app.test_client()
    login(client, setup.admin.email)
    return client


def _start(client, setup):
    page = f"/admin/events/{setup.slug}/certificates"
    return post(client, f"{page}/batch")


def _batches(app) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(select(CertificateBatch).order_by(CertificateBatch.id))
        return [
            {c.key: getattr(r, c.key) for c in CertificateBatch.__table__.columns} for r in rows
        ]


def _live(app, setup) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            select(Certificate)
            .where(Certificate.event_id == setup.event_id, Certificate.revoked_at.is_(None))
            .order_by(Certificate.seq)
        )
        return [
            {"id": c.id, "key": batches.single_key(c), "name": services.filename(c)} for c in rows
        ]


def _stored_keys(app, setup) -> list[str]:
    with app.app_context():
        prefix = f"certificates/event-{setup.event_id}/"
        return [k for k in get_storage().keys() if k.startswith(prefix)]  # noqa: SIM118


def _read(app, key) -> bytes:
    with app.app_context(), get_storage().open(key) as fh:
        return fh.read()


def _pages(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def _assert_complete(app, setup, batch: dict) -> None:
    """N single PDFs (one per live certificate, no others), merged with N pages, ZIP of N."""
    live = _live(app, setup)
    n = len(live)
    assert (batch["status"], batch["done_count"], batch["total"]) == ("done", n, n)
    singles = sorted(k for k in _stored_keys(app, setup) if "/batch-" not in k)
    assert singles == sorted(c["key"] for c in live)
    assert all(_pages(_read(app, key)) == 1 for key in singles)
    assert _pages(_read(app, batch["merged_key"])) == n
    with zipfile.ZipFile(io.BytesIO(_read(app, batch["zip_key"]))) as archive:
        assert sorted(archive.namelist()) == sorted(c["name"] for c in live)
        assert all(_pages(archive.read(name)) == 1 for name in archive.namelist())


def _count_pdfs_calls(monkeypatch, crash_on: int | None = None) -> list[int]:
    """Wrap ``services.pdfs``: record each chunk's size; raise SimulatedCrash on call
    ``crash_on`` (1-based) before rendering it."""
    calls: list[int] = []
    real = services.pdfs

    def wrapped(certs, **options):
        calls.append(len(certs))
        if crash_on is not None and len(calls) == crash_on:
            raise SimulatedCrash
        return real(certs, **options)

    monkeypatch.setattr(services, "pdfs", wrapped)
    return calls


# --- generation -------------------------------------------------------------------------------


def test_immediate_batch_renders_singles_merged_and_zip(app, setup):
    client = _admin_client(app, setup)
    response = _start(client, setup)
    assert response.status_code == 303
    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)
    assert batch["attempts"] == 1
    assert batch["requested_by_id"] == setup.admin.id
    pdf = client.get(f"/admin/certificate-batches/{batch['id']}/certificates.pdf")
    assert (pdf.status_code, pdf.mimetype) == (200, "application/pdf")
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert _pages(pdf.data) == KIMS + 1
    archive = client.get(f"/admin/certificate-batches/{batch['id']}/certificates.zip")
    assert (archive.status_code, archive.mimetype) == (200, "application/zip")
    assert len(zipfile.ZipFile(io.BytesIO(archive.data)).namelist()) == KIMS + 1


@pytest.mark.parametrize("queue", ["sqlite", "redis"], indirect=True)
def test_queued_batch_runs_when_a_consumer_executes_it(app, setup, queue):
    client = _admin_client(app, setup)
    _start(client, setup)
    (batch,) = _batches(app)
    assert (batch["status"], queue.pending_count()) == ("queued", 1)
    fragment = client.get(
        f"/admin/events/{setup.slug}/certificates/batch", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200  # htmx keeps polling
    assert 'hx-trigger="every 1s"' not in fragment.get_data(as_text=True)  # inner part only
    assert t(app, "%(done)d of %(total)d certificates", done=0, total=KIMS + 1) in (
        fragment.get_data(as_text=True)
    )
    assert _drain(queue) == 1
    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)
    fragment = client.get(
        f"/admin/events/{setup.slug}/certificates/batch", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 286  # htmx stops polling
    assert f"/admin/certificate-batches/{batch['id']}/certificates.zip" in fragment.get_data(
        as_text=True
    )


def test_progress_fragment_shows_numbers_while_running(app, setup, queue):
    client = _admin_client(app, setup)
    _start(client, setup)
    with app.app_context():
        db.session.execute(
            update(CertificateBatch).values(status="running", done_count=3, heartbeat_at=utcnow())
        )
        db.session.commit()
    fragment = client.get(
        f"/admin/events/{setup.slug}/certificates/batch", headers={"HX-Request": "true"}
    )
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert f'<progress value="3" max="{KIMS + 1}"' in html
    assert t(app, "%(done)d of %(total)d certificates", done=3, total=KIMS + 1) in html
    # The full page (no JavaScript) shows the same state, with the polling container.
    page = client.get(f"/admin/events/{setup.slug}/certificates").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in page and 'aria-live="polite"' in page
    assert f'<progress value="3" max="{KIMS + 1}"' in page
    plain = client.get(f"/admin/events/{setup.slug}/certificates/batch")
    assert plain.status_code == 303  # without htmx: the page itself


# --- restart safety ---------------------------------------------------------------------------


def test_crash_after_second_chunk_resumes_without_duplicates(app, setup, monkeypatch):
    calls = _count_pdfs_calls(monkeypatch, crash_on=3)
    batch_id = _queued_batch(app, setup)
    with app.app_context(), pytest.raises(SimulatedCrash):
        batches.process(batch_id)
    (batch,) = _batches(app)
    assert (batch["status"], batch["done_count"], len(batch["rendered_ids"])) == ("running", 6, 6)
    assert len(_stored_keys(app, setup)) == 6

    with app.app_context():
        assert batches.resume_stale() == []  # the heartbeat is fresh: maybe still running
        db.session.execute(
            update(CertificateBatch).values(heartbeat_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
        assert batches.resume_stale() == [batch_id]  # immediate mode: runs now
    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)
    assert calls == [3, 3, 1, 1]  # crashed on the third chunk; the resumed run renders it
    assert batch["attempts"] == 2
    with app.app_context():
        assert db.session.scalar(select(func.count(Certificate.id))) == KIMS + 1


def test_rerun_overwrites_files_and_drops_the_previous_batch_files(app, setup):
    client = _admin_client(app, setup)
    _start(client, setup)
    _start(client, setup)
    first, second = _batches(app)
    _assert_complete(app, setup, second)
    assert (first["merged_key"], first["zip_key"]) == (None, None)
    assert len(_stored_keys(app, setup)) == KIMS + 1 + 2  # singles + merged + ZIP, once


def test_stale_running_batch_is_requeued_on_consumer_start_and_periodically(app, setup, queue):
    client = _admin_client(app, setup)
    _start(client, setup)
    queue.flush()  # the task was lost with the consumer that died
    with app.app_context():
        db.session.execute(
            update(CertificateBatch).values(
                status="running", attempts=1, heartbeat_at=utcnow() - timedelta(minutes=10)
            )
        )
        db.session.commit()
    jobs._on_consumer_start()  # Huey's on_startup hook of a new consumer
    assert queue.pending_count() == 1
    queue.flush()
    batches.check_stale_batches.call_local()  # the periodic check (every minute)
    assert queue.pending_count() == 1
    assert _drain(queue) == 1
    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)
    assert batch["attempts"] == 2


def test_a_batch_held_by_a_live_worker_is_not_taken_over(app, setup, queue, monkeypatch):
    calls = _count_pdfs_calls(monkeypatch)
    client = _admin_client(app, setup)
    _start(client, setup)
    with app.app_context():
        db.session.execute(
            update(CertificateBatch).values(status="running", attempts=1, heartbeat_at=utcnow())
        )
        db.session.commit()
        assert batches.resume_stale() == []
    assert _drain(queue) == 1  # the duplicate task finds the batch claimed and stops
    assert calls == []
    assert _batches(app)[0]["status"] == "running"


@pytest.mark.real_commits
def test_worker_that_lost_its_claim_stops_writing(app, setup, monkeypatch):
    real = services.pdfs

    def steal_then_render(certs, **options):
        with app.app_context():  # another worker takes the batch over meanwhile
            db.session.execute(
                update(CertificateBatch).values(attempts=CertificateBatch.attempts + 1)
            )
            db.session.commit()
        return real(certs, **options)

    monkeypatch.setattr(services, "pdfs", steal_then_render)
    client = _admin_client(app, setup)
    _start(client, setup)
    (batch,) = _batches(app)
    assert (batch["status"], batch["done_count"], batch["merged_key"]) == ("running", 0, None)


def test_revoked_and_reissued_certificates_are_reflected_at_the_end(app, setup, monkeypatch):
    calls = _count_pdfs_calls(monkeypatch, crash_on=2)
    batch_id = _queued_batch(app, setup)
    with app.app_context(), pytest.raises(SimulatedCrash):
        batches.process(batch_id)
    first_three = _live(app, setup)[:3]
    with app.test_request_context(), write_intent():
        services.revoke(db.session.get(Certificate, first_three[0]["id"]), "salah nama")
        services.reissue(db.session.get(Certificate, first_three[1]["id"]), "salah desa")
        db.session.execute(
            update(CertificateBatch).values(heartbeat_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    with app.app_context():
        batches.resume_stale()
    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)  # exactly the live set: revoked files removed
    assert batch["total"] == KIMS  # one revoked; the reissued one replaced its original
    assert calls[0] == 3 and sum(calls[2:]) == KIMS - 1  # the reissue rendered; not the old


def test_failure_is_recorded_and_a_new_batch_may_start(app, setup, monkeypatch):
    real = services.pdfs

    def broken(_certs, **_options):
        raise RuntimeError("WeasyPrint kaput")

    monkeypatch.setattr(services, "pdfs", broken)
    client = _admin_client(app, setup)
    _start(client, setup)
    (batch,) = _batches(app)
    assert (batch["status"], batch["error"]) == ("failed", "WeasyPrint kaput")
    page = client.get(f"/admin/events/{setup.slug}/certificates").get_data(as_text=True)
    assert "WeasyPrint kaput" in page
    monkeypatch.setattr(services, "pdfs", real)
    _start(client, setup)
    assert [b["status"] for b in _batches(app)] == ["failed", "done"]


# --- one active batch per event ---------------------------------------------------------------


def test_second_start_while_active_is_refused(app, setup, queue):
    client = _admin_client(app, setup)
    _start(client, setup)
    response = _start(client, setup)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert t(app, "A batch for this event is already running; wait until it ends.") in page
    assert len(_batches(app)) == 1 and queue.pending_count() == 1


def test_schema_allows_one_active_batch_per_event(app, setup):
    from sqlalchemy.exc import IntegrityError

    with app.app_context(), write_intent():
        for _ in range(2):
            db.session.add(CertificateBatch(event_id=setup.event_id, status="queued"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_event_without_certificates_cannot_start(app, setup):
    with app.app_context(), write_intent():
        db.session.execute(update(Certificate).values(revoked_at=utcnow(), revoke_reason="x"))
        db.session.commit()
    client = _admin_client(app, setup)
    page = client.get(_start(client, setup).headers["Location"]).get_data(as_text=True)
    assert t(app, "This event has no valid certificates yet: issue them first.") in page
    assert _batches(app) == []


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["kim", "judge", "operator", "anonymous"])
def test_batch_downloads_are_for_admins_only(app, setup, make_user, role):
    _start(_admin_client(app, setup), setup)
    (batch,) = _batches(app)
    client = app.test_client()
    if role != "anonymous":
        login(client, make_user(role).email)
    for url in (
        f"/admin/certificate-batches/{batch['id']}/certificates.pdf",
        f"/admin/certificate-batches/{batch['id']}/certificates.zip",
        f"/admin/events/{setup.slug}/certificates/batch",
    ):
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/login")
        else:
            assert response.status_code == 403


# --- configuration and the worker command -----------------------------------------------------


def test_queue_storage_follows_the_config(app, tmp_path):
    from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

    assert isinstance(jobs.huey.storage, MemoryStorage) and jobs.huey.immediate  # testing
    app.config.update(HUEY_IMMEDIATE=False, HUEY_SQLITE_PATH=None)
    jobs.init_app(app)
    assert isinstance(jobs.huey.storage, SqliteStorage)
    assert app.config["HUEY_SQLITE_PATH"] == os.path.join(app.instance_path, "huey.db")
    app.config.update(REDIS_URL="redis://127.0.0.1:6379/0", HUEY_NAME="monev-other")
    jobs.init_app(app)
    assert isinstance(jobs.huey.storage, RedisStorage) and jobs.huey.name == "monev-other"
    app.config.update(HUEY_IMMEDIATE=True, REDIS_URL=None, HUEY_NAME="monev")
    jobs.init_app(app)


def test_worker_command_refuses_immediate_mode(app):
    runner = app.test_cli_runner()
    assert "--workers" in runner.invoke(args=["worker", "--help"]).output
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 1 and "HUEY_IMMEDIATE" in result.output
