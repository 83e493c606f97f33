"""Background jobs: one Huey instance for the package, configured from the app's config.

Storage: ``SqliteHuey``-style storage in ``HUEY_SQLITE_PATH`` (default ``<instance>/huey.db``),
or Redis when ``REDIS_URL`` is set (queue name ``HUEY_NAME``, so several installations or
test runs can share one Redis). ``HUEY_IMMEDIATE`` runs every task at once in the calling
process (tests).

Tasks are declared with :func:`task` / :func:`periodic_task`: each run gets its own Flask app
context (its own database session), with the app that :func:`init_app` was given (the one
``flask --app monev worker`` created): jobs sit below every domain and never import the app
package, so a consumer started some other way must call ``init_app`` first. Views enqueue
with :func:`enqueue_after_commit`, so a worker never sees a task before the rows it refers to
are committed, and a rolled-back request enqueues nothing; when the queue cannot take the
task (Redis unreachable), the caller's ``on_failure`` is told, so nothing waits forever for
a task that was never queued. Workers write heartbeats (``monev.jobs.heartbeat``).
"""

from __future__ import annotations

import logging
import threading
from functools import wraps
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monev.core.database import reset_write_intent, set_write_intent, write_intent
from monev.extensions import db
from monev.jobs import heartbeat

__all__ = [
    "enqueue_after_commit",
    "huey",
    "init_app",
    "periodic_task",
    "queue_depth",
    "queue_where",
    "run_here",
    "task",
]

log = logging.getLogger(__name__)
_PENDING = "monev_jobs_after_commit"
_EXTENSION_KEY = "monev_huey"

# Memory storage until ``init_app`` picks the real one from the config.
huey = Huey("monev", results=False, storage_class=MemoryStorage)


class _State:
    app: Flask | None = None
    startup_done = False
    lock = threading.Lock()


_state = _State()


def init_app(app: Flask) -> None:
    """Point the Huey instance at the app's queue storage and register ``worker``."""
    cfg = app.config
    cfg.setdefault("HUEY_NAME", "monev")
    cfg["HUEY_SQLITE_PATH"] = cfg.get("HUEY_SQLITE_PATH") or str(
        Path(app.instance_path) / "huey.db"
    )
    huey.name = cfg["HUEY_NAME"] or "monev"
    if cfg.get("REDIS_URL"):
        from redis import ConnectionPool

        huey.storage_class = RedisStorage
        # A Redis that does not answer fails within seconds instead of hanging a request.
        huey.storage_kwargs = {
            "connection_pool": ConnectionPool.from_url(
                cfg["REDIS_URL"], socket_connect_timeout=5, health_check_interval=30
            )
        }
    else:
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": cfg["HUEY_SQLITE_PATH"]}
    huey._immediate = bool(cfg.get("HUEY_IMMEDIATE"))
    huey.storage = huey.create_storage()
    app.extensions[_EXTENSION_KEY] = huey
    _state.app = app
    _state.startup_done = False
    app.cli.add_command(worker_command)


def _app() -> Flask:
    if _state.app is None:  # a consumer started without ``flask worker``
        raise RuntimeError(
            "No app for the background jobs: start the consumer with `flask --app monev worker`, "
            "or call monev.jobs.init_app(create_app()) first."
        )
    return _state.app


def _in_app_context(fn):
    @wraps(fn)
    def inner(*args, **kwargs):
        token = set_write_intent(False)  # not the enqueuing request's (immediate mode)
        try:
            with _app().app_context():
                return fn(*args, **kwargs)
        finally:
            reset_write_intent(token)

    return inner


def task(**options):
    """A Huey task run inside an app context of its own (write transactions of a task take
    ``monev.core.database.write_intent`` themselves and stay short)."""

    def decorator(fn):
        return huey.task(**options)(_in_app_context(fn))

    return decorator


def periodic_task(schedule, **options):
    def decorator(fn):
        return huey.periodic_task(schedule, **options)(_in_app_context(fn))

    return decorator


def run_here(fn, *args) -> threading.Thread | None:
    """Run ``fn(*args)`` in this process, outside the queue: in a daemon thread with an app
    context of its own (at once, in the caller, when ``HUEY_IMMEDIATE`` is on: the tests).

    For work whose arguments must not be written anywhere: a task's arguments are stored in
    the queue (the SQLite file, or Redis) until a worker takes them, while these stay in this
    process's memory and are gone when ``fn`` returns. The price: the work dies with the
    process (a restart), so ``fn`` must leave its job resumable (certificate batches signed
    by a remote service, monev.certificates.batch). Returns the thread, or None."""
    runner = _in_app_context(fn)
    if huey.immediate:
        runner(*args)
        return None
    thread = threading.Thread(
        target=runner, args=args, daemon=True, name=f"monev-{getattr(fn, '__name__', 'job')}"
    )
    thread.start()
    return thread


# --- enqueue after commit -------------------------------------------------------------------


def enqueue_after_commit(task_fn, *args, on_failure=None) -> None:
    """Enqueue ``task_fn(*args)`` once the current transaction commits (dropped on rollback).

    ``on_failure(error, *args)``, when the queue refuses the task (Redis unreachable), runs
    after the commit: it may not use the session (the commit is still under way) but a
    connection of its own (``db.engine.begin()``). It returns the message for the user, or
    None; in a request, that message replaces the success message flashed before. The same
    task with the same arguments is enqueued once per commit."""
    pending = db.session().info.setdefault(_PENDING, [])
    if (task_fn, args, on_failure) not in pending:  # one run does it all (a bulk import)
        pending.append((task_fn, args, on_failure))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for task_fn, args, on_failure in session.info.pop(_PENDING, []):
        try:
            task_fn(*args)
        except Exception as error:
            log.exception("Could not enqueue %s%r", getattr(task_fn, "name", task_fn), args)
            if on_failure is not None:
                _enqueue_failed(on_failure, error, args)


def _enqueue_failed(on_failure, error: Exception, args) -> None:
    from flask import flash, has_request_context, session

    try:
        message = on_failure(error, *args)
    except Exception:
        log.exception("The enqueue-failure handler failed too")
        return
    if message and has_request_context():
        flashes = [item for item in session.get("_flashes", []) if item[0] != "success"]
        session["_flashes"] = flashes
        flash(message, "error")


def execute_outside_session(statement) -> None:
    """Run ``statement`` in a transaction of its own, for an ``on_failure`` handler (the
    session is still finishing its commit). On the session's bind: the engine, or the
    connection an outer transaction holds (the test suite's)."""
    bind = db.session.get_bind()
    if isinstance(bind, Engine):
        with write_intent(), bind.begin() as conn:
            conn.execute(statement)
    else:
        bind.execute(statement)


def describe_error(error: Exception) -> str:
    """A one-line reason for an error of the queue (for people, not a traceback)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]


def queue_where(config) -> str:
    """Where the queue lives, for messages: Redis (without its password) or the file."""
    if config.get("REDIS_URL"):
        from urllib.parse import urlsplit

        try:
            url = urlsplit(config["REDIS_URL"])
            return f"Redis {url.hostname or 'localhost'}:{url.port or 6379}"
        except ValueError:
            return "Redis"
    return str(config.get("HUEY_SQLITE_PATH") or "huey.db")


def queue_depth() -> int:
    """Tasks waiting in the queue (raises when the queue cannot be reached)."""
    return int(huey.pending_count())


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


# --- consumer -------------------------------------------------------------------------------


@huey.on_startup()
def _on_consumer_start() -> None:
    """Per worker: fresh database connections (forked workers must not share the parent's);
    once per process: resume the jobs a dead consumer left behind."""
    app = _app()
    with app.app_context():
        db.engine.dispose(close=False)
    with _state.lock:
        if _state.startup_done:
            return
        _state.startup_done = True
    for hook in _startup_hooks:
        try:
            with app.app_context():
                hook()
        except Exception:
            log.exception("Startup hook %s failed", hook.__name__)


_startup_hooks: list = []


def on_consumer_start(fn):
    """Run ``fn`` (in an app context) once when a consumer process starts."""
    _startup_hooks.append(fn)
    return fn


@click.command("worker")
@click.option("--workers", "-w", default=2, show_default=True, help="Parallel workers.")
@click.option(
    "--worker-type",
    "-k",
    type=click.Choice(["thread", "process"]),
    default="thread",
    show_default=True,
)
@with_appcontext
def worker_command(workers: int, worker_type: str):
    """Run the background-job consumer (certificate batches) until stopped."""
    from flask import current_app

    if huey.immediate:
        raise click.ClickException("HUEY_IMMEDIATE is on: tasks run in the app, not here.")
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(message)s")
    logging.getLogger("huey").setLevel(logging.INFO)
    _state.app = current_app._get_current_object()
    where = "Redis" if current_app.config.get("REDIS_URL") else huey.storage_kwargs["filename"]
    click.echo(f"Monev worker: {workers} {worker_type} worker(s), queue {huey.name!r} at {where}")
    consumer = huey.create_consumer(workers=workers, worker_type=worker_type, periodic=True)
    with heartbeat.Heartbeat(_state.app, workers, worker_type):
        consumer.run()
