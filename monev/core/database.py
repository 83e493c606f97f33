"""Engine behaviour that differs between SQLite and PostgreSQL.

SQLite runs in WAL mode with a busy timeout. Its default deferred ``BEGIN`` lets two
transactions read and then both try to upgrade to a write lock, and one of them fails at
once with "database is locked" (the busy handler cannot help a deadlocked upgrade). So a
transaction that *intends to write* starts with ``BEGIN IMMEDIATE`` and takes the write lock
up front; readers keep a deferred ``BEGIN`` and never block anyone in WAL mode.

Write intent is a context variable: set for every unsafe HTTP request (POST, PUT, PATCH,
DELETE) by ``create_app``, and by :func:`write_intent` for CLI commands and jobs.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "monev_write_intent", default=False
)


def set_write_intent(value: bool) -> contextvars.Token:
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token) -> None:
    _write_intent.reset(token)


@contextlib.contextmanager
def write_intent() -> Iterator[None]:
    """Make transactions begun inside this block take SQLite's write lock at their start."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, busy timeout, foreign keys, and BEGIN IMMEDIATE for write transactions."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - driver callback
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        with contextlib.suppress(Exception):  # in-memory databases have no WAL; that is fine
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
