"""Optional virus scan of uploads by a ClamAV daemon (clamd), when ``MONEV_CLAMD_ADDRESS``
is set: a unix socket path (``/run/clamav/clamd.ctl``) or ``host:port``.

The file is streamed to clamd with its INSTREAM command. Only a clear "OK" accepts the file:
a virus found, an error answer, a timeout or an unreachable daemon all refuse the upload
(fail closed), so a broken scanner never lets files through unscanned.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

CHUNK = 64 * 1024
TIMEOUT_SECONDS = 120


class ScanError(Exception):
    """The scanner could not give a verdict."""


class VirusFound(Exception):
    def __init__(self, signature: str):
        super().__init__(signature)
        self.signature = signature


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: object = address
    else:
        host, _sep, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ScanError(f"MONEV_CLAMD_ADDRESS must be a socket path or host:port: {address!r}")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        target = (host.strip("[]"), int(port))
    sock.settimeout(timeout)
    try:
        sock.connect(target)
    except OSError as exc:
        sock.close()
        raise ScanError(f"cannot reach clamd at {address}: {exc}") from exc
    return sock


def scan(path: Path, address: str, timeout: float = TIMEOUT_SECONDS) -> None:
    """Return when clamd says the file is clean; raise VirusFound or ScanError otherwise."""
    sock = _connect(address, timeout)
    try:
        sock.sendall(b"zINSTREAM\0")
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
        sock.sendall(struct.pack("!L", 0))
        reply = b""
        while not reply.endswith(b"\0"):
            data = sock.recv(4096)
            if not data:
                break
            reply += data
            if len(reply) > 4096:
                break
    except OSError as exc:
        raise ScanError(f"clamd did not answer: {exc}") from exc
    finally:
        sock.close()
    text = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    # "stream: OK", "stream: Eicar-Signature FOUND", "INSTREAM size limit exceeded. ERROR"
    verdict = text.split(":", 1)[1].strip() if ":" in text else text
    if verdict == "OK":
        return
    if verdict.endswith(" FOUND"):
        raise VirusFound(verdict[: -len(" FOUND")].strip())
    raise ScanError(f"clamd answered {text!r}")
