"""Deployed as the README says: the package installed (not editable) into a fresh virtual
environment, migrated, served by gunicorn with the repository's ``gunicorn.conf.py`` from
another folder; and what a user sees when the deployment is half right (HTTP with secure
cookies)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import t

ROOT = Path(__file__).resolve().parent.parent
# What a source distribution holds (MANIFEST.in): the package, its build step and metadata,
# and the app's top-level folders. The compiled catalogs are left out: the build makes them.
SOURCE = ("monev", "templates", "static", "migrations", "translations")
SOURCE_FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "config.py", "README.md")
HTTPS_MSGID = (
    "This server only works over HTTPS: its cookies are sent for HTTPS only "
    "(MONEV_SECURE_COOKIES is on), so signing in over plain HTTP cannot work. "
    "Open the address with https://, or, on a trusted internal network "
    "without HTTPS, set MONEV_SECURE_COOKIES=false. Behind a proxy that "
    "terminates HTTPS, set MONEV_PROXY_COUNT so the app sees it."
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy_source(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "bundled")
    for name in SOURCE:
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    for name in SOURCE_FILES:
        shutil.copy2(ROOT / name, target / name)
    return target


def _fresh_venv(folder: Path) -> Path:
    """A new virtual environment that sees this test environment's packages (Flask, gunicorn,
    setuptools, Babel, …) through a ``.pth`` line, but not its editable Monev: the paths of a
    ``.pth`` file are added to ``sys.path``, the ``.pth`` files inside them are not run."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "test-environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    return python


def _slow_post(port: int, path: str, seconds: float, size: int) -> bytes:
    """POST a multipart upload of ``size`` bytes spread over ``seconds``; the raw answer."""
    boundary = "monevboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="v.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body_length = len(head) + size + len(tail)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {body_length}\r\n\r\n"
    ).encode()
    steps = 20
    chunk = b"\0" * (size // steps)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request + head)
        sent = 0
        for _ in range(steps):
            time.sleep(seconds / steps)
            sock.sendall(chunk)
            sent += len(chunk)
        sock.sendall(b"\0" * (size - sent) + tail)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    return answer


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn stopped:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own server
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer:\n{log.read_text()[-3000:]}")


def test_installed_package_migrates_and_serves_indonesian_with_gunicorn(tmp_path, app):
    pytest.importorskip("setuptools", reason="building the package needs setuptools")
    pytest.importorskip("babel", reason="building the package compiles catalogs with Babel")
    source = _copy_source(tmp_path / "source")
    python = _fresh_venv(tmp_path / "venv")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--no-deps", "--no-build-isolation", "--no-index", str(source)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    site = Path(
        subprocess.run(
            [str(python), "-c", "import monev; print(monev.__file__)"],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,  # not the repository, whose monev a script's folder would shadow
        ).stdout.strip()
    ).parent
    assert site.is_relative_to(tmp_path / "venv"), site  # not the repository's monev
    assert (site / "bundled/translations/id/LC_MESSAGES/messages.mo").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ours = ("MONEV_", "FLASK_", "PYTEST_", "GUNICORN_", "DATABASE_URL", "REDIS_URL")
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(
        MONEV_ENV="production",
        MONEV_SECRET_KEY="k" * 16 + "-a-long-test-secret-key",
        DATABASE_URL=f"sqlite:///{tmp_path / 'monev.db'}",
        MONEV_STORAGE_DIR=str(tmp_path / "files"),
        MONEV_HUEY_SQLITE_PATH=str(tmp_path / "huey.db"),
        MONEV_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    upgrade = subprocess.run(
        [str(python), "-m", "flask", "--app", "monev", "db", "upgrade"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr

    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(python), "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"]
            + ["--timeout", "2"],  # a sync worker would be killed by the slow upload below
            cwd=elsewhere,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", server, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:  # noqa: S310
            html = page.read().decode()
        assert '<html lang="id"' in html
        assert "<h1>Masuk</h1>" in html
        assert "Kata sandi" in html

        # An upload that takes longer than gunicorn's worker timeout (2 s) is answered, not
        # cut off; over plain HTTP with production's secure cookies, the answer says why the
        # form cannot work.
        answer = _slow_post(port, "/login", seconds=5, size=3 * 1024 * 1024).decode(
            errors="replace"
        )
        assert answer.startswith("HTTP/1.1 400"), answer[:500]
        assert "MONEV_SECURE_COOKIES" in answer
        assert "HTTPS" in answer
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "WORKER TIMEOUT" not in log.read_text()


def test_a_form_over_http_with_secure_cookies_says_https_is_required(app, client):
    app.config["SESSION_COOKIE_SECURE"] = True
    response = client.post("/login", data={"email": "a@b.id", "password": "x"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert t(app, HTTPS_MSGID) in text
    assert "MONEV_SECURE_COOKIES" in text


def test_the_same_form_over_https_only_says_it_expired(app):
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "a@b.id", "password": "x"}, base_url="https://localhost"
    )
    assert response.status_code == 400
    assert "MONEV_SECURE_COOKIES" not in response.get_data(as_text=True)
