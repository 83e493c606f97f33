"""One-host serving for ``flask --app monev serve`` and ``make run``: every core, and no
visitor locked out by connections that are open but idle.

What was measured (bench/RESULTS.md, "One-host serving"), on the project's 2-core machine:

- **waitress** reads requests in an event loop (one thread, ``select``) and hands a worker
  thread only a request that has arrived whole. An idle connection, a kept-alive one or a
  half-sent request costs a file descriptor and nothing else: with 1,000 of them open a new
  visitor got the page in milliseconds. Its limit is ``connection_limit`` (100 by default:
  the 101st browser holding a connection waited); here it is a setting, and the process's
  open-file limit is raised to fit it.
- **gunicorn's gthread worker** gives each new connection to a worker thread, which waits up
  to 5 s for its first bytes, and a half-sent request holds the thread until the client
  goes: 1,000 idle or half-sent connections kept every thread busy and a new visitor timed
  out (15 s). It is fine behind a reverse proxy that buffers requests (the production
  set-up in README: ``gunicorn -c gunicorn.conf.py``), not facing browsers directly.
- waitress runs Python in one process: one core. So ``serve`` starts one waitress process
  per core (``--processes``, default: the number of cores) on one port: on Linux each
  listens on its own ``SO_REUSEPORT`` socket and the kernel spreads the connections evenly
  (:func:`listen`); elsewhere on POSIX they accept on one inherited socket. Each process
  creates its own app (its own database connections). Where processes cannot share a port
  this way (Windows), one waitress process serves.

The parent process only holds the port, starts the processes, restarts one that dies and
stops them all on Ctrl+C or SIGTERM. Metrics of all processes are added up at a scrape
(``PROMETHEUS_MULTIPROC_DIR``, as under gunicorn).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

# File descriptors a process needs besides its connections (database, logs, uploads, pipes).
SPARE_DESCRIPTORS = 256
BACKLOG = 2048  # connections the kernel queues before one of the processes accepts them


def can_share_socket() -> bool:
    """Whether child processes can inherit the listening socket (POSIX)."""
    return os.name == "posix"


def raise_descriptor_limit(connections: int) -> int:
    """Raise this process's open-file limit (soft, up to the hard limit) so that
    ``connections`` fit; returns the connection limit that fits (``connections`` or less)."""
    try:
        import resource
    except ImportError:  # Windows: no such limit on sockets
        return connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + SPARE_DESCRIPTORS
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if wanted > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    return max(1, min(connections, soft - SPARE_DESCRIPTORS))


def balanced() -> bool:
    """Whether each serving process can listen on its own socket of the same port and the
    kernel spread new connections evenly over them (Linux ``SO_REUSEPORT``)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listen(host: str, port: int, *, processes: int = 1) -> socket.socket:
    """The socket the serving processes get. One process, or where the kernel does not
    balance: a listening socket they all accept on. With several processes on Linux: the
    port reserved (bound with ``SO_REUSEPORT``, not listening); each process then listens on
    its own socket of that port (:func:`own_socket`) and the kernel gives each new connection
    to one of them in turn. (On one shared socket the process that happens to wake first
    takes the connection: measured, one of two processes held 145 of 200 connections and
    its visitors waited three times as long.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if processes > 1 and balanced():
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        return sock
    return socket.create_server((host, port), family=family, backlog=BACKLOG)


def own_socket(inherited: socket.socket) -> socket.socket:
    """The socket a serving process accepts on: the inherited one when it listens, else
    (the port reserved by :func:`listen`) a listening socket of its own on the same port."""
    if inherited.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        return inherited
    own = socket.socket(inherited.family, socket.SOCK_STREAM)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    own.bind(inherited.getsockname()[:2])
    own.listen(BACKLOG)
    inherited.close()
    return own


# How long a thread may run Python before another waiting for the interpreter gets it.
# Python's default (5 ms) lets a request that renders a large page (the progress board)
# hold back every other request of the process at each of its database calls (each gives
# the interpreter up and waits up to 5 ms to get it back): an autosave makes about ten.
SWITCH_INTERVAL = 0.001


def settle_for_serving() -> None:
    """Before serving: collect once and *freeze* what the app and its imports made (over
    200,000 objects, never garbage) out of the garbage collector's sight, so that its full
    collections, which stop the whole process, take milliseconds instead of the ~0.4 s they
    took on the 2-core machine in the middle of judging-day saves (bench/RESULTS.md); and
    give the interpreter back sooner (:data:`SWITCH_INTERVAL`)."""
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL)


def serve_here(app, sock: socket.socket, *, threads: int, connection_limit: int) -> None:
    """Serve ``app`` with waitress in this process on ``sock`` until stopped."""
    from waitress import serve

    # A crowd queues requests for the threads: waitress warns at each one (noise, not news).
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    limit = raise_descriptor_limit(connection_limit)
    if limit < connection_limit:
        log.warning(
            "Only %s connections fit this process's open-file limit (asked: %s)",
            limit,
            connection_limit,
        )
    settle_for_serving()
    serve(
        app,
        sockets=[sock],
        threads=threads,
        connection_limit=limit,
        backlog=BACKLOG,
        clear_untrusted_proxy_headers=True,
        ident="Monev",
    )


def tell_ready(ready_fd: int | None) -> None:
    """In a serving process: tell the parent that this process listens and its app is made
    (one byte on the pipe ``ready_fd``), so the parent says "running" only now."""
    if ready_fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(ready_fd, b".")
        os.close(ready_fd)


def supervise(
    sock: socket.socket,
    processes: int,
    child_command: Callable[..., Sequence[str]],
    *,
    env: dict[str, str] | None = None,
    on_ready: Callable[[], None] | None = None,
    ready_timeout: float = 120.0,
) -> int:
    """Run ``processes`` children, each ``child_command(fd, ready_fd)`` serving the inherited
    socket ``fd``, until SIGINT or SIGTERM; a child that stops is started again (at most once
    a second). ``on_ready()`` is called once every child has said it is serving (a byte on
    the pipe ``ready_fd``, :func:`tell_ready`): each child imports and creates the app before
    it listens (seconds), and until the first one does, the port refuses connections (on
    Linux the parent only reserves it, :func:`listen`). Returns the exit status."""
    fd = sock.fileno()
    sock.set_inheritable(True)
    env = dict(os.environ if env is None else env)
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="monev-metrics-")
    ready_read, ready_write = os.pipe()
    os.set_blocking(ready_read, False)
    command = list(child_command(fd, ready_write))
    children: dict[int, subprocess.Popen] = {}
    stopping = False
    ready = 0
    told = on_ready is None
    started_at = time.monotonic()

    def start() -> None:
        child = subprocess.Popen(command, pass_fds=(fd, ready_write), env=env)  # noqa: S603
        children[child.pid] = child

    def count_ready() -> None:
        nonlocal ready, told
        with contextlib.suppress(BlockingIOError, OSError):
            ready += len(os.read(ready_read, 64))
        if not told and (ready >= processes or time.monotonic() - started_at > ready_timeout):
            told = True
            on_ready()

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for child in children.values():
            with contextlib.suppress(OSError):
                child.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for _ in range(processes):
            start()
        last_restart = 0.0
        while not stopping:
            if told:
                time.sleep(0.5)
            else:  # say "running" as soon as the children serve
                for _ in range(10):
                    count_ready()
                    if told or stopping:
                        break
                    time.sleep(0.05)
            for pid, child in list(children.items()):
                if child.poll() is None or stopping:
                    continue
                del children[pid]
                _mark_dead(pid, env)
                log.error(
                    "Serving process %s stopped (status %s); starting another",
                    pid,
                    child.returncode,
                )
                time.sleep(max(0.0, 1.0 - (time.monotonic() - last_restart)))
                last_restart = time.monotonic()
                start()
        for child in children.values():
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        return 0
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()
        for end in (ready_read, ready_write):
            with contextlib.suppress(OSError):
                os.close(end)


def _mark_dead(pid: int, env: dict[str, str]) -> None:
    folder = env.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        from prometheus_client import multiprocess

        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(pid, folder)


def child_command(
    *, threads: int, connection_limit: int, app_import: str = "monev"
) -> Callable[[int], list[str]]:
    """``flask --app monev serve`` for one child serving the inherited socket ``fd``,
    telling it is ready on the inherited pipe ``ready_fd``."""

    def command(fd: int, ready_fd: int | None = None) -> list[str]:
        ready = [] if ready_fd is None else ["--ready-fd", str(ready_fd)]
        return [
            sys.executable,
            "-m",
            "flask",
            "--app",
            app_import,
            "serve",
            "--socket-fd",
            str(fd),
            "--threads",
            str(threads),
            "--connection-limit",
            str(connection_limit),
            *ready,
        ]

    return command
