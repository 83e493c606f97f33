"""A test PKI for the TTE tests, made at test time with certomancer into a temporary folder:
a root CA, the office's signing certificate (and an expired one, and one from a CA nobody
trusts), and a time-stamping authority served over HTTP by a local server. Nothing secret is
checked in: the keys are generated here."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import tsp
from certomancer.registry import CertomancerConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PASSPHRASE = "rahasia-uji"


@dataclass
class TestPki:
    folder: Path
    arch: object  # certomancer PKIArchitecture

    def cert_der(self, label: str) -> bytes:
        return self.arch.get_cert(label).dump()

    def cert_pem(self, label: str) -> bytes:
        from asn1crypto import pem

        return pem.armor("CERTIFICATE", self.cert_der(label))

    def pkcs12(self, label: str, passphrase: str = PASSPHRASE) -> Path:
        path = self.folder / f"{label}.p12"
        path.write_bytes(self.arch.package_pkcs12(label, password=passphrase.encode()))
        return path

    def key_pem(self, label: str) -> Path:
        return self.folder / "keys" / f"{label}.key.pem"

    def timestamper(self):
        return self.arch.service_registry.summon_timestamper("tsa")


def _key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _validity(start: datetime, end: datetime) -> dict:
    return {"valid-from": start.isoformat(), "valid-to": end.isoformat()}


def make_pki(folder: Path) -> TestPki:
    keys = folder / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    for name in ("root", "signer", "tsa", "stranger-root", "stranger"):
        _key(keys / f"{name}.key.pem")
    now = datetime.now(UTC).replace(microsecond=0)
    long = _validity(now - timedelta(days=30), now + timedelta(days=3650))
    ca = [
        {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
        {
            "id": "key_usage",
            "critical": True,
            "smart-value": {
                "schema": "key-usage",
                "params": ["digital_signature", "key_cert_sign", "crl_sign"],
            },
        },
    ]
    leaf = [
        {
            "id": "key_usage",
            "critical": True,
            "smart-value": {
                "schema": "key-usage",
                "params": ["digital_signature", "non_repudiation"],
            },
        },
    ]
    config = {
        "keysets": {
            "uji": {
                "path-prefix": str(keys),
                "keys": {
                    n: {"path": f"{n}.key.pem"}
                    for n in ("root", "signer", "tsa", "stranger-root", "stranger")
                },
            }
        },
        "pki-architectures": {
            "uji": {
                "keyset": "uji",
                "entity-defaults": {"country-name": "ID", "organization-name": "Diskominfo Uji"},
                "entities": {
                    "root": {"common-name": "Root CA Uji Monev"},
                    "signer": {"common-name": "Kepala Dinas Uji"},
                    "tsa": {"common-name": "TSA Uji Monev"},
                    "stranger-root": {"common-name": "CA Tak Dikenal"},
                    "stranger": {"common-name": "Penanda Tangan Palsu"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": long,
                        "extensions": ca,
                    },
                    "signer": {"issuer": "root", "validity": long, "extensions": leaf},
                    "signer-soon": {
                        "subject": "signer",
                        "subject-key": "signer",
                        "issuer": "root",
                        "validity": _validity(now - timedelta(days=300), now + timedelta(days=10)),
                        "extensions": leaf,
                    },
                    "signer-expired": {
                        "subject": "signer",
                        "subject-key": "signer",
                        "issuer": "root",
                        "validity": _validity(now - timedelta(days=400), now - timedelta(days=2)),
                        "extensions": leaf,
                    },
                    "tsa": {
                        "issuer": "root",
                        "validity": long,
                        "extensions": [
                            {
                                "id": "key_usage",
                                "critical": True,
                                "smart-value": {
                                    "schema": "key-usage",
                                    "params": ["digital_signature"],
                                },
                            },
                            {
                                "id": "extended_key_usage",
                                "critical": True,
                                "value": ["time_stamping"],
                            },
                        ],
                    },
                    "stranger-root": {
                        "subject": "stranger-root",
                        "issuer": "stranger-root",
                        "validity": long,
                        "extensions": ca,
                    },
                    "stranger": {"issuer": "stranger-root", "validity": long, "extensions": leaf},
                },
                "services": {
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}}
                },
            }
        },
    }
    cfg = CertomancerConfig(config, key_search_dir=str(folder))
    return TestPki(folder=folder, arch=cfg.get_pki_arch("uji"))


class LocalServer:
    """A small HTTP server on 127.0.0.1 in a thread; ``handle(path, body, headers)``
    returns (status, content type, body)."""

    def __init__(self, handle):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as a real service: a client's session sends its requests over one
            # connection instead of a connection (and a server thread) each.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                outer.requests.append((self.path, body, dict(self.headers)))
                status, ctype, out = handle(self.path, body, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.requests: list = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _fast_generic_sign():
    """certomancer parses (and checks) the TSA's RSA key again for every timestamp, about
    100 ms; a real TSA keeps its key loaded. Parse each key once."""
    import certomancer.services as services
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15

    original = services.generic_sign
    if getattr(original, "monev_fast", False):
        return
    loaded: dict[bytes, object] = {}

    def generic_sign(private_key, tbs_bytes, sd_algo):
        if sd_algo.signature_algo != "rsassa_pkcs1v15":
            return original(private_key, tbs_bytes, sd_algo)
        der = private_key.dump()
        if der not in loaded:
            loaded[der] = serialization.load_der_private_key(der, password=None)
        digest = getattr(hashes, sd_algo.hash_algo.upper())()
        return loaded[der].sign(tbs_bytes, PKCS1v15(), digest)

    generic_sign.monev_fast = True
    services.generic_sign = generic_sign


def tsa_server(pki: TestPki) -> LocalServer:
    """The certomancer TSA of ``pki`` answering RFC 3161 requests over HTTP."""
    _fast_generic_sign()
    stamper = pki.timestamper()

    def handle(_path, body, _headers):
        request = tsp.TimeStampReq.load(body)
        response = stamper.request_tsa_response(request)
        return 200, "application/timestamp-reply", response.dump()

    return LocalServer(handle)
