"""``flask --app monev serve`` (what ``make run`` starts): one waitress process per core on a
shared socket, and 1,000 open but idle connections never lock a new visitor out."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IDLE_CONNECTIONS = 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.append(int(entry.name))
    return out


def _get(port: int, path: str, timeout: float) -> tuple[int, str, float]:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as page:  # noqa: S310
        body = page.read().decode()
        return page.status, body, time.perf_counter() - started


def _read_answer(sock: socket.socket) -> bytes:
    """One whole HTTP answer (head and Content-Length body) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def descriptors():
    """Room for 1,000 client sockets in this process (the server raises its own limit)."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_CONNECTIONS + 512
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the open-file limit ({hard}) is below {wanted}")
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_uses_every_core_and_idle_connections_never_lock_a_visitor_out(
    tmp_path, template_db, descriptors
):
    if template_db.startswith("postgresql"):
        uri = template_db
    else:
        shutil.copy(template_db, tmp_path / "monev.db")
        uri = f"sqlite:///{tmp_path / 'monev.db'}"
    env = {
        **os.environ,
        "MONEV_ENV": "development",
        "MONEV_INSTANCE_PATH": str(tmp_path),
        "MONEV_SECRET_KEY": "s" * 40,
        "DATABASE_URL": uri,
        "FLASK_DEBUG": "0",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = _free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "monev", "serve", "--port", str(port)]
            + ["--processes", "2", "--threads", "2", "--connection-limit", "1500"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    held: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"serve stopped:\n{log.read_text()[-3000:]}")
            try:
                _get(port, "/healthz", 2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"serve did not answer:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)
        # Every core: one serving process per core asked for (2 here), under the one parent.
        assert len(_children(server.pid)) == 2
        for _ in range(6):  # both processes have served a page (templates loaded)
            assert _get(port, "/login", 10)[0] == 200

        # 1,000 connections a visitor's browser (or a slow client) holds open: a third
        # sent nothing, a third a request's first lines only, a third a whole request
        # and then stayed open (keep-alive).
        request = f"GET /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
        for n in range(IDLE_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            held.append(sock)
            if n % 3 == 1:
                sock.sendall(request + b"User-Agent: slow\r\n")
            elif n % 3 == 2:
                sock.sendall(request + b"\r\n")
        kept_alive = held[2::3]
        for sock in kept_alive:  # answered, and then kept open
            assert _read_answer(sock).startswith(b"HTTP/1.1 200")

        # A new visitor still gets the page, promptly, every time.
        for _ in range(5):
            status, html, seconds = _get(port, "/login", 10)
            assert status == 200
            assert "<h1>Masuk</h1>" in html
            assert seconds < 2, f"a new visitor waited {seconds:.1f} s"
        # And a kept-alive connection is still served.
        kept_alive[0].sendall(request + b"Connection: close\r\n\r\n")
        assert _read_answer(kept_alive[0]).startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0, log.read_text()[-3000:]
    assert _children(server.pid) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="several processes on a port")
def test_serve_says_running_only_once_it_answers(tmp_path, template_db):
    """The serving processes import and make the app before they listen (seconds on a busy
    machine): "starting" is said at once, "running on" only when a request is answered."""
    if template_db.startswith("postgresql"):
        uri = template_db
    else:
        shutil.copy(template_db, tmp_path / "monev.db")
        uri = f"sqlite:///{tmp_path / 'monev.db'}"
    env = {
        **os.environ,
        "MONEV_ENV": "development",
        "MONEV_INSTANCE_PATH": str(tmp_path),
        "MONEV_SECRET_KEY": "s" * 40,
        "DATABASE_URL": uri,
        "FLASK_DEBUG": "0",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "monev", "serve", "--port", str(port)]
        + ["--processes", "2", "--threads", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    said: list[str] = []
    try:
        for line in server.stdout:
            said.append(line)
            if "is running on" in line:
                break
        assert any("is starting on" in line for line in said), said
        assert said and "is running on" in said[-1], said
        # At once, without a retry: the first request after the message is answered.
        assert _get(port, "/healthz", 10)[0] == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()
