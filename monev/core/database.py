"""Engine behaviour that differs between SQLite and PostgreSQL.

SQLite runs in WAL mode with a busy timeout. Its default deferred ``BEGIN`` lets two
transactions read and then both try to upgrade to a write lock, and one of them fails at
once with "database is locked" (the busy handler cannot help a deadlocked upgrade). So a
transaction that *intends to write* starts with ``BEGIN IMMEDIATE`` and takes the write lock
up front; readers keep a deferred ``BEGIN`` and never block anyone in WAL mode.

Write intent is a context variable: set for every unsafe HTTP request (POST, PUT, PATCH,
DELETE) by ``create_app``, and by :func:`write_intent` for CLI commands and jobs.

Writers queue before ``BEGIN IMMEDIATE`` (:class:`_Writers`): SQLite's busy handler makes a
waiting writer sleep (up to 100 ms at a time) and lets a newcomer take the lock meanwhile, so
under many writers some waited seconds. In the queue, the threads of a process wait on a lock
of the process and the processes (several serving processes, the job worker) on an advisory
lock file beside the database, and the next writer goes as soon as the previous one commits.

A request that reads first and writes little (an autosave) need not hold the write lock while
it reads: it starts without write intent, and :func:`start_writing` ends its reading
transaction (on SQLite; it wrote nothing) so that its writes begin with ``BEGIN IMMEDIATE``.
:func:`commit_keeping_loaded` commits without expiring what the session loaded, so an answer
rendered after the commit reads nothing again (``monev.core.views.reads_first``).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import time
from collections.abc import Iterator

try:  # POSIX: writers of several processes queue on a lock file
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy handler alone
    fcntl = None

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

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


@contextlib.contextmanager
def writing(session) -> Iterator[None]:
    """A write block for code that may have read first in the same session (a job: list
    what is due, then claim one row, send, record the result). Like :func:`write_intent`,
    and on SQLite a transaction that has only read is ended first (keeping what it loaded),
    so the block's writes begin with ``BEGIN IMMEDIATE`` and wait in the writers' queue and
    the busy timeout for a lock held elsewhere. Upgrading the reading transaction instead
    fails at once with "database is locked" whenever another connection writes (SQLite
    cannot wait there: the reader's snapshot would be stale). After the block the earlier
    setting is back: what follows reads without holding the write lock."""
    if (
        not _write_intent.get()
        and is_sqlite(session.get_bind())
        and session.in_transaction()
        and not (session.new or session.dirty or session.deleted)
    ):
        commit_keeping_loaded(session)
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def start_writing(session) -> None:
    """From here on ``session`` writes: write intent is set (until the request's or the
    block's own setting is restored), and on SQLite a transaction that has only read is
    ended, keeping what it loaded, and the writing one begins at once with ``BEGIN
    IMMEDIATE`` (the write lock is held from here). What was read before is read again under
    the lock where it decides anything. On PostgreSQL the transaction goes on (nothing is
    serialised there)."""
    if _write_intent.get():
        return
    _write_intent.set(True)
    if not is_sqlite(session.get_bind()):
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("start_writing() after a change: the reading transaction wrote")
        commit_keeping_loaded(session)
    Session.connection(session)  # BEGIN IMMEDIATE now (the method, whatever a subclass set)


def commit_keeping_loaded(session) -> None:
    """Commit ``session`` without expiring the objects it holds (``expire_on_commit`` off for
    this commit): what was loaded or written stays readable without another query."""
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


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

    writers = _Writers(engine.url.database, busy_timeout_ms / 1000)
    key = "monev_writer"

    def _release(info) -> None:
        if info.pop(key, False):
            writers.release()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if _write_intent.get():
            if writers.acquire():
                conn.info[key] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except Exception:
                _release(conn.info)
                raise
        else:
            conn.exec_driver_sql("BEGIN")

    def _end_then_release(conn, end: str) -> None:
        # SQLAlchemy tells of a commit (or rollback) before it makes it: the next writer in
        # the queue would then meet SQLite's lock still held and sleep in its busy handler
        # (1, 2, 5… ms). So a writer's transaction ends here, through the driver, and the
        # queue moves on after it; SQLAlchemy's own commit then finds nothing to commit.
        if conn.info.get(key):
            with contextlib.suppress(Exception):  # SQLAlchemy's own attempt raises it
                getattr(conn.connection.dbapi_connection, end)()
        _release(conn.info)

    @event.listens_for(engine, "commit")
    def _on_commit(conn):
        _end_then_release(conn, "commit")

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn):
        _end_then_release(conn, "rollback")

    pool: Pool = engine.pool

    @event.listens_for(pool, "reset")
    def _on_reset(dbapi_connection, connection_record, reset_state):  # pragma: no cover
        _release(connection_record.info)  # returned to the pool without commit or rollback

    @event.listens_for(pool, "invalidate")
    def _on_invalidate(dbapi_connection, connection_record, exception):  # pragma: no cover
        _release(connection_record.info)


class _Writers:
    """The queue of writers to one SQLite file: a lock of the process (re-entrant: a second
    connection of the same thread, such as a job enqueued inside a request, passes), and
    across processes an advisory lock on ``<database>-writers`` (POSIX ``flock``), taken by
    the first level only. Either is given up after ``timeout`` seconds, and SQLite's own
    busy timeout then decides, as without the queue."""

    def __init__(self, database: str | None, timeout: float):
        self.timeout = timeout
        self.path = f"{database}-writers" if database and database != ":memory:" else None
        self.threads = threading.RLock()
        self.depth = 0  # levels held by the thread holding ``threads``
        self.fd: int | None = None
        self.pid = 0
        self.flocked = False

    def acquire(self) -> bool:
        if not self.threads.acquire(timeout=self.timeout):
            return False
        self.depth += 1
        if self.depth == 1 and fcntl is not None and self.path:
            self.flocked = self._flock()
        return True

    def release(self) -> None:
        try:
            if self.depth == 1 and self.flocked:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
                self.flocked = False
            self.depth -= 1
            self.threads.release()
        except RuntimeError:  # not this thread's (a connection collected elsewhere)
            self.depth += 1

    def _flock(self) -> bool:
        if self.fd is None or self.pid != os.getpid():  # a forked worker opens its own
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return False
            self.pid = os.getpid()
        deadline = time.monotonic() + self.timeout
        pause = 0.0005
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.004)
            except OSError:
                return False


def is_locked(error: BaseException) -> bool:
    """Is ``error`` SQLite's "database is locked" (or "busy"), the lock still held by another
    connection after the busy timeout?"""
    text = str(getattr(error, "orig", error)).lower()
    return "database is locked" in text or "database is busy" in text


def is_sqlite(engine) -> bool:
    """Is ``engine`` (or a connection) SQLite's?"""
    return engine.dialect.name == "sqlite"
