"""The storage janitor: removes what interrupted work leaves behind, never a referenced file.

What it removes, once older than ``SWEEP_AGE_HOURS`` (a day by default):

- spooled uploads and half-written temporary files on this machine (a request killed while
  the body arrived, a worker killed while writing);
- multipart uploads the object store still holds unfinished (an upload killed half-way);
- stored files that no row refers to (a process killed between storing the file and the
  commit of its row).

The last is safe by its order: the stored files are listed first and the references read
after, so a row committed meanwhile is seen; and a file younger than the grace period is
never a candidate (its request may still be about to commit). Every column that holds a
storage key is read in :func:`referenced_keys`; ``tests/test_janitor.py`` fails when a model
gains a ``*_key`` or ``*_path`` column that is not listed there.

``flask --app monev storage sweep [--dry-run]`` runs it by hand; the background worker runs
it every six hours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from huey import crontab
from sqlalchemy import select

from monev import jobs
from monev.certificates.batch import (
    ACTIVE,
    CertificateBatch,
    merged_key_for,
    single_key,
    zip_key_for,
)
from monev.certificates.models import Certificate, CertificateSettings
from monev.core.timeutil import utcnow
from monev.documents.models import SignedDocument
from monev.entries.models import Evidence
from monev.events.models import Event
from monev.extensions import db
from monev.judging.models import Visit, VisitPhoto
from monev.storage import get_storage
from monev.storage.images import rendition_keys

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    dry_run: bool
    spool_files: int = 0
    spool_bytes: int = 0
    uploads_aborted: int = 0
    orphans: int = 0
    orphan_bytes: int = 0
    referenced: int = 0  # stored files kept because a row refers to them
    young: int = 0  # unreferenced files kept because they are younger than the grace period
    removed_keys: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        abort = "would abort" if self.dry_run else "aborted"
        return [
            f"spool: {verb} {self.spool_files} file(s), {_mb(self.spool_bytes)}",
            f"multipart uploads: {abort} {self.uploads_aborted}",
            f"stored files no row refers to: {verb} {self.orphans}, {_mb(self.orphan_bytes)}",
            f"kept: {self.referenced} referenced file(s), {self.young} unreferenced but younger "
            "than the grace period",
        ]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def referenced_keys() -> set[str]:
    """Every storage key a row refers to, directly or by rule."""
    keys: set[str] = set()
    for storage_key, thumbnail_key in db.session.execute(
        select(Evidence.storage_key, Evidence.thumbnail_key)
    ):
        keys.update(k for k in (storage_key, thumbnail_key) if k)
    keys.update(k for k in db.session.scalars(select(Event.logo_path)) if k)
    for background, signatories in db.session.execute(
        select(CertificateSettings.background_key, CertificateSettings.signatories)
    ):
        if background:
            keys.add(background)
        keys.update(s.get("signature_key") for s in signatories or [] if s.get("signature_key"))
    # Each certificate's PDF, named by its code (rows with .code and .event_id).
    keys.update(
        single_key(row)
        for row in db.session.execute(select(Certificate.code, Certificate.event_id))
    )
    keys.update(db.session.scalars(select(SignedDocument.storage_key)))  # signed documents
    for key in db.session.scalars(select(VisitPhoto.storage_key)):  # field visit photos
        keys.add(key)
        keys.update(rendition_keys(key))  # and their smaller copies
    keys.update(
        k for k in db.session.scalars(select(Visit.representative_signature_key)) if k
    )  # the KIM representatives' signatures of visits
    for batch in db.session.scalars(select(CertificateBatch)):
        keys.update(k for k in (batch.merged_key, batch.zip_key) if k)
        if batch.status in ACTIVE:  # files it is about to record
            keys.update((merged_key_for(batch), zip_key_for(batch)))
    return keys


def sweep(*, dry_run: bool = False, now: datetime | None = None) -> SweepReport:
    """Remove the left-overs older than the grace period (see the module's docstring)."""
    storage = get_storage()
    now = now or utcnow()
    cutoff = now - timedelta(hours=float(current_app.config["SWEEP_AGE_HOURS"]))
    report = SweepReport(dry_run=dry_run)

    for path, modified, size in list(storage.debris()):
        if modified < cutoff:
            report.spool_files += 1
            report.spool_bytes += size
            if not dry_run:
                path.unlink(missing_ok=True)

    for upload in list(storage.unfinished_uploads()):
        if upload.initiated < cutoff:
            report.uploads_aborted += 1
            if not dry_run:
                storage.abort_upload(upload)

    stored = list(storage.objects())  # first the files, then the rows (see above)
    referenced = referenced_keys()
    db.session.rollback()
    for obj in stored:
        if obj.key in referenced:
            report.referenced += 1
        elif obj.modified >= cutoff:
            report.young += 1
        else:
            report.orphans += 1
            report.orphan_bytes += obj.size
            report.removed_keys.append(obj.key)
            if not dry_run:
                storage.delete(obj.key)
    for line in report.lines():
        log.info("storage sweep: %s", line)
    return report


@jobs.periodic_task(crontab(minute="17", hour="*/6"))
def sweep_storage() -> None:
    sweep()
