"""Signing backends behind one interface (:class:`Backend`), chosen in settings
(``MONEV_SIGNING_BACKEND``; see config.py and README "Tanda tangan elektronik"):

* ``pkcs12`` — the office's certificate and key in a PKCS#12 file with its passphrase;
* ``pkcs11`` — a key on a PKCS#11 token (module path, token label, key label, PIN);
* ``remote`` — a remote signing service in the BSrE style: the signer's NIK and passphrase
  (or one-time code) are sent with the PDF to an HTTP API that returns it signed. This is an
  adapter following the request and response shape documented in README, not a certified
  BSrE client. The passphrase is asked at signing time and never stored.

The local backends sign with pyHanko: PAdES baseline B-B, or B-T when ``MONEV_SIGNING_TSA_URL``
names an RFC 3161 time-stamping authority, with a visible field above the signatory's name.
A signing failure raises :class:`SigningError`: never an unsigned file passed off as signed.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monev.signing.appearance import stamp_style
from monev.signing.placement import Box, above_name

FIELD = "TTE"
BACKENDS = ("pkcs12", "pkcs11", "remote")
RESERVED = 12_000  # bytes for the CMS signature (certificate chain, signed attributes)
RESERVED_TSA = 20_000  # the same with the timestamp token and the TSA's certificates


def off_loop(call):
    """``call()``, in a thread of its own when this thread already runs an asyncio loop:
    pyHanko's synchronous API starts its own loop (asyncio.run), which a running loop
    forbids (an async server, or Playwright's sync API in the browser tests)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


class SigningError(Exception):
    """The document could not be signed (the message says why, for the admin and the log).
    ``code`` sorts the cause for the people who retry: ``refused`` (the remote service said
    no: a wrong or expired passphrase or code), ``unreachable``, ``credentials`` (the
    signatory's NIK and passphrase or code are needed) or ``failed`` (anything else)."""

    def __init__(self, message: str, code: str = "failed"):
        super().__init__(message)
        self.code = code

    def __reduce__(self):  # across worker processes with its code
        return (type(self), (str(self), self.code))


@dataclass(frozen=True)
class Credentials:
    """What a signatory types at signing time for the remote backend. Never stored: kept in
    the memory of the request (or the batch run) that signs, and left out of ``repr`` so no
    log line or traceback can show it."""

    nik: str
    passphrase: str = field(default="", repr=False)
    otp: str = field(default="", repr=False)


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime


def cert_info(cert) -> CertInfo:
    """Subject, issuer (labelled in the user's language, monev.signing.names) and validity
    of an asn1crypto certificate."""
    from monev.signing.names import describe

    return CertInfo(
        subject=describe(cert.subject),
        issuer=describe(cert.issuer),
        not_before=_naive_utc(cert.not_valid_before),
        not_after=_naive_utc(cert.not_valid_after),
    )


def _naive_utc(moment: datetime) -> datetime:
    """Moments are stored and compared as naive UTC in Monev (core.timeutil.utcnow)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class Backend:
    name = ""
    needs_credentials = False

    def __init__(self, config):
        self.tsa_url = config.get("SIGNING_TSA_URL") or None
        self.timeout = int(config.get("SIGNING_TIMEOUT_SECONDS", 30))
        self.zone = config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Makassar"

    def sign(
        self,
        pdf: bytes,
        *,
        signer_name: str | None = None,
        reason: str = "",
        credentials: Credentials | None = None,
        place: Box | None = None,
    ) -> bytes:
        """``pdf`` signed, with the visible field at ``place`` (default: above the last
        occurrence of ``signer_name``, monev.signing.placement). Raises SigningError."""
        raise NotImplementedError

    def certificate(self):
        """The signing certificate (asn1crypto), or None when the backend cannot tell."""
        return None


def stamp_moment(zone: str) -> str:
    """Now in ``zone``, as every page writes a moment: "6 Des 2026, 14.00 WITA" (Babel
    directly: signing also runs in worker processes without a request)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    from monev.core.timezones import label

    now = datetime.now(ZoneInfo(zone)).replace(tzinfo=None)
    return f"{format_datetime(now, 'd MMM yyyy, HH.mm', locale='id')} {label(zone)}"


class _PyHankoBackend(Backend):
    """Signs locally with a pyHanko signer (PKCS#12 or PKCS#11)."""

    concurrency = 1  # signatures in flight at once (sign_each)

    def __init__(self, config):
        super().__init__(config)
        self._lock = threading.Lock()
        self._signer = None

    def _load(self):
        raise NotImplementedError

    def signer(self):
        with self._lock:
            if self._signer is None:
                try:
                    self._signer = self._load()
                except SigningError:
                    raise
                except Exception as exc:
                    raise SigningError(f"cannot load the signing key ({self.name}): {exc}") from exc
            return self._signer

    def certificate(self):
        return self.signer().signing_cert

    def _timestamper(self, timestamps):
        """One client per backend: it keeps its connection and its size estimate."""
        if not self.tsa_url:
            return None
        if getattr(self, "_stamper", None) is None:
            self._stamper = _session_timestamper()(self.tsa_url, timeout=self.timeout)
        return self._stamper

    def sign(self, pdf, *, signer_name=None, reason="", credentials=None, place=None) -> bytes:
        (result,) = self.sign_each([(pdf, signer_name, reason, place)])
        if isinstance(result, SigningError):
            raise result
        return result

    def sign_each(self, items: list[tuple]) -> list[bytes | SigningError]:
        """Each (pdf, signer name, reason[, place]) signed, in order: the signed PDF or the
        SigningError of that item. Up to ``concurrency`` signatures are in flight at once in
        one event loop, so the timestamp requests (a round trip to the TSA each) overlap
        with building the other signatures instead of adding up."""
        import asyncio

        try:
            signer = self.signer()
        except SigningError as exc:  # a key that cannot be loaded fails every item alike
            return [exc for _item in items]
        waktu = stamp_moment(self.zone)

        async def one(item, gate) -> bytes | SigningError:
            async with gate:
                try:
                    pdf_signer, writer, reserved = self._prepare(signer, waktu, *item)
                    out = await pdf_signer.async_sign_pdf(writer, bytes_reserved=reserved)
                    return out.getvalue()
                except SigningError as exc:
                    return exc
                except Exception as exc:
                    return SigningError(f"signing failed ({self.name}): {exc}")

        async def run_all():
            gate = asyncio.Semaphore(self.concurrency)
            return await asyncio.gather(*(one(item, gate) for item in items))

        with self._lock:  # a PKCS#11 session is not shared between threads
            return off_loop(lambda: asyncio.run(run_all()))

    def _prepare(self, signer, waktu, pdf, signer_name=None, reason="", place=None):
        """The writer (the signature field added where the signatory's block is) and the
        pyHanko signer for one document."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers, timestamps

        place = place or above_name(pdf, signer_name)
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        fields.append_signature_field(
            writer, fields.SigFieldSpec(FIELD, on_page=place.page, box=place.box)
        )
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD,
            reason=reason or None,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        timestamper = self._timestamper(timestamps)
        x1, y1, x2, y2 = place.box
        style = stamp_style(x2 - x1, y2 - y1, signer.subject_name or self.name, waktu)
        pdf_signer = signers.PdfSigner(
            meta, signer=signer, timestamper=timestamper, stamp_style=style
        )
        # Room for the signature reserved up front: pyHanko would otherwise sign once
        # more (and ask the TSA once more) only to measure it.
        return pdf_signer, writer, RESERVED_TSA if timestamper is not None else RESERVED


class Pkcs12Backend(_PyHankoBackend):
    name = "pkcs12"
    # The key is in memory: several signatures may be under way (waiting for their
    # timestamps) at once.
    concurrency = 8

    def __init__(self, config):
        super().__init__(config)
        self.path = config.get("SIGNING_PKCS12")
        self.passphrase = config.get("SIGNING_PKCS12_PASSPHRASE") or ""
        if not self.path:
            raise SigningError("MONEV_SIGNING_PKCS12 is not set")

    def _load(self):
        from pyhanko.sign import signers

        loaded = signers.SimpleSigner.load_pkcs12(
            self.path, passphrase=self.passphrase.encode("utf-8") or None
        )
        if loaded is None:
            raise SigningError(f"cannot read the PKCS#12 file {self.path} (wrong passphrase?)")
        return _cached_key_signer()(
            signing_key=loaded.signing_key,
            signing_cert=loaded.signing_cert,
            cert_registry=loaded.cert_registry,
            signature_mechanism=loaded.signature_mechanism,
        )


def _session_timestamper():
    """pyHanko's requests-based TSA client opens a new HTTP session (and reads the CA bundle,
    about 60 ms) for every timestamp; this one keeps one session."""
    import asyncio

    import requests
    from asn1crypto import tsp
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    class SessionTimeStamper(RequestsHTTPTimeStamper):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._session = requests.Session()

        async def async_request_tsa_response(self, req):
            def task():
                try:
                    raw = self._session.post(
                        self.url,
                        req.dump(),
                        headers=self.request_headers(),
                        auth=self.auth,
                        timeout=self.timeout,
                    )
                except OSError as exc:
                    raise TimestampRequestError("Error in communication with the TSA") from exc
                if raw.headers.get("Content-Type") != "application/timestamp-reply":
                    raise TimestampRequestError("The TSA's answer is malformed", raw)
                return tsp.TimeStampResp.load(raw.content)

            return await asyncio.to_thread(task)

    return SessionTimeStamper


class _ReusedSigningCertificate:
    """pyHanko's signed-attribute spec, with its signing-certificate-v2 attribute given as
    the DER built once (asn1crypto builds it again for every signature otherwise)."""

    def __init__(self, spec, der: bytes):
        self.spec, self.der = spec, der

    def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str):
        from pyhanko.sign.attributes import SigningCertificateV2Provider

        for provider in self.spec.signed_attr_providers(data_digest, digest_algorithm):
            if isinstance(provider, SigningCertificateV2Provider):
                yield _DerAttribute(self.der)
            else:
                yield provider


class _DerAttribute:
    def __init__(self, der: bytes):
        self.der = der

    async def get_attribute(self, dry_run=False):
        from asn1crypto import cms

        return cms.CMSAttribute.load(self.der)


def _cached_key_signer():
    """pyHanko's SimpleSigner parses (and checks) its private key again for every signature,
    about 150 ms for an RSA key; this one parses it once (a batch signs hundreds)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash

    class CachedKeySigner(signers.SimpleSigner):
        _key = None
        _signing_cert_attr = None

        def _signed_attr_provider_spec(self, *args, **kwargs):
            # The signing-certificate-v2 attribute (the certificate's digest, issuer and
            # serial) is the same in every signature: built once, reused as DER.
            if self._signing_cert_attr is None:
                from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute

                self._signing_cert_attr = simple_cms_attribute(
                    "signing_certificate_v2", as_signing_certificate_v2(self.signing_cert)
                ).dump()
            return _ReusedSigningCertificate(
                super()._signed_attr_provider_spec(*args, **kwargs), self._signing_cert_attr
            )

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            if self._key is None:
                self._key = serialization.load_der_private_key(
                    self.signing_key.dump(), password=None
                )
            hash_algo = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, RSAPrivateKey):
                return self._key.sign(data, PKCS1v15(), hash_algo)
            if mechanism == "ecdsa" and isinstance(self._key, EllipticCurvePrivateKey):
                return self._key.sign(data, signature_algorithm=ECDSA(hash_algo))
            return super().sign_raw(data, digest_algorithm)

    return CachedKeySigner


class Pkcs11Backend(_PyHankoBackend):
    name = "pkcs11"

    def __init__(self, config):
        super().__init__(config)
        self.module = config.get("SIGNING_PKCS11_MODULE")
        self.token = config.get("SIGNING_PKCS11_TOKEN")
        self.key = config.get("SIGNING_PKCS11_KEY")
        self.pin = config.get("SIGNING_PKCS11_PIN")
        if not (self.module and self.token and self.key):
            raise SigningError(
                "MONEV_SIGNING_PKCS11_MODULE, _TOKEN and _KEY must be set for the pkcs11 backend"
            )

    def _load(self):
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign import pkcs11

        session = pkcs11.open_pkcs11_session(
            self.module, token_criteria=TokenCriteria(label=self.token), user_pin=self.pin
        )
        return pkcs11.PKCS11Signer(session, key_label=self.key, cert_label=self.key)


class RemoteBackend(Backend):
    """The BSrE-style adapter. Request (POST JSON to ``MONEV_SIGNING_REMOTE_URL``)::

        {"nik": "...", "passphrase": "..." | "totp": "...",
         "signatureProperties": [{"tampilan": "VISIBLE", "page": 1,
             "originX": x, "originY": y, "width": w, "height": h,
             "reason": "...", "location": "..."}],
         "file": ["<PDF, base64>"]}

    Answer 200 ``{"file": ["<signed PDF, base64>"]}``; any other status ``{"error": "..."}``
    (or ``{"message": "..."}``). The returned PDF must carry an intact signature over the
    whole file, else the signing fails."""

    name = "remote"
    needs_credentials = True

    def __init__(self, config):
        super().__init__(config)
        self.url = config.get("SIGNING_REMOTE_URL")
        self.user = config.get("SIGNING_REMOTE_USER") or ""
        self.password = config.get("SIGNING_REMOTE_PASSWORD") or ""
        self.cert_path = config.get("SIGNING_REMOTE_CERT") or ""
        self.location = config.get("SIGNING_LOCATION") or ""
        if not self.url:
            raise SigningError("MONEV_SIGNING_REMOTE_URL is not set")

    def certificate(self):
        if not self.cert_path:
            return None
        from asn1crypto import pem, x509

        with open(self.cert_path, "rb") as fh:
            data = fh.read()
        if pem.detect(data):
            data = pem.unarmor(data)[2]
        return x509.Certificate.load(data)

    def sign(self, pdf, *, signer_name=None, reason="", credentials=None, place=None) -> bytes:
        if (
            credentials is None
            or not credentials.nik
            or not (credentials.passphrase or credentials.otp)
        ):
            raise SigningError(
                "the remote service needs the signer's NIK and passphrase or code", "credentials"
            )
        place = place or above_name(pdf, signer_name)
        x1, y1, x2, y2 = place.box
        body = {
            "nik": credentials.nik,
            "signatureProperties": [
                {
                    "tampilan": "VISIBLE",
                    "page": place.page + 1,
                    "originX": x1,
                    "originY": y1,
                    "width": x2 - x1,
                    "height": y2 - y1,
                    "reason": reason,
                    "location": self.location,
                }
            ],
            "file": [base64.b64encode(pdf).decode("ascii")],
        }
        if credentials.otp:
            body["totp"] = credentials.otp
        else:
            body["passphrase"] = credentials.passphrase
        request = urllib.request.Request(  # noqa: S310 (the configured service's URL)
            self.url,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        if self.user:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            code = "refused" if 400 <= exc.code < 500 else "unreachable"
            raise SigningError(f"the signing service refused: {_error_of(exc)}", code) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SigningError(
                f"the signing service cannot be reached: {exc}", "unreachable"
            ) from exc
        try:
            signed = base64.b64decode(answer["file"][0], validate=True)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise SigningError("the signing service answered without a signed PDF") from exc
        from monev.signing.verification import signature_covers_whole

        if not signature_covers_whole(signed):
            raise SigningError("the signing service returned a PDF without an intact signature")
        return signed


def _error_of(exc) -> str:
    try:
        data = json.loads(exc.read())
        return str(data.get("error") or data.get("message") or exc.code)
    except Exception:
        return f"HTTP {exc.code}"


_CLASSES = {"pkcs12": Pkcs12Backend, "pkcs11": Pkcs11Backend, "remote": RemoteBackend}
_cache: dict = {}
_cache_lock = threading.Lock()


def backend_name(config) -> str:
    """The configured backend's name, or "" (unsigned). A PKCS#12 file alone selects it."""
    name = (config.get("SIGNING_BACKEND") or "").strip().lower()
    if not name and config.get("SIGNING_PKCS12"):
        name = "pkcs12"
    return name


def get_backend(config) -> Backend | None:
    """The configured backend (one per configuration and process), or None."""
    name = backend_name(config)
    if not name:
        return None
    if name not in _CLASSES:
        raise SigningError(f"unknown signing backend {name!r} (use one of {', '.join(BACKENDS)})")
    key = (
        name,
        *(
            str(config.get(k))
            for k in sorted(config)
            if isinstance(k, str) and k.startswith("SIGNING_")
        ),
    )
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _CLASSES[name](config)
        return _cache[key]


def _sign_in_worker(config: dict, items: list[tuple]) -> list[bytes | SigningError]:
    """Runs in a worker process: the backend (key, chain, TSA session) is made once per
    process and configuration and kept for every later step of the batch."""
    return get_backend(config).sign_each(items)


def sign_many(config, items: list[tuple], *, processes: int = 1) -> list[bytes | SigningError]:
    """Sign each (pdf, signer name, reason[, place]) with the configured local backend,
    several at once (``Backend.sign_each``); with ``processes`` > 1 split over the rendering's
    worker processes (building a signature is CPU-bound: about 20 ms). Returns the signed
    PDFs, or the SigningError of each one that failed, in order."""
    backend = get_backend(config)
    if backend is None or backend.needs_credentials:
        raise SigningError("no local signing backend is configured")
    if processes <= 1 or len(items) < 2:
        return backend.sign_each(items)
    from monev.pdf.rendering import worker_pool

    settings = {k: config.get(k) for k in config if isinstance(k, str) and k.startswith("SIGNING_")}
    for key in ("BABEL_DEFAULT_TIMEZONE",):
        settings[key] = config.get(key)
    pool = worker_pool(processes)
    size = -(-len(items) // processes)
    parts = [items[i : i + size] for i in range(0, len(items), size)]
    futures = [pool.submit(_sign_in_worker, settings, part) for part in parts]
    results: list[bytes | SigningError] = []
    for part, future in zip(parts, futures, strict=True):
        try:
            results.extend(future.result())
        except Exception as exc:  # a worker that died: its items fail, they are retried later
            results.extend(SigningError(f"signing worker failed: {exc}") for _item in part)
    return results


__all__ = [
    "BACKENDS",
    "Backend",
    "Box",
    "CertInfo",
    "Credentials",
    "SigningError",
    "backend_name",
    "cert_info",
    "get_backend",
]
