"""The one verdict of the PDF check (/verify and ``flask verify-pdf``): genuine, modified (a
changed byte, an incremental update, a re-save by another program), unsigned (the signature
taken out), untrusted. Only what was proven is green: next to a modified or unsigned file
nothing says "sah", the signer is only "claimed", and the recorded certificate is shown for
comparing. Also: the non-PDF message names only PDF, the trust page labels a certificate's
name in Indonesian and says whether a TSA is used, removing a root has a confirmation step,
and ``make run`` on an existing demo database creates the demo's signing certificate."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pikepdf
import pytest
from sqlalchemy import func, select

from monev.certificates.models import Certificate
from monev.extensions import db
from monev.signing.models import TrustRoot
from tests import test_signing as signing_tests
from tests import upload_corpus as corpus
from tests.conftest import PG_URL, login, post, t
from tests.test_signing import (
    _incremental_update,
    _resaved,
    _signed_certificate,
    _trust,
    _verify,
    pkcs12_config,
)

pki = signing_tests.pki  # the test PKI (tests/signing_pki.py)
setup = signing_tests.setup  # an event with issued certificates
queue = signing_tests.queue


def _flip_signed_byte(data: bytes) -> bytes:
    """One byte of the page content (inside the signed range) changed: the first stream's
    data, so the file still parses and only the signature's digest tells."""
    start = data.index(b"stream", data.index(b"/Length")) + len(b"stream") + 20
    return data[:start] + bytes([data[start] ^ 0x01]) + data[start + 1 :]


def _without_signature(data: bytes) -> bytes:
    """The signature taken out (its field and the form), the page otherwise kept."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            if "/Annots" in page.obj:
                keep = [a for a in page.obj.Annots if a.get("/FT") != "/Sig"]
                page.obj.Annots = pdf.make_indirect(pikepdf.Array(keep))
        if "/AcroForm" in pdf.Root:
            del pdf.Root["/AcroForm"]
        pdf.save(out)
    return out.getvalue()


def _verdict(html: str) -> str:
    found = re.search(r'data-verdict="([a-z]+)"', html)
    assert found, "no verdict on the page"
    return found.group(1)


def _ok_boxes(html: str) -> list[str]:
    return re.findall(r'class="notice notice-ok[^"]*">(.*?)</', html, re.S)


def _holder(app, cert) -> tuple[str, str]:
    with app.app_context():
        row = db.session.get(Certificate, cert["id"])
        return row.number, row.holder_name


def test_genuine_certificate_says_asli_first_with_the_signer_and_the_record(app, setup, pki):
    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, cert = _signed_certificate(app, setup, pki)
    page = _verify(app.test_client(), data, name="sertifikat-kim.pdf")
    html = page.get_data(as_text=True)
    assert _verdict(html) == "genuine"
    number, holder = _holder(app, cert)
    headline = t(
        app,
        "This document is unchanged and signed by %(name)s; certificate %(number)s for "
        "%(holder)s is valid.",
        name="Kepala Dinas Uji",
        number=number,
        holder=holder,
    )
    assert f"{t(app, 'GENUINE')}:</strong> {headline}" in html
    # The result has a heading that takes the focus, naming the file checked.
    assert re.search(
        r'<h2 id="pdf-result-title" tabindex="-1" data-focus-on-load>'
        + t(app, "Check result")
        + r".*sertifikat-kim\.pdf</span></h2>",
        html,
    )
    # The verdict comes before the details and before the code form.
    assert html.index('data-verdict="genuine"') < html.index("pdf-findings")
    assert html.index("pdf-findings") < html.index('id="code"')
    assert t(app, "The signer's certificate chains to a root the organiser trusts.") in html
    # Without a TSA: the signer's own time, amber.
    own_time = t(
        app,
        "Signed by %(name)s at %(when)s (the signer's own claimed time, not confirmed by a "
        "timestamp).",
        name="Kepala Dinas Uji",
        when="§",
    ).split("§")[0]
    assert f'notice-warn">{own_time}' in html
    # The record as issued, for comparing.
    assert t(app, "The certificate as recorded by the organiser") in html
    assert f"<dt>{t(app, 'Holder')}</dt><dd>{holder}" in html
    assert f"<dt>{t(app, 'Status')}</dt><dd>{t(app, 'Valid (not revoked)')}</dd>" in html


@pytest.mark.parametrize(
    "edit",
    [_flip_signed_byte, _incremental_update, _resaved],
    ids=["byte", "incremental", "resave"],
)
def test_modified_certificate_is_not_trustworthy_and_nothing_beside_it_is_green(
    app, setup, pki, edit
):
    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, cert = _signed_certificate(app, setup, pki)
    html = _verify(app.test_client(), edit(data)).get_data(as_text=True)
    assert _verdict(html) == "modified"
    assert t(app, "NOT TRUSTWORTHY") in html and "dimodifikasi" in html
    assert _ok_boxes(html) == []  # no green box at all: not "sah", not "berantai"
    assert "berstatus sah" not in html
    assert t(app, "The signer's certificate chains to a root the organiser trusts.") not in html
    # The signer is not stated as a plain fact ("Ditandatangani oleh …" opening a line).
    assert not re.search(r'notice-[a-z]+">Ditandatangani oleh', html)
    if edit is not _flip_signed_byte:  # the page is still readable: its code and the record
        number, holder = _holder(app, cert)
        assert re.search(
            r'notice-info">'
            + re.escape(
                t(
                    app,
                    "The code belongs to certificate %(number)s. The record below is what was "
                    "issued: compare it with what this PDF shows. A matching code does not make "
                    "this file genuine.",
                    number=number,
                )
            ),
            html,
        )
        assert f"<dt>{t(app, 'Holder')}</dt><dd>{holder}" in html


def test_a_broken_signature_only_claims_its_signer(app, setup, pki):
    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, _cert = _signed_certificate(app, setup, pki)
    html = _verify(app.test_client(), _flip_signed_byte(data)).get_data(as_text=True)
    claim = t(
        app,
        "Claims to be signed by %(name)s, but the signature is broken: who signed it cannot be "
        "proven.",
        name="Kepala Dinas Uji",
    )
    assert claim in html and "Mengaku ditandatangani" in claim


def test_certificate_with_its_signature_removed_is_unsigned_and_not_green(app, setup, pki):
    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, cert = _signed_certificate(app, setup, pki)
    html = _verify(app.test_client(), _without_signature(data)).get_data(as_text=True)
    assert _verdict(html) == "unsigned"
    assert t(app, "NOT SIGNED") in html
    assert _ok_boxes(html) == [] and "berstatus sah" not in html
    number, holder = _holder(app, cert)
    assert f"<dt>{t(app, 'Number')}</dt><dd>{number}</dd>" in html
    assert f"<dt>{t(app, 'Holder')}</dt><dd>{holder}" in html


def test_untrusted_signer_is_not_verified_and_only_claimed(app, setup, pki):
    app.config.update(pkcs12_config(pki, label="stranger"))
    _trust(app, pki)
    data, _cert = _signed_certificate(app, setup, pki)
    html = _verify(app.test_client(), data).get_data(as_text=True)
    assert _verdict(html) == "untrusted"
    assert t(app, "NOT VERIFIED") in html
    assert "Mengaku ditandatangani oleh Penanda Tangan Palsu" in html
    assert "berstatus sah" not in html
    # The one green line left is the plain fact that the bytes are unchanged.
    assert len(_ok_boxes(html)) == 1


def test_verdict_order_of_the_service(app, setup, pki):
    """PdfCheck.verdict: modified outranks everything after it; unsigned is not modified."""
    from monev.certificates import pdfcheck

    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, _cert = _signed_certificate(app, setup, pki)
    with app.test_request_context():
        assert pdfcheck.check(data).verdict == "genuine"
        assert pdfcheck.check(_resaved(data)).verdict == "modified"
        assert pdfcheck.check(_without_signature(data)).verdict == "unsigned"
        assert pdfcheck.check(b"%PDF-1.4 rusak").verdict == "unreadable"


def test_verify_pdf_command_prints_the_verdict_first(app, setup, pki, tmp_path):
    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    data, _cert = _signed_certificate(app, setup, pki)
    good, bad, bare = tmp_path / "asli.pdf", tmp_path / "ubah.pdf", tmp_path / "polos.pdf"
    good.write_bytes(data)
    bad.write_bytes(_incremental_update(data))
    bare.write_bytes(_without_signature(data))
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["verify-pdf", str(good)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[0].startswith("✓ ASLI: Dokumen ini utuh dan ditandatangani")
    changed = runner.invoke(args=["verify-pdf", str(bad)])
    assert changed.exit_code == 1
    assert changed.output.splitlines()[0].startswith("✗ TIDAK DAPAT DIPERCAYA:")
    assert "✓" not in changed.output and "berstatus sah" not in changed.output
    unsigned = runner.invoke(args=["verify-pdf", str(bare)])
    assert unsigned.exit_code == 1
    assert unsigned.output.splitlines()[0].startswith("! TIDAK BERTANDA TANGAN:")
    assert "Penerima:" in unsigned.output


def test_verify_pdf_command_with_an_untrusted_signer_logs_no_traceback(
    app, setup, pki, tmp_path, caplog
):
    """pyHanko's validator logs a traceback ("Failed to build path") when the signer does not
    chain to a trusted root: the verdict already says so, so the command keeps it quiet."""
    import logging

    app.config.update(pkcs12_config(pki, label="stranger"))
    _trust(app, pki)
    data, _cert = _signed_certificate(app, setup, pki)
    pdf = tmp_path / "asing.pdf"
    pdf.write_bytes(data)
    with caplog.at_level(logging.DEBUG):
        done = app.test_cli_runner().invoke(args=["verify-pdf", str(pdf)])
    assert done.exit_code == 1
    assert done.output.splitlines()[0].startswith("✗ TIDAK TERVERIFIKASI:"), done.output
    noisy = [r for r in caplog.records if r.name.startswith("pyhanko") and r.exc_info]
    assert noisy == [], [r.getMessage() for r in noisy]
    # Outside the command (the /verify page) the validator's log is left as it is.
    assert logging.getLogger("pyhanko_certvalidator").level == logging.NOTSET


def test_verify_pdf_command_keeps_third_party_deprecation_warnings_off_stderr(
    app, template_db, tmp_path
):
    """In a fresh process (the warning comes when pyHanko is first imported): nothing about
    cryptography's deprecations on stderr, and the verdict on stdout."""
    import shutil

    if PG_URL:
        url = template_db
    else:
        shutil.copy(template_db, tmp_path / "monev.db")
        url = f"sqlite:///{tmp_path / 'monev.db'}"
    pdf = tmp_path / "polos.pdf"
    pdf.write_bytes(corpus.pdf("Sertifikat"))
    env = {
        **os.environ,
        "MONEV_ENV": "development",
        "DATABASE_URL": url,
        "MONEV_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONWARNINGS": "default",
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "monev", "verify-pdf", str(pdf)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "TIDAK BERTANDA TANGAN" in done.stdout
    assert "CryptographyDeprecationWarning" not in done.stderr


# --- the upload's refusal names only PDF -------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [corpus.image, corpus.mp4, lambda: b"\x00\x01\x02 bukan apa-apa" * 20],
    ids=["image", "mp4", "unknown"],
)
def test_a_non_pdf_upload_is_refused_naming_only_pdf(app, make):
    response = _verify(app.test_client(), make(), name="sertifikat.pdf")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    error = text[text.index('class="field-error"') :][:400]
    accepted = re.search(r"[Dd]iterima: ([^<]*)<", error)
    assert accepted and accepted.group(1) == "PDF.", error  # not every evidence type


# --- the trust settings ------------------------------------------------------------------


def test_trust_page_labels_names_in_indonesian_and_says_whether_a_tsa_is_used(app, setup, pki):
    app.config.update(pkcs12_config(pki))
    _trust(app, pki)
    client = app.test_client()
    login(client, setup.admin.email)
    html = client.get("/admin/signing").get_data(as_text=True)
    assert "Nama umum: Kepala Dinas Uji; Organisasi: Diskominfo Uji; Negara: ID" in html
    assert "Nama umum: Root CA Uji Monev; Organisasi: Diskominfo Uji; Negara: ID" in html
    assert "Common Name" not in html and "Organization:" not in html
    assert t(app, "Timestamp service (TSA)") in html
    assert "Tidak dikonfigurasi" in html
    app.config["SIGNING_TSA_URL"] = "https://pengguna:rahasia@tsa.example.id/ts?key=abc"
    html = client.get("/admin/signing").get_data(as_text=True)
    assert "https://tsa.example.id/ts" in html and "rahasia" not in html and "abc" not in html


def _roots(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TrustRoot))


def _root_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(TrustRoot.id))


def test_removing_the_last_root_asks_first_and_says_what_it_does(app, setup, pki):
    _trust(app, pki)
    root_id = _root_id(app)
    client = app.test_client()
    login(client, setup.admin.email)
    listed = client.get("/admin/signing").get_data(as_text=True)
    url = f"/admin/signing/roots/{root_id}/remove"
    assert f'href="{url}" hx-get="{url}"' in listed  # a link to the step, not a button
    step = client.get(url)
    assert step.status_code == 200
    text = step.get_data(as_text=True)
    assert t(app, "Stop trusting this root") in text
    assert "Ini satu-satunya root yang dipercaya" in text
    assert "Nama umum: Root CA Uji Monev" in text
    # In the dialog (htmx): the same step as a fragment.
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="remove-root-title"' in fragment
    # Without the tick: refused, nothing changes.
    refused = post(client, url, {})
    assert refused.status_code == 422
    assert t(app, "Confirm that you have read what this will do.") in refused.get_data(as_text=True)
    assert _roots(app) == 1
    done = post(client, url, {"confirm": "y"})
    assert done.status_code == 303 and _roots(app) == 0


def test_removing_one_of_two_roots_warns_without_the_last_root_line(app, setup, pki):
    _trust(app, pki)
    client = app.test_client()
    login(client, setup.admin.email)
    sent = post(
        client,
        "/admin/signing",
        {"file": (io.BytesIO(pki.cert_pem("stranger-root")), "lain.pem")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    text = client.get(f"/admin/signing/roots/{_root_id(app)}/remove").get_data(as_text=True)
    assert "Ini satu-satunya root" not in text
    assert "dilaporkan di halaman verifikasi sebagai tidak terverifikasi" in text


@pytest.mark.parametrize("role", ["anonymous", "operator", "kim", "judge"])
def test_only_the_admin_may_remove_a_root(app, setup, pki, make_user, role):
    _trust(app, pki)
    url = f"/admin/signing/roots/{_root_id(app)}/remove"
    client = app.test_client()
    if role != "anonymous":
        login(client, make_user(role).email)
    assert client.get(url).status_code in (302, 303, 403, 404)
    assert post(client, url, {"confirm": "y"}).status_code in (302, 303, 403, 404)
    assert _roots(app) == 1


# --- the demo's signing certificate on an existing database -----------------------------


def test_demo_if_empty_on_a_demo_database_creates_the_missing_signing_certificate(
    app, make_user, tmp_path, monkeypatch
):
    from monev.demo import data
    from monev.signing import demo

    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    app.config["ENV_NAME"] = "development"
    try:
        make_user("admin", email=data.ADMIN[0])
        runner = app.test_cli_runner()
        first = runner.invoke(args=["demo", "--if-empty"])
        assert first.exit_code == 0, first.output
        assert "Demo test signing certificate created" in first.output
        p12, root = demo.paths(tmp_path)
        assert p12.exists() and root.exists() and _roots(app) == 1
        again = runner.invoke(args=["demo", "--if-empty"])
        assert "created" not in again.output and _roots(app) == 1
    finally:
        app.config["ENV_NAME"] = "testing"
        for key in ("SIGNING_PKCS12", "SIGNING_PKCS12_PASSPHRASE"):
            app.config.pop(key, None)


def test_demo_if_empty_never_adds_a_test_root_to_a_real_database(
    app, make_user, tmp_path, monkeypatch
):
    from monev.signing import demo

    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    app.config["ENV_NAME"] = "development"
    try:
        make_user("admin", email="kepala@diskominfo.example.id")
        result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
        assert result.exit_code == 0
        assert not demo.paths(tmp_path)[0].exists() and _roots(app) == 0
    finally:
        app.config["ENV_NAME"] = "testing"
