"""The official documents of a published event, built as plain-value contexts and rendered
with the locked-down WeasyPrint renderer (``monev.pdf.rendering``).

* :func:`berita_acara_context`: the signed minutes of the judging (method, recap per
  category, special awards, version and digest of the published scores, signatures);
* :func:`decree_context`: a draft decree (SK) naming the winners, with its annex;
* :func:`rapor_contexts` (``rapor.py``): one development report (*rapor pembinaan*) per
  entry: its scores per aspect and criterion against the median of its category, the
  judges' comments (numbered, never named: blind judging) and what to improve.

Everything comes from the latest published snapshot; the rapor adds the values and
comments of the final sheets, read for the whole event in a fixed number of queries.
Document text is fixed Bahasa Indonesia (official documents).
"""

from __future__ import annotations

from sqlalchemy import select

from monev.certificates.settings import settings_for
from monev.core.templating import number
from monev.documents import queries
from monev.documents.formatting import (
    FONT_URL,
    common_context,
    decimal,
    document_signatories,
    long_date,
    rank_text,
    weekday,
)
from monev.documents.rapor import IMPROVEMENTS, AspectDef, rapor_contexts
from monev.entries.models import Entry
from monev.events.models import DEFAULT_LADDER, Event
from monev.extensions import db
from monev.pdf.rendering import render_merged_pdf, render_pdf
from monev.results.models import PublishedResult

__all__ = [
    "FONT_URL",
    "IMPROVEMENTS",
    "AspectDef",
    "all_rapor_pdf",
    "berita_acara_context",
    "berita_acara_pdf",
    "decimal",
    "decree_context",
    "decree_pdf",
    "dropped_lines",
    "entry_codes",
    "filename",
    "long_date",
    "method_lines",
    "rapor_contexts",
    "rapor_pdf",
    "weekday",
]

AGGREGATION_TEXT = {
    "mean": "Nilai tahap sebuah KIM adalah rata-rata nilai dari para juri yang menilainya.",
    "median": "Nilai tahap sebuah KIM adalah median (nilai tengah) dari nilai para juri yang "
    "menilainya.",
    "trimmed": "Nilai tahap sebuah KIM adalah rata-rata terpangkas: bila dinilai oleh sekurang-"
    "kurangnya empat juri, satu nilai tertinggi dan satu nilai terendah tidak diperhitungkan, "
    "lalu sisanya dirata-rata.",
}


# --- Berita Acara Penilaian ---------------------------------------------------------------


def method_lines(snapshot: dict) -> list[str]:
    """The scoring method of a published snapshot, in plain Indonesian sentences."""
    method = snapshot.get("method", {})
    stages = snapshot.get("stages", [])
    rubric = {r["stage"]: r["criteria"] for r in snapshot.get("rubric", [])}
    lines = []
    if stages:
        parts = []
        for s in stages:
            criteria = rubric.get(s["key"], [])
            aspects = list(dict.fromkeys(c["aspect"] for c in criteria))
            text = f"{s['name']} (bobot {number(s['weight'])} %)"
            if criteria:
                text += (
                    f", menilai aspek {_join(aspects)} melalui {len(criteria)} kriteria berbobot"
                )
            parts.append(text)
        lines.append(f"Penilaian terdiri atas {len(stages)} tahap: " + "; ".join(parts) + ".")
    lines.append(
        "Setiap nilai kriteria diubah ke skala 0–100 menurut rentang nilainya, lalu "
        "dijumlahkan menurut bobot kriteria menjadi nilai tahap dari seorang juri."
    )
    lines.append(AGGREGATION_TEXT.get(method.get("aggregation"), AGGREGATION_TEXT["mean"]))
    if method.get("normalize_judges"):
        lines.append(
            "Untuk menyeimbangkan juri yang cenderung murah atau mahal dalam memberi nilai, "
            "nilai setiap juri dinormalisasi (skor-z) lalu dikembalikan ke rata-rata dan "
            "sebaran gabungan seluruh juri."
        )
    else:
        lines.append("Nilai para juri digunakan apa adanya, tanpa normalisasi skor-z.")
    lines.append(
        "Nilai akhir adalah jumlah nilai setiap tahap dikalikan bobot tahapnya. Peringkat "
        "disusun per kategori dari nilai akhir tertinggi, dibandingkan sampai "
        f"{method.get('compare_decimals', 4)} angka di belakang koma."
    )
    rules = [_tie_break_text(rule, snapshot) for rule in method.get("tie_breaks", [])]
    if rules:
        lines.append(
            "Bila nilai akhir sama, urutan ditentukan berturut-turut oleh: "
            + "; ".join(rules)
            + ". Bila masih sama, peringkat dibagi bersama (ditandai *)."
        )
    else:
        lines.append("Bila nilai akhir sama, peringkat dibagi bersama (ditandai *).")
    ladders = {tuple(c.get("award_ladder") or DEFAULT_LADDER) for c in snapshot["categories"]}
    if len(ladders) == 1:
        lines.append(
            "Penghargaan diberikan menurut urutan peringkat: " + ", ".join(ladders.pop()) + "."
        )
    return lines


def _tie_break_text(rule: str, snapshot: dict) -> str:
    kind, _sep, key = rule.partition(":")
    if kind == "stage":
        name = next((s["name"] for s in snapshot.get("stages", []) if s["key"] == key), key)
        return f"nilai tahap {name} yang lebih tinggi"
    criteria = [c for r in snapshot.get("rubric", []) for c in r["criteria"]]
    name = next((c["name"] for c in criteria if c["key"] == key), key)
    return f"nilai kriteria “{name}” yang lebih tinggi"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " dan " + items[-1]


def _recap(snapshot: dict) -> list[dict]:
    return [
        {
            "name": c["name"],
            "rows": [
                {
                    "rank": rank_text(e),
                    "kim": e["kim"],
                    "village": e.get("village") or "",
                    "district": e["district"],
                    "total": decimal(e["total"]),
                    "award": e.get("award") or "",
                    "band": e.get("band") or "",
                    "incomplete": bool(e.get("incomplete")),
                }
                for e in c["entries"]
            ],
        }
        for c in snapshot["categories"]
    ]


def berita_acara_context(event: Event, published: PublishedResult) -> dict:
    snapshot = published.snapshot
    settings = settings_for(event)
    category_name = {c["key"]: c["name"] for c in snapshot["categories"]}
    return {
        **common_context(event, published, f"Berita Acara Penilaian — {event.title}"),
        "place": settings.place or "",
        "weekday": weekday(published.created_at, event.timezone),
        "judges": [
            {"name": name, "institution": institution or ""}
            for name, institution in queries.judges(event.id)
        ],
        "method": method_lines(snapshot),
        "categories": _recap(snapshot),
        "has_incomplete": any(
            e.get("incomplete") for c in snapshot["categories"] for e in c["entries"]
        ),
        "special_awards": [
            {
                "title": a["title"],
                "kim": a["kim"],
                "district": a["district"],
                "category": category_name.get(a["category"], a["category"]),
                "justification": a["justification"],
            }
            for a in snapshot.get("special_awards", [])
        ],
        "scores": snapshot.get("scores", 0),
        "final_sheets": snapshot.get("final_sheets", 0),
        "dropped": dropped_lines(snapshot),
        "signatories": document_signatories(event),
    }


def dropped_lines(snapshot: dict) -> list[str]:
    """The sheets the organiser dropped, as the minutes state them: the judge, the entry, the
    stage and the reason (an official statement)."""
    return [
        f"Lembar {d['judge']} untuk {d['code']} {d['kim']} ({d['stage_name']}) dibatalkan: "
        f"{d['reason']}"
        for d in snapshot.get("dropped_sheets", [])
    ]


# --- draft decree (SK) ----------------------------------------------------------------------


def decree_context(event: Event, published: PublishedResult, *, final: bool = False) -> dict:
    snapshot = published.snapshot
    settings = settings_for(event)
    signatories = document_signatories(event)
    signer = (
        signatories[-1] if signatories else {"name": "", "title": "", "nip": ""}
    )  # the highest official signs last
    office = signer["title"] or f"Kepala {event.organiser}"
    subject = f"Penetapan Pemenang {event.title}"
    if str(event.year) not in event.title:
        subject += f" Tahun {event.year}"
    return {
        **common_context(
            event,
            published,
            f"{'SK' if final else 'Draf SK'} Penetapan Pemenang — {event.title}",
        ),
        "final": final,
        "office": office,
        "subject": subject,
        "place": settings.place or "",
        "signer": signer,
        "categories": [
            {
                "name": c["name"],
                "rows": [
                    {
                        "award": e["award"],
                        "kim": e["kim"],
                        "village": e.get("village") or "",
                        "district": e["district"],
                        "total": decimal(e["total"]),
                    }
                    for e in c["entries"]
                    if e.get("award")
                ],
            }
            for c in snapshot["categories"]
        ],
        "special_awards": [
            {"title": a["title"], "kim": a["kim"], "district": a["district"]}
            for a in snapshot.get("special_awards", [])
        ],
    }


# --- entry points -----------------------------------------------------------------------------


def entry_codes(event_id: int) -> dict[str, int]:
    """{entry code: entry id} of the event's entries (one query)."""
    return dict(
        db.session.execute(select(Entry.code, Entry.id).where(Entry.event_id == event_id)).all()
    )


def berita_acara_pdf(event: Event, published: PublishedResult) -> bytes:
    return render_pdf("documents/berita_acara.html", berita_acara_context(event, published))


def decree_pdf(event: Event, published: PublishedResult, *, final: bool = False) -> bytes:
    return render_pdf("documents/sk_draft.html", decree_context(event, published, final=final))


def rapor_pdf(event: Event, published: PublishedResult, entry_id: int) -> bytes | None:
    contexts = rapor_contexts(event, published, {entry_id})
    return render_pdf("documents/rapor.html", contexts[0]) if contexts else None


def all_rapor_pdf(
    event: Event, published: PublishedResult, *, compilation: bool = False
) -> bytes | None:
    """Every rapor in one PDF, for printing. With ``compilation`` (signing is configured)
    every page says that this file is an unsigned compilation: the signed rapor are the
    single files (each its own signature; a merge would break them)."""
    contexts = rapor_contexts(event, published)
    if not contexts:
        return None
    if compilation:
        contexts = [{**context, "compilation": True} for context in contexts]
    # One WeasyPrint document per rapor (each numbers its own pages), pages joined in order.
    return render_merged_pdf("documents/rapor.html", contexts)


def filename(kind: str, event: Event, code: str | None = None) -> str:
    parts = [kind, event.slug] + ([code] if code else [])
    raw = "-".join(parts)
    return "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in raw).strip("-") + ".pdf"
