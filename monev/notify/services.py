"""Telling people: record a notification with the change, deliver it after the commit.

- :func:`notify` records one :class:`Notification` (and a pending :class:`Delivery` per
  channel the person chose) in the *current* transaction: a change that rolls back leaves
  nothing, and the in-app list shows it the moment the change commits. The same
  ``(user, key)`` is recorded once, ever: asking twice (a retried request, a reminder job
  that runs every few minutes) changes nothing.
- After the commit a job delivers the pending rows (:func:`deliver`). A delivery is claimed
  by a conditional UPDATE, so two workers never send the same row; a failure is kept on the
  row and retried with back-off (1, 5, 15, 60, 240 minutes) by a periodic job, up to
  ``MAX_ATTEMPTS``. A gateway that fails never fails the request that caused the message:
  delivery runs after the commit and outside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from huey import crontab
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from monev import jobs
from monev.auth.models import User
from monev.auth.services import external_url
from monev.core.database import is_locked, writing
from monev.core.phone import normalise_phone
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.notify import channels
from monev.notify.catalog import EMAIL, KINDS, WHATSAPP, Kind
from monev.notify.models import Delivery, Notification

BACKOFF_MINUTES = (1, 5, 15, 60, 240)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
CLAIM_TIMEOUT = timedelta(minutes=10)  # a worker killed while sending: the row is due again


# --- recording ------------------------------------------------------------------------------


def notify(
    users: User | Iterable[User],
    kind: str,
    *,
    key: str,
    params: dict,
    event=None,
    link: str | None = None,
) -> int:
    """Record ``kind`` for each of ``users`` (once per user and ``key``); returns how many
    were new. ``params`` are the values of the kind's title and body (strings and numbers);
    ``link`` a path inside the app."""
    definition = KINDS[kind]
    if isinstance(users, User):
        users = [users]
    users = [u for u in users if u is not None and u.active]
    if not users:
        return 0
    full_key = f"{kind}:{key}"
    existing = set(
        db.session.scalars(
            select(Notification.user_id).where(
                Notification.key == full_key, Notification.user_id.in_([u.id for u in users])
            )
        )
    )
    made, delivering = 0, False
    for user in users:
        if user.id in existing:
            continue
        note = Notification(
            user_id=user.id,
            kind=kind,
            key=full_key,
            event_id=getattr(event, "id", None),
            params={k: _plain(v) for k, v in params.items()},
            link=link,
        )
        note.deliveries = _deliveries(user, definition)
        try:
            with db.session.begin_nested():  # a concurrent twin: the unique key decides
                db.session.add(note)
        except IntegrityError:
            continue
        made += 1
        delivering = delivering or bool(note.deliveries)
    if delivering:
        jobs.enqueue_after_commit(deliver_due_task)
    return made


def _plain(value):
    return value if isinstance(value, int | float) or value is None else str(value)


def _deliveries(user: User, definition: Kind) -> list[Delivery]:
    """The channels ``user`` chose that the kind may use. A person invited but not signed up
    yet (no password) gets the invitation only: their notifications wait in the list."""
    out = []
    if user.password_hash is None:
        return out
    if EMAIL in definition.channels and user.notify_email and user.email:
        out.append(Delivery(channel=EMAIL, address=user.email))
    phone = normalise_phone(user.phone)
    if (
        WHATSAPP in definition.channels
        and user.notify_whatsapp
        and phone
        and channels.whatsapp_enabled()
    ):
        out.append(Delivery(channel=WHATSAPP, address=phone))
    return out


# --- rendering ------------------------------------------------------------------------------


class _Params(dict):
    def __missing__(self, key):  # a parameter a message does not get shows as "-"
        return "-"


def render(note: Notification) -> tuple[str, str]:
    """Title and body of ``note`` in the current locale."""
    definition = KINDS[note.kind]
    params = _Params(note.params or {})
    return str(definition.title) % params, str(definition.body) % params


def render_for(note: Notification, user: User) -> tuple[str, str]:
    with force_locale(user.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "id")):
        return render(note)


def message_text(note: Notification, user: User) -> tuple[str, str]:
    """Subject and the text sent by e-mail or WhatsApp, in the person's language: a greeting,
    the body, the link (which opens the notification, marking it read)."""
    title, body = render_for(note, user)
    with force_locale(user.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "id")):
        text = render_template(
            "mail/notification.txt",
            user=user,
            body=body,
            link=_absolute(note),
            event_title=(note.params or {}).get("event", "Monev KIM"),
        )
    return title, text


def _absolute(note: Notification) -> str | None:
    """The link in a message opens the notification (marking it read), then its page."""
    return external_url("notify.open", notification_id=note.id) if note.link else None


# --- delivering -----------------------------------------------------------------------------


def _due_ids(now: datetime, limit: int) -> list[int]:
    return db.session.scalars(
        select(Delivery.id)
        .where(
            or_(
                and_(
                    Delivery.status == "pending",
                    or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
                ),
                and_(Delivery.status == "sending", Delivery.claimed_at <= now - CLAIM_TIMEOUT),
            )
        )
        .order_by(Delivery.id)
        .limit(limit)
    ).all()


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the row for this worker; False when another worker has it or it is done."""
    with writing(db.session()):
        claimed = db.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                or_(
                    Delivery.status == "pending",
                    and_(Delivery.status == "sending", Delivery.claimed_at <= now - CLAIM_TIMEOUT),
                ),
            )
            .values(status="sending", claimed_at=now, attempts=Delivery.attempts + 1)
        ).rowcount
        db.session.commit()
    return bool(claimed)


def _send(delivery: Delivery) -> None:
    note = delivery.notification
    subject, text = message_text(note, note.user)
    if delivery.channel == EMAIL:
        channels.send_email(delivery.address, subject, text)
    else:
        channels.send_whatsapp(delivery.address, f"*{subject}*\n{text}")


def deliver_one(delivery_id: int, now: datetime | None = None) -> str:
    """Send one delivery if it is due; returns its status afterwards."""
    now = now or utcnow()
    if not _claim(delivery_id, now):
        return db.session.get(Delivery, delivery_id).status
    delivery = db.session.get(Delivery, delivery_id)
    try:
        _send(delivery)
    except Exception as error:  # noqa: BLE001 - every failure is kept and retried
        with writing(db.session()):
            delivery.last_error = str(error)[:500]
            if delivery.attempts >= MAX_ATTEMPTS:  # given up: shown to the admin as failed
                delivery.status = "failed"
                delivery.next_attempt_at = None
            else:  # due again after the back-off
                delivery.status = "pending"
                wait = BACKOFF_MINUTES[min(delivery.attempts, len(BACKOFF_MINUTES)) - 1]
                delivery.next_attempt_at = now + timedelta(minutes=wait)
            db.session.commit()
        current_app.logger.warning(
            "Notification %s via %s failed (attempt %d): %s",
            delivery.notification_id,
            delivery.channel,
            delivery.attempts,
            error,
        )
        return delivery.status
    with writing(db.session()):
        delivery.status = "sent"
        delivery.sent_at = utcnow()
        delivery.last_error = None
        db.session.commit()
    return "sent"


@jobs.task()
def deliver_due_task() -> int:
    return deliver_due()


def deliver_due(now: datetime | None = None, limit: int = 200) -> int:
    """Send what is due now (new rows, and failures whose back-off has passed); returns how
    many were sent. After ``MAX_ATTEMPTS`` a delivery stays ``failed``, shown to the admin."""
    now = now or utcnow()
    sent = 0
    for delivery_id in _due_ids(now, limit):
        try:
            sent += deliver_one(delivery_id, now) == "sent"
        except OperationalError as error:
            if not is_locked(error):
                raise
            # Another process held the write lock beyond the busy timeout (a long import):
            # not a failure of the delivery; the next run (at most a minute) sends the rest.
            db.session.rollback()
            current_app.logger.warning(
                "Notifications: the database stayed locked; the rest is sent at the next run"
            )
            break
    return sent


@jobs.periodic_task(crontab(minute="*"))
def retry_deliveries() -> None:
    """Every minute: deliveries whose back-off has passed, and any the after-commit hand-off
    missed (a worker down when the change committed)."""
    deliver_due()


# --- reading --------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) notification of ``user`` read; returns how many."""
    where = [Notification.user_id == user.id, Notification.read_at.is_(None)]
    if notification_id is not None:
        where.append(Notification.id == notification_id)
    return db.session.execute(update(Notification).where(*where).values(read_at=utcnow())).rowcount
