"""Certificates: issuing (idempotent), PDF content, QR payload, verification, revocation,
reissue and who may download what."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from monev.certificates import services
from monev.certificates.models import Certificate
from monev.core.database import write_intent
from monev.extensions import db
from monev.pdf.rendering import LockedFetcher, RefusedURL, html_to_pdf
from tests.conftest import login, post, t
from tests.factories import make_event
from tests.pdf import pdf_page_sizes, pdf_text

LONG_NAME = (
    "Komunitas Informasi Masyarakat Maju Bersama Membangun Negeri Desa Sangatta Utara "
    "Kecamatan Sangatta Utara"
)[:120]


@dataclass
class Setup:
    slug: str
    event_id: int
    entries: list[int]
    kim_users: list  # Record of each entry's KIM account
    judge: object
    admin: object


@pytest.fixture
def setup(app, make_kim, make_user) -> Setup:
    from monev.entries.models import Entry
    from monev.judging.models import EventJudge

    kims = [
        make_kim(name="KIM Teluk Pandan", village="Teluk Pandan"),
        make_kim(name=LONG_NAME, village="Sangatta Utara"),
        make_kim(name="KIM Ditolak"),
    ]
    kim_users = [make_user("kim", kim=k) for k in kims[:2]]
    judge = make_user("judge", name="Dr. Rahmawati Sulistyo", institution="Universitas Mulawarman")
    admin = make_user("admin")
    with app.app_context(), write_intent():
        built = make_event(
            "monev-2026",
            title="Monev KIM se-Kalimantan Timur 2026",
            organiser="Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        )
        event, category = built.event, built.categories["desa"]
        entries = []
        for i, (kim, status) in enumerate(
            zip(kims, ["accepted", "accepted", "rejected"], strict=True)
        ):
            entry = Entry(
                event_id=event.id,
                kim_id=kim.id,
                category_id=category.id,
                code=f"P-0{i + 1}",
                nomination_status=status,
                submission_status="verified",
            )
            db.session.add(entry)
            entries.append(entry)
        db.session.add(EventJudge(event_id=event.id, user_id=judge.id))
        db.session.commit()
        return Setup(event.slug, event.id, [e.id for e in entries], kim_users, judge, admin)


def _event(setup):
    from monev.events.models import Event

    return db.session.get(Event, setup.event_id)


def _issue(app, setup, kind) -> list[int]:
    with app.test_request_context(), write_intent():
        created = services.issue(_event(setup), kind)
        db.session.commit()
        return [c.id for c in created]


def _cert(app, cert_id) -> dict:
    with app.app_context():
        c = db.session.get(Certificate, cert_id)
        return {col.key: getattr(c, col.key) for col in Certificate.__table__.columns}


def test_issuing_twice_creates_no_duplicates(app, setup):
    first = _issue(app, setup, "participant")
    again = _issue(app, setup, "participant")
    judges = _issue(app, setup, "judge")
    assert (len(first), again, len(judges)) == (2, [], 1)  # the rejected entry gets none
    numbers = [_cert(app, i)["number"] for i in first + judges]
    assert numbers == ["001/MONEV-KIM/2026", "002/MONEV-KIM/2026", "003/MONEV-KIM/2026"]


def test_schema_refuses_a_second_live_certificate(app, setup):
    from sqlalchemy.exc import IntegrityError

    (cert_id,) = _issue(app, setup, "judge")
    with app.app_context(), write_intent():
        old = db.session.get(Certificate, cert_id)
        db.session.add(
            Certificate(
                event_id=old.event_id,
                kind="judge",
                user_id=old.user_id,
                subject_key=old.subject_key,
                holder_name="x",
                seq=99,
                number="99",
                code="dup",
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_pdf_shows_holder_award_number_and_date(app, setup):
    ids = _issue(app, setup, "participant")
    with app.test_request_context():
        cert = db.session.get(Certificate, ids[0])
        text = pdf_text(services.pdf(cert))
    assert "KIM Teluk Pandan" in text
    assert "Desa Teluk Pandan, Kabupaten Kutai Timur" in text
    assert "Nomor: 001/MONEV-KIM/2026" in text
    assert "atas partisipasinya sebagai Peserta" in text
    assert "Kategori KIM Desa" in text
    assert "Monev KIM se-Kalimantan Timur 2026" in text
    # For a photocopied or damaged QR: where to type the code, and the code itself.
    flat = "".join(text.split())
    # (printed in two lines of groups: three, then two)
    assert "/verify" in flat and f"Kode:{cert.code[:14]}{cert.code[15:]}" in flat


def test_a_typed_code_opens_its_verification_page(app, setup, client):
    (cert_id, _other) = _issue(app, setup, "participant")
    code = _cert(app, cert_id)["code"]
    form = client.get("/verify")
    assert form.status_code == 200 and 'name="code"' in form.get_data(as_text=True)
    typed = client.get("/verify", query_string={"code": f"  {code[:10]} {code[10:]} "})
    assert typed.status_code == 302 and typed.location.endswith(f"/verify/{code}")
    assert "notice-ok" in client.get(typed.location).get_data(as_text=True)
    assert client.get("/verify", query_string={"code": ""}).status_code == 200


def test_long_kim_name_wraps_on_one_page(app, setup):
    ids = _issue(app, setup, "participant")
    with app.test_request_context():
        pdf = services.pdf(db.session.get(Certificate, ids[1]))
    text = pdf_text(pdf)
    assert LONG_NAME.split()[-1] in text and "Komunitas Informasi" in text
    [(width, height)] = pdf_page_sizes(pdf)  # one page
    assert (round(width, 1), round(height)) == (841.9, 595)  # A4 landscape


def test_judge_certificate_and_settings(app, setup, client):
    login(client, setup.admin.email)
    response = post(
        client,
        f"/admin/events/{setup.slug}/certificates/settings",
        {
            "number_pattern": "{seq:04d}/SERT/{year}",
            "place": "Samarinda",
            "primary_colour": "#0b4f6c",
            "accent_colour": "#c9a227",
            "text_colour": "#1d1d1f",
            "signatories-0-name": "Drs. H. Faisal, M.Si",
            "signatories-0-title": "Kepala Dinas",
            "signatories-0-nip": "196801011990031001",
        },
    )
    assert response.status_code == 303
    (cert_id,) = _issue(app, setup, "judge")
    with app.test_request_context():
        text = pdf_text(services.pdf(db.session.get(Certificate, cert_id)))
    assert "Dr. Rahmawati Sulistyo" in text
    assert "atas pengabdiannya sebagai Dewan Juri" in text
    assert "Nomor: 0001/SERT/2026" in text
    assert "NIP. 196801011990031001" in text
    assert re.search(r"Samarinda, \d{1,2} \w+ 20\d\d", text)


def test_broken_number_pattern_is_refused_on_the_page(app, setup, client):
    login(client, setup.admin.email)
    response = post(
        client,
        f"/admin/events/{setup.slug}/certificates/settings",
        {
            "number_pattern": "{nomor}",
            "primary_colour": "#000000",
            "accent_colour": "#ffffff",
            "text_colour": "#000000",
        },
    )
    assert response.status_code == 422
    assert "{nomor}" in response.get_data(as_text=True)


def test_the_number_is_chosen_from_examples(app, setup, client):
    login(client, setup.admin.email)
    page = client.get(f"/admin/events/{setup.slug}/certificates").get_data(as_text=True)
    assert "<code>007/MONEV-KIM/2026</code>" in page and "<code>2026-0007</code>" in page
    colours = {"primary_colour": "#000000", "accent_colour": "#ffffff", "text_colour": "#000000"}
    url = f"/admin/events/{setup.slug}/certificates/settings"

    empty = post(client, url, {"number_style": "custom", "number_pattern": "", **colours})
    assert empty.status_code == 422
    assert t(app, "Choose a number, or write your own pattern.") in empty.get_data(as_text=True)

    chosen = post(client, url, {"number_style": "{year}-{seq:04d}", **colours})
    assert chosen.status_code == 303
    (cert_id,) = _issue(app, setup, "judge")
    assert _cert(app, cert_id)["number"] == "2026-0001"


def page_image(pdf: bytes, dpi: int = 150):
    """The first page of ``pdf`` as a Pillow image (pdfium)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].render(scale=dpi / 72).to_pil()
    finally:
        document.close()


def decoded_qr_codes(pdf: bytes) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(page_image(pdf)) if r.format.name == "QRCode"]


def test_qr_in_the_pdf_decodes_to_the_verification_url(app, setup):
    ids = _issue(app, setup, "participant") + _issue(app, setup, "judge")
    with app.test_request_context():
        certs = [db.session.get(Certificate, i) for i in ids]
        singles = services.pdfs(certs)
        urls = [services.verify_url(c) for c in certs]
    assert urls[0] == f"http://localhost/verify/{certs[0].code}"
    # Each certificate's printed QR code, read back by a decoder, is its own verification URL.
    assert [decoded_qr_codes(pdf) for pdf in singles] == [[url] for url in urls]


def test_one_pass_certificate_matches_the_layered_one(app, setup):
    """The benchmark's baseline (one HTML page, QR as SVG) shows the same text and code."""
    (cert_id,) = _issue(app, setup, "judge")
    with app.test_request_context():
        cert = db.session.get(Certificate, cert_id)
        url = services.verify_url(cert)
        svg = services.qr_svg(url)
        one_pass = html_to_pdf(services.one_pass_html(cert))
        layered = services.pdf(cert)
    assert svg.count("<path") == 1 and "href" not in svg
    assert decoded_qr_codes(one_pass) == [url] == decoded_qr_codes(layered)
    assert pdf_text(one_pass).split() == pdf_text(layered).split()


def test_verify_page_for_valid_revoked_replaced_and_forged_codes(app, setup, client):
    ids = _issue(app, setup, "participant")
    valid, other = (_cert(app, i) for i in ids)
    page = client.get(f"/verify/{valid['code']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "KIM Teluk Pandan" in html and valid["number"] in html
    assert "notice-ok" in html

    login(client, setup.admin.email)
    response = post(
        client, f"/admin/certificates/{other['id']}/revoke", {"reason": "Data KIM keliru"}
    )
    assert response.status_code == 303
    html = client.get(f"/verify/{other['code']}").get_data(as_text=True)
    assert "notice-bad" in html and "Data KIM keliru" in html

    response = post(client, f"/admin/certificates/{valid['id']}/reissue", {"reason": "Salah"})
    assert response.status_code == 303
    with app.app_context():
        old = db.session.get(Certificate, valid["id"])
        new = old.replaced_by
        assert (old.revoked_at is not None, new.number) == (True, "003/MONEV-KIM/2026")
        new_code = new.code
    html = client.get(f"/verify/{valid['code']}").get_data(as_text=True)
    assert "003/MONEV-KIM/2026" in html and "notice-bad" in html
    assert "notice-ok" in client.get(f"/verify/{new_code}").get_data(as_text=True)

    client.post("/logout", data={"csrf_token": ""})
    head, check = valid["code"][:-4], valid["code"][-4:]
    wrong = head + ("0000" if check != "0000" else "1111")  # the random part, a forged check
    old_style = "dGhpcyBpcyBub3Qg.AAAAAAAAAAAAAAAAAAAAAAAAAAA"  # the older format, unsigned
    for forged in (wrong, old_style, "abc", "x" * 500, "%00"):
        response = client.get(f"/verify/{forged}")
        assert response.status_code == 404
        assert "notice-bad" in response.get_data(as_text=True)


def test_revoke_reissue_issue_are_audited(app, setup, client):
    from monev.audit.models import AuditEntry

    ids = _issue(app, setup, "participant")
    login(client, setup.admin.email)
    post(client, f"/admin/certificates/{ids[0]}/reissue", {"reason": "Nama salah"})
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert actions[-3:] == ["certificates.issue", "certificates.revoke", "certificates.reissue"]


def test_a_kim_downloads_only_its_own_certificate(app, setup, client):
    ids = _issue(app, setup, "participant")
    judge_ids = _issue(app, setup, "judge")
    login(client, setup.kim_users[0].email)
    home = client.get("/").get_data(as_text=True)
    assert f"/certificates/{ids[0]}.pdf" in home and f"/certificates/{ids[1]}.pdf" not in home
    own = client.get(f"/certificates/{ids[0]}.pdf")
    assert own.status_code == 200 and own.data.startswith(b"%PDF")
    assert own.headers["Content-Disposition"].startswith("attachment;")
    # Another holder's certificate answers like a missing one (the same page but for the
    # per-request CSRF token), so ids cannot be probed.
    foreign = client.get(f"/certificates/{ids[1]}.pdf")
    missing = client.get("/certificates/999999.pdf")

    def page(response):  # the per-request CSRF token and the address itself aside
        text = re.sub(r"/certificates/\d+\.pdf", "URL", response.get_data(as_text=True))
        return re.sub(r"[\w.-]{40,}", "TOKEN", text)

    assert (foreign.status_code, page(foreign)) == (404, page(missing))
    assert client.get(f"/certificates/{judge_ids[0]}.pdf").status_code == 404


def test_a_judge_downloads_only_their_own_certificate(app, setup, client):
    ids = _issue(app, setup, "participant")
    (judge_cert,) = _issue(app, setup, "judge")
    login(client, setup.judge.email)
    assert f"/certificates/{judge_cert}.pdf" in client.get("/").get_data(as_text=True)
    assert client.get(f"/certificates/{judge_cert}.pdf").status_code == 200
    assert client.get(f"/certificates/{ids[0]}.pdf").status_code == 404


def test_admin_page_issues_and_lists(app, setup, client):
    login(client, setup.admin.email)
    url = f"/admin/events/{setup.slug}/certificates"
    for _ in range(2):
        assert post(client, url + "/issue", {"kind": "participant"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Certificate.id))) == 2
    html = client.get(url).get_data(as_text=True)
    assert "001/MONEV-KIM/2026" in html and "002/MONEV-KIM/2026" in html


def test_winner_issuing_needs_published_results(app, setup, client):
    login(client, setup.admin.email)
    url = f"/admin/events/{setup.slug}/certificates"
    assert post(client, url + "/issue", {"kind": "winner"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Certificate.id))) == 0


def test_winner_certificates_from_the_published_snapshot(app, setup):
    from monev.results.models import PublishedResult

    with app.app_context(), write_intent():
        snapshot = {
            "categories": [
                {
                    "key": "desa",
                    "name": "KIM Desa",
                    "entries": [
                        {"code": "P-02", "rank": 1, "award": "Juara I"},
                        {"code": "P-01", "rank": 2, "award": "Juara II"},
                    ],
                }
            ],
            "special_awards": [
                {"title": "KIM Terinovatif", "code": "P-02", "justification": "Siaran radio."}
            ],
        }
        db.session.add(
            PublishedResult(event_id=setup.event_id, version=1, digest="0" * 64, snapshot=snapshot)
        )
        db.session.commit()
    ids = _issue(app, setup, "winner")
    assert len(ids) == 3 and _issue(app, setup, "winner") == []
    with app.test_request_context():
        certs = [db.session.get(Certificate, i) for i in ids]
        text = pdf_text(services.pdf(certs[1]))
        special = pdf_text(services.pdf(certs[2]))
    assert "KIM Teluk Pandan" in text and "Juara II — KIM Desa" in text
    assert "PIAGAMPENGHARGAAN" in text.replace(" ", "")  # letter-spaced title
    # The special award is a certificate of its own, beside the entry's rank award.
    assert certs[2].entry_id == certs[0].entry_id
    assert "KIM Terinovatif — KIM Desa" in special and "Nomor: 003/MONEV-KIM/2026" in special


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.png",
        "https://example.org/x.css",
        "monev-asset:../config.py",
        "monev-asset:css/app.css",
        "ftp://x/y",
    ],
)
def test_fetcher_refuses_everything_but_data_and_bundled_assets(app, url):
    with app.app_context():
        fetcher = LockedFetcher()
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
        html_to_pdf(f'<img src="{url}"><link rel="stylesheet" href="{url}">', fetcher)
        assert url in fetcher.refused


def test_fetcher_serves_bundled_fonts_and_data_uris(app):
    with app.app_context():
        fetcher = LockedFetcher()
        font = fetcher.fetch("monev-asset:fonts/noto-sans/noto-sans-latin-400-normal.woff2")
        assert font.headers["Content-Type"] == "font/woff2"
        assert fetcher.fetch("data:text/plain;base64,aGk=") is not None


def test_templates_get_plain_values_only(app, setup):
    from monev.pdf.rendering import render_pdf

    with app.test_request_context(), pytest.raises(TypeError):
        render_pdf("certificates/certificate.html", {"event": _event(setup)})


def test_cli_writes_each_certificate_and_one_merged_pdf(app, setup, runner, tmp_path):
    _issue(app, setup, "participant")
    (judge_cert,) = _issue(app, setup, "judge")
    with app.test_request_context(), write_intent():
        services.revoke(db.session.get(Certificate, judge_cert), "salah")
        db.session.commit()
    out = tmp_path / "out"
    result = runner.invoke(args=["certificates", setup.slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "monev-2026-semua.pdf",
        "sertifikat-001-MONEV-KIM-2026.pdf",
        "sertifikat-002-MONEV-KIM-2026.pdf",
    ]
    merged = (out / "monev-2026-semua.pdf").read_bytes()
    assert len(pdf_page_sizes(merged)) == 2
    text = pdf_text(merged)
    assert "001/MONEV-KIM/2026" in text and "002/MONEV-KIM/2026" in text
    assert runner.invoke(args=["certificates", "tidak-ada", "--out", str(out)]).exit_code == 1


def test_rendering_in_worker_processes_gives_the_same_certificates(app, setup):
    from monev.pdf import rendering

    ids = _issue(app, setup, "participant") + _issue(app, setup, "judge")
    with app.test_request_context():
        certs = [db.session.get(Certificate, i) for i in ids]
        here = services.pdfs(certs)
        original_chunk = services.CHUNK
        services.CHUNK = 1  # one job per certificate, so that the pool is used
        try:
            there = services.pdfs(certs, processes=2)
        finally:
            services.CHUNK = original_chunk
            rendering.shutdown_pools()
    assert [pdf_text(p) for p in there] == [pdf_text(p) for p in here]
    assert [decoded_qr_codes(p) for p in there] == [decoded_qr_codes(p) for p in here]


def test_each_kim_is_told_once_when_its_certificate_is_issued(app, setup):
    from monev.notify.models import Notification

    _issue(app, setup, "participant")
    _issue(app, setup, "participant")  # again: nothing new, nobody told twice
    with app.app_context():
        notes = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
        assert [(n.user_id, n.kind) for n in notes] == [
            (u.id, "certificate_ready") for u in setup.kim_users
        ]
        certs = {c.id: c for c in db.session.scalars(select(Certificate))}
        assert {n.link for n in notes} == {f"/certificates/{i}.pdf" for i in certs}
        assert notes[0].params["number"] in {c.number for c in certs.values()}
