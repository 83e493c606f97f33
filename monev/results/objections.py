"""Provisional results and objections (*masa sanggah*).

Before publishing, the organiser may announce the provisional results to the finalists
with the end of an objection window. Until it closes, a finalist KIM may file objections
(a reason and a link to added evidence). The organiser resolves each one: rejected, or
accepted — optionally reopening the entry's final sheets so its judges can correct them
(scoring needs the event back in its judging phase). Every step goes to the audit log, and
the KIM sees its own objections with their resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from monev.audit import services as audit
from monev.core.errors import ServiceError, require_confirmation
from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from monev.judging import services as judging
from monev.judging.models import Assignment, ScoreSheet
from monev.notify import tell
from monev.results import queries, services
from monev.results.models import Objection, ProvisionalResult

MAX_REASON = 4000


@dataclass
class AnnouncePreview:
    """What announcing the provisional results would do (the confirmation step), or why it
    cannot; nothing changes."""

    problems: list[str]
    finalists: int  # the KIMs that see the provisional ranking
    previous: ProvisionalResult | None
    closes_at: datetime | None  # UTC, as given

    @property
    def version(self) -> int:
        return self.previous.version + 1 if self.previous else 1


def _problems(event: Event, computed) -> list[str]:
    if event.status != "results":
        return [_("Provisional results are announced in the Results phase, before publishing.")]
    if computed.results is None:
        return [computed.problem]
    missing = services.unfinished_sheets(computed.data)
    if missing:
        return [_("Judging is not finished: %(n)d assigned score sheets are not final.", n=missing)]
    return []


def announce_preview(event: Event, closes_at: datetime | None) -> AnnouncePreview:
    computed = services.compute(event, fairness=False)
    return AnnouncePreview(
        problems=_problems(event, computed),
        finalists=len(computed.data.entries),
        previous=queries.latest_provisional(event.id),
        closes_at=closes_at,
    )


def announce(
    event: Event, *, closes_at: datetime | None, actor, confirmed: bool
) -> ProvisionalResult:
    """Freeze the current results as provisional and open the objection window until
    ``closes_at`` (UTC), after the confirmation step. Allowed in the results phase, before
    publication, once every assigned sheet is final or dropped."""
    computed = services.compute(event, fairness=False)
    found = _problems(event, computed)
    if found:
        raise ServiceError(" ".join(found), status=409)
    if closes_at is None or closes_at <= utcnow():
        raise ServiceError(_("The objection window must close in the future."), field="closes_at")
    require_confirmation(confirmed)
    snapshot = services.build_snapshot(computed)
    previous = queries.latest_provisional(event.id)
    provisional = ProvisionalResult(
        event_id=event.id,
        version=previous.version + 1 if previous else 1,
        created_by_id=getattr(actor, "id", None),
        objections_close_at=closes_at,
        digest=snapshot["digest"],
        snapshot=snapshot,
    )
    db.session.add(provisional)
    db.session.flush()
    audit.record(
        "results.provisional_announced",
        "event",
        event.id,
        {
            "version": provisional.version,
            "objections_close_at": closes_at,
            "digest": provisional.digest,
            "finalists": len(computed.data.entries),
        },
        actor=actor,
    )
    finalists = db.session.scalars(
        select(Entry).where(Entry.id.in_([e.id for e in computed.data.entries]))
    ).all()
    tell.provisional_results(event, finalists, closes_at, provisional.version)
    return provisional


def window_open(event: Event, provisional: ProvisionalResult | None) -> bool:
    return (
        provisional is not None
        and event.status == "results"
        and utcnow() < provisional.objections_close_at
    )


def file_objection(
    event: Event, entry: Entry, *, reason: str, evidence_url: str | None, user
) -> Objection:
    provisional = queries.latest_provisional(event.id)
    if not window_open(event, provisional):
        raise ServiceError(_("The objection window is closed."), status=409)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say what you object to and why."), field="reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(_("Use at most %(max)d characters.", max=MAX_REASON), field="reason")
    evidence_url = (evidence_url or "").strip() or None
    if evidence_url and not evidence_url.startswith(("https://", "http://")):
        raise ServiceError(
            _("Give a link that starts with https:// or http://."), field="evidence_url"
        )
    objection = Objection(
        event_id=event.id,
        provisional_id=provisional.id,
        entry_id=entry.id,
        filed_by_id=user.id,
        reason=reason,
        evidence_url=evidence_url,
        status="open",
    )
    db.session.add(objection)
    db.session.flush()
    audit.record(
        "objection.filed",
        "entry",
        entry.id,
        {"objection": objection.id, "reason": reason, "evidence_url": evidence_url},
    )
    return objection


def resolve_objection(
    event: Event, objection_id: int, *, decision: str, note: str, reopen: bool, admin
) -> Objection:
    """Reject or accept an open objection with a note; accepting may reopen every final
    sheet of the entry (through the judging service, which logs each reopening)."""

    objection = db.session.get(Objection, objection_id)
    if objection is None or objection.event_id != event.id:
        raise ServiceError(_("This objection does not exist."), status=404)
    if objection.status != "open":
        raise ServiceError(_("This objection has already been resolved."), status=409)
    if decision not in ("accepted", "rejected"):
        raise ServiceError(_("Accept or reject the objection."), field="decision")
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Explain the decision to the KIM."), field="note")
    reopened = 0
    if decision == "accepted" and reopen:
        sheet_ids = db.session.scalars(
            select(ScoreSheet.id)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .where(Assignment.entry_id == objection.entry_id, ScoreSheet.status == "final")
        ).all()
        reason = _("Objection accepted: %(note)s", note=note)[: judging.REASON_MAX]
        for sheet_id in sheet_ids:
            judging.reopen_sheet(sheet_id, event, admin, reason)
        reopened = len(sheet_ids)
    objection.status = decision
    objection.resolution = note
    objection.resolved_by_id = admin.id
    objection.resolved_at = utcnow()
    objection.reopened_sheets = reopened
    db.session.flush()
    audit.record(
        "objection.resolved",
        "entry",
        objection.entry_id,
        {"objection": objection.id, "decision": decision, "note": note, "reopened": reopened},
    )
    tell.objection_decided(
        db.session.get(Entry, objection.entry_id),
        objection.id,
        _("accepted") if decision == "accepted" else _("rejected"),
        note,
    )
    return objection
