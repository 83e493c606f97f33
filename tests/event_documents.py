"""Hand-written ``monev-event/1`` documents shared by the package and rubric tests."""

from __future__ import annotations

import copy
import html

from tests.conftest import t


def _criterion(key, name, weight, low, high, step):
    return {"key": key, "name": name, "weight": weight, "min": low, "max": high, "step": step}


# Exactly the shape the issue promises to accept: every optional key left out.
MINIMAL = {
    "format": "monev-event/1",
    "event": {
        "slug": "monev-kim-kaltim-2024",
        "title": "Monev KIM se-Kalimantan Timur 2024",
        "year": 2024,
        "aggregation": "trimmed",
        "normalize_judges": True,
        "tie_breaks": ["stage:presentasi", "criterion:c3"],
    },
    "stages": [
        {"key": "administrasi", "name": "Administrasi", "weight": 40},
        {"key": "presentasi", "name": "Presentasi", "weight": 60},
    ],
    "categories": [
        {"key": "desa", "name": "KIM Desa"},
        {"key": "kelurahan", "name": "KIM Kelurahan"},
    ],
    "rubric": [
        {
            "stage": "administrasi",
            "aspect": "Kelembagaan",
            "criteria": [
                _criterion("c1", "SK pembentukan KIM", 40, 1, 5, 1),
                _criterion("c2", "Struktur dan pengurus", 30, 1, 5, 0.5),
            ],
        },
        {
            "stage": "administrasi",
            "aspect": "Dokumentasi",
            "criteria": [_criterion("c3", "Arsip kegiatan", 30, 0, 10, 1)],
        },
        {
            "stage": "presentasi",
            "aspect": "Penyajian",
            "criteria": [
                _criterion("p1", "Materi presentasi", 50.5, 0, 100, 5),
                _criterion("p2", "Penguasaan materi", 24.5, 1, 5, 0.5),
                _criterion("p3", "Inovasi layanan informasi", 25, 1, 5, 1),
            ],
        },
    ],
    "entries": [
        {"key": "K-001", "kim": "KIM Teluk Pandan", "district": "64.04", "category": "desa"},
        {"key": "K-002", "kim": "KIM Teluk Lingga", "district": "64.04", "category": "kelurahan"},
        {"key": "K-003", "kim": "KIM Tanjung Redeb", "district": "Berau", "category": "kelurahan"},
        {"key": "K-004", "kim": "KIM Labanan Makmur", "district": "64.05", "category": "desa"},
    ],
    "judges": [
        {"key": "rina", "name": "Dr. Rina Wulandari", "email": "rina@unmul.ac.id"},
        {"key": "budi", "name": "Budi Santoso", "email": "budi@kaltimpost.id"},
        {"key": "sari", "name": "Sari Hidayati", "email": "sari@kominfo.kaltimprov.go.id"},
    ],
    "scores": [
        # rina: K-001 administrasi, final
        {"entry": "K-001", "judge": "rina", "criterion": "c1", "value": 4, "final": True},
        {"entry": "K-001", "judge": "rina", "criterion": "c2", "value": 3.5, "final": True},
        {"entry": "K-001", "judge": "rina", "criterion": "c3", "value": 8, "final": True},
        # budi: K-001 administrasi, a draft with two of three criteria
        {"entry": "K-001", "judge": "budi", "criterion": "c1", "value": 5, "final": False},
        {"entry": "K-001", "judge": "budi", "criterion": "c2", "value": 4.5, "final": False},
        # sari: K-003 presentasi, final
        {"entry": "K-003", "judge": "sari", "criterion": "p1", "value": 85, "final": True},
        {"entry": "K-003", "judge": "sari", "criterion": "p2", "value": 4.5, "final": True},
        {"entry": "K-003", "judge": "sari", "criterion": "p3", "value": 4, "final": True},
        # rina: K-004 presentasi, final
        {"entry": "K-004", "judge": "rina", "criterion": "p1", "value": 70, "final": True},
        {"entry": "K-004", "judge": "rina", "criterion": "p2", "value": 3, "final": True},
        {"entry": "K-004", "judge": "rina", "criterion": "p3", "value": 2, "final": True},
    ],
}


def minimal() -> dict:
    return copy.deepcopy(MINIMAL)


def full() -> dict:
    """The same event with the optional keys filled in."""
    doc = minimal()
    doc["event"].update(
        organiser="Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        description="Lomba tahunan KIM se-Kaltim.",
        status="judging",
        timezone="Asia/Makassar",
    )
    doc["stages"][0].update(
        opens_at="2024-05-01T08:00:00+08:00",
        closes_at="2024-05-31T16:00:00+08:00",
        judges_per_entry=2,
    )
    doc["categories"][0]["score_bands"] = [
        {"min": 70, "label": "Baik"},
        {"min": 85, "label": "Unggul"},
    ]
    doc["categories"][1]["award_ladder"] = ["Terbaik I", "Terbaik II", "Terbaik III"]
    first = doc["rubric"][0]["criteria"][0]
    first.update(
        guidance="Periksa SK dari kepala desa/lurah.",
        descriptors=[
            {"min": 1, "max": 2, "text": "Belum ada SK"},
            {"min": 3, "max": 5, "text": "SK ada dan masih berlaku"},
        ],
        evidence="file",
        evidence_hint="Unggah SK dalam PDF.",
    )
    doc["entries"][0].update(
        kecamatan="Sangatta Utara",
        village="Teluk Pandan",
        village_kind="desa",
        sk_number="05/SK/2021",
        sk_date="2021-08-02",
        chair_name="Siti Rahmah",
        members_count=11,
    )
    doc["judges"][0].update(institution="Universitas Mulawarman", home_district="64.72")
    doc["assignments"] = [{"stage": "presentasi", "entry": "K-002", "judge": "budi"}]
    doc["scores"][3]["comment"] = "SK perlu diperbarui."
    return doc


def msg(app, msgid: str, **params) -> str:
    """A message as plain text, as problems carry it (``t`` gives it HTML-escaped)."""
    return html.unescape(t(app, msgid, **params))
