"""Append to and verify the audit log.

``record`` runs inside the caller's transaction, so the log row commits or rolls back with
the change it describes. Appends are serialised so no two writers chain onto the same
previous row: on PostgreSQL a transaction-scoped advisory lock, on SQLite the write lock that
write transactions take at BEGIN IMMEDIATE (see ``monev.core.database``); a deferred SQLite
transaction cannot chain onto a stale head either, since WAL refuses its upgrade instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, has_request_context, request
from sqlalchemy import func, select, text

from monev.audit.models import AuditEntry
from monev.core.timeutil import utcnow
from monev.extensions import db

GENESIS = "0" * 64
#: ``app.extensions`` key of the callable that names the default actor (see ``record``).
ACTOR_SOURCE = "monev.audit_actor"
# Any constant; shared by every process that appends (pg_advisory_xact_lock takes a bigint).
_PG_LOCK_KEY = 0x4D4F4E4556  # "MONEV"


def _canonical(entry) -> bytes:
    payload = {
        "seq": entry.seq,
        "created_at": entry.created_at.isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "ip": entry.ip,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "changes": entry.changes,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(entry) -> str:
    """SHA-256 of the row's content and its link; ``entry`` is a model or a plain row."""
    return hashlib.sha256(_canonical(entry)).hexdigest()


def client_ip() -> str | None:
    """The caller's address (``ProxyFix`` has already applied trusted X-Forwarded-For)."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:45] or None


def _default_actor():
    source = current_app.extensions.get(ACTOR_SOURCE)
    return source() if source is not None else None


def _lock_chain() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def record(
    action: str,
    object_type: str,
    object_id: object = None,
    changes: dict | None = None,
    *,
    actor=None,
) -> AuditEntry:
    """Append one row describing a change made in the current transaction.

    ``actor`` defaults to whoever the app's request layer says is acting: the signed-in user
    (``create_app`` registers ``monev.core.access.signed_in_user`` under
    :data:`ACTOR_SOURCE`); outside a request (CLI, jobs) it is "system" unless a user is
    given. This module does not read the session itself.
    """
    if actor is None:
        actor = _default_actor()
    _lock_chain()
    head = db.session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        seq=(head.seq + 1) if head else 1,
        created_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor=getattr(actor, "email", None) or "system",
        ip=client_ip(),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        changes=_jsonable(changes or {}),
        prev_hash=head.hash if head else GENESIS,
    )
    entry.hash = compute_hash(entry)
    db.session.add(entry)
    db.session.flush()
    return entry


def diff(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for the fields whose value changed (values made JSON-safe)."""
    changed = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changed[key] = [_jsonable(old), _jsonable(new)]
    return changed


def _jsonable(value):
    """Dates as ISO text, tuples as lists, recursively: what JSON can store and hash."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str


@dataclass(frozen=True)
class Verification:
    rows: int
    head_hash: str
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows() -> Iterator:
    """Plain rows (not ORM objects), streamed, so a long log does not fill the session."""
    table = AuditEntry.__table__
    result = db.session.execute(
        select(table).order_by(table.c.seq).execution_options(yield_per=1000)
    )
    yield from result


def verify() -> Verification:
    """Walk the chain: sequence without gaps, each row's hash recomputed and linked.

    Detects an edited row (its hash no longer matches), a deleted or inserted row (gap in
    ``seq`` or a broken link). Removing the newest rows leaves a shorter valid chain: compare
    ``head_hash`` with a copy kept elsewhere (it is printed by ``flask audit verify``).
    """
    problems: list[Problem] = []
    expected_seq, prev_hash, count = 1, GENESIS, 0
    for entry in _rows():
        count += 1
        if entry.seq != expected_seq:
            problems.append(
                Problem(entry.seq, f"expected row {expected_seq}, found {entry.seq}: rows missing")
            )
        if entry.prev_hash != prev_hash:
            problems.append(Problem(entry.seq, "link to the previous row is broken"))
        if compute_hash(entry) != entry.hash:
            problems.append(Problem(entry.seq, "content does not match its hash: row edited"))
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    return Verification(rows=count, head_hash=prev_hash, problems=problems)


def count() -> int:
    return db.session.scalar(select(func.count(AuditEntry.id))) or 0
