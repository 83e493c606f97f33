"""Nominations: operators propose the KIMs of their district, the organiser decides.

Rules, in the order they are checked:

- operators nominate only while the event is in its nomination window;
- only KIMs of their own kabupaten/kota (another district's KIM is "not found");
- within the district's quota (no quota set means none yet), counting every nomination
  that is not rejected;
- once per KIM and event, in a category of that event;
- a KIM without a KIM account gets one: an invitation to its e-mail address.

Nominations of one event are serialised by locking the event row (PostgreSQL; SQLite
serialises writers anyway), so two operators cannot both take the last place of a quota
or the same entry code. Services flush; the request commits once.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, cast, func, select

from monev.audit import services as audit
from monev.auth import services as auth_services
from monev.auth.models import User
from monev.core.access import OPERATOR
from monev.core.errors import ServiceError
from monev.core.timeutil import utcnow
from monev.directory import services as directory_services
from monev.directory.models import Kim
from monev.entries import standing
from monev.entries.models import Entry
from monev.entries.nominations import queries
from monev.events.models import Category, DistrictQuota, Event
from monev.extensions import db
from monev.mail import services as mail
from monev.notify import tell

CODE_PREFIX = "K-"
DECISIONS = ("accepted", "rejected")
# The organiser may still decide (or change a decision) until verification starts.
DECIDING_STATUSES = ("nomination", "submission")
NOTE_MAX = 2000
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Nomination:
    entry: Entry
    invited: User | None  # the KIM account invited with this nomination, if any


def entry_snapshot(entry: Entry) -> dict:
    return {
        "event_id": entry.event_id,
        "kim_id": entry.kim_id,
        "kim": entry.kim.name,
        "district_id": entry.kim.district_id,
        "category_id": entry.category_id,
        "code": entry.code,
        "status": entry.nomination_status,
        "note": entry.nomination_note,
    }


def _clean_note(note: str | None, field: str = "note") -> str | None:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ServiceError(_("Use at most %(max)d characters.", max=NOTE_MAX), field=field)
    return note or None


def _require_operator(user) -> None:
    if user.role != OPERATOR or not user.district_id:
        raise ServiceError(_("Only district operators nominate KIMs."), status=403)


def _require_window(event: Event, status: str | None = None) -> None:
    """``status``: the one just read under a lock, when newer than ``event.status``."""
    if (status or event.status) != "nomination":
        raise ServiceError(
            _(
                "Nominations for %(event)s are not open: the nomination window is closed.",
                event=event.title,
            ),
            status=409,
        )


def _lock_event(event: Event) -> None:
    """One nomination of this event at a time, and the window checked again under the lock
    in case the organiser closed it meanwhile. FOR NO KEY UPDATE: entries may still reference
    the row. SQLite ignores it; its write lock already serialises."""
    status = db.session.scalar(
        select(Event.status).where(Event.id == event.id).with_for_update(key_share=True)
    )
    _require_window(event, status)


def _check_quota(event: Event, district_id: int) -> None:
    quota = db.session.scalar(
        select(DistrictQuota.quota)
        .where(DistrictQuota.event_id == event.id, DistrictQuota.district_id == district_id)
        .with_for_update()  # an admin lowering the quota meanwhile waits for this nomination
    )
    if quota is None:
        raise ServiceError(
            _(
                "The organiser has not set a quota for your district yet, so no KIM can be "
                "nominated. Please contact the organiser."
            ),
            status=409,
        )
    used = queries.used_places(event.id, district_id)
    if used >= quota:
        raise ServiceError(
            _(
                "Your district's quota is used up: %(used)d of %(quota)d places. Withdraw a "
                "nomination first to nominate another KIM.",
                used=used,
                quota=quota,
            ),
            status=409,
        )


def _row_id(value) -> int | None:
    """A posted id that can be a primary key (a forged 10**20 would overflow PostgreSQL)."""
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


def _category(event: Event, category_id) -> Category:
    category_id = _row_id(category_id)
    category = db.session.get(Category, category_id) if category_id else None
    if category is None or category.event_id != event.id:
        raise ServiceError(_("Choose a category of this event."), field="category_id")
    return category


def _own_kim(user, kim_id) -> Kim:
    kim_id = _row_id(kim_id)
    kim = db.session.get(Kim, kim_id) if kim_id else None
    if kim is None or kim.district_id != user.district_id:
        if kim is not None:
            current_app.logger.warning(
                "Operator %s tried to nominate KIM %s of another district", user.id, kim_id
            )
        raise ServiceError(
            _("This KIM was not found among the KIMs of your district."),
            field="kim_id",
            status=404,
        )
    return kim


def _check_not_nominated(event: Event, kim: Kim) -> None:
    existing = db.session.scalar(
        select(Entry.code).where(Entry.event_id == event.id, Entry.kim_id == kim.id)
    )
    if existing is not None:
        raise ServiceError(
            _(
                "%(kim)s has already been nominated for this event (%(code)s).",
                kim=kim.name,
                code=existing,
            ),
            field="kim_id",
            status=409,
        )


def next_code(event: Event) -> str:
    """Codes K-001, K-002, …: one more than the highest code of the event."""
    highest = db.session.scalar(
        select(func.max(cast(func.substr(Entry.code, len(CODE_PREFIX) + 1), Integer))).where(
            Entry.event_id == event.id, Entry.code.like(f"{CODE_PREFIX}%")
        )
    )
    return f"{CODE_PREFIX}{(highest or 0) + 1:03d}"


def _account_email(kim: Kim, email: str | None) -> str | None:
    """The address to invite when the KIM has no account yet; None when it has one."""
    if queries.has_kim_account(kim.id):
        return None
    email = (email or "").strip() or kim.email
    if not email:
        raise ServiceError(
            _(
                "%(kim)s has no KIM account yet and no e-mail address on record: enter the "
                "e-mail address its account will be sent to.",
                kim=kim.name,
            ),
            field="email",
        )
    return email


def _create_entry(user, event: Event, kim: Kim, category: Category, note, email) -> Nomination:
    invite_to = _account_email(kim, email)
    entry = Entry(
        event_id=event.id,
        kim=kim,
        category=category,
        code=next_code(event),
        nomination_status="nominated",
        nominated_by_id=user.id,
        nomination_note=note,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record("nomination.created", "entry", entry.id, entry_snapshot(entry))
    invited = None
    if invite_to:
        invited = auth_services.invite_user(
            email=invite_to, name=kim.name, role="kim", kim_id=kim.id
        )
    return Nomination(entry, invited)


def nominate(
    user, event: Event, kim_id, category_id, note: str | None = None, email: str | None = None
) -> Nomination:
    """Nominate an existing KIM of the operator's district; ``email`` is used for its
    account invitation when the KIM has no account and no e-mail address of its own."""
    _require_operator(user)
    _require_window(event)
    kim = _own_kim(user, kim_id)
    category = _category(event, category_id)
    note = _clean_note(note)
    _lock_event(event)
    _check_not_nominated(event, kim)
    _check_quota(event, user.district_id)
    return _create_entry(user, event, kim, category, note, email)


def nominate_new_kim(
    user, event: Event, kim_data: dict, category_id, note: str | None = None
) -> Nomination:
    """Add a KIM to the operator's district and nominate it; its account is invited at
    the e-mail address given for the KIM, which is therefore required."""
    _require_operator(user)
    _require_window(event)
    category = _category(event, category_id)
    note = _clean_note(note)
    if not (kim_data.get("email") or "").strip():
        raise ServiceError(
            _("Enter the KIM's e-mail address: its account invitation is sent there."),
            field="email",
        )
    _lock_event(event)
    _check_quota(event, user.district_id)
    kim = directory_services.create_kim(user, {**kim_data, "district_id": user.district_id})
    return _create_entry(user, event, kim, category, note, None)


def _locked(entry: Entry) -> Entry | None:
    """The entry re-read under a row lock; None if it has gone meanwhile."""
    return db.session.scalar(
        select(Entry)
        .where(Entry.id == entry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def withdraw(user, event: Event, entry: Entry) -> None:
    """The operator takes back an undecided nomination of their district; the row goes, so
    the KIM may be nominated again and its place in the quota is free."""
    _require_operator(user)
    _require_window(event)
    entry = _locked(entry)  # not while the organiser decides it
    if entry is None or entry.event_id != event.id or entry.kim.district_id != user.district_id:
        raise ServiceError(_("This nomination was not found."), status=404)
    if entry.nomination_status != "nominated":
        raise ServiceError(
            _(
                "The organiser has already decided on this nomination; it can no longer be "
                "withdrawn."
            ),
            status=409,
        )
    audit.record("nomination.withdrawn", "entry", entry.id, entry_snapshot(entry))
    db.session.delete(entry)
    db.session.flush()


def decide(event: Event, entry: Entry, decision: str, note: str | None) -> Entry:
    """Accept or reject a nomination (a note is required to reject) and tell the
    district's operators. A decision may be changed until verification starts."""
    if decision not in DECISIONS:
        raise ServiceError(_("Choose to accept or to reject the nomination."), field="decision")
    if event.status not in DECIDING_STATUSES:
        raise ServiceError(
            _("Nominations can no longer be decided: the event is past its submission stage."),
            status=409,
        )
    note = _clean_note(note)
    if decision == "rejected" and not note:
        raise ServiceError(
            _("Give a reason for the rejection: the district operator will read it."),
            field="note",
        )
    entry = _locked(entry)  # not while the operator withdraws it
    if entry is None or entry.event_id != event.id:
        raise ServiceError(_("This nomination was not found."), status=404)
    before = {"status": entry.nomination_status, "note": entry.decision_note}
    entry.nomination_status = decision
    entry.decision_note = note
    entry.decided_at = utcnow()
    db.session.flush()
    audit.record(
        "nomination.decided",
        "entry",
        entry.id,
        {
            "code": entry.code,
            "kim": entry.kim.name,
            **audit.diff(before, {"status": decision, "note": note}),
        },
    )
    _mail_operators(event, entry)
    if decision == "accepted" and event.status == "submission":
        # Accepted after submission opened: the KIM is told now what the others heard then
        # (once: a decision changed back and forth does not repeat it).
        stage = standing.first_stage(event)
        tell.submission_opened(event, [entry], stage.closes_at if stage else None)
    return entry


def _mail_operators(event: Event, entry: Entry) -> None:
    link = auth_services.external_url("nominations.district", slug=event.slug)
    for operator in queries.district_operators(entry.kim.district_id):
        if entry.nomination_status == "accepted":
            subject = _("Nomination accepted: %(kim)s", kim=entry.kim.name)
        else:
            subject = _("Nomination rejected: %(kim)s", kim=entry.kim.name)
        mail.send_template(
            operator.email,
            subject,
            "mail/nomination_decision.txt",
            user=operator,
            event=event,
            entry=entry,
            link=link,
        )
