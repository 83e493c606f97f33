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

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monev.audit import services as audit
from monev.core.access import KIM
from monev.core.errors import ServiceError, require_confirmation
from monev.core.timeutil import utcnow
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local
from monev.entries.models import Entry, Evidence
from monev.entries.workspace import queries
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.rubrics.models import Criterion
from monev.storage import inspection

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
# Not needed to submit, but judges read them: the confirmation step names those left empty.
OPTIONAL_PROFILE = {
    "email": _l("E-mail"),
    "website": _l("Website"),
    "social_links": _l("Social media links"),
    "description": _l("Short description"),
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


def require_open(entry: Entry) -> None:
    state = window(entry)
    if not state.open:
        current_app.logger.info(
            "Refused change to entry %s (%s): %s", entry.id, entry.submission_status, state.reason
        )
        raise ServiceError(state.reason, status=409)


def lock_entry(entry: Entry) -> Entry:
    locked = db.session.scalar(
        select(Entry)
        .where(Entry.id == entry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise ServiceError(_("This entry was not found."), status=404)
    return locked


def require_own(user, entry: Entry) -> None:
    if user.role != KIM or user.kim_id != entry.kim_id:
        raise ServiceError(_("This entry was not found."), status=404)


def touch(entry: Entry) -> None:
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
    require_own(user, entry)
    entry = lock_entry(entry)
    require_open(entry)
    before = entry.profile or {}
    entry.profile = _clean_profile(data)
    touch(entry)
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


@dataclass(frozen=True)
class SubmitPreview:
    """What the confirmation step of a submit states (nothing changes)."""

    closed: str | None  # why the entry cannot be submitted now, if it cannot
    missing: list[Check]  # what the checklist still lacks
    criteria: int  # criteria whose evidence is sent
    evidence: int  # their files and links
    links: int  # how many of those, and the presentation, are links
    empty_optional: list[str]  # optional profile fields left empty (their labels)
    deadline: datetime | None  # UTC
    returned: bool  # a resubmission after the organiser sent the entry back

    @property
    def blocked(self) -> bool:
        return bool(self.closed or self.missing)


def submit_preview(entry: Entry) -> SubmitPreview:
    state = window(entry)
    criteria = queries.evidence_criteria(entry.event_id)
    entry_items = queries.items(entry.id)
    checks = checklist(entry, criteria, entry_items)
    asked = {c.id for c in criteria}
    sent = [i for i in entry_items if i.criterion_id in asked]
    values = profile_values(entry)
    return SubmitPreview(
        closed=None if state.open else state.reason,
        missing=missing_items(checks),
        criteria=len({i.criterion_id for i in sent}),
        evidence=len(sent),
        links=sum(1 for i in entry_items if i.kind == "link"),
        empty_optional=[str(label) for f, label in OPTIONAL_PROFILE.items() if not values.get(f)],
        deadline=state.deadline,
        returned=entry.submission_status == "returned",
    )


def submit_consequences(preview: SubmitPreview, event: Event) -> list[str]:
    """What a submit does, with its numbers, in the KIM's words."""
    if preview.criteria:
        sent = _(
            "After submitting, your entry is locked: %(criteria)s with %(evidence)s and the "
            "presentation are sent to the organiser.",
            criteria=ngettext("%(num)d criterion", "%(num)d criteria", preview.criteria),
            evidence=ngettext(
                "%(num)d piece of evidence", "%(num)d pieces of evidence", preview.evidence
            ),
        )
    else:
        sent = _(
            "After submitting, your entry is locked: the profile and the presentation are sent "
            "to the organiser."
        )
    lines = [sent, _("You can no longer change it unless the organiser sends it back to you.")]
    if preview.deadline is not None:
        when = format_when(preview.deadline, event)
        lines.append(
            _(
                "The deadline for your fixes is %(when)s; you may keep working until then.",
                when=when,
            )
            if preview.returned
            else _(
                "The submission deadline is %(when)s; you may keep working until then, but an "
                "entry not submitted by then is not judged.",
                when=when,
            )
        )
    return lines


def submit_warnings(preview: SubmitPreview) -> list[str]:
    """What is allowed but worth a second look before the entry is locked."""
    lines = []
    if preview.empty_optional:
        lines.append(
            ngettext(
                "%(num)d optional profile field is empty: %(fields)s.",
                "%(num)d optional profile fields are empty: %(fields)s.",
                len(preview.empty_optional),
                fields=", ".join(preview.empty_optional),
            )
        )
    if preview.links:
        lines.append(
            ngettext(
                "%(num)d piece of evidence is a link: check that it opens for anyone, "
                "without signing in.",
                "%(num)d pieces of evidence are links: check that each opens for anyone, "
                "without signing in.",
                preview.links,
            )
        )
    return lines


def submit(user, entry: Entry, *, confirmed: bool) -> Entry:
    """Lock the entry and send it to the organiser, after its confirmation step
    (``confirmed``: the KIM ticked that it read :func:`submit_consequences`)."""
    require_own(user, entry)
    entry = lock_entry(entry)
    require_open(entry)
    preview = submit_preview(entry)
    if preview.missing:
        raise ServiceError(
            _(
                "Your entry cannot be submitted yet. Still missing: %(items)s",
                items="; ".join(f"{c.label}: {c.missing}" for c in preview.missing),
            ),
            status=409,
        )
    require_confirmation(confirmed)
    before = entry.submission_status
    entry.submission_status = "submitted"
    entry.submitted_at = utcnow()
    db.session.flush()
    audit.record(
        "entry.submitted",
        "entry",
        entry.id,
        {
            "code": entry.code,
            "status": [before, "submitted"],
            "criteria": preview.criteria,
            "evidence": preview.evidence,
        },
    )
    return entry
