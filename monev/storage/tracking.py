"""Keep stored files in step with the database transaction that refers to them.

``stored(storage, key)``: a file just written for a row of this transaction; if the
transaction rolls back, the file is deleted, so a refused or failed request leaves no file
behind. ``delete_after_commit(storage, key)``: a file whose row this transaction deletes; it
is removed only after the commit, so a rollback keeps both row and file. Both are called
inside the transaction of the change (a service has always read something by then), and a
savepoint's release or rollback leaves them for the outer transaction to settle.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from monev.extensions import db

_WRITTEN = "monev_storage_written"
_TO_DELETE = "monev_storage_delete"
log = logging.getLogger(__name__)


def stored(storage, key: str) -> None:
    db.session().info.setdefault(_WRITTEN, []).append((storage, key))


def delete_after_commit(storage, key: str) -> None:
    db.session().info.setdefault(_TO_DELETE, []).append((storage, key))


def _delete_all(items) -> None:
    for storage, key in items:
        try:
            storage.delete(key)
        except Exception:  # the database is already settled; an orphan file is only waste
            log.exception("Could not delete stored file %s", key)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (it fires this event too): the outer one decides
    session.info.pop(_WRITTEN, None)
    _delete_all(session.info.pop(_TO_DELETE, []))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    session.info.pop(_TO_DELETE, None)
    _delete_all(session.info.pop(_WRITTEN, []))
