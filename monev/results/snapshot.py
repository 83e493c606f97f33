"""Frozen snapshots of results: :func:`build_snapshot` turns computed results into plain
JSON, everything the public page, the API and the documents need (ranking, totals, awards,
per-stage totals, agreement figures, the rubric and the digest of every score), so they
never recompute; :func:`snapshot_changes` says what changed between two of them and
:func:`open_data` is the open-data document of one."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from monev.core.errors import ServiceError
from monev.entries.standing import NOT_SELECTED
from monev.events.models import DEFAULT_LADDER
from monev.results.computing import Computed, data_digest, finalists_first
from monev.results.models import PublishedResult
from monev.scoring import (
    COMPARE_DECIMALS,
    FairnessReport,
)

SNAPSHOT_FORMAT = "monev-results/1"
#: Agreement keys of the open data, from the Shrout & Fleiss forms of the scoring core.
AGREEMENT_KEYS = {
    "icc1": "ICC(1,1)",
    "icc2": "ICC(2,1)",
    "icc3": "ICC(3,1)",
    "icc1k": "ICC(1,k)",
    "icc2k": "ICC(2,k)",
    "icc3k": "ICC(3,k)",
}


# --- snapshot -----------------------------------------------------------------------------


def _r(value: float | None, digits: int = COMPARE_DECIMALS) -> float | None:
    """Round for storage: totals are compared (and ranked) at 4 decimals."""
    return None if value is None else round(float(value), digits)


def agreement(fairness: FairnessReport | None, stage_key: str) -> dict:
    """``{icc1, icc2, icc3, icc1k, icc2k, icc3k, krippendorff_alpha}``; None where the design
    of the panels does not allow a figure (ICCs need one full panel on every entry)."""
    figures = fairness.stages.get(stage_key) if fairness else None
    out = {
        key: _r(figures.icc.get(form)) if figures else None for key, form in AGREEMENT_KEYS.items()
    }
    out["krippendorff_alpha"] = _r(figures.alpha) if figures else None
    return out


def build_snapshot(computed: Computed) -> dict:
    """Everything published about the event's results, as JSON-safe plain data."""
    if computed.results is None:
        raise ServiceError(computed.problem or _("The results cannot be computed."), status=409)
    data, results = computed.data, computed.results
    event = data.event
    entries = {e.id: e for e in data.entries}
    digest, scores = data_digest(data)
    stage_figures = computed.fairness.stages if computed.fairness else {}
    stages = []
    for s in data.stages:
        figures = stage_figures.get(s.key)
        stages.append(
            {
                "key": s.key,
                "name": s.name,
                "weight": float(s.weight),
                "agreement": agreement(computed.fairness, s.key),
                "entries": figures.entries if figures else 0,
                "judges": figures.judges if figures else 0,
                "sheets": figures.sheets if figures else 0,
            }
        )
    rubric = [
        {
            "stage": s.key,
            "criteria": [
                {
                    "key": c.key,
                    "name": c.name,
                    "aspect": c.aspect,
                    "weight": c.weight,
                    "min": c.min,
                    "max": c.max,
                }
                for c in data.criteria
                if c.stage_id == s.id
            ],
        }
        for s in data.stages
    ]
    stage_of = {s.id: s for s in data.stages}
    left_out = {
        e.id: stage_of.get(e.standing_stage_id) for e in data.entries if e.standing == NOT_SELECTED
    }
    categories = []
    for category in data.categories:
        result = results.categories.get(category.id)
        rows = []
        for row in finalists_first(result.rows if result else (), left_out):
            entry = entries[row.entry]
            rows.append(
                {
                    "code": entry.code,
                    "kim": entry.kim,
                    "district_code": entry.district_code,
                    "district": entry.district,
                    "village": entry.village,
                    "rank": row.rank,
                    "shared": row.shared,
                    "award": row.award,
                    "band": row.band,
                    "total": _r(row.total),
                    "incomplete": row.incomplete,
                    "stages": {k: _r(v.score) for k, v in row.stages.items()},
                }
            )
            if row.entry in left_out:  # only then: earlier snapshots stay equal to new ones
                stage = left_out[row.entry]
                rows[-1]["not_selected"] = {
                    "stage": stage.key if stage else None,
                    "stage_name": stage.name if stage else None,
                }
        categories.append(
            {
                "key": category.key,
                "name": category.name,
                "award_ladder": list(category.award_ladder or DEFAULT_LADDER),
                "bands": list(category.score_bands or []),
                "entries": rows,
            }
        )
    category_key = {c.id: c.key for c in data.categories}
    special_awards = [
        {
            "title": a.title,
            "code": entries[a.entry_id].code,
            "kim": entries[a.entry_id].kim,
            "district": entries[a.entry_id].district,
            "category": category_key[entries[a.entry_id].category_id],
            "justification": a.justification,
        }
        for a in data.special_awards
    ]
    stage_of = {s.id: s for s in data.stages}
    # Sheets the organiser dropped, with the judge and the reason: the Berita Acara states
    # them; the public page says only that a judge's sheet was dropped (blind judging). Absent
    # when there are none, so a version published before drops existed compares equal.
    dropped_sheets = [
        {
            "stage": stage_of[d.stage_id].key,
            "stage_name": stage_of[d.stage_id].name,
            "code": entries[d.entry_id].code,
            "kim": entries[d.entry_id].kim,
            "judge": data.judges.get(d.judge_id, ""),
            "reason": d.reason,
        }
        for d in data.drops
    ]
    return {
        "format": SNAPSHOT_FORMAT,
        "event": {
            "slug": event.slug,
            "title": event.title,
            "year": event.year,
            "organiser": event.organiser,
        },
        "method": {
            "aggregation": event.aggregation,
            "normalize_judges": bool(event.normalize_judges),
            "tie_breaks": list(event.tie_breaks or []),
            "compare_decimals": COMPARE_DECIMALS,
        },
        "stages": stages,
        "rubric": rubric,
        "categories": categories,
        "special_awards": special_awards,
        **({"dropped_sheets": dropped_sheets} if dropped_sheets else {}),
        "scores": scores,
        "final_sheets": sum(1 for s in data.sheets if s.status == "final"),
        "digest": digest,
    }


@dataclass(frozen=True)
class Change:
    """One difference between two published versions. ``field``: "added", "removed",
    "rank", "award", "band" or "total" (of entry ``code`` in ``category``); "scores" when the
    score digest differs; "method" when the scoring method or rubric differs;
    "special_award" when a special award was given (``new``), withdrawn (``old``) or changed
    (both)."""

    field: str
    category: str | None = None
    code: str | None = None
    kim: str | None = None
    old: object = None
    new: object = None


def snapshot_changes(old: dict, new: dict) -> list[Change]:
    """What changed from snapshot ``old`` to ``new`` (entries matched by category and code)."""
    changes: list[Change] = []
    if old.get("digest") != new.get("digest"):
        changes.append(Change("scores", old=old.get("scores"), new=new.get("scores")))
    if old.get("method") != new.get("method") or old.get("rubric") != new.get("rubric"):
        changes.append(Change("method"))
    before = {
        (c["key"], e["code"]): (c["name"], e) for c in old["categories"] for e in c["entries"]
    }
    after = {(c["key"], e["code"]): (c["name"], e) for c in new["categories"] for e in c["entries"]}
    awards_before = {a["title"]: a for a in old.get("special_awards", [])}
    awards_after = {a["title"]: a for a in new.get("special_awards", [])}
    for title in sorted(set(awards_before) | set(awards_after)):
        o, n = awards_before.get(title), awards_after.get(title)
        if o != n:
            changes.append(
                Change(
                    "special_award",
                    code=(n or o)["code"],
                    kim=(n or o)["kim"],
                    old=o and o["title"],
                    new=n and n["title"],
                )
            )
    for key in sorted(set(before) | set(after)):
        if key not in after:
            name, e = before[key]
            changes.append(Change("removed", name, e["code"], e["kim"]))
            continue
        name, e = after[key]
        if key not in before:
            changes.append(Change("added", name, e["code"], e["kim"], new=e["rank"]))
            continue
        _name, o = before[key]
        for field in ("rank", "award", "band", "total"):
            if o.get(field) != e.get(field):
                changes.append(Change(field, name, e["code"], e["kim"], o.get(field), e[field]))
    return changes


# --- open data ----------------------------------------------------------------------------


def open_data(snapshot: dict, published: PublishedResult | None = None, history=()) -> dict:
    """The open-data document of a snapshot (``/api/v1/events/<slug>/results``; the CLI
    prints the same for live results, with ``version`` None)."""
    return {
        "event": dict(snapshot["event"]),
        "published": published is not None,
        "version": published.version if published else None,
        "published_at": iso_time(published.created_at) if published else None,
        "reason": published.reason if published else None,
        "digest": snapshot["digest"],
        "scores": snapshot["scores"],
        "method": dict(snapshot["method"]),
        "stages": [
            {"key": s["key"], "name": s["name"], "weight": s["weight"], "agreement": s["agreement"]}
            for s in snapshot["stages"]
        ],
        "categories": [
            {
                "key": c["key"],
                "name": c["name"],
                "entries": [
                    {
                        "rank": e["rank"],
                        "shared": e["shared"],
                        "award": e["award"],
                        "band": e["band"],
                        "code": e["code"],
                        "kim": e["kim"],
                        "district_code": e["district_code"],
                        "district": e["district"],
                        "total": e["total"],
                        "incomplete": e["incomplete"],
                        "stage_totals": dict(e["stages"]),
                    }
                    for e in c["entries"]
                ],
            }
            for c in snapshot["categories"]
        ],
        "special_awards": [
            {k: a[k] for k in ("title", "code", "kim", "district", "category", "justification")}
            for a in snapshot.get("special_awards", [])
        ],
        "versions": [
            {
                "version": v.version,
                "published_at": iso_time(v.created_at),
                "reason": v.reason,
                "digest": v.digest,
            }
            for v in history
        ],
    }


def iso_time(moment) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"
