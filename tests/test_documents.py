"""Official documents after publication: Berita Acara, the draft SK, the rapor per entry
(its medians, improvements and blind comments), who may download what, nothing before
publication, and a fixed number of queries for the rapor of a whole event."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monev.auth.models import User
from monev.certificates.models import CertificateSettings
from monev.core.database import write_intent
from monev.directory.models import Kim
from monev.documents import services
from monev.entries.models import Entry
from monev.events import queries as event_queries
from monev.extensions import db
from monev.results import queries as result_queries
from monev.results import services as result_services
from monev.results.models import SpecialAward
from tests import results_factory
from tests.conftest import Record, count_queries, login, t
from tests.pdf import pdf_page_sizes, pdf_text

LONG_NAME = (
    "Komunitas Informasi Masyarakat Maju Bersama Membangun Negeri Desa Sangatta Utara "
    "Kecamatan Sangatta Utara"
)
COMMENT = "Perlu bukti foto kegiatan."
SIGNATORIES = [
    {"name": "Drs. Ahmad Fauzi", "title": "Sekretaris Dinas", "nip": "197001011990031001"},
    {
        "name": "Dr. Hj. Siti Rahmah, M.Si.",
        "title": "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        "nip": "196805121992032004",
    },
]


def controlled_value(entry: int, judge: int, criterion: int) -> Decimal:
    """Administrasi (criteria 0, 1) grows with the entry: 5, 6, 7, 8 (median 6.5);
    Presentasi (criteria 2, 3) falls: 9, 8, 7, 6 (median 7.5). Every judge agrees."""
    return Decimal(5 + entry) if criterion < 2 else Decimal(9 - entry)


def _publish(app, slug: str) -> None:
    with app.test_request_context(), write_intent():
        event = event_queries.get_by_slug(slug)
        result_services.acknowledge_all(event, results_factory.ACK_NOTE, actor=None)
        result_services.publish(event, actor=None, confirmed=True)
        db.session.commit()


def _prepare(app, ev, *, special_award: bool = True) -> None:
    """Long KIM name, judges' institutions, signatories, place and a special award."""
    with app.app_context(), write_intent():
        first = db.session.get(Entry, ev.entry_ids[0])
        db.session.get(Kim, first.kim_id).name = LONG_NAME
        for i, judge_id in enumerate(ev.judge_ids):
            db.session.get(User, judge_id).institution = f"Universitas Uji {i}"
        db.session.add(
            CertificateSettings(
                event_id=ev.event_id,
                number_pattern="{seq:03d}/MONEV/{year}",
                primary_colour="#0b4f6c",
                accent_colour="#c9a227",
                place="Samarinda",
                signatories=SIGNATORIES,
            )
        )
        if special_award:
            db.session.add(
                SpecialAward(
                    event_id=ev.event_id,
                    entry_id=ev.entry_ids[3],
                    title="KIM Terinovatif",
                    justification="Aplikasi aduan warga yang dipakai seluruh desa.",
                )
            )
        db.session.commit()


@pytest.fixture
def published(app):
    ev = results_factory.build(
        app, slug="uji-dokumen", entries=4, judges=3, value=controlled_value, comment=COMMENT
    )
    _prepare(app, ev)
    _publish(app, ev.slug)
    return ev


def _snapshot(app, ev) -> dict:
    with app.app_context():
        return result_queries.latest(ev.event_id).snapshot


def _kim_user(make_user, app, entry_id: int):
    with app.app_context():
        kim_id = db.session.get(Entry, entry_id).kim_id
    return make_user("kim", kim=Record(kim_id, {}))


DOCS = "/admin/events/{slug}/documents"


# --- Berita Acara ---------------------------------------------------------------------------


def test_berita_acara_has_judges_method_recap_digest_and_signatures(
    app, client, login_as, published
):
    login_as("admin")
    response = client.get(DOCS.format(slug=published.slug) + "/berita-acara.pdf")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert "berita-acara-uji-dokumen.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    snapshot = _snapshot(app, published)
    rows = snapshot["categories"][0]["entries"]
    assert "BERITA ACARA PENILAIAN" in text
    assert "Monev KIM Uji uji-dokumen" in text and "Diskominfo Uji" in text
    assert "Samarinda" in text
    for j in range(3):
        assert f"Juri Uji {j}" in text and f"Universitas Uji {j}" in text
    assert "Adm (bobot 40 %)" in text and "Pres (bobot 60 %)" in text
    assert "rata-rata nilai dari para juri" in text
    assert "tanpa normalisasi skor-z" in text
    assert "nilai tahap Pres yang lebih tinggi" in text
    for row in rows:
        assert f"{row['total']:.2f}".replace(".", ",") in text
    assert [r["award"] for r in rows] == ["Juara I", "Juara II", "Juara III", "Harapan I"]
    assert "71,11" in text and "Juara I" in text and "Harapan I" in text
    assert "Maju Bersama Membangun Negeri" in text  # the long name, wrapped, not cut
    assert "KIM Terinovatif" in text and "Aplikasi aduan warga" in text
    assert "versi 1" in text and snapshot["digest"] in text.replace(" ", "")
    assert "Drs. Ahmad Fauzi" in text and "NIP. 196805121992032004" in text
    pages = len(pdf_page_sizes(response.data))
    assert f"Halaman 1 dari {pages}" in text


def test_method_is_described_in_plain_indonesian():
    snapshot = {
        "method": {
            "aggregation": "trimmed",
            "normalize_judges": True,
            "tie_breaks": ["criterion:c1"],
            "compare_decimals": 4,
        },
        "stages": [{"key": "pres", "name": "Presentasi", "weight": 100.0}],
        "rubric": [
            {"stage": "pres", "criteria": [{"key": "c1", "name": "Inovasi", "aspect": "Akses"}]}
        ],
        "categories": [{"award_ladder": ["Juara I"]}],
    }

    lines = services.method_lines(snapshot)

    assert lines[0] == (
        "Penilaian terdiri atas 1 tahap: Presentasi (bobot 100 %), menilai aspek Akses "
        "melalui 1 kriteria berbobot."
    )
    assert any("rata-rata terpangkas" in line for line in lines)
    assert any("dinormalisasi (skor-z)" in line for line in lines)
    assert any("nilai kriteria “Inovasi” yang lebih tinggi" in line for line in lines)


# --- draft SK -------------------------------------------------------------------------------


def test_decree_draft_names_the_winners_and_is_marked_as_draft(app, client, login_as, published):
    login_as("admin")
    response = client.get(DOCS.format(slug=published.slug) + "/draf-sk.pdf")

    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "DRAF" in text
    assert "KEPUTUSAN KEPALA DINAS KOMUNIKASI DAN INFORMATIKA PROVINSI KALIMANTAN TIMUR" in text
    assert "NOMOR: ……" in text
    for word in ("Menimbang", "Mengingat", "MEMUTUSKAN:", "Menetapkan", "KESATU", "LAMPIRAN"):
        assert word in text
    assert "PENETAPAN PEMENANG MONEV KIM UJI UJI-DOKUMEN TAHUN 2024" in text
    assert "Dr. Hj. Siti Rahmah, M.Si." in text  # the last signatory signs
    assert "NIP. 196805121992032004" in text
    assert "Drs. Ahmad Fauzi" not in text
    rows = _snapshot(app, published)["categories"][0]["entries"]
    for row in rows:
        assert row["kim"].split()[-1] in text
        assert f"{row['total']:.2f}".replace(".", ",") in text
    assert "Kabupaten Kutai Timur" in text and "KIM Terinovatif" in text


# --- rapor ----------------------------------------------------------------------------------


def test_rapor_compares_each_aspect_with_the_median_and_says_what_to_improve(
    app, client, login_as, published
):
    login_as("admin")
    first, last = published.entry_ids[0], published.entry_ids[3]
    url = DOCS.format(slug=published.slug) + "/rapor/{}.pdf"

    top = pdf_text(client.get(url.format(first)).data)
    bottom_response = client.get(url.format(last))
    bottom = pdf_text(bottom_response.data)

    assert "rapor-uji-dokumen-K-004.pdf" in bottom_response.headers["Content-Disposition"]
    assert (
        "Maju Bersama Membangun Negeri" in top and "71,11" in top and "1/4" in top.replace(" ", "")
    )
    assert "Juara I" in top
    # Administrasi: 5, 6, 7, 8 → median 6,5; Presentasi: 9, 8, 7, 6 → median 7,5
    assert "Aspek Aspek adm (tahap Adm): 5,0 dari 10, di bawah median peserta 6,5." in top
    assert "Aspek Aspek pres (tahap Adm)" not in top and "di bawah median peserta 7,5" not in top
    assert "Aspek Aspek pres (tahap Pres): 6,0 dari 10, di bawah median peserta 7,5." in bottom
    assert "4/4" in bottom.replace(" ", "") and "Harapan I" in bottom
    # blind judging: comments numbered, never named
    assert COMMENT in top and "Juri 1" in top and "Juri 3" in top
    assert "Juri Uji" not in top


def test_rapor_of_an_entry_of_another_event_is_not_found(app, client, login_as, published):
    other = results_factory.build(app, slug="uji-lain", entries=1, judges=1)
    login_as("admin")

    url = DOCS.format(slug=published.slug) + f"/rapor/{other.entry_ids[0]}.pdf"

    assert client.get(url).status_code == 404


def test_all_rapor_in_one_pdf(app, client, login_as, published):
    login_as("admin")
    response = client.get(DOCS.format(slug=published.slug) + "/rapor.pdf")

    assert response.status_code == 200
    text = pdf_text(response.data)
    assert text.count("Rapor Pembinaan") == 4
    for n in range(2, 5):
        assert f"KIM Hasil uji-dokumen {n}" in text
    assert len(pdf_page_sizes(response.data)) >= 4


def test_rapor_contexts_take_the_same_queries_for_one_or_many_entries(app):
    small = results_factory.build(app, slug="uji-satu", entries=1, judges=2, comment="Baik.")
    large = results_factory.build(
        app, slug="uji-banyak", entries=9, judges=4, categories=2, comment="Baik."
    )
    for ev in (small, large):
        _publish(app, ev.slug)

    counts, sizes = [], []
    for ev in (small, large):
        with app.test_request_context():
            event = event_queries.get_by_slug(ev.slug)
            published = result_queries.latest(event.id)
            with count_queries(db.engine) as statements:
                contexts = services.rapor_contexts(event, published)
            counts.append(len(statements))
            sizes.append(len(contexts))

    assert sizes == [1, 9]
    assert counts[0] == counts[1], counts


# --- pages and access ----------------------------------------------------------------------


def test_admin_page_lists_every_document(app, client, login_as, published):
    login_as("admin")

    page = client.get(DOCS.format(slug=published.slug)).get_data(as_text=True)

    assert f'href="/admin/events/{published.slug}/documents/berita-acara.pdf"' in page
    assert f'href="/admin/events/{published.slug}/documents/draf-sk.pdf"' in page
    assert f'href="/admin/events/{published.slug}/documents/rapor.pdf"' in page
    for entry_id in published.entry_ids:
        assert f"/documents/rapor/{entry_id}.pdf" in page
    detail = client.get(f"/admin/events/{published.slug}").get_data(as_text=True)
    assert f'href="/admin/events/{published.slug}/documents"' in detail


def test_kim_downloads_only_its_own_rapor(app, client, make_user, published):
    own = _kim_user(make_user, app, published.entry_ids[1])
    login(client, own.email)

    home = client.get("/").get_data(as_text=True)
    assert f'href="/my/documents/{published.slug}/rapor.pdf"' in home
    response = client.get(f"/my/documents/{published.slug}/rapor.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "KIM Hasil uji-dokumen 2" in text and "2/4" in text.replace(" ", "")
    assert "KIM Hasil uji-dokumen 3" not in text
    # the admin's address of another entry's rapor stays closed
    url = DOCS.format(slug=published.slug) + f"/rapor/{published.entry_ids[2]}.pdf"
    assert client.get(url).status_code == 403


def test_kim_outside_the_event_gets_no_rapor(app, client, login_as, published):
    login_as("kim")

    assert client.get(f"/my/documents/{published.slug}/rapor.pdf").status_code == 404
    assert "/my/documents/" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["judge", "operator"])
def test_judges_and_operators_get_no_documents(app, client, login_as, published, role):
    login_as(role)
    base = DOCS.format(slug=published.slug)

    for url in (
        base,
        base + "/berita-acara.pdf",
        base + "/draf-sk.pdf",
        base + "/rapor.pdf",
        base + f"/rapor/{published.entry_ids[0]}.pdf",
        f"/my/documents/{published.slug}/rapor.pdf",
    ):
        assert client.get(url).status_code == 403, url


def test_before_publication_documents_are_explained_not_rendered(app, client, login_as, make_user):
    ev = results_factory.build(app, slug="uji-belum", entries=2, judges=2)
    kim = _kim_user(make_user, app, ev.entry_ids[0])
    login_as("admin")
    base = DOCS.format(slug=ev.slug)

    page = client.get(base)
    assert page.status_code == 200
    notice = t(
        app,
        "The official documents (Berita Acara, the draft decree and the development reports) "
        "are made from the published results. They appear here once the results are published.",
    )
    assert notice in page.get_data(as_text=True)
    assert "berita-acara.pdf" not in page.get_data(as_text=True)
    for path in (
        "/berita-acara.pdf",
        "/draf-sk.pdf",
        "/rapor.pdf",
        f"/rapor/{ev.entry_ids[0]}.pdf",
    ):
        response = client.get(base + path)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"].startswith("text/html")
    assert t(
        app, "The documents are made from the published results: publish the results first."
    ) in client.get(base + "/berita-acara.pdf").get_data(as_text=True)

    client.get("/logout")
    kim_client = app.test_client()
    login(kim_client, kim.email)
    assert "/my/documents/" not in kim_client.get("/").get_data(as_text=True)
    assert kim_client.get(f"/my/documents/{ev.slug}/rapor.pdf").status_code == 404


def test_documents_without_comments_signatories_or_place_still_render(app, client, login_as):
    ev = results_factory.build(app, slug="uji-polos", entries=2, judges=1)
    _publish(app, ev.slug)
    login_as("admin")
    base = DOCS.format(slug=ev.slug)

    texts = {}
    for path in ("/berita-acara.pdf", "/draf-sk.pdf", f"/rapor/{ev.entry_ids[0]}.pdf"):
        response = client.get(base + path)
        assert response.status_code == 200, path
        texts[path] = pdf_text(response.data)
    assert "Tidak ada catatan juri." in texts[f"/rapor/{ev.entry_ids[0]}.pdf"]
    assert "KEPUTUSAN KEPALA DISKOMINFO UJI" in texts["/draf-sk.pdf"]
    assert "Mengetahui" not in texts["/berita-acara.pdf"]
