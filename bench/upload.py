"""Memory and speed of a large upload through the real server.

A fresh instance (SQLite, local storage) gets the demo data with the 2025 event opened for
submissions; the app is served by waitress (``flask serve``) in its own process. A finalist
signs in and uploads a 200 MB MP4 to a criterion, streamed from this process in 1 MB chunks.
The server's peak resident memory during the upload (VmHWM, reset just before it) is compared
with its idle size, and the upload's throughput with copying the same bytes to a file on the
same disk (written and fsynced) in the same run.

    .venv/bin/python bench/upload.py [--mb 200]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
EMAIL = "kim.telukpandan@demo.monev.id"
PASSWORD = "monev-bench"  # noqa: S105 - a throwaway demo instance
CHUNK = 1 << 20

SETUP = """
from datetime import timedelta
from sqlalchemy import select, update
from monev import create_app
from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.demo import loader
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.rubrics.models import Criterion

app = create_app()
with app.app_context(), write_intent():
    loader.load({password!r})
    event = db.session.scalar(select(Event).where(Event.slug == "monev-kim-kaltim-2025"))
    event.status = "submission"
    db.session.execute(
        update(Stage).where(Stage.event_id == event.id, Stage.key == "administrasi")
        .values(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=1))
    )
    db.session.commit()
    print(db.session.scalar(select(Criterion.id).where(
        Criterion.event_id == event.id, Criterion.key == "a1")))
"""


def mp4_header(payload: int) -> bytes:
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 0x200, b"isom", b"mp42")
    mvhd = struct.pack(">I4s", 108, b"mvhd") + bytes(100)
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    return ftyp + moov + struct.pack(">I4s", 8 + payload, b"mdat")


def media_chunks(size: int):
    """The file's bytes: a valid MP4 frame around pseudo-random media data (incompressible)."""
    header = mp4_header(size - len(mp4_header(0)))
    block = os.urandom(CHUNK)
    yield header
    left = size - len(header)
    while left > 0:
        n = min(left, CHUNK)
        yield block[:n]
        left -= n


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Just enough of a browser: one cookie jar, GET, form POST, streamed multipart POST."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def _headers(self) -> dict:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie} if cookie else {}

    def _keep(self, response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def get(self, path: str) -> str:
        conn = self._conn()
        conn.request("GET", path, headers=self._headers())
        response = conn.getresponse()
        body = response.read().decode()
        self._keep(response)
        conn.close()
        return body

    def token(self, path: str) -> str:
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', self.get(path))
        if not match:
            raise RuntimeError(f"no CSRF token on {path}")
        return match.group(1)

    def post_form(self, path: str, fields: dict) -> int:
        from urllib.parse import urlencode

        conn = self._conn()
        headers = {**self._headers(), "Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", path, body=urlencode(fields), headers=headers)
        response = conn.getresponse()
        response.read()
        self._keep(response)
        conn.close()
        return response.status

    def post_file(self, path: str, token: str, name: str, size: int) -> tuple[int, float]:
        boundary = "monevbench0123456789"
        preamble = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}'
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"'
            f"\r\nContent-Type: video/mp4\r\n\r\n"
        ).encode()
        epilogue = f"\r\n--{boundary}--\r\n".encode()
        conn = self._conn()
        conn.putrequest("POST", path)
        for key, value in self._headers().items():
            conn.putheader(key, value)
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(preamble) + size + len(epilogue)))
        conn.endheaders()
        started = time.perf_counter()
        conn.send(preamble)
        for chunk in media_chunks(size):
            conn.send(chunk)
        conn.send(epilogue)
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        conn.close()
        return response.status, elapsed


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def reset_peak(pid: int) -> None:
    """Make VmHWM start again from the current RSS (Linux: ``echo 5 > clear_refs``)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def copy_baseline(folder: Path, size: int) -> float:
    """Seconds to write the same bytes to a file on the same disk, fsynced."""
    target = folder / "baseline.bin"
    started = time.perf_counter()
    with open(target, "wb") as out:
        for chunk in media_chunks(size):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the upload in MB")
    args = parser.parse_args()
    size = args.mb * CHUNK

    # A fresh folder of its own (not the git-ignored instance/, which a new clone lacks).
    with tempfile.TemporaryDirectory(prefix="monev-bench-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "MONEV_ENV": "development",
            "MONEV_INSTANCE_PATH": str(folder),
            "MONEV_DEMO_PASSWORD": PASSWORD,
            "FLASK_DEBUG": "0",
        }
        env.pop("DATABASE_URL", None)
        flask = [PYTHON, "-m", "flask", "--app", "monev"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        setup = subprocess.run(
            [PYTHON, "-c", SETUP.format(password=PASSWORD)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        criterion_id = int(setup.stdout.strip().splitlines()[-1])

        port = free_port()
        server = subprocess.Popen(
            [*flask, "serve", "--port", str(port), "--threads", "4"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            browser = Browser(port)
            for _ in range(100):
                try:
                    browser.get("/healthz")
                    break
                except OSError:
                    time.sleep(0.1)
            status = browser.post_form(
                "/login",
                {"email": EMAIL, "password": PASSWORD, "csrf_token": browser.token("/login")},
            )
            assert status == 302, f"sign-in failed: {status}"
            page = "/entry/monev-kim-kaltim-2025"
            url = f"{page}/criteria/{criterion_id}/file"
            # warm up: the first upload imports the inspection libraries
            warm, _ = browser.post_file(url, browser.token(page), "pemanasan.mp4", 2 * CHUNK)
            assert warm == 303, f"warm-up upload failed: {warm}"
            time.sleep(0.5)
            idle = memory(server.pid)["VmRSS"]
            reset_peak(server.pid)
            status, upload_seconds = browser.post_file(url, browser.token(page), "video.mp4", size)
            assert status == 303, f"upload failed: {status}"
            peak = memory(server.pid)["VmHWM"]
        finally:
            server.terminate()
            server.wait(timeout=10)
        copy_seconds = copy_baseline(folder, size)

    mb = size / CHUNK
    growth = (peak - idle) / CHUNK
    print(f"upload of {mb:.0f} MB (MP4 in 1 MB chunks) via waitress, SQLite, local storage")
    print(
        f"server memory: idle {idle / CHUNK:.1f} MB, peak during upload {peak / CHUNK:.1f} MB, "
        f"growth {growth:.1f} MB (limit 30 MB): {'OK' if growth <= 30 else 'OVER'}"
    )
    print(f"peak / idle memory: {peak / idle:.2f}x")
    print(
        f"upload: {upload_seconds:.2f} s = {mb / upload_seconds:.0f} MB/s; "
        f"copy to disk: {copy_seconds:.2f} s = {mb / copy_seconds:.0f} MB/s"
    )
    print(f"upload throughput / copy throughput: {copy_seconds / upload_seconds:.2f}x")
    if growth > 30:
        sys.exit(1)


if __name__ == "__main__":
    main()
