"""The certificate design: signature and background images, colours, the live preview drawn
by the PDF code, and refusals that change nothing."""

from __future__ import annotations

import base64
import io
import re

import pikepdf
from PIL import Image
from sqlalchemy import func, select

from monev.audit.models import AuditEntry
from monev.certificates import services
from monev.certificates.models import Certificate, CertificateSettings
from monev.extensions import db
from monev.storage import get_storage
from tests.conftest import csrf_token, login, t
from tests.test_certificates import _issue, pdf_text, setup  # noqa: F401  (fixture)
from tests.test_signing import pki  # noqa: F401  (fixture)

BASE = {
    "number_pattern": "{seq:03d}/MONEV-KIM/{year}",
    "place": "Samarinda",
    "primary_colour": "#0b4f6c",
    "accent_colour": "#c9a227",
    "text_colour": "#1d1d1f",
}


def image_bytes(size=(300, 100), colour=(20, 30, 90, 255), fmt="PNG") -> bytes:
    mode = "RGBA" if fmt == "PNG" else "RGB"
    out = io.BytesIO()
    Image.new(mode, size, colour if mode == "RGBA" else colour[:3]).save(out, fmt)
    return out.getvalue()


def _post(client, slug, data, files=None, *, path="settings", headers=None):
    payload = {"csrf_token": csrf_token(client), **data}
    for name, (content, filename) in (files or {}).items():
        payload[name] = (io.BytesIO(content), filename)
    return client.post(
        f"/admin/events/{slug}/certificates/{path}",
        data=payload,
        content_type="multipart/form-data",
        headers=headers or {},
    )


def _settings(app, setup) -> CertificateSettings | None:  # noqa: F811
    with app.app_context():
        row = db.session.scalar(
            select(CertificateSettings).where(CertificateSettings.event_id == setup.event_id)
        )
        if row is not None:
            db.session.expunge(row)
        return row


def _images_in(pdf: bytes) -> list[tuple[int, int]]:
    """(width, height) of every image drawn in the PDF, through form XObjects too."""
    found = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            stack = [page.obj.get("/Resources")]
            while stack:
                resources = stack.pop()
                if resources is None:
                    continue
                for xobject in (resources.get("/XObject") or {}).values():
                    if xobject.get("/Subtype") == "/Image":
                        found.append((int(xobject.Width), int(xobject.Height)))
                    elif xobject.get("/Subtype") == "/Form":
                        stack.append(xobject.get("/Resources"))
    return found


def test_signatures_and_background_are_stored_and_drawn(app, setup, client):  # noqa: F811
    login(client, setup.admin.email)
    response = _post(
        client,
        setup.slug,
        {
            **BASE,
            "signatories-0-name": "Ir. Budi Santoso, M.T.",
            "signatories-0-title": "Ketua Panitia",
            "signatories-1-name": "Dr. Muhammad Faisal, M.Si",
            "signatories-1-title": "Kepala Dinas Komunikasi dan Informatika",
            "signatories-1-nip": "1970 0101 1990 03 1 001",
        },
        {
            "signatories-0-signature": (image_bytes((600, 200)), "ttd budi.png"),
            "signatories-1-signature": (image_bytes((2400, 900)), "ttd faisal.png"),
            "background": (image_bytes((4000, 2828), (250, 247, 238), "JPEG"), "latar.jpg"),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    row = _settings(app, setup)
    keys = [s["signature_key"] for s in row.signatories]
    assert all(k.startswith(f"certificates/{setup.event_id}/signature-") for k in keys)
    assert row.signatories[1]["nip"] == "1970 0101 1990 03 1 001"
    assert row.background_key.endswith(".jpg")
    with app.app_context():
        storage = get_storage()
        with storage.open(keys[1]) as fh:  # scaled down to fit 1200 × 500
            assert Image.open(fh).size == (1200, 450)
        with storage.open(row.background_key) as fh:
            assert Image.open(fh).size == (3508, 2480)

    ids = _issue(app, setup, "participant")
    with app.test_request_context():
        pdf = services.pdf(db.session.get(Certificate, ids[0]))
    assert sorted(_images_in(pdf)) == sorted([(600, 200), (1200, 450), (3508, 2480)])
    text = pdf_text(pdf)
    assert "Ir. Budi Santoso, M.T." in text and "NIP. 1970 0101 1990 03 1 001" in text

    # Removing a signature drops it from the design and deletes the file after the commit.
    response = _post(
        client,
        setup.slug,
        {
            **BASE,
            "signatories-0-name": "Ir. Budi Santoso, M.T.",
            "signatories-0-title": "Ketua Panitia",
            "signatories-0-remove_signature": "y",
            "signatories-1-name": "Dr. Muhammad Faisal, M.Si",
            "signatories-1-title": "Kepala Dinas Komunikasi dan Informatika",
        },
    )
    assert response.status_code == 303
    after = _settings(app, setup)
    assert after.signatories[0]["signature_key"] is None
    assert after.signatories[1]["signature_key"] == keys[1]
    assert after.background_key == row.background_key
    with app.app_context():
        assert get_storage().size(keys[0]) is None
        assert get_storage().size(keys[1]) is not None


def test_a_refused_image_changes_nothing(app, setup, client):  # noqa: F811
    login(client, setup.admin.email)
    assert _post(client, setup.slug, {**BASE, "signatories-0-name": "Lama"}).status_code == 303
    with app.app_context():
        audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
        files = set(get_storage().keys())
    response = _post(
        client,
        setup.slug,
        {**BASE, "place": "Balikpapan", "signatories-0-name": "Baru"},
        {
            "signatories-1-signature": (image_bytes(), "ttd.png"),  # a good one first
            "background": (b"<html><script>alert(1)</script></html>", "latar.png"),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Balikpapan"' in html and 'value="Baru"' in html  # input kept
    assert 'id="background-error"' in html
    row = _settings(app, setup)
    assert (row.place, [s["name"] for s in row.signatories]) == ("Samarinda", ["Lama"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audits
        assert set(get_storage().keys()) == files  # the good image went away with the rollback


def test_signatory_without_a_name_and_bad_colour_are_refused(app, setup, client):  # noqa: F811
    login(client, setup.admin.email)
    response = _post(
        client,
        setup.slug,
        {**BASE, "accent_colour": "emas", "signatories-0-title": "Kepala Dinas"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="signatories-0-name-error"' in html and 'id="accent_colour-error"' in html
    assert _settings(app, setup) is None


def _preview_image(response) -> Image.Image:
    (src,) = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', response.get_data(as_text=True))
    return Image.open(io.BytesIO(base64.b64decode(src))).convert("RGB")


def test_preview_follows_unsaved_values_and_saves_nothing(app, setup, client):  # noqa: F811
    login(client, setup.admin.email)
    htmx = {"HX-Request": "true"}
    red = _post(
        client,
        setup.slug,
        {**BASE, "primary_colour": "#cc0000", "preview_kind": "winner"},
        path="preview",
        headers=htmx,
    )
    assert red.status_code == 200
    assert "<html" not in red.get_data(as_text=True)  # a fragment for htmx
    green = _post(
        client, setup.slug, {**BASE, "primary_colour": "#00aa00"}, path="preview", headers=htmx
    )
    red_image, green_image = _preview_image(red), _preview_image(green)
    assert red_image.width == 1200 and abs(red_image.height - 848) <= 2  # A4 landscape
    # The frame (3 mm wide, 10 mm from the edge) is drawn in the chosen main colour.
    x, y = int(1200 * 11.5 / 297), red_image.height // 2
    r, g, b = red_image.getpixel((x, y))
    assert r > 150 and g < 60 and b < 60
    r, g, b = green_image.getpixel((x, y))
    assert g > 120 and r < 60
    assert _settings(app, setup) is None  # nothing saved
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0

    bad = _post(
        client, setup.slug, {**BASE, "number_pattern": "{nomor}"}, path="preview", headers=htmx
    )
    assert bad.status_code == 422
    assert "{seq}, {year}, {slug}" in bad.get_data(as_text=True)


def test_preview_without_javascript_shows_the_whole_page(app, setup, client):  # noqa: F811
    login(client, setup.admin.email)
    response = _post(client, setup.slug, {**BASE, "preview_kind": "judge"}, path="preview")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" in html and 'id="certificate-preview"' in html
    assert _preview_image(response).width == 1200


REPLACED = (
    "Certificates are signed electronically: the last signatory's signature image is not "
    "printed; the box of the electronic signature (TTE) takes its place."
)


def test_a_signed_certificate_has_the_tte_box_in_place_of_the_signers_image(
    app,
    setup,  # noqa: F811
    client,
    pki,  # noqa: F811
):
    """Signed electronically, the signer (the last signatory) gets the TTE box where a wet
    signature goes and no scanned signature under it; the other signatory keeps hers."""
    from monev.certificates import signing
    from tests.stamp_check import assert_stamp_clear
    from tests.test_signing import pkcs12_config

    app.config.update(pkcs12_config(pki))
    login(client, setup.admin.email)
    response = _post(
        client,
        setup.slug,
        {
            **BASE,
            "signatories-0-name": "Ir. Budi Santoso, M.T.",
            "signatories-0-title": "Ketua Panitia",
            "signatories-1-name": "Dr. Muhammad Faisal, M.Si",
            "signatories-1-title": "Kepala Dinas Komunikasi dan Informatika",
            "signatories-1-nip": "1970 0101 1990 03 1 001",
        },
        {
            "signatories-0-signature": (image_bytes((600, 200)), "ttd budi.png"),
            "signatories-1-signature": (image_bytes((2400, 900)), "ttd faisal.png"),
            "background": (image_bytes((4000, 2828), (250, 247, 238), "JPEG"), "latar.jpg"),
        },
    )
    assert response.status_code == 303
    page = client.get(f"/admin/events/{setup.slug}/certificates").get_data(as_text=True)
    assert t(app, REPLACED) in page
    ids = _issue(app, setup, "participant")
    with app.test_request_context():
        cert = db.session.get(Certificate, ids[0])
        pdf = signing.sign(cert, services.pdf(cert))
    # The signer's image (1200 × 450 once stored) is left out, the other one is drawn.
    assert sorted(_images_in(pdf)) == sorted([(600, 200), (3508, 2480)])
    stamp = assert_stamp_clear(pdf, "Dr. Muhammad Faisal, M.Si", shot="certificate")
    assert "Kepala Dinas Uji" in stamp.text and "WITA" in stamp.text
    assert stamp.images  # the other signatory's image is on the page, and not under the box
