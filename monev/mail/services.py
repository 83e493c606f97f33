"""Mail is delivered only when the transaction that asked for it commits.

``send`` queues the message on the database session; an ``after_commit`` hook delivers it
and a rollback discards it, so nobody is mailed about a change that did not happen.
Delivery is SMTP when ``MONEV_SMTP_HOST`` is set, otherwise a ``.eml`` file in the outbox
folder (``MONEV_OUTBOX_DIR``, default ``instance/outbox``), readable at /admin/outbox.
"""

from __future__ import annotations

import email.policy
import os
import smtplib
import ssl
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import event
from sqlalchemy.orm import Session

from monev.extensions import db

_QUEUE_KEY = "monev_outgoing_mail"


def outbox_dir() -> Path:
    path = Path(current_app.config["OUTBOX_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def build(to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="monev.local")
    msg.set_content(body)
    return msg


def send(to: str, subject: str, body: str) -> None:
    message = build(to, subject, body)
    session = db.session()
    session.info.setdefault(_QUEUE_KEY, []).append((current_app._get_current_object(), message))


def send_template(to: str, subject: str, template: str, **context) -> None:
    send(to, subject, render_template(template, **context))


def deliver(app, message: EmailMessage) -> None:
    cfg = app.config
    if cfg.get("SMTP_HOST"):
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=20) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
        return
    folder = Path(cfg["OUTBOX_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(message.as_bytes())
    os.replace(tmp, folder / name)


@event.listens_for(Session, "after_commit")
def _deliver_queued(session: Session) -> None:
    queued = session.info.pop(_QUEUE_KEY, [])
    for app, message in queued:
        try:
            deliver(app, message)
        except Exception:  # the change is committed; a mail failure must not undo it
            app.logger.exception("Could not deliver mail to %s", message["To"])


@event.listens_for(Session, "after_soft_rollback")
def _discard_queued(session: Session, _previous_transaction) -> None:
    session.info.pop(_QUEUE_KEY, None)


# --- reading the outbox -------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    to: str
    subject: str
    sent_at: datetime | None
    body: str


def _read(path: Path) -> OutboxMessage:
    with path.open("rb") as fh:
        msg = BytesParser(policy=email.policy.default).parse(fh)
    body_part = msg.get_body(preferencelist=("plain",))
    try:
        sent_at = parsedate_to_datetime(msg["Date"]) if msg["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    return OutboxMessage(
        name=path.name,
        to=str(msg["To"] or ""),
        # A long subject is folded right after "Subject:"; unfolded, it keeps the fold's
        # leading space, which no reader wants (nor a search for the subject).
        subject=str(msg["Subject"] or "").strip(),
        sent_at=sent_at,
        body=body_part.get_content() if body_part is not None else "",
    )


def list_outbox(query: str = "", limit: int = 200) -> list[OutboxMessage]:
    folder = outbox_dir()
    paths = sorted(folder.glob("*.eml"), reverse=True)
    messages = []
    needle = query.strip().lower()
    for path in paths:
        message = _read(path)
        if needle and needle not in f"{message.to} {message.subject}".lower():
            continue
        messages.append(message)
        if len(messages) >= limit:
            break
    return messages


def read_outbox(name: str) -> OutboxMessage | None:
    """One message by file name; names are checked so no path can leave the folder."""
    folder = outbox_dir()
    if "/" in name or "\\" in name or not name.endswith(".eml") or name.startswith("."):
        return None
    path = folder / name
    if not path.is_file():
        return None
    return _read(path)
