"""Submissions: an accepted KIM fills in its entry and submits it; the organiser verifies it.

The submission window (when a KIM may change its entry), checked on the server for every
change whatever the page sent:

- the entry's nomination is accepted, and
- either the entry is not submitted yet (not started / in progress), the event is in its
  "submission" phase, and now (UTC) is within the first stage's window: the stage with the
  lowest position (Administrasi), from its ``opens_at`` (inclusive) to its ``closes_at``
  (exclusive); a missing bound leaves that side open;
- or the organiser has sent the entry back for fixes, the event is still in its submission
  or verification phase, and now is before the entry's personal deadline.

A submitted or verified entry is read-only. Every change locks the entry row first (PostgreSQL;
SQLite's write lock already serialises), so a submit and an upload cannot interleave.
Services flush; the request commits once, and files written for a request that then fails are
removed with its rollback (``monev.storage.tracking``).
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monev.audit import services as audit
from monev.core.access import ADMIN, KIM
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local
from monev.entries.models import Entry, Evidence
from monev.entries.workspace import queries
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.mail import services as mail
from monev.rubrics.models import Criterion
from monev.storage import StorageError, antivirus, get_storage, inspection, tracking
from monev.storage.spool import SpoolFile

EDITABLE = ("not_started", "in_progress")
VERIFYING_PHASES = ("submission", "verification")
NOTE_MAX = 2000
URL_MAX = 1000
MAX_ITEMS_PER_CRITERION = 10
NAME_MAX = 255

STATUS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted"),
    "returned": _l("Sent back for fixes"),
    "verified": _l("Verified"),
}

# The entry's profile: the directory's fields a judge needs, copied into the entry.
PROFILE_FIELDS = (
    "sk_number",
    "sk_date",
    "chair_name",
    "members_count",
    "phone",
    "email",
    "website",
    "social_links",
    "description",
)
REQUIRED_PROFILE = {
    "sk_number": _l("SK number"),
    "sk_date": _l("SK date"),
    "chair_name": _l("Chairperson"),
    "members_count": _l("Number of members"),
    "phone": _l("Phone / WhatsApp"),
}


# --- the window ----------------------------------------------------------------------------


def first_stage(event: Event) -> Stage | None:
    """The stage whose window is the submission window: the lowest position (then id)."""
    return min(event.stages, key=lambda s: (s.position, s.id), default=None)


@dataclass(frozen=True)
class Window:
    open: bool
    reason: str | None  # why it is not open, for the KIM
    deadline: datetime | None  # UTC: the closing time that applies to this entry


def format_when(utc: datetime, event: Event) -> str:
    """A UTC time as the event's wall clock, e.g. "28 Juni 2024, 23:59 WITA"."""
    local = to_local(utc, event.timezone)
    text = format_datetime(local, "d MMMM yyyy, HH:mm", rebase=False)
    return f"{text} {tz_label(event.timezone)}"


def window(entry: Entry, now: datetime | None = None) -> Window:
    """Whether the KIM may change ``entry`` now (see the module docstring for the rule)."""
    now = now or utcnow()
    event = entry.event
    if entry.nomination_status != "accepted":
        return Window(False, _("This entry's nomination has not been accepted."), None)
    status = entry.submission_status
    if status == "returned":
        deadline = entry.personal_deadline
        if event.status not in VERIFYING_PHASES:
            return Window(False, _("The organiser has closed submissions for this event."), None)
        if deadline is None or now >= deadline:
            return Window(
                False,
                _(
                    "The deadline for your fixes passed on %(when)s.",
                    when=format_when(deadline, event),
                )
                if deadline
                else _("The organiser has not set a deadline for your fixes."),
                deadline,
            )
        return Window(True, None, deadline)
    if status == "submitted":
        return Window(False, _("Your entry has been submitted and can no longer be changed."), None)
    if status == "verified":
        return Window(False, _("Your entry has been verified and can no longer be changed."), None)
    stage = first_stage(event)
    closes = stage.closes_at if stage else None
    if event.status != "submission":
        if event.at_least("submission"):
            return Window(False, _("The submission window of this event has closed."), closes)
        return Window(False, _("The submission window of this event has not opened yet."), closes)
    if stage and stage.opens_at and now < stage.opens_at:
        return Window(
            False,
            _("The submission window opens on %(when)s.", when=format_when(stage.opens_at, event)),
            closes,
        )
    if closes and now >= closes:
        return Window(
            False,
            _("The submission window closed on %(when)s.", when=format_when(closes, event)),
            closes,
        )
    return Window(True, None, closes)


def _require_open(entry: Entry) -> None:
    state = window(entry)
    if not state.open:
        current_app.logger.info(
            "Refused change to entry %s (%s): %s", entry.id, entry.submission_status, state.reason
        )
        raise ServiceError(state.reason, status=409)


def _lock(entry: Entry) -> Entry:
    locked = db.session.scalar(
        select(Entry)
        .where(Entry.id == entry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise ServiceError(_("This entry was not found."), status=404)
    return locked


def _require_own(user, entry: Entry) -> None:
    if user.role != KIM or user.kim_id != entry.kim_id:
        raise ServiceError(_("This entry was not found."), status=404)


def _touch(entry: Entry) -> None:
    if entry.submission_status == "not_started":
        entry.submission_status = "in_progress"


# --- slots: criteria and the presentation --------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """Where evidence goes: a criterion, or (criterion None) the presentation."""

    criterion: Criterion | None

    @property
    def key(self) -> str:
        return f"criterion-{self.criterion.id}" if self.criterion else "presentation"

    @property
    def label(self) -> str:
        if self.criterion is None:
            return str(_l("Presentation"))
        return f"{self.criterion.key.upper()} {self.criterion.name}"

    @property
    def kinds(self) -> tuple[str, ...]:
        if self.criterion is None:
            return ("file", "link")
        return {"file": ("file",), "link": ("link",), "either": ("file", "link")}.get(
            self.criterion.evidence, ()
        )

    @property
    def file_types(self) -> tuple[str, ...]:
        return (
            inspection.PRESENTATION_TYPES if self.criterion is None else inspection.EVIDENCE_TYPES
        )

    @property
    def accepts_video_file(self) -> bool:
        return "mp4" in self.file_types

    @property
    def accept(self) -> str:
        """The file input's ``accept`` list (a convenience: the server checks the content)."""
        exts = []
        for key in self.file_types:
            ftype = inspection.TYPES[key]
            exts.append(f".{ftype.ext}")
            if key == "jpeg":
                exts.append(".jpeg")
        return ",".join(exts + [inspection.TYPES[k].content_type for k in self.file_types])

    @property
    def type_labels(self) -> str:
        return ", ".join(str(inspection.TYPES[k].label) for k in self.file_types)

    @property
    def max_items(self) -> int:
        return 1 if self.criterion is None else MAX_ITEMS_PER_CRITERION


def slot_for(entry: Entry, criterion_id: int | None) -> Slot:
    if criterion_id is None:
        return Slot(None)
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.event_id != entry.event_id or criterion.evidence == "none":
        raise ServiceError(_("This criterion was not found in your entry."), status=404)
    return Slot(criterion)


def _require_kind(slot: Slot, kind: str) -> None:
    if kind in slot.kinds:
        return
    if kind == "file":
        raise ServiceError(_("This criterion asks for a link, not a file."), field="url")
    raise ServiceError(_("This criterion asks for a file, not a link."), field="file")


def _slot_items(entry: Entry, slot: Slot) -> list[Evidence]:
    stmt = select(Evidence).where(Evidence.entry_id == entry.id)
    if slot.criterion is None:
        stmt = stmt.where(Evidence.criterion_id.is_(None))
    else:
        stmt = stmt.where(Evidence.criterion_id == slot.criterion.id)
    return list(db.session.scalars(stmt.order_by(Evidence.id)))


def _room_for_one_more(slot: Slot, items: list[Evidence]) -> list[Evidence]:
    """The items a new one replaces (the presentation has one); refuses a full criterion."""
    if slot.criterion is None:
        return items
    if len(items) >= slot.max_items:
        raise ServiceError(
            _(
                "This criterion already has %(n)d files and links, the most allowed. Remove one "
                "first.",
                n=len(items),
            ),
            status=409,
        )
    return []


def _remove_rows(items: list[Evidence]) -> None:
    storage = get_storage()
    for item in items:
        for key in (item.storage_key, item.thumbnail_key):
            if key:
                tracking.delete_after_commit(storage, key)
        db.session.delete(item)
    db.session.flush()


def evidence_snapshot(item: Evidence, slot: Slot) -> dict:
    return {
        "slot": slot.criterion.key if slot.criterion else "presentation",
        "kind": item.kind,
        "name": item.original_name,
        "url": item.url,
        "content_type": item.content_type,
        "size": item.size,
        "sha256": item.sha256,
    }


# --- files ---------------------------------------------------------------------------------


def display_name(raw: str | None) -> str:
    """The uploaded name, for display only: last path part, no control or direction
    characters, NFC, at most 255 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = " ".join(name.split()).strip(" .")
    if len(name) > NAME_MAX:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: NAME_MAX - len(suffix)] + suffix
    return name or "file"


def download_name(item: Evidence) -> str:
    """The display name, with the real type's extension when the name claims another."""
    name = item.original_name or "file"
    ext = next(
        (t.ext for t in inspection.TYPES.values() if t.content_type == item.content_type), None
    )
    if ext is None:
        return name
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    if suffix == ext or (ext == "jpg" and suffix in ("jpg", "jpeg")):
        return name
    return f"{name}.{ext}"


def _storage_key(entry: Entry, ext: str) -> str:
    return f"entries/{entry.id}/{uuid.uuid4().hex}.{ext}"


def _check_duplicate(entry: Entry, sha256: str, replaced: list[Evidence]) -> None:
    replaced_ids = {item.id for item in replaced}
    existing = db.session.scalar(
        select(Evidence).where(Evidence.entry_id == entry.id, Evidence.sha256 == sha256)
    )
    if existing is not None and existing.id not in replaced_ids:
        where = Slot(existing.criterion).label
        raise ServiceError(
            _(
                "This file is already part of your entry: “%(name)s” under %(where)s.",
                name=existing.original_name,
                where=where,
            ),
            field="file",
            status=409,
        )


def _scan(path: Path) -> None:
    address = current_app.config.get("CLAMD_ADDRESS")
    if not address:
        return
    try:
        antivirus.scan(path, address)
    except antivirus.VirusFound as exc:
        current_app.logger.warning("Upload refused: virus %s found", exc.signature)
        raise ServiceError(
            _(
                "The virus scanner found %(name)s in this file, so it was refused.",
                name=exc.signature,
            ),
            field="file",
        ) from exc
    except antivirus.ScanError as exc:
        current_app.logger.error("Upload refused: virus scan failed: %s", exc)
        raise ServiceError(
            _(
                "The file could not be checked for viruses just now, so it was not accepted. "
                "Please try again in a few minutes."
            ),
            field="file",
            status=503,
        ) from exc


def add_file(user, entry: Entry, slot: Slot, upload) -> Evidence:
    """Check the uploaded file (a werkzeug FileStorage spooled by ``UploadRequest``) and store
    it for ``slot``; the presentation's previous file or link is replaced."""
    _require_own(user, entry)
    entry = _lock(entry)
    _require_open(entry)
    _require_kind(slot, "file")
    spool = getattr(upload, "stream", None)
    if (
        upload is None
        or not isinstance(spool, SpoolFile)
        or (not upload.filename and not spool.size)
    ):
        raise ServiceError(_("Choose a file to upload."), field="file")
    if spool.size == 0:
        raise ServiceError(_("The file is empty."), field="file")
    replaced = _room_for_one_more(slot, _slot_items(entry, slot))
    spool.flush()
    checked = None
    try:
        try:
            checked = inspection.inspect(
                spool.path,
                spool.head,
                slot.file_types,
                max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
                sha256=spool.sha256,
            )
        except inspection.Refused as exc:
            current_app.logger.info("Upload refused for entry %s: %s", entry.id, exc.message)
            raise ServiceError(exc.message, field="file") from exc
        _scan(checked.path)
        _check_duplicate(entry, checked.sha256, replaced)
        item = _store(user, entry, slot, upload, spool, checked, replaced)
    finally:
        if checked is not None and checked.path != spool.path:
            checked.path.unlink(missing_ok=True)  # a re-encoded image not stored after all
    return item


def _store(user, entry, slot, upload, spool, checked, replaced) -> Evidence:
    storage = get_storage()
    ftype = checked.type
    key = _storage_key(entry, ftype.ext)
    source = spool.claim() if checked.path == spool.path else checked.path
    thumbnail_key = key.rsplit(".", 1)[0] + ".thumb.jpg" if checked.thumbnail else None
    try:
        tracking.stored(storage, key)
        storage.put(key, source, ftype.content_type)
        if thumbnail_key:
            tracking.stored(storage, thumbnail_key)
            storage.put_bytes(thumbnail_key, checked.thumbnail, "image/jpeg")
    except StorageError as exc:
        current_app.logger.error("Could not store an upload of entry %s: %s", entry.id, exc)
        raise ServiceError(
            _("The file could not be stored just now. Please try again in a few minutes."),
            field="file",
            status=503,
        ) from exc
    _remove_rows(replaced)
    item = Evidence(
        entry_id=entry.id,
        criterion_id=slot.criterion.id if slot.criterion else None,
        kind="file",
        storage_key=key,
        thumbnail_key=thumbnail_key,
        original_name=display_name(upload.filename),
        content_type=ftype.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by_id=user.id,
    )
    _insert(item, entry)
    audit.record("evidence.added", "entry", entry.id, evidence_snapshot(item, slot))
    return item


def _insert(item: Evidence, entry: Entry) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(item)
            db.session.flush()
    except IntegrityError as exc:  # the same file added meanwhile by another request
        raise ServiceError(
            _("This file is already part of your entry."), field="file", status=409
        ) from exc
    _touch(entry)
    db.session.flush()


# --- links ---------------------------------------------------------------------------------


def clean_url(raw: str | None) -> str:
    from urllib.parse import urlsplit

    url = (raw or "").strip()
    if not url:
        raise ServiceError(_("Enter the link."), field="url")
    if len(url) > URL_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=URL_MAX), field="url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not host
        or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url)
    ):
        raise ServiceError(
            _("Enter a full web address starting with http:// or https://."), field="url"
        )
    return url


def add_link(user, entry: Entry, slot: Slot, raw_url: str | None) -> Evidence:
    _require_own(user, entry)
    entry = _lock(entry)
    _require_open(entry)
    _require_kind(slot, "link")
    url = clean_url(raw_url)
    items = _slot_items(entry, slot)
    replaced = _room_for_one_more(slot, items)
    if any(item.url == url for item in items if item not in replaced):
        raise ServiceError(_("This link is already listed here."), field="url", status=409)
    _remove_rows(replaced)
    item = Evidence(
        entry_id=entry.id,
        criterion_id=slot.criterion.id if slot.criterion else None,
        kind="link",
        url=url,
        uploaded_by_id=user.id,
    )
    _insert(item, entry)
    audit.record("evidence.added", "entry", entry.id, evidence_snapshot(item, slot))
    return item


def remove(user, entry: Entry, evidence_id: int) -> Slot:
    _require_own(user, entry)
    entry = _lock(entry)
    item = db.session.get(Evidence, evidence_id)
    if item is None or item.entry_id != entry.id:
        raise ServiceError(_("This file or link was not found in your entry."), status=404)
    _require_open(entry)
    slot = Slot(item.criterion)
    audit.record("evidence.removed", "entry", entry.id, evidence_snapshot(item, slot))
    _remove_rows([item])
    return slot


# --- the profile ---------------------------------------------------------------------------


def profile_values(entry: Entry) -> dict:
    """The entry's profile, or the directory's values while it has none of its own."""
    if entry.profile is not None:
        values = dict(entry.profile)
        if values.get("sk_date"):
            values["sk_date"] = date.fromisoformat(values["sk_date"])
        return values
    kim = entry.kim
    values = {field: getattr(kim, field) for field in PROFILE_FIELDS}
    values["social_links"] = list(kim.social_links or [])
    return values


def _clean_profile(data: dict) -> dict:
    cleaned = {}
    for field in PROFILE_FIELDS:
        value = data.get(field)
        if isinstance(value, str):
            value = value.strip() if field == "description" else " ".join(value.split())
            value = value or None
        cleaned[field] = value
    links = data.get("social_links") or []
    if isinstance(links, str):
        links = [line.strip() for line in links.splitlines() if line.strip()]
    cleaned["social_links"] = links
    if cleaned.get("email"):
        cleaned["email"] = cleaned["email"].lower()
    if isinstance(cleaned.get("sk_date"), date):
        cleaned["sk_date"] = cleaned["sk_date"].isoformat()
    return cleaned


def save_profile(user, entry: Entry, data: dict) -> Entry:
    _require_own(user, entry)
    entry = _lock(entry)
    _require_open(entry)
    before = entry.profile or {}
    entry.profile = _clean_profile(data)
    _touch(entry)
    db.session.flush()
    changes = audit.diff(before, entry.profile)
    if changes:
        audit.record("entry.profile_saved", "entry", entry.id, changes)
    return entry


# --- completeness --------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    anchor: str  # the card's id on the workspace page
    label: str
    done: bool
    missing: str | None  # exactly what is missing, when not done


def checklist(entry: Entry, criteria: list[Criterion], items: list[Evidence]) -> list[Check]:
    """What the entry still needs before it can be submitted, in page order."""
    checks = []
    values = profile_values(entry)
    absent = [str(label) for field, label in REQUIRED_PROFILE.items() if not values.get(field)]
    checks.append(
        Check(
            "profile",
            str(_l("Profile")),
            not absent,
            _("Fill in: %(fields)s.", fields=", ".join(absent)) if absent else None,
        )
    )
    by_slot: dict[int | None, list[Evidence]] = {}
    for item in items:
        by_slot.setdefault(item.criterion_id, []).append(item)
    for criterion in criteria:
        slot = Slot(criterion)
        kinds = slot.kinds
        present = [i for i in by_slot.get(criterion.id, []) if i.kind in kinds]
        if kinds == ("file",):
            missing = _("Upload a file.")
        elif kinds == ("link",):
            missing = _("Add a link.")
        else:
            missing = _("Upload a file or add a link.")
        checks.append(Check(slot.key, slot.label, bool(present), None if present else missing))
    presentation = by_slot.get(None, [])
    checks.append(
        Check(
            "presentation",
            str(_l("Presentation")),
            bool(presentation),
            None
            if presentation
            else _("Upload the presentation (PDF or PPTX) or give a link to its video."),
        )
    )
    return checks


def missing_items(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.done]


# --- submitting ----------------------------------------------------------------------------


def submit(user, entry: Entry) -> Entry:
    _require_own(user, entry)
    entry = _lock(entry)
    _require_open(entry)
    checks = checklist(entry, queries.evidence_criteria(entry.event_id), queries.items(entry.id))
    missing = missing_items(checks)
    if missing:
        raise ServiceError(
            _(
                "Your entry cannot be submitted yet. Still missing: %(items)s",
                items="; ".join(f"{c.label}: {c.missing}" for c in missing),
            ),
            status=409,
        )
    before = entry.submission_status
    entry.submission_status = "submitted"
    entry.submitted_at = utcnow()
    db.session.flush()
    audit.record(
        "entry.submitted",
        "entry",
        entry.id,
        {"code": entry.code, "status": [before, "submitted"]},
    )
    return entry


# --- verification (the organiser) ----------------------------------------------------------


def _require_admin(user) -> None:
    if user.role != ADMIN:
        raise ServiceError(_("Only the organiser verifies entries."), status=403)


def _require_verifying(event: Event) -> None:
    if event.status not in VERIFYING_PHASES:
        raise ServiceError(
            _("Entries can be verified only in the submission and verification phases."),
            status=409,
        )


def verify(user, entry: Entry) -> Entry:
    _require_admin(user)
    entry = _lock(entry)
    _require_verifying(entry.event)
    if entry.submission_status != "submitted":
        raise ServiceError(
            _(
                "Only a submitted entry can be marked complete; this one is: %(status)s.",
                status=STATUS_LABELS[entry.submission_status],
            ),
            status=409,
        )
    entry.submission_status = "verified"
    entry.verified_at = utcnow()
    entry.verified_by_id = user.id
    db.session.flush()
    audit.record(
        "entry.verified",
        "entry",
        entry.id,
        {"code": entry.code, "status": ["submitted", "verified"]},
    )
    return entry


def send_back(user, entry: Entry, note: str | None, deadline_local: datetime | None) -> Entry:
    """Return a submitted (or verified) entry for fixes, with a note the KIM reads and a
    personal deadline (``deadline_local``: wall-clock time in the event's zone)."""
    _require_admin(user)
    entry = _lock(entry)
    event = entry.event
    _require_verifying(event)
    if entry.submission_status not in ("submitted", "verified"):
        raise ServiceError(
            _(
                "Only a submitted or verified entry can be sent back; this one is: %(status)s.",
                status=STATUS_LABELS[entry.submission_status],
            ),
            status=409,
        )
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Write what the KIM must fix: it is sent to them."), field="note")
    if len(note) > NOTE_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=NOTE_MAX), field="note")
    if deadline_local is None:
        raise ServiceError(_("Set the deadline for the fixes."), field="deadline")
    from monev.core.timezones import to_utc

    deadline = to_utc(deadline_local, event.timezone)
    if deadline <= utcnow():
        raise ServiceError(_("The deadline must be in the future."), field="deadline")
    before = {"status": entry.submission_status, "deadline": entry.personal_deadline}
    entry.submission_status = "returned"
    entry.returned_note = note
    entry.returned_at = utcnow()
    entry.personal_deadline = deadline
    entry.verified_at = None
    entry.verified_by_id = None
    db.session.flush()
    audit.record(
        "entry.returned",
        "entry",
        entry.id,
        {
            "code": entry.code,
            "note": note,
            **audit.diff(before, {"status": "returned", "deadline": deadline}),
        },
    )
    _mail_returned(entry, deadline)
    return entry


def _mail_returned(entry: Entry, deadline: datetime) -> None:
    from monev.auth.services import external_url

    event = entry.event
    link = external_url("workspace.index", slug=event.slug)
    for account in queries.kim_accounts(entry.kim_id):
        mail.send_template(
            account.email,
            _("Your entry needs fixes: %(event)s", event=event.title),
            "mail/entry_returned.txt",
            user=account,
            event=event,
            entry=entry,
            deadline=format_when(deadline, event),
            link=link,
        )
