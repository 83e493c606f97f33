"""The demo rubric (Administrasi and Presentasi of Monev KIM se-Kalimantan Timur), built
through the rubric services like an organiser's."""

from __future__ import annotations

from monev.events.models import Event
from monev.rubrics import services as rubrics

LEVELS = [
    ("1-3", "Belum ada / tidak sesuai"),
    ("4-6", "Ada, tetapi belum lengkap atau belum rutin"),
    ("7-8", "Lengkap dan berjalan rutin"),
    ("9-10", "Sangat baik, berdampak dan terdokumentasi"),
]

# (aspect, [(key, name, weight, evidence, hint, guidance)])
ADMINISTRASI = [
    (
        "Kelembagaan",
        [
            (
                "a1",
                "SK pembentukan KIM",
                "25",
                "file",
                "Unggah SK kepala desa/lurah (PDF atau foto).",
                "SK masih berlaku dan ditandatangani kepala desa/lurah.",
            ),
            (
                "a2",
                "Struktur pengurus dan keanggotaan",
                "15",
                "file",
                "Daftar pengurus dan anggota aktif.",
                "Struktur jelas, anggota aktif bukan ASN sesuai ketentuan.",
            ),
            (
                "a3",
                "Program kerja tahunan",
                "20",
                "file",
                "Dokumen program kerja tahun berjalan.",
                "Program kerja memuat kegiatan diseminasi dan jadwal.",
            ),
        ],
    ),
    (
        "Pelaporan dan kanal",
        [
            (
                "a4",
                "Laporan kegiatan",
                "20",
                "either",
                "Laporan atau tautan dokumentasi kegiatan.",
                "Laporan kegiatan 12 bulan terakhir dengan bukti foto.",
            ),
            (
                "a5",
                "Kanal informasi (website/media sosial)",
                "20",
                "link",
                "Tautan website desa, kim.id atau media sosial KIM.",
                "Kanal aktif diperbarui minimal sebulan sekali.",
            ),
        ],
    ),
]

# ADINDA-P: Akses, Diskusi, Informasi, Networking, Diseminasi, Aspirasi, Prestasi.
PRESENTASI = [
    (
        "Akses",
        [
            (
                "p1",
                "Akses masyarakat terhadap informasi",
                "15",
                "Bagaimana warga mendapatkan informasi dari KIM (papan, grup WA, radio, web).",
            )
        ],
    ),
    (
        "Diskusi",
        [
            (
                "p2",
                "Forum diskusi warga",
                "15",
                "Forum tatap muka atau daring yang rutin dan melibatkan warga.",
            )
        ],
    ),
    (
        "Informasi",
        [
            (
                "p3",
                "Pengelolaan dan produksi informasi",
                "15",
                "Konten orisinal, akurat, dan menangkal hoaks.",
            )
        ],
    ),
    (
        "Networking",
        [
            (
                "p4",
                "Jejaring dan kemitraan",
                "10",
                "Kerja sama dengan pemerintah desa, OPD, media, dan komunitas lain.",
            )
        ],
    ),
    (
        "Diseminasi",
        [
            (
                "p5",
                "Diseminasi informasi kebijakan pemerintah",
                "20",
                "Penyebarluasan program pemerintah secara teratur dan terukur.",
            )
        ],
    ),
    (
        "Aspirasi",
        [
            (
                "p6",
                "Penyaluran aspirasi masyarakat",
                "15",
                "Aspirasi warga dihimpun dan diteruskan ke OPD terkait.",
            )
        ],
    ),
    (
        "Prestasi",
        [
            (
                "p7",
                "Prestasi dan dampak",
                "10",
                "Penghargaan, liputan, atau dampak nyata bagi desa/kelurahan.",
            )
        ],
    ),
]


def build_rubric(event: Event) -> None:
    stages = {s.key: s for s in event.stages}
    levels = "\n".join(f"{r}: {t}" for r, t in LEVELS)
    for aspect_name, criteria in ADMINISTRASI:
        aspect = rubrics.save_aspect(stages["administrasi"], None, aspect_name)
        for key, name, weight, evidence, hint, guidance in criteria:
            rubrics.save_criterion(
                aspect,
                None,
                {
                    "key": key,
                    "name": name,
                    "weight": weight,
                    "min_score": "1",
                    "max_score": "10",
                    "step": "1",
                    "descriptors": levels,
                    "evidence": evidence,
                    "evidence_hint": hint,
                    "guidance": guidance,
                },
            )
    for aspect_name, criteria in PRESENTASI:
        aspect = rubrics.save_aspect(stages["presentasi"], None, aspect_name)
        for key, name, weight, guidance in criteria:
            rubrics.save_criterion(
                aspect,
                None,
                {
                    "key": key,
                    "name": name,
                    "weight": weight,
                    "min_score": "1",
                    "max_score": "10",
                    "step": "0.5",
                    "descriptors": levels,
                    "evidence": "none",
                    "guidance": guidance,
                },
            )
