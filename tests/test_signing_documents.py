"""Signed official documents (TTE): the Berita Acara, the SK (signing marks it final, the
draft stays unsigned and marked DRAF) and each rapor, with a local PKCS#12 backend and with
the remote BSrE-style service (passphrase asked in the form, never stored)."""

from __future__ import annotations

from sqlalchemy import select

from monev.documents.models import SignedDocument
from monev.extensions import db
from monev.signing import verification
from tests import test_documents, test_signing
from tests.conftest import post, t
from tests.pdf import pdf_text
from tests.test_documents import DOCS
from tests.test_signing import RemoteService, pkcs12_config, pyhanko_status

published = test_documents.published  # fixtures of the documents' and the signing tests
pki = test_signing.pki

FORM = "/admin/events/{slug}/documents/sign"


def _sign(client, slug, kind, **extra):
    return post(client, FORM.format(slug=slug), {"kind": kind, **extra})


def test_without_a_backend_there_is_no_signing_and_the_sk_is_a_draft(
    app,
    client,
    login_as,
    published,
):
    login_as("admin")
    page = client.get(DOCS.format(slug=published.slug)).get_data(as_text=True)
    assert t(app, "Sign the Berita Acara") not in page
    assert _sign(client, published.slug, "berita-acara").status_code == 409
    sk = client.get(DOCS.format(slug=published.slug) + "/draf-sk.pdf")
    assert "DRAF" in pdf_text(sk.data)
    assert not verification.verify(sk.data).signed


def test_berita_acara_sk_and_rapor_are_signed_and_served(
    app,
    client,
    login_as,
    published,
    pki,
):
    app.config.update(pkcs12_config(pki))
    login_as("admin")
    base = DOCS.format(slug=published.slug)
    assert _sign(client, published.slug, "berita-acara").status_code == 303
    ba = client.get(base + "/berita-acara.pdf").data
    assert pyhanko_status(ba, pki).bottom_line
    # the SK: refused without the confirmation, final and signed with it
    refused = _sign(client, published.slug, "sk")
    assert refused.status_code == 422
    assert t(app, "Confirm that you have read what this will do.") in refused.get_data(as_text=True)
    assert "DRAF" in pdf_text(client.get(base + "/draf-sk.pdf").data)  # still the draft
    assert _sign(client, published.slug, "sk", confirm="y").status_code == 303
    sk = client.get(base + "/draf-sk.pdf")
    assert pyhanko_status(sk.data, pki).bottom_line
    assert "DRAF" not in pdf_text(sk.data)
    assert _sign(client, published.slug, "rapor").status_code == 303
    with app.app_context():
        rows = db.session.scalars(
            select(SignedDocument).where(SignedDocument.kind == "rapor")
        ).all()
    assert len(rows) == len(published.entry_ids)
    rapor = client.get(base + f"/rapor/{published.entry_ids[0]}.pdf").data
    assert pyhanko_status(rapor, pki).bottom_line
    page = client.get(base).get_data(as_text=True)
    assert t(app, "final, signed electronically") in page


def test_remote_service_asks_the_passphrase_and_never_stores_it(
    app,
    client,
    login_as,
    published,
    pki,
):
    service = RemoteService(pki)
    try:
        app.config.update(SIGNING_BACKEND="remote", SIGNING_REMOTE_URL=service.server.url)
        login_as("admin")
        page = client.get(DOCS.format(slug=published.slug)).get_data(as_text=True)
        assert 'type="password"' in page
        missing = _sign(client, published.slug, "berita-acara")
        assert missing.status_code == 422
        wrong = _sign(client, published.slug, "berita-acara", nik=service.NIK, passphrase="x")
        assert wrong.status_code == 502 and "Passphrase salah" in wrong.get_data(as_text=True)
        ok = _sign(client, published.slug, "berita-acara", nik=service.NIK, passphrase=service.PASS)
        assert ok.status_code == 303
        ba = client.get(DOCS.format(slug=published.slug) + "/berita-acara.pdf").data
        assert pyhanko_status(ba, pki).bottom_line
        with app.app_context():
            for table in db.metadata.sorted_tables:
                for row in db.session.execute(select(table)).all():
                    assert service.PASS not in repr(row)
    finally:
        service.server.close()


def test_merged_rapor_is_an_unsigned_compilation_and_the_signed_ones_come_as_a_zip(
    app,
    client,
    login_as,
    published,
    pki,
):
    """Each rapor carries its own signature; one file of all of them cannot (a merge breaks
    every signature). So the merged PDF says on every page that it is an unsigned print
    compilation, and the signed rapor are offered as a ZIP of the single files."""
    import io
    import re
    import zipfile

    import pikepdf

    base = DOCS.format(slug=published.slug)
    login_as("admin")
    plain = client.get(base + "/rapor.pdf")
    assert "KOMPILASI" not in pdf_text(plain.data)  # no signing configured: as before
    assert client.get(base + "/rapor-bertanda-tangan.zip").status_code == 404
    app.config.update(pkcs12_config(pki))
    assert client.get(base + "/rapor-bertanda-tangan.zip").status_code == 404  # none signed
    assert _sign(client, published.slug, "rapor").status_code == 303
    merged = client.get(base + "/rapor.pdf")
    assert "kompilasi-tidak-bertanda-tangan" in merged.headers["Content-Disposition"]
    assert not verification.verify(merged.data).signed
    with pikepdf.open(io.BytesIO(merged.data)) as pdf:
        pages = len(pdf.pages)
    text = re.sub(r"\s+", " ", pdf_text(merged.data))
    assert text.count("TIDAK DITANDATANGANI SECARA ELEKTRONIK") == pages
    page = client.get(base).get_data(as_text=True)
    assert t(app, "The signed development reports") in page
    archive = client.get(base + "/rapor-bertanda-tangan.zip")
    assert archive.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as zipped:
        names = zipped.namelist()
        assert len(names) == len(published.entry_ids)
        assert all(pyhanko_status(zipped.read(name), pki).bottom_line for name in names)


def test_each_signed_document_has_its_tte_box_in_the_signing_space_clear_of_everything(
    app,
    client,
    login_as,
    published,
    pki,
):
    """The Berita Acara, the final SK and a rapor, signed: the TTE box is drawn just above
    the signer's name (the last signatory), covers no word and no image of its page, and
    says who signed and when. The rapor has its signatory block for it."""
    from tests.stamp_check import assert_stamp_clear
    from tests.test_documents import SIGNATORIES

    app.config.update(pkcs12_config(pki))
    login_as("admin")
    base = DOCS.format(slug=published.slug)
    signer = SIGNATORIES[-1]["name"]
    for kind, path, extra in (
        ("berita-acara", "/berita-acara.pdf", {}),
        ("sk", "/draf-sk.pdf", {"confirm": "y"}),
        ("rapor", f"/rapor/{published.entry_ids[0]}.pdf", {}),
    ):
        assert _sign(client, published.slug, kind, **extra).status_code == 303
        pdf = client.get(base + path).data
        stamp = assert_stamp_clear(pdf, signer, shot=kind)
        assert "Kepala Dinas Uji" in stamp.text and "WITA" in stamp.text, stamp.text
    text = pdf_text(pdf)  # the rapor: its signatory block, with the title above the space
    assert SIGNATORIES[-1]["title"] in text and "NIP. " + SIGNATORIES[-1]["nip"] in text
