"""The official documents of a published event, built as plain-value contexts and rendered
with the locked-down WeasyPrint renderer (``monev.pdf.rendering``).

* :func:`berita_acara_context`: the signed minutes of the judging (method, recap per
  category, special awards, version and digest of the published scores, signatures);
* :func:`decree_context`: a draft decree (SK) naming the winners, with its annex;
* :func:`rapor_contexts`: one development report (*rapor pembinaan*) per entry: its scores
  per aspect and criterion against the median of its category, the judges' comments
  (numbered, never named: blind judging) and what to improve.

Everything comes from the latest published snapshot; the rapor adds the values and
comments of the final sheets, read for the whole event in a fixed number of queries.
Document text is fixed Bahasa Indonesia (official documents).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import select

from monev.certificates.services import DOCUMENT_LOCALE, settings_for
from monev.core.templating import number
from monev.documents import queries
from monev.entries.models import Entry
from monev.events.models import DEFAULT_LADDER, Event
from monev.extensions import db
from monev.pdf.rendering import ASSET_SCHEME, render_merged_pdf, render_pdf
from monev.results import queries as result_queries
from monev.results.models import PublishedResult
from monev.results.queries import EventData

FONT_URL = ASSET_SCHEME + "fonts/noto-sans/"
IMPROVEMENTS = 5  # at most this many "Yang perlu ditingkatkan" lines

AGGREGATION_TEXT = {
    "mean": "Nilai tahap sebuah KIM adalah rata-rata nilai dari para juri yang menilainya.",
    "median": "Nilai tahap sebuah KIM adalah median (nilai tengah) dari nilai para juri yang "
    "menilainya.",
    "trimmed": "Nilai tahap sebuah KIM adalah rata-rata terpangkas: bila dinilai oleh sekurang-"
    "kurangnya empat juri, satu nilai tertinggi dan satu nilai terendah tidak diperhitungkan, "
    "lalu sisanya dirata-rata.",
}


# --- formatting ---------------------------------------------------------------------------


def decimal(value: float | None, digits: int = 2) -> str:
    """A number with a fixed count of decimals, Indonesian style: 78.5 -> '78,50'."""
    if value is None:
        return "—"
    text = f"{float(value):.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace(".", ",")


def long_date(moment: datetime, timezone: str | None) -> str:
    """A UTC moment as an Indonesian long date in the event's time zone: '23 November 2026'."""
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone or "Asia/Makassar"))
    return format_date(local.date(), "d MMMM y", locale=DOCUMENT_LOCALE)


def weekday(moment: datetime, timezone: str | None) -> str:
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone or "Asia/Makassar"))
    return format_date(local.date(), "EEEE", locale=DOCUMENT_LOCALE)


def _rank_text(row: dict) -> str:
    return f"{row['rank']}*" if row.get("shared") else str(row["rank"])


def _signatories(event: Event) -> list[dict]:
    return [
        {"name": s.get("name") or "", "title": s.get("title") or "", "nip": s.get("nip") or ""}
        for s in settings_for(event).signatories or []
    ]


def _common(event: Event, published: PublishedResult, title: str) -> dict:
    return {
        "doc_title": title,
        "font_url": FONT_URL,
        "event_title": event.title,
        "organiser": event.organiser,
        "year": event.year,
        "version": published.version,
        "digest": published.digest,
        "published_date": long_date(published.created_at, event.timezone),
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
                    "rank": _rank_text(e),
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
        **_common(event, published, f"Berita Acara Penilaian — {event.title}"),
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
        "signatories": _signatories(event),
    }


# --- draft decree (SK) ----------------------------------------------------------------------


def decree_context(event: Event, published: PublishedResult) -> dict:
    snapshot = published.snapshot
    settings = settings_for(event)
    signatories = _signatories(event)
    signer = (
        signatories[-1] if signatories else {"name": "", "title": "", "nip": ""}
    )  # the highest official signs last
    office = signer["title"] or f"Kepala {event.organiser}"
    subject = f"Penetapan Pemenang {event.title}"
    if str(event.year) not in event.title:
        subject += f" Tahun {event.year}"
    return {
        **_common(event, published, f"Draf SK Penetapan Pemenang — {event.title}"),
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


# --- rapor pembinaan ------------------------------------------------------------------------


@dataclass(frozen=True)
class AspectDef:
    stage_id: int
    stage: str
    name: str
    criteria: tuple  # CriterionRow, rubric order
    lo: float  # the scale shown: the criteria's own range when they share one, else 0–100
    hi: float

    def shown(self, norm: float) -> float:
        return self.lo + (self.hi - self.lo) * norm / 100

    def width(self, norm: float) -> float:
        """Bar length (% of the track) of a score on the shown scale."""
        if self.lo >= 0 and self.hi > 0:
            return round(max(0.0, min(100.0, self.shown(norm) / self.hi * 100)), 1)
        return round(norm, 1)


def _aspects(data: EventData) -> list[AspectDef]:
    stage_name = {s.id: s.name for s in data.stages}
    grouped: dict[tuple[int, str], list] = {}
    for c in data.criteria:
        grouped.setdefault((c.stage_id, c.aspect), []).append(c)
    out = []
    for (stage_id, name), criteria in grouped.items():
        ranges = {(c.min, c.max) for c in criteria}
        lo, hi = ranges.pop() if len(ranges) == 1 else (0.0, 100.0)
        out.append(AspectDef(stage_id, stage_name[stage_id], name, tuple(criteria), lo, hi))
    return out


def _criterion_means(data: EventData) -> dict[int, dict[int, float]]:
    """{entry id: {criterion id: mean of the raw values on its final sheets}}."""
    collected: dict[int, dict[int, list[float]]] = {}
    for sheet in data.sheets:
        if sheet.status != "final" or sheet.id is None:
            continue
        per_entry = collected.setdefault(sheet.entry_id, {})
        for cid, value in data.values.get(sheet.id, {}).items():
            per_entry.setdefault(cid, []).append(value)
    return {
        entry: {cid: statistics.fmean(vs) for cid, vs in per.items()}
        for entry, per in collected.items()
    }


def _aspect_norm(aspect: AspectDef, means: dict[int, float]) -> float | None:
    """Weighted mean of the aspect's criteria on 0–100, over the criteria with a value."""
    total = weight = 0.0
    for c in aspect.criteria:
        if c.id in means:
            total += c.weight * 100 * (means[c.id] - c.min) / (c.max - c.min)
            weight += c.weight
    return total / weight if weight else None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def rapor_contexts(
    event: Event, published: PublishedResult, entry_ids: set[int] | None = None
) -> list[dict]:
    """One rapor context per accepted, ranked entry (or only those in ``entry_ids``), in
    ranking order per category. A fixed number of queries whatever the number of entries."""
    snapshot = published.snapshot
    data = result_queries.load_event_data(event)
    comments = queries.final_comments(event.id)
    aspects = _aspects(data)
    criteria = {c.id: c for c in data.criteria}
    stage_of = {s.id: s for s in data.stages}
    means = _criterion_means(data)
    entries = {e.code: e for e in data.entries}
    norms = {e.id: [_aspect_norm(a, means.get(e.id, {})) for a in aspects] for e in data.entries}
    by_category: dict[int, list[int]] = {}
    for e in data.entries:
        by_category.setdefault(e.category_id, []).append(e.id)
    medians = {
        cat: [
            _median([n for eid in ids if (n := norms[eid][i]) is not None])
            for i in range(len(aspects))
        ]
        for cat, ids in by_category.items()
    }
    criterion_medians = {
        cat: {
            cid: _median([means[eid][cid] for eid in ids if cid in means.get(eid, {})])
            for cid in criteria
        }
        for cat, ids in by_category.items()
    }
    sheets_of: dict[int, list] = {}
    for sheet in data.sheets:
        if sheet.status == "final" and sheet.id is not None:
            sheets_of.setdefault(sheet.entry_id, []).append(sheet)
    comments_of: dict[int, list[tuple[int, str]]] = {}
    for sheet_id, cid, text in comments:
        comments_of.setdefault(sheet_id, []).append((cid, text))
    stage_names = {s["key"]: s["name"] for s in snapshot.get("stages", [])}
    several_stages = len(data.stages) > 1

    out = []
    for category in snapshot["categories"]:
        ranked = category["entries"]
        for row in ranked:
            entry = entries.get(row["code"])
            if entry is None or (entry_ids is not None and entry.id not in entry_ids):
                continue
            own = norms[entry.id]
            field = medians[entry.category_id]
            aspect_rows = []
            for i, aspect in enumerate(aspects):
                score, median = own[i], field[i]
                a_below = (
                    score is not None and median is not None and round(score, 2) < round(median, 2)
                )
                aspect_rows.append(
                    {
                        "stage": aspect.stage,
                        "name": aspect.name,
                        "label": f"{aspect.name} (tahap {aspect.stage})"
                        if several_stages
                        else aspect.name,
                        "score": decimal(aspect.shown(score), 1) if score is not None else "—",
                        "median": decimal(aspect.shown(median), 1) if median is not None else "—",
                        "scale": number(aspect.hi),
                        "width": aspect.width(score) if score is not None else 0,
                        "median_width": aspect.width(median) if median is not None else 0,
                        "below": a_below,
                        "_gap": (median - score)
                        if score is not None and median is not None
                        else 0.0,
                        "_aspect": aspect,
                    }
                )
            own_means = means.get(entry.id, {})
            cat_medians = criterion_medians[entry.category_id]
            criterion_rows = [
                {
                    "stage": stage_of[c.stage_id].name,
                    "aspect": c.aspect,
                    "name": c.name,
                    "score": decimal(own_means.get(c.id), 1) if c.id in own_means else "—",
                    "median": decimal(cat_medians.get(c.id), 1)
                    if cat_medians.get(c.id) is not None
                    else "—",
                    "scale": f"{number(c.min)}–{number(c.max)}",
                    "below": c.id in own_means
                    and cat_medians.get(c.id) is not None
                    and round(own_means[c.id], 2) < round(cat_medians[c.id], 2),
                }
                for c in data.criteria
            ]
            out.append(
                {
                    **_common(event, published, f"Rapor Pembinaan {row['kim']} — {event.title}"),
                    "code": entry.code,
                    "kim": row["kim"],  # as published
                    "village": row.get("village") or "",
                    "district": row["district"],
                    "category": category["name"],
                    "rank": _rank_text(row),
                    "field_size": len(ranked),
                    "total": decimal(row["total"]),
                    "award": row.get("award") or "",
                    "band": row.get("band") or "",
                    "stages": [
                        {"name": stage_names.get(key, key), "score": decimal(value)}
                        for key, value in row.get("stages", {}).items()
                    ],
                    "aspects": [
                        {k: v for k, v in a.items() if not k.startswith("_")} for a in aspect_rows
                    ],
                    "criteria": criterion_rows,
                    "comments": _comments(
                        sheets_of.get(entry.id, []), comments_of, criteria, stage_of
                    ),
                    "improvements": _improvements(aspect_rows, own_means, several_stages),
                }
            )
    return out


def _comments(sheets, comments_of, criteria, stage_of) -> list[dict]:
    """The comments on an entry's final sheets, grouped by judge, each judge numbered
    ("Juri 1", "Juri 2"…) and never named: blind judging."""
    judge_ids = sorted({s.judge_id for s in sheets})
    number_of = {judge: i + 1 for i, judge in enumerate(judge_ids)}
    grouped: dict[int, list[dict]] = {}
    ordered = sorted(sheets, key=lambda s: (stage_of[s.stage_id].position, s.judge_id))
    for sheet in ordered:
        for cid, text in comments_of.get(sheet.id, []):
            c = criteria.get(cid)
            if c is None or not text.strip():
                continue
            grouped.setdefault(sheet.judge_id, []).append(
                {"stage": stage_of[sheet.stage_id].name, "criterion": c.name, "text": text.strip()}
            )
    return [
        {"judge": f"Juri {number_of[j]}", "notes": grouped[j]} for j in judge_ids if j in grouped
    ]


def _improvements(aspect_rows: list[dict], own_means: dict, several_stages: bool) -> list[str]:
    below = sorted((a for a in aspect_rows if a["below"]), key=lambda a: -a["_gap"])
    lines = []
    for a in below[:IMPROVEMENTS]:
        aspect: AspectDef = a["_aspect"]
        name = f"{aspect.name} (tahap {aspect.stage})" if several_stages else aspect.name
        text = (
            f"Aspek {name}: {a['score']} dari {a['scale']}, di bawah median peserta {a['median']}."
        )
        scored = [c for c in aspect.criteria if c.id in own_means]
        if len(scored) > 1:
            weakest = min(scored, key=lambda c: (own_means[c.id] - c.min) / (c.max - c.min))
            text += (
                f" Kriteria terendah: {weakest.name} ({decimal(own_means[weakest.id], 1)} "
                f"dari {number(weakest.max)})."
            )
        lines.append(text)
    return lines


# --- entry points -----------------------------------------------------------------------------


def entry_codes(event_id: int) -> dict[str, int]:
    """{entry code: entry id} of the event's entries (one query)."""
    return dict(
        db.session.execute(select(Entry.code, Entry.id).where(Entry.event_id == event_id)).all()
    )


def berita_acara_pdf(event: Event, published: PublishedResult) -> bytes:
    return render_pdf("documents/berita_acara.html", berita_acara_context(event, published))


def decree_pdf(event: Event, published: PublishedResult) -> bytes:
    return render_pdf("documents/sk_draft.html", decree_context(event, published))


def rapor_pdf(event: Event, published: PublishedResult, entry_id: int) -> bytes | None:
    contexts = rapor_contexts(event, published, {entry_id})
    return render_pdf("documents/rapor.html", contexts[0]) if contexts else None


def all_rapor_pdf(event: Event, published: PublishedResult) -> bytes | None:
    contexts = rapor_contexts(event, published)
    if not contexts:
        return None
    # One WeasyPrint document per rapor (each numbers its own pages), pages joined in order.
    return render_merged_pdf("documents/rapor.html", contexts)


def filename(kind: str, event: Event, code: str | None = None) -> str:
    parts = [kind, event.slug] + ([code] if code else [])
    raw = "-".join(parts)
    return "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in raw).strip("-") + ".pdf"
