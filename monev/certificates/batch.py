"""Certificate batches: every live certificate of an event rendered in the background into
one PDF each, one merged PDF and one ZIP, with progress the admin page polls.

A batch issues nothing: it only reads the event's live certificates. Restart safety:

- A worker *claims* a batch with one conditional UPDATE (queued, or running with a stale
  heartbeat) that also bumps ``attempts``; every later write of that worker is conditional on
  its attempt number, so a worker that lost its claim stops instead of writing over another.
- Each certificate's PDF is stored under a key derived from its code (``single_key``): a rerun
  overwrites the same file, never adds a second one. The ids rendered so far are saved with
  the progress after each chunk, so a resumed batch skips them.
- A consumer that dies leaves the batch "running" with an old heartbeat; the consumer's start
  hook and a periodic check (every minute) enqueue such batches again (``resume_stale``).
- The live set is read again after every chunk and at the end: a certificate revoked or
  reissued meanwhile is left out of (or added to) the merged PDF and the ZIP.

Signing (TTE, monev.certificates.signing): each step's PDFs are signed after rendering; a
certificate that cannot be signed is not stored, the batch fails after storing the ones that
were signed, and "Try again" resumes that same batch (``start``) from where it stopped.

With a remote signing service the admin who starts (or retries) the batch types the
signatory's NIK and passphrase or one-time code. They are never written anywhere: not in the
database, not in the queue (a Huey task's arguments are stored in its SQLite file or Redis
until a worker takes them), not in a log or the audit trail. So such a batch does not go
through the queue: it runs in a thread of the web process that took the admin's request
(``jobs.run_here``), with the credentials in that thread's memory only, gone when the run
ends. A restart kills that run; its batch goes stale, and a worker resuming it has no
passphrase: it fails the batch at once ("type the passphrase again"), keeping the
certificates signed so far, and "Try again" with the passphrase continues it.

Failing loudly: a batch whose task the queue refused (Redis unreachable) is marked failed
with the reason at once (the admin sees it and a button to try again), and a batch that waits
while no worker has a recent heartbeat is shown as waiting for a worker that is not running
(``without_worker``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from monev import jobs
from monev.audit.services import record
from monev.certificates import services, signing
from monev.certificates.models import Certificate
from monev.core.database import write_intent
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.events.models import Event
from monev.extensions import db
from monev.jobs import heartbeat
from monev.signing.backends import Credentials, SigningError
from monev.storage import get_storage, tracking

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "done", "failed")
ACTIVE = ("queued", "running")
# The error of a batch stopped by a signature: "signing:<SigningError.code>:<detail>". Its
# "Try again" resumes the same batch (the certificates signed so far are kept).
SIGNING_FAILED = "signing:"
HEARTBEAT_SECONDS = 10  # while a remote service signs a step, one certificate at a time


class CertificateBatch(db.Model):
    __tablename__ = "certificate_batches"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        # At most one active batch per event.
        Index(
            "uq_certificate_batches_active_event",
            "event_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    done_count: Mapped[int] = mapped_column(default=0)
    # Ids of the certificates whose PDF this batch has stored (resume skips them).
    rendered_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    merged_key: Mapped[str | None] = mapped_column(String(300))
    zip_key: Mapped[str | None] = mapped_column(String(300))

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE


class _LostClaim(Exception):
    """Another worker took the batch over (ours was stale): stop without writing."""


# --- storage keys ---------------------------------------------------------------------------


def single_key(cert: Certificate) -> str:
    """The one storage key of a certificate's PDF (codes hold upper-case letters and '.')."""
    digest = hashlib.sha256(cert.code.encode("utf-8")).hexdigest()[:32]
    return f"certificates/event-{cert.event_id}/{digest}.pdf"


def merged_key_for(batch: CertificateBatch) -> str:
    return f"certificates/event-{batch.event_id}/batch-{batch.id}-semua.pdf"


def zip_key_for(batch: CertificateBatch) -> str:
    return f"certificates/event-{batch.event_id}/batch-{batch.id}.zip"


def merged_filename(event: Event) -> str:
    return f"sertifikat-{event.slug}-semua.pdf"


def zip_filename(event: Event) -> str:
    return f"sertifikat-{event.slug}.zip"


# --- reading ----------------------------------------------------------------------------------


def live_certificates(event: Event) -> list[Certificate]:
    return [c for c in services.for_event(event) if c.revoked_at is None]


def live_count(event: Event) -> int:
    """How many live certificates the event has (one COUNT, for the polled panel)."""
    return db.session.scalar(
        select(func.count(Certificate.id)).where(
            Certificate.event_id == event.id, Certificate.revoked_at.is_(None)
        )
    )


def latest_for(event: Event) -> CertificateBatch | None:
    return db.session.scalar(
        select(CertificateBatch)
        .where(CertificateBatch.event_id == event.id)
        .order_by(CertificateBatch.id.desc())
        .limit(1)
    )


def latest_done(event: Event) -> CertificateBatch | None:
    return db.session.scalar(
        select(CertificateBatch)
        .where(CertificateBatch.event_id == event.id, CertificateBatch.status == "done")
        .order_by(CertificateBatch.id.desc())
        .limit(1)
    )


def _stale_cutoff() -> datetime:
    return utcnow() - timedelta(seconds=current_app.config["CERTIFICATE_BATCH_STALE_SECONDS"])


# --- starting ---------------------------------------------------------------------------------


def start(event: Event, *, actor=None, credentials: Credentials | None = None) -> CertificateBatch:
    """Queue a batch for ``event`` (run once the request commits). Flushes only.

    After a batch stopped by a signature, this resumes that batch. With a remote signing
    service ``credentials`` are required, and the batch runs in this process with them in
    memory (never queued: see the module's docstring)."""
    remote = signing.needs_credentials()
    if remote and credentials is None:
        raise ServiceError(
            _(
                "Type the signatory's NIK and the passphrase or one-time code: the signing "
                "service asks for them at every run."
            ),
            field="nik",
        )
    active = db.session.scalar(
        select(CertificateBatch.id).where(
            CertificateBatch.event_id == event.id, CertificateBatch.status.in_(ACTIVE)
        )
    )
    if active is not None:
        raise ServiceError(
            _("A batch for this event is already running; wait until it ends."), status=409
        )
    total = len(live_certificates(event))
    if not total:
        raise ServiceError(_("This event has no valid certificates yet: issue them first."))
    latest = latest_for(event)
    resumed = (
        latest is not None
        and latest.status == "failed"
        and (latest.error or "").startswith(SIGNING_FAILED)
    )
    if resumed:
        batch = latest
        batch.status, batch.error, batch.finished_at = "queued", None, None
        batch.total, batch.created_at = total, utcnow()
        batch.requested_by_id = getattr(actor, "id", None)
    else:
        batch = CertificateBatch(
            event_id=event.id,
            status="queued",
            total=total,
            done_count=0,
            rendered_ids=[],
            requested_by_id=getattr(actor, "id", None),
            created_at=utcnow(),
            attempts=0,
        )
    try:
        with db.session.begin_nested():
            db.session.add(batch)
    except IntegrityError as exc:  # a concurrent start won the race
        raise ServiceError(
            _("A batch for this event is already running; wait until it ends."), status=409
        ) from exc
    details = {"batch": batch.id, "total": total}
    if resumed:
        details["resumed"] = True
    record("certificates.batch", "event", event.id, details, actor=actor)
    if remote:
        jobs.enqueue_after_commit(_run_here, batch.id, credentials)
    else:
        jobs.enqueue_after_commit(run_batch, batch.id, on_failure=_not_queued)
    return batch


def _run_here(batch_id: int, credentials: Credentials) -> None:
    """The batch run in this process (remote signing: the credentials stay in memory)."""
    jobs.run_here(_process_with, batch_id, credentials)


def _process_with(batch_id: int, credentials: Credentials) -> None:
    process(batch_id, credentials=credentials)


def signing_problem(batch: CertificateBatch | None) -> tuple[str, str] | None:
    """(SigningError code, detail) of a batch stopped by a signature, else None."""
    if batch is None or batch.status != "failed" or not batch.error:
        return None
    if not batch.error.startswith(SIGNING_FAILED):
        return None
    code, _sep, detail = batch.error[len(SIGNING_FAILED) :].partition(":")
    return code, detail.strip()


def _not_queued(error: Exception, batch_id: int) -> str:
    """The queue refused the batch's task: the batch fails now, with the reason (a
    connection of its own: the request's commit is still settling)."""
    where = jobs.queue_where(current_app.config)
    reason = f"could not queue the batch ({where}): {jobs.describe_error(error)}"
    jobs.execute_outside_session(
        update(CertificateBatch.__table__)
        .where(CertificateBatch.id == batch_id, CertificateBatch.status == "queued")
        .values(status="failed", finished_at=utcnow(), error=reason[:2000])
    )
    return _(
        "The certificates are not being generated: the background-job queue (%(where)s) "
        "cannot be reached. Check it with flask --app monev doctor, then press Try again.",
        where=where,
    )


def without_worker(batch: CertificateBatch | None) -> bool:
    """An active batch that has waited past the threshold while no worker is alive."""
    if batch is None or not batch.is_active or jobs.huey.immediate:
        return False
    config = current_app.config
    if batch.status == "queued":
        since, patience = batch.created_at, config["JOBS_WAIT_SECONDS"]
    else:  # running: its worker beats after every chunk
        since, patience = batch.heartbeat_at, config["CERTIFICATE_BATCH_STALE_SECONDS"]
    if since is not None and utcnow() - since < timedelta(seconds=patience):
        return False
    return not heartbeat.alive()


def resume_stale() -> list[int]:
    """Enqueue again the batches a dead worker left: running with an old heartbeat, or
    queued for longer than the stale time (their task was lost). Returns their ids."""
    cutoff = _stale_cutoff()
    ids = list(
        db.session.scalars(
            select(CertificateBatch.id).where(
                or_(
                    and_(
                        CertificateBatch.status == "running",
                        or_(
                            CertificateBatch.heartbeat_at.is_(None),
                            CertificateBatch.heartbeat_at < cutoff,
                        ),
                    ),
                    and_(CertificateBatch.status == "queued", CertificateBatch.created_at < cutoff),
                )
            )
        )
    )
    db.session.rollback()  # end the read before the tasks run (immediate mode)
    for batch_id in ids:
        log.warning("Certificate batch %s: resuming (stale)", batch_id)
        run_batch(batch_id)
    return ids


# --- the job ---------------------------------------------------------------------------------


def _claim(batch_id: int) -> int | None:
    """Take the batch if nobody holds it; returns our attempt number, or None."""
    now = utcnow()
    cutoff = _stale_cutoff()
    db.session.rollback()
    with write_intent():
        result = db.session.execute(
            update(CertificateBatch)
            .where(
                CertificateBatch.id == batch_id,
                or_(
                    CertificateBatch.status == "queued",
                    and_(
                        CertificateBatch.status == "running",
                        or_(
                            CertificateBatch.heartbeat_at.is_(None),
                            CertificateBatch.heartbeat_at < cutoff,
                        ),
                    ),
                ),
            )
            .values(
                status="running",
                attempts=CertificateBatch.attempts + 1,
                heartbeat_at=now,
                started_at=func.coalesce(CertificateBatch.started_at, now),
                error=None,
            )
            .execution_options(synchronize_session=False)
        )
        claimed = result.rowcount == 1
        attempt = db.session.scalar(
            select(CertificateBatch.attempts).where(CertificateBatch.id == batch_id)
        )
        db.session.commit()
    return attempt if claimed else None


def _write(batch_id: int, attempt: int, **values) -> None:
    """A short transaction of our own; raises _LostClaim when the batch is not ours."""
    db.session.rollback()
    with write_intent():
        result = db.session.execute(
            update(CertificateBatch)
            .where(
                CertificateBatch.id == batch_id,
                CertificateBatch.attempts == attempt,
                CertificateBatch.status == "running",
            )
            .values(heartbeat_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            raise _LostClaim
        db.session.commit()


def _already_rendered(batch: CertificateBatch, live: list[Certificate]) -> set[int]:
    """The ids this batch stored before (an earlier attempt) whose file is still there."""
    recorded = set(batch.rendered_ids or [])
    storage = get_storage()
    return {c.id for c in live if c.id in recorded and storage.size(single_key(c)) is not None}


def _live(event_id: int) -> list[Certificate]:
    return live_certificates(db.session.get(Event, event_id))


def _read(storage, key: str) -> bytes:
    with contextlib.closing(storage.open(key)) as fh:
        return fh.read()


def _build_zip(storage, live: list[Certificate], key: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=storage.spool_dir(), prefix="batch-", suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for cert in live:
                with (
                    contextlib.closing(storage.open(single_key(cert))) as src,
                    archive.open(services.filename(cert), "w") as dst,
                ):
                    shutil.copyfileobj(src, dst, 1 << 20)
        storage.put(key, Path(tmp), "application/zip")
    finally:
        Path(tmp).unlink(missing_ok=True)


class _SigningFailed(Exception):
    """A certificate of the step could not be signed (the others were stored)."""

    def __init__(self, number: str, error: SigningError):
        super().__init__(f"{SIGNING_FAILED}{error.code}:certificate {number}: {error}")


def process(batch_id: int, *, credentials: Credentials | None = None) -> None:
    """Run (or resume) the batch; returns quietly when another worker holds it.
    ``credentials``: the signatory's, for a remote signing service (memory only)."""
    attempt = _claim(batch_id)
    if attempt is None:
        log.info("Certificate batch %s: not claimed (finished or held by another worker)", batch_id)
        return
    try:
        if credentials is None and signing.needs_credentials():
            # Resumed by a worker after its run died: nobody here can type the passphrase.
            raise _SigningFailed(
                "-",
                SigningError("the signatory's passphrase or code is needed again", "credentials"),
            )
        _render(batch_id, attempt, credentials)
    except _LostClaim:
        log.warning("Certificate batch %s: taken over by another worker", batch_id)
    except Exception as exc:
        log.exception("Certificate batch %s failed", batch_id)
        db.session.rollback()
        with contextlib.suppress(_LostClaim):
            _write(batch_id, attempt, status="failed", finished_at=utcnow(), error=str(exc)[:2000])


def _render(batch_id: int, attempt: int, credentials: Credentials | None = None) -> None:
    chunk = max(1, int(current_app.config["CERTIFICATE_BATCH_CHUNK"]))
    storage = get_storage()
    batch = db.session.get(CertificateBatch, batch_id)
    event_id, merged_key, zip_key = batch.event_id, merged_key_for(batch), zip_key_for(batch)
    rendered = _already_rendered(batch, _live(event_id))
    log.info(
        "Certificate batch %s: attempt %s, %d already rendered", batch_id, attempt, len(rendered)
    )
    while True:
        live = _live(event_id)  # read again: revoked or reissued meanwhile
        live_ids = {c.id for c in live}  # (a heartbeat's commit expires the rows)
        todo = [c for c in live if c.id not in rendered][:chunk]
        if not todo:
            break
        # A remote-signed run is in a web process (``start``): rendered there, without a
        # pool of worker processes kept alive in it (the remote service does the signing).
        processes = 1 if credentials is not None else current_app.config["CERTIFICATE_PROCESSES"]
        processes = max(1, int(processes))
        keys = [(c.id, c.number, single_key(c)) for c in todo]
        documents = services.pdfs(todo, processes=processes)
        # Signed after the QR is drawn. A certificate that cannot be signed is not stored
        # (never an unsigned file in its place); those signed are kept, then the batch fails
        # and "Try again" resumes it.
        results = signing.sign_each(
            todo,
            documents,
            processes=processes,
            credentials=credentials,
            beat=_beater(batch_id, attempt),
        )
        failed = None
        for (cert_id, number, key), result in zip(keys, results, strict=True):
            if isinstance(result, SigningError):
                failed = failed or _SigningFailed(number, result)
                continue
            storage.put_bytes(key, result, "application/pdf")
            rendered.add(cert_id)
        _write(
            batch_id,
            attempt,
            rendered_ids=sorted(rendered),
            done_count=len(live_ids & rendered),
            total=len(live_ids),
        )
        if failed is not None:
            raise failed
    if not live:
        raise RuntimeError("no valid certificates left")
    storage.put_bytes(
        merged_key,
        services.merge(_read(storage, single_key(c)) for c in live),  # one file at a time
        "application/pdf",
    )
    _build_zip(storage, live, zip_key)
    _finish(batch_id, attempt, event_id, len(live), merged_key, zip_key)


def _beater(batch_id: int, attempt: int):
    """A heartbeat at most every HEARTBEAT_SECONDS (a remote service signing a step of 100
    certificates may take longer than the stale time)."""
    import time

    last = [time.monotonic()]

    def beat() -> None:
        if time.monotonic() - last[0] >= HEARTBEAT_SECONDS:
            _write(batch_id, attempt)
            last[0] = time.monotonic()

    return beat


def _finish(batch_id, attempt, event_id, count, merged_key, zip_key) -> None:
    storage = get_storage()
    db.session.rollback()
    with write_intent():
        # Files no batch needs any more: those of revoked certificates and older batches.
        revoked = db.session.scalars(
            select(Certificate).where(
                Certificate.event_id == event_id, Certificate.revoked_at.is_not(None)
            )
        )
        for cert in revoked:
            tracking.delete_after_commit(storage, single_key(cert))
        older = db.session.scalars(
            select(CertificateBatch).where(
                CertificateBatch.event_id == event_id,
                CertificateBatch.id != batch_id,
                or_(
                    CertificateBatch.merged_key.is_not(None), CertificateBatch.zip_key.is_not(None)
                ),
            )
        )
        for old in older:
            for key in (old.merged_key, old.zip_key):
                if key:
                    tracking.delete_after_commit(storage, key)
            old.merged_key = old.zip_key = None
        result = db.session.execute(
            update(CertificateBatch)
            .where(CertificateBatch.id == batch_id, CertificateBatch.attempts == attempt)
            .values(
                status="done",
                finished_at=utcnow(),
                heartbeat_at=utcnow(),
                done_count=count,
                total=count,
                merged_key=merged_key,
                zip_key=zip_key,
                error=None,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            raise _LostClaim
        db.session.commit()
    log.info("Certificate batch %s done: %d certificates", batch_id, count)


@jobs.task()
def run_batch(batch_id: int) -> None:
    process(batch_id)


@jobs.periodic_task(crontab(minute="*"))
def check_stale_batches() -> None:
    resume_stale()


@jobs.on_consumer_start
def _resume_on_start() -> None:
    resume_stale()
