"""The development report (*rapor pembinaan*), one per entry: its scores per aspect and
criterion against the median of its category, the judges' comments (numbered, never named:
blind judging) and what to improve. From the latest published snapshot plus the values and
comments of the final sheets, read for the whole event in a fixed number of queries."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from monev.certificates.settings import settings_for
from monev.core.templating import number
from monev.documents import queries
from monev.documents.formatting import common_context, decimal, rank_text
from monev.events.models import Event
from monev.results import queries as result_queries
from monev.results.models import PublishedResult
from monev.results.queries import EventData

IMPROVEMENTS = 5  # at most this many "Yang perlu ditingkatkan" lines


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
    # Who signs a rapor (the last signatory, as monev.documents.signed signs it), and where.
    settings = settings_for(event)
    named = [s for s in settings.signatories or [] if s.get("name")]
    signer = (
        {
            "name": named[-1]["name"],
            "title": named[-1].get("title") or "",
            "nip": named[-1].get("nip") or "",
        }
        if named
        else None
    )
    place = settings.place or ""
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
                    **common_context(
                        event, published, f"Rapor Pembinaan {row['kim']} — {event.title}"
                    ),
                    "code": entry.code,
                    "kim": row["kim"],  # as published
                    "village": row.get("village") or "",
                    "district": row["district"],
                    "category": category["name"],
                    "rank": rank_text(row),
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
                    "signer": signer,
                    "place": place,
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
