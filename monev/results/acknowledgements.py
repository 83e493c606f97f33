"""The organiser's acknowledgement of each "Check:" of the fairness panel (issue 12).

The scoring core's guidance (:class:`monev.scoring.Message`) marks some findings as
warnings: weak agreement, a lenient or harsh judge, outlying sheets, an unstable ranking.
Publishing is refused while any of them has not been read and acknowledged with a note (at
most :data:`NOTE_MAX` characters) by an admin.

An acknowledgement names its message by a stable key (:func:`message_key`: the code, the
stage and the judge or entry it is about) and the scores it was read on (the digest of
every final score, :func:`monev.results.computing.scores_digest`): when a score changes, the
figures may too, so every check must be acknowledged again. Each acknowledgement is in the
audit log (``fairness.acknowledged``); the published version records those it was published
with (:func:`recorded`).

Services flush; the request commits. The actor is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from monev.audit import services as audit
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.events.models import Event
from monev.extensions import db
from monev.results.computing import Computed, compute, data_digest
from monev.results.messages import describe
from monev.results.models import FairnessAcknowledgement
from monev.scoring import Message

NOTE_MAX = 2000
WARNING = "warning"
KEY_PARTS = ("stage", "judge", "entry")


def message_key(message: Message) -> str:
    """``code`` then ``stage=…``, ``judge=…``, ``entry=…`` where the message has them, e.g.
    ``lenient_judge:stage=adm:judge=12``: the same finding keeps its key when figures move."""
    parts = [message.code]
    parts += [f"{name}={message.params[name]}" for name in KEY_PARTS if name in message.params]
    return ":".join(parts)


@dataclass(frozen=True)
class FairnessCheck:
    """One warning of the fairness panel, and its acknowledgement for the current scores."""

    key: str
    text: str
    acknowledgement: FairnessAcknowledgement | None


def digest_of(computed: Computed) -> str:
    return data_digest(computed.data)[0]


def text_of(computed: Computed, message: Message) -> str:
    """The message in the user's language, with stage and judge names."""
    data = computed.data
    stage_name = {s.key: s.name for s in data.stages}
    return describe(
        message,
        lambda key: stage_name.get(key, str(key)),
        lambda judge: data.judges.get(judge, _("Judge %(id)s", id=judge)),
    )


def checks(computed: Computed) -> list[FairnessCheck]:
    """Every warning of the live fairness report with its acknowledgement, if any, for the
    current scores (one query)."""
    report = computed.fairness
    if computed.results is None or report is None:
        return []
    warnings = {message_key(m): m for m in report.messages if m.severity == WARNING}
    if not warnings:
        return []
    acknowledged = {
        a.key: a
        for a in db.session.scalars(
            select(FairnessAcknowledgement)
            .where(
                FairnessAcknowledgement.event_id == computed.event.id,
                FairnessAcknowledgement.digest == digest_of(computed),
                FairnessAcknowledgement.key.in_(list(warnings)),
            )
            .options(joinedload(FairnessAcknowledgement.created_by))
        )
    }
    return [
        FairnessCheck(key, text_of(computed, message), acknowledged.get(key))
        for key, message in warnings.items()
    ]


def unacknowledged(computed: Computed) -> list[FairnessCheck]:
    return [c for c in checks(computed) if c.acknowledgement is None]


def refusal(count: int) -> str:
    """Why publishing is refused: the same words on the checklist and from the service."""
    return ngettext(
        '%(num)d fairness check ("Check:") is not acknowledged yet: read it in the fairness '
        "panel and acknowledge it with a note.",
        '%(num)d fairness checks ("Check:") are not acknowledged yet: read them in the '
        "fairness panel and acknowledge each with a note.",
        count,
    )


def clean_note(note: str | None) -> str:
    text = (note or "").strip()
    if not text:
        raise ServiceError(
            _("Write what you checked and why the results can stand (or what was done)."),
            field="note",
        )
    if len(text) > NOTE_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=NOTE_MAX), field="note")
    return text


def acknowledge(event: Event, key: str, note: str | None, actor) -> FairnessAcknowledgement:
    """Record ``actor``'s note on the warning ``key`` of the current fairness report, for the
    current scores; a second note on the same check and scores replaces the first."""
    text = clean_note(note)
    computed = compute(event)
    if computed.results is None:
        raise ServiceError(computed.problem, status=409)
    found = next((c for c in checks(computed) if c.key == key), None)
    if found is None:
        raise ServiceError(
            _(
                "This check is no longer in the fairness panel (the scores changed since the "
                "page was loaded): read the panel again."
            ),
            status=409,
        )
    return _record(event, computed, found, text, actor)


def _record(event: Event, computed: Computed, found: FairnessCheck, text: str, actor):
    digest = digest_of(computed)
    row = found.acknowledgement
    if row is None:
        row = FairnessAcknowledgement(event_id=event.id, key=found.key, digest=digest)
        db.session.add(row)
    replaced = row.note
    row.text = found.text
    row.note = text
    row.created_by_id = getattr(actor, "id", None)
    row.created_at = utcnow()
    db.session.flush()
    audit.record(
        "fairness.acknowledged",
        "event",
        event.id,
        {
            "check": found.key,
            "text": found.text,
            "note": text,
            "digest": digest,
            "replaced": replaced,
        },
        actor=actor,
    )
    return row


def acknowledge_all(event: Event, note: str, actor) -> int:
    """Acknowledge every open warning with one note (the command line and the demo: an
    organiser who read them elsewhere); returns how many."""
    text = clean_note(note)
    computed = compute(event)
    missing = unacknowledged(computed)
    for check in missing:
        _record(event, computed, check, text, actor)
    return len(missing)


def recorded(computed: Computed) -> list[dict]:
    """The acknowledgements a version is published with, as plain data."""
    return [
        {
            "key": c.key,
            "text": c.text,
            "note": c.acknowledgement.note,
            "by": c.acknowledgement.created_by.name if c.acknowledgement.created_by else None,
            "at": c.acknowledgement.created_at.replace(microsecond=0).isoformat() + "Z",
        }
        for c in checks(computed)
        if c.acknowledgement is not None
    ]
