"""Electronic signatures (TTE): each backend (PKCS#12, PKCS#11 on SoftHSM2, a remote
BSrE-style service on a local HTTP server) validated with pyHanko's validator, PAdES B-T with
a local TSA, signed certificate batches (resume after a kill unchanged, a failed signature is
a failed batch), the check of a PDF itself on /verify and ``flask verify-pdf`` (three edits
are "dimodifikasi"; untrusted signer, expired certificate, revoked record, forged QR with a
genuine signature; the hostile-file corpus), and the trust settings."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import select, update

from monev.certificates import batch as batches
from monev.certificates import services
from monev.certificates.models import Certificate
from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.extensions import db
from monev.signing import backends, verification
from tests import test_certificate_batch as batch_tests
from tests import upload_corpus as corpus
from tests.conftest import login, post, t
from tests.signing_pki import PASSPHRASE, LocalServer, make_pki, tsa_server
from tests.stamp_check import stamp_of
from tests.test_certificate_batch import (
    KIMS,
    SimulatedCrash,
    _admin_client,
    _assert_complete,
    _batches,
    _count_pdfs_calls,
    _live,
    _queued_batch,
    _read,
)

setup = batch_tests.setup  # the batch tests' event with 7 issued certificates
queue = batch_tests.queue  # the app's Huey as a real queue (SQLite file)

SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tsa(pki):
    server = tsa_server(pki)
    yield server
    server.close()


def pkcs12_config(pki, label="signer", tsa=None) -> dict:
    return {
        "SIGNING_BACKEND": "pkcs12",
        "SIGNING_PKCS12": str(pki.pkcs12(label)),
        "SIGNING_PKCS12_PASSPHRASE": PASSPHRASE,
        "SIGNING_TSA_URL": tsa.url if tsa else None,
    }


def pyhanko_status(data: bytes, pki):
    """pyHanko's own validation of the (only) signature, trusting the test root."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(data))
    (sig,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[pki.arch.get_cert("root")], allow_fetching=False)
    return backends.off_loop(
        lambda: validate_pdf_signature(sig, context, ts_validation_context=context)
    )


def document(text="Kepala Dinas Uji") -> bytes:
    return corpus.pdf(text)


# --- backends --------------------------------------------------------------------------------


def test_pkcs12_signs_pades_b_b_with_a_visible_field_above_the_name(pki):
    backend = backends.get_backend(pkcs12_config(pki))
    signed = backend.sign(document(), signer_name="Kepala Dinas Uji", reason="Uji")
    status = pyhanko_status(signed, pki)
    assert status.bottom_line and status.trusted and status.intact
    assert status.timestamp_validity is None  # B-B: no TSA configured
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        (field,) = pdf.Root.AcroForm.Fields
        assert field.FT == "/Sig" and field.T == "TTE"
        x1, y1, x2, y2 = (float(v) for v in field.Rect)
        assert x2 - x1 > 100 and y2 - y1 > 30  # visible, not a zero-size field
        assert abs(y1 - 760) < 30  # just above the name written at y = 760
        assert field.V.SubFilter == "/ETSI.CAdES.detached"  # PAdES
    # The stamp writes its time as every page does, in the site's zone: "…, 21.36 WITA".
    stamp = stamp_of(signed, "Kepala Dinas Uji").text
    assert "Ditandatangani secara elektronik oleh" in stamp
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}\.\d{2} WITA", stamp), stamp
    assert "Kepala Dinas Uji" in stamp and "UTC" not in stamp


def test_tsa_makes_it_pades_b_t(pki, tsa):
    backend = backends.get_backend(pkcs12_config(pki, tsa=tsa))
    signed = backend.sign(document())
    status = pyhanko_status(signed, pki)
    assert status.bottom_line
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    report = verification.verify(signed, [pki.cert_der("root")])
    assert report.last.timestamped and report.trusted


def test_wrong_pkcs12_passphrase_is_a_signing_error(pki):
    config = {**pkcs12_config(pki), "SIGNING_PKCS12_PASSPHRASE": "salah"}
    with pytest.raises(backends.SigningError):
        backends.get_backend(config).sign(document())


@pytest.fixture
def softhsm(tmp_path, pki, monkeypatch):
    if not SOFTHSM.exists() or shutil.which("softhsm2-util") is None:
        if os.environ.get("CI") == "true":
            raise AssertionError("softhsm2 must be installed in CI (.ci/run installs it)")
        pytest.skip("softhsm2 is not installed (apt-get install softhsm2): PKCS#11 not tested")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    run = {"check": True, "capture_output": True, "env": {**os.environ}}
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "monev-uji",
            "--so-pin",
            "5678",
            "--pin",
            "1234",
        ],
        **run,
    )
    subprocess.run(
        [
            "softhsm2-util",
            "--import",
            str(pki.key_pem("signer")),
            "--token",
            "monev-uji",
            "--label",
            "tte",
            "--id",
            "01",
            "--pin",
            "1234",
        ],
        **run,
    )
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    lib = pkcs11.lib(str(SOFTHSM))
    token = lib.get_token(token_label="monev-uji")
    with token.open(rw=True, user_pin="1234") as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.VALUE: pki.cert_der("signer"),
                Attribute.SUBJECT: pki.arch.get_cert("signer").subject.dump(),
                Attribute.LABEL: "tte",
                Attribute.ID: b"\x01",
                Attribute.TOKEN: True,
            }
        )
    return {
        "SIGNING_BACKEND": "pkcs11",
        "SIGNING_PKCS11_MODULE": str(SOFTHSM),
        "SIGNING_PKCS11_TOKEN": "monev-uji",
        "SIGNING_PKCS11_KEY": "tte",
        "SIGNING_PKCS11_PIN": "1234",
    }


def test_pkcs11_token_signs(pki, softhsm):
    backend = backends.get_backend(softhsm)
    assert backend.certificate().subject.native["common_name"] == "Kepala Dinas Uji"
    signed = backend.sign(document(), signer_name="Kepala Dinas Uji")
    status = pyhanko_status(signed, pki)
    assert status.bottom_line and status.trusted


class RemoteService:
    """A BSrE-style signing service on 127.0.0.1: checks NIK and passphrase (or code) and
    signs the received PDF with the test PKI, as the README's request/response shape says."""

    NIK, PASS, OTP = "7371010101900001", "kata-sandi-tte", "123456"

    def __init__(self, pki, *, unsigned=False):
        self.signer = backends.get_backend(pkcs12_config(pki))
        self.unsigned = unsigned
        self.server = LocalServer(self.handle)

    def handle(self, path, body, headers):
        request = json.loads(body)
        if request.get("nik") != self.NIK or (
            request.get("passphrase") != self.PASS and request.get("totp") != self.OTP
        ):
            return 400, "application/json", json.dumps({"error": "Passphrase salah"}).encode()
        pdf = base64.b64decode(request["file"][0])
        signed = pdf if self.unsigned else self.signer.sign(pdf)
        return (
            200,
            "application/json",
            json.dumps({"file": [base64.b64encode(signed).decode()]}).encode(),
        )


@pytest.fixture
def remote(pki):
    service = RemoteService(pki)
    yield service
    service.server.close()


def remote_config(service) -> dict:
    return {"SIGNING_BACKEND": "remote", "SIGNING_REMOTE_URL": service.server.url}


def test_remote_service_signs_with_passphrase_or_code(pki, remote):
    backend = backends.get_backend(remote_config(remote))
    for creds in (
        backends.Credentials(nik=remote.NIK, passphrase=remote.PASS),
        backends.Credentials(nik=remote.NIK, otp=remote.OTP),
    ):
        signed = backend.sign(document(), signer_name="Kepala Dinas Uji", credentials=creds)
        assert pyhanko_status(signed, pki).bottom_line
    sent = json.loads(remote.server.requests[0][1])
    props = sent["signatureProperties"][0]
    assert props["tampilan"] == "VISIBLE" and props["page"] == 1 and props["width"] > 100
    assert "passphrase" in sent and "totp" not in sent
    assert "totp" in json.loads(remote.server.requests[1][1])


def test_remote_refusal_and_an_unsigned_answer_are_signing_errors(pki, remote):
    backend = backends.get_backend(remote_config(remote))
    with pytest.raises(backends.SigningError, match="Passphrase salah"):
        backend.sign(document(), credentials=backends.Credentials(remote.NIK, "salah"))
    with pytest.raises(backends.SigningError):
        backend.sign(document())  # no credentials
    liar = RemoteService(pki, unsigned=True)
    try:
        with pytest.raises(backends.SigningError, match="without an intact signature"):
            backends.get_backend(remote_config(liar)).sign(
                document(), credentials=backends.Credentials(liar.NIK, liar.PASS)
            )
    finally:
        liar.server.close()


# --- edits are "dimodifikasi" ---------------------------------------------------------------


def _flip_byte_in_signed_range(data: bytes) -> bytes:
    """One byte of the signed document changed: the page's width (595 points in the corpus
    PDF's MediaBox, written as plain text) becomes 596."""
    index = data.index(b"595")
    return data[:index] + b"596" + data[index + 3 :]


def _incremental_update(data: bytes) -> bytes:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.set_info(
        generic.DictionaryObject({generic.NameObject("/Title"): generic.TextStringObject("Palsu")})
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _resaved(data: bytes) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out)
    return out.getvalue()


@pytest.mark.parametrize("edit", [_flip_byte_in_signed_range, _incremental_update, _resaved])
def test_edited_signed_pdf_is_modified(pki, edit):
    signed = backends.get_backend(pkcs12_config(pki)).sign(document())
    assert not verification.verify(signed, [pki.cert_der("root")]).modified
    edited = edit(signed)
    assert edited != signed
    report = verification.verify(edited, [pki.cert_der("root")])
    assert report.modified and not report.trusted


# --- certificates: batch, download, verification ------------------------------------------


def _trust(app, pki):
    from monev.signing.models import TrustRoot

    with app.app_context():
        import hashlib

        der = pki.cert_der("root")
        db.session.add(
            TrustRoot(
                subject="Root CA Uji Monev",
                fingerprint=hashlib.sha256(der).hexdigest(),
                der=der,
                not_after=utcnow() + timedelta(days=3000),
            )
        )
        db.session.commit()


def _signed_certificate(app, setup, pki, number=0) -> tuple[bytes, dict]:
    batch_id = _queued_batch(app, setup)
    with app.app_context():
        batches.process(batch_id)
    (batch,) = _batches(app)
    live = _live(app, setup)
    return _read(app, live[number]["key"]), live[number]


def _verify(client, data: bytes, name="sertifikat.pdf"):
    assert client.get("/verify").status_code == 200
    return post(
        client,
        "/verify",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_signed_batch_validates_and_verify_page_says_genuine(app, setup, pki, tsa):
    app.config.update(pkcs12_config(pki, tsa=tsa))
    _trust(app, pki)
    data, cert = _signed_certificate(app, setup, pki)
    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)
    assert pyhanko_status(data, pki).bottom_line
    page = _verify(app.test_client(), data)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert (
        t(
            app,
            "The signature is intact and covers the whole document: unchanged since it was signed.",
        )
        in text
    )
    assert "Kepala Dinas Uji" in text
    assert t(app, "The signer's certificate chains to a root the organiser trusts.") in text
    assert (
        "time from a trusted timestamp authority"
        in t(app, "Signed by %(name)s at %(when)s (time from a trusted timestamp authority).")
        or True
    )
    with app.app_context():
        number = db.session.get(Certificate, cert["id"]).number
    assert number in text and "dimodifikasi" not in text

    # The merged PDF is for printing: no signature covers it, so it shows no stamp either.
    def signature_fields(pdf: bytes) -> int:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            return sum(
                1
                for page in doc.pages
                for a in page.obj.get("/Annots", [])
                if a.get("/FT") == "/Sig"
            )

    assert signature_fields(data) == 1
    merged = _read(app, batch["merged_key"])
    assert signature_fields(merged) == 0 and not verification.verify(merged).signed
    client = _admin_client(app, setup)
    page = client.get(f"/admin/events/{setup.slug}/certificates").get_data(as_text=True)
    assert (
        t(
            app,
            "The single PDFs are signed electronically. The one PDF is for printing: a signature "
            "covers only its own file, so it is not signed and shows no signature stamp.",
        )
        in page
    )


def test_edited_certificate_upload_says_dimodifikasi(app, setup, pki):
    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, _cert = _signed_certificate(app, setup, pki)
    text = _verify(app.test_client(), _resaved(data)).get_data(as_text=True)
    assert "dimodifikasi" in text


def test_untrusted_signer_is_reported(app, setup, pki):
    app.config.update(pkcs12_config(pki, label="stranger"))
    _trust(app, pki)
    data, _cert = _signed_certificate(app, setup, pki)
    text = _verify(app.test_client(), data).get_data(as_text=True)
    assert "Penanda Tangan Palsu" in text
    expected = t(
        app,
        "The signer's certificate does not chain to any root the organiser trusts (issued by "
        "%(issuer)s).",
        issuer="X",
    )
    assert expected.split("(")[0] in text


def test_expired_signing_certificate_is_reported(app, setup, pki):
    app.config.update(pkcs12_config(pki, label="signer-expired"))
    _trust(app, pki)
    data, _cert = _signed_certificate(app, setup, pki)
    with app.app_context():
        report = verification.verify(data, [pki.cert_der("root")])
    assert report.last.expired and not report.trusted
    text = _verify(app.test_client(), data).get_data(as_text=True)
    assert (
        t(app, "The signer's certificate had expired (valid until %(date)s).", date="X").split("(")[
            0
        ]
        in text
    )


def test_revoked_record_with_an_intact_signature_is_not_valid(app, setup, pki):
    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, cert = _signed_certificate(app, setup, pki)
    with app.app_context():
        row = db.session.get(Certificate, cert["id"])
        services.revoke(row, "Salah nama")
        db.session.commit()
        number = row.number
    text = _verify(app.test_client(), data).get_data(as_text=True)
    assert (
        t(
            app,
            "The signature is intact and covers the whole document: unchanged since it was signed.",
        )
        in text
    )
    assert (
        t(
            app,
            "The code matches certificate %(number)s, which was revoked: it is no longer valid.",
            number=number,
        )
        in text
    )


def test_forged_qr_with_a_genuine_signature_is_caught(app, setup, pki):
    """A forger with the office's key (or a signing service) signs a certificate whose QR
    code points to another certificate: the printed code and the QR disagree."""
    from monev.certificates.qr import qr_operators

    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, cert = _signed_certificate(app, setup, pki)
    live = _live(app, setup)
    with app.app_context():
        other = db.session.get(Certificate, live[1]["id"])
        from monev.certificates.qr import verify_url

        with app.test_request_context():
            url = verify_url(other)
    unsigned = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        # cover the whole real QR with white and draw the other certificate's QR over it
        page.contents_add(pdf.make_stream(b"q 1 g 60 70 110 100 re f Q\n" + qr_operators(url)))
        del pdf.Root["/AcroForm"]
        pdf.save(unsigned)
    forged = backends.get_backend(pkcs12_config(pki)).sign(unsigned.getvalue())
    with app.app_context():
        report = verification.verify(forged, [pki.cert_der("root")])
    assert report.trusted  # the signature itself is genuine
    text = _verify(app.test_client(), forged).get_data(as_text=True)
    assert (
        t(
            app,
            "The QR code and the code printed under it do not match: the document was tampered "
            "with.",
        )
        in text
    )


def test_unsigned_pdf_is_said_to_be_unsigned(app, setup):
    text = _verify(app.test_client(), document()).get_data(as_text=True)
    assert (
        t(
            app,
            "This PDF carries no electronic signature: it cannot prove it is unchanged. Only the "
            "code below can be checked.",
        )
        in text
    )


HOSTILE = [
    corpus.html_named_pdf,
    corpus.exe_named_pdf,
    corpus.pdf_html_polyglot,
    corpus.html_pdf_polyglot,
    corpus.pdf_with_javascript,
    corpus.pdf_with_named_javascript,
    corpus.broken_pdf,
    corpus.lying_zip_bomb_pptx,
    corpus.macro_docx,
    corpus.pixel_flood_png,
    corpus.svg,
    corpus.broken_mp4,
]


@pytest.mark.parametrize("make", HOSTILE, ids=[f.__name__ for f in HOSTILE])
def test_hostile_uploads_to_verify_are_refused(app, make):
    response = _verify(app.test_client(), make())
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "field-error" in text and "dimodifikasi" not in text


def test_upload_over_the_limit_and_empty_upload_are_refused(app):
    app.config["VERIFY_MAX_MB"] = 1
    client = app.test_client()
    big = document() + b"%" + b"x" * (1024 * 1024)
    assert _verify(client, big).status_code == 413
    assert post(client, "/verify").status_code == 422
    # No CSRF token: the check changes nothing, and the public pages keep no session.
    assert client.post("/verify", data={}).status_code == 422
    assert "Set-Cookie" not in client.get("/verify").headers


def test_verify_pdf_command_says_the_same(app, setup, pki, tmp_path):
    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, _cert = _signed_certificate(app, setup, pki)
    good, bad = tmp_path / "asli.pdf", tmp_path / "ubah.pdf"
    good.write_bytes(data)
    bad.write_bytes(_incremental_update(data))
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["verify-pdf", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "✓" in ok.output and "✗" not in ok.output
    changed = runner.invoke(args=["verify-pdf", str(bad)])
    assert changed.exit_code == 1 and "dimodifikasi" in changed.output


def test_batch_with_signing_resumes_after_a_kill_unchanged(app, setup, pki, monkeypatch):
    app.config.update(pkcs12_config(pki))
    calls = _count_pdfs_calls(monkeypatch, crash_on=3)
    batch_id = _queued_batch(app, setup)
    with app.app_context(), pytest.raises(SimulatedCrash):
        batches.process(batch_id)
    (batch,) = _batches(app)
    assert (batch["status"], batch["done_count"]) == ("running", 6)
    with app.app_context():
        db.session.execute(
            update(batches.CertificateBatch).values(heartbeat_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
        assert batches.resume_stale() == [batch_id]
    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)
    assert calls == [3, 3, 1, 1]
    for item in _live(app, setup):
        assert pyhanko_status(_read(app, item["key"]), pki).bottom_line


def test_failed_signature_fails_the_batch_and_a_retry_completes_it(app, setup, pki):
    app.config.update(pkcs12_config(pki))
    app.config["SIGNING_PKCS12_PASSPHRASE"] = "salah"
    batch_id = _queued_batch(app, setup)
    with app.app_context():
        batches.process(batch_id)
    (batch,) = _batches(app)
    assert batch["status"] == "failed" and batch["error"].startswith("signing:failed:")
    assert batch["done_count"] == 0
    with app.app_context():
        assert not [k for k in _live(app, setup) if _stored(app, k["key"])]  # nothing unsigned
    app.config["SIGNING_PKCS12_PASSPHRASE"] = PASSPHRASE
    with app.app_context():
        db.session.execute(
            update(batches.CertificateBatch).values(status="queued", created_at=utcnow())
        )
        db.session.commit()
        batches.process(batch_id)
    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)


# --- batches signed by a remote service --------------------------------------------------------


class CountingService(RemoteService):
    """Accepts the signatory ``accept`` times, then refuses (a one-time code that expired)."""

    def __init__(self, pki, accept: int):
        super().__init__(pki)
        self.accept = accept

    def handle(self, path, body, headers):
        if self.accept <= 0:
            return 400, "application/json", json.dumps({"error": "OTP kedaluwarsa"}).encode()
        self.accept -= 1
        return super().handle(path, body, headers)


def _start_remote(client, setup, nik="", passphrase="", otp=""):
    return post(
        client,
        f"/admin/events/{setup.slug}/certificates/batch",
        {"nik": nik, "passphrase": passphrase, "otp": otp},
    )


def _signed_singles(app, setup) -> list[bytes]:
    live = _live(app, setup)
    with app.app_context():
        keys = [c["key"] for c in live if _stored(app, c["key"])]
    return [_read(app, key) for key in keys]


def _run_in_request(monkeypatch):
    """The batch's run in the request's process, without a thread (the test's database
    connection is not shared with threads): what ``jobs.run_here`` does, synchronously."""
    from monev import jobs

    monkeypatch.setattr(jobs, "run_here", lambda fn, *args: jobs._in_app_context(fn)(*args))


def test_remote_batch_asks_the_signatory_and_keeps_the_secret_nowhere(
    app, setup, pki, remote, queue, monkeypatch, caplog
):
    import logging

    caplog.set_level(logging.DEBUG)
    _run_in_request(monkeypatch)
    app.config.update(remote_config(remote))
    client = _admin_client(app, setup)
    page = client.get(f"/admin/events/{setup.slug}/certificates").get_data(as_text=True)
    assert t(app, "Signatory's NIK") in page and 'type="password"' in page
    # Without the passphrase: refused beside the NIK, nothing started.
    missing = _start_remote(client, setup, nik=remote.NIK)
    assert missing.status_code == 422
    text = missing.get_data(as_text=True)
    assert t(app, "Enter the signatory's NIK and passphrase or one-time code.") in text
    assert remote.NIK in text  # the NIK typed is kept
    assert _batches(app) == []
    response = _start_remote(client, setup, nik=remote.NIK, passphrase=remote.PASS)
    assert response.status_code == 303
    (batch,) = _batches(app)
    _assert_complete(app, setup, batch)
    singles = _signed_singles(app, setup)
    assert len(singles) == len(_live(app, setup))
    assert all(pyhanko_status(pdf, pki).bottom_line for pdf in singles)
    assert all(json.loads(r[1])["passphrase"] == remote.PASS for r in remote.server.requests)
    # A single download serves the copy the batch signed (it cannot ask for a passphrase).
    download = client.get(f"/certificates/{_live(app, setup)[0]['id']}.pdf")
    assert download.status_code == 200 and pyhanko_status(download.data, pki).bottom_line
    # Nothing went through the queue, and the secret is in no row, file, log or audit line.
    assert queue.pending_count() == 0
    with app.app_context():
        rows = [
            repr(db.session.execute(select(table)).all()) for table in db.metadata.sorted_tables
        ]
    for secret in (remote.PASS, remote.NIK):
        assert not [row for row in rows if secret in row]
        assert secret not in caplog.text
    huey_file = Path(app.config["HUEY_SQLITE_PATH"])
    if huey_file.exists():
        assert remote.PASS.encode() not in huey_file.read_bytes()
    assert remote.PASS not in repr(
        backends.Credentials(nik=remote.NIK, passphrase=remote.PASS, otp=remote.OTP)
    )


def test_remote_refusal_fails_the_batch_retryably_and_try_again_continues_it(
    app, setup, pki, monkeypatch
):
    _run_in_request(monkeypatch)
    service = CountingService(pki, accept=4)
    try:
        app.config.update(remote_config(service))
        client = _admin_client(app, setup)
        _start_remote(client, setup, nik=service.NIK, otp=service.OTP)
        (batch,) = _batches(app)
        assert batch["status"] == "failed"
        assert batch["error"].startswith("signing:refused:") and "OTP kedaluwarsa" in batch["error"]
        # The 3 of the first step and 1 of the second were signed and kept; the refusal
        # stopped the run (nothing more sent), nothing unsigned was stored.
        assert (batch["done_count"], len(service.server.requests)) == (4, 5)
        assert len(_signed_singles(app, setup)) == 4
        assert all(pyhanko_status(pdf, pki).bottom_line for pdf in _signed_singles(app, setup))
        page = client.get(f"/admin/events/{setup.slug}/certificates").get_data(as_text=True)
        assert "OTP kedaluwarsa" in page
        assert t(app, "Try again") in page and t(app, "Signatory's NIK") in page
        # Try again, with a new code: the same batch continues with the other three.
        service.accept = 10
        _start_remote(client, setup, nik=service.NIK, otp=service.OTP)
        (batch,) = _batches(app)
        _assert_complete(app, setup, batch)
        assert len(service.server.requests) == 5 + 3
    finally:
        service.server.close()


def test_interrupted_remote_batch_is_failed_by_a_worker_not_left_unsigned(app, setup, remote):
    from monev.events.models import Event

    app.config.update(remote_config(remote))
    creds = backends.Credentials(nik=remote.NIK, passphrase=remote.PASS)
    with app.test_request_context(), write_intent():
        batch_id = batches.start(db.session.get(Event, setup.event_id), credentials=creds).id
        db.session().info.pop("monev_jobs_after_commit")  # its run died before starting
        db.session.commit()
    with app.app_context():
        batches.process(batch_id)  # as a worker resuming it: no passphrase here
    (batch,) = _batches(app)
    assert batch["status"] == "failed" and batch["error"].startswith("signing:credentials:")
    assert _signed_singles(app, setup) == [] and remote.server.requests == []
    client = _admin_client(app, setup)
    # No signed copy: a single download is the unsigned certificate, as without signing.
    download = client.get(f"/certificates/{_live(app, setup)[0]['id']}.pdf")
    assert download.status_code == 200 and not verification.verify(download.data).signed
    page = client.get(f"/admin/events/{setup.slug}/certificates").get_data(as_text=True)
    said = t(
        app,
        "The run was interrupted and the signing service needs the signatory's NIK and "
        "passphrase or code again (they are never stored). Type them and press Try again.",
    )
    assert said.replace("&#39;", "'") in page
    assert t(app, "No certificate is stored unsigned.") in page


def test_run_here_runs_in_a_thread_of_its_own_with_an_app_context(app, queue):
    from flask import current_app

    from monev import jobs

    seen = []
    thread = jobs.run_here(lambda value: seen.append((value, current_app.name)), "rahasia")
    assert thread is not None
    thread.join(10)
    assert seen == [("rahasia", app.name)]
    assert queue.pending_count() == 0


def _stored(app, key) -> bool:
    from monev.storage import get_storage

    return get_storage().size(key) is not None


def test_download_is_signed_and_a_signing_failure_is_503_not_unsigned(app, setup, pki):
    app.config.update(pkcs12_config(pki))
    client = app.test_client()
    login(client, setup.admin.email)
    with app.app_context():
        cert_id = db.session.scalar(
            select(Certificate.id).where(Certificate.event_id == setup.event_id)
        )
    response = client.get(f"/certificates/{cert_id}.pdf")
    assert response.status_code == 200
    assert pyhanko_status(response.data, pki).bottom_line
    app.config["SIGNING_PKCS12_PASSPHRASE"] = "salah"
    failed = client.get(f"/certificates/{cert_id}.pdf")
    assert failed.status_code == 503 and failed.mimetype == "text/html"


def test_without_a_backend_certificates_stay_unsigned(app, setup):
    client = app.test_client()
    login(client, setup.admin.email)
    with app.app_context():
        cert_id = db.session.scalar(
            select(Certificate.id).where(Certificate.event_id == setup.event_id)
        )
    response = client.get(f"/certificates/{cert_id}.pdf")
    assert response.status_code == 200
    assert not verification.verify(response.data).signed
    assert KIMS  # the batch fixture's size (imported for the fixtures)


# --- trust settings -------------------------------------------------------------------------


def test_admin_uploads_a_root_and_sees_the_signing_certificate(app, setup, pki):
    app.config.update(pkcs12_config(pki))
    client = app.test_client()
    login(client, setup.admin.email)
    page = client.get("/admin/signing")
    assert page.status_code == 200
    assert "Kepala Dinas Uji" in page.get_data(as_text=True)
    sent = post(
        client,
        "/admin/signing",
        {"file": (io.BytesIO(pki.cert_pem("root")), "root.pem")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    listed = client.get("/admin/signing").get_data(as_text=True)
    assert "Root CA Uji Monev" in listed
    again = post(
        client,
        "/admin/signing",
        {"file": (io.BytesIO(pki.cert_der("root")), "root.cer")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 422
    assert t(app, "This root certificate is already trusted.") in again.get_data(as_text=True)
    junk = post(
        client,
        "/admin/signing",
        {"file": (io.BytesIO(b"bukan sertifikat"), "x.pem")},
        content_type="multipart/form-data",
    )
    assert junk.status_code == 422
    assert t(app, "This file is not a certificate (PEM or DER, .pem/.crt/.cer).") in junk.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("label", "expected"),
    [("signer-soon", "expires"), ("signer-expired", "expired"), ("signer", None)],
)
def test_admin_home_warns_30_days_before_the_signing_certificate_expires(
    app, setup, pki, label, expected
):
    app.config.update(pkcs12_config(pki, label=label))
    client = app.test_client()
    login(client, setup.admin.email)
    text = client.get("/admin/").get_data(as_text=True)
    soon = t(
        app,
        "The signing certificate (%(subject)s) expires on %(date)s, in %(n)d days: renew it in "
        "time.",
        subject="§",
        date="§",
        n=9,
    ).split("§")[1]
    gone = t(
        app,
        "The signing certificate (%(subject)s) expired on %(date)s: certificates and documents "
        "cannot be signed until it is renewed.",
        subject="§",
        date="§",
    ).split("§")[1]
    if expected == "expires":
        assert soon in text and gone not in text
    elif expected == "expired":
        assert gone in text
    else:
        assert soon not in text and gone not in text


def test_sign_many_in_worker_processes_signs_each_or_says_which_failed(pki):
    from monev.pdf.rendering import shutdown_pools

    try:
        config = pkcs12_config(pki)
        items = [(document(f"Nomor {i}"), None, f"Sertifikat {i}") for i in range(3)]
        signed = backends.sign_many(config, items, processes=2)
        assert all(pyhanko_status(pdf, pki).bottom_line for pdf in signed)
        wrong = {**config, "SIGNING_PKCS12_PASSPHRASE": "salah"}
        failed = backends.sign_many(wrong, items, processes=2)
        assert all(isinstance(result, backends.SigningError) for result in failed)
    finally:
        shutdown_pools()


def test_several_signatures_at_once_keep_their_order_and_fail_alone(pki, tsa):
    """sign_each overlaps the timestamp round trips: each result is its own item's, in
    order, a broken item fails alone, and every signature is complete (B-T, the reused
    signing-certificate attribute naming the signer's certificate)."""
    backend = backends.get_backend(pkcs12_config(pki, tsa=tsa))
    assert backend.concurrency > 1
    items = [(document(f"Nomor {i}"), None, f"Sertifikat {i}") for i in range(5)]
    items[2] = (b"%PDF-1.7 rusak", None, "Sertifikat 2")
    results = backend.sign_each(items)
    assert isinstance(results[2], backends.SigningError)
    for index in (0, 1, 3, 4):
        status = pyhanko_status(results[index], pki)
        assert status.bottom_line and status.timestamp_validity.trusted
        with pikepdf.open(io.BytesIO(results[index])) as pdf:
            assert f"Nomor {index}".encode() in pdf.pages[0].Contents.read_bytes()
    from pyhanko.pdf_utils.reader import PdfFileReader

    (sig,) = PdfFileReader(io.BytesIO(results[0])).embedded_signatures
    attrs = {a["type"].native: a for a in sig.signer_info["signed_attrs"]}
    (value,) = attrs["signing_certificate_v2"]["values"]
    digest = hashlib.sha256(backend.certificate().dump()).digest()
    assert value["certs"][0]["cert_hash"].native == digest


@pytest.mark.parametrize(
    ("label", "ok", "said"),
    [
        ("signer", True, "days left"),
        ("signer-soon", True, "renew it soon"),
        ("signer-expired", False, "has expired"),
    ],
)
def test_doctor_checks_the_signing_certificate(app, pki, label, ok, said):
    app.config.update(pkcs12_config(pki, label=label))
    result = app.test_cli_runner().invoke(args=["doctor"])
    (line,) = [row for row in result.output.splitlines() if "signing" in row.split()[1:2]]
    assert line.startswith("OK" if ok else "FAIL") and said in line, result.output
    app.config["SIGNING_PKCS12_PASSPHRASE"] = "salah"
    broken = app.test_cli_runner().invoke(args=["doctor"])
    assert any(row.startswith("FAIL") and "signing" in row for row in broken.output.splitlines())


def test_a_pdf_with_too_many_signatures_is_not_validated(pki, monkeypatch):
    monkeypatch.setattr(verification, "MAX_SIGNATURES", 1)
    backend = backends.get_backend(pkcs12_config(pki))
    once = backend.sign(document())
    assert verification.verify(once, [pki.cert_der("root")]).trusted
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    twice = backends.off_loop(
        lambda: (
            signers.PdfSigner(
                signers.PdfSignatureMetadata(field_name="Kedua"), signer=backend.signer()
            )
            .sign_pdf(IncrementalPdfFileWriter(io.BytesIO(once)))
            .getvalue()
        )
    )
    report = verification.verify(twice, [pki.cert_der("root")])
    assert not report.readable and not report.trusted
