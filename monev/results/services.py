"""Results: the scoring core applied to an event's data, frozen snapshots, publication.

* :func:`compute` reads the event with a fixed number of queries (``queries.py``), builds
  the scoring core's inputs and returns the ranking and the fairness report.
* :func:`build_snapshot` turns that into plain JSON: everything the public page, the API
  and the documents need (ranking, totals, awards, per-stage totals, agreement figures, the
  rubric and the digest of every score), so they never recompute.
* :func:`publish` stores a snapshot as a new :class:`PublishedResult` version: the first
  moves the event to "published"; each later one is a correction (*ralat*) that needs a
  reason and keeps the versions before it. :func:`snapshot_changes` says what changed.
* :func:`scores_digest` is the SHA-256 that proves which scores a version was made from.

Services flush; the request (or the CLI command) commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from flask import has_request_context
from flask_babel import gettext as _
from flask_login import current_user

from monev.audit import services as audit
from monev.core.errors import ServiceError
from monev.entries.models import Entry
from monev.events.models import DEFAULT_LADDER, Event
from monev.extensions import db
from monev.results import queries
from monev.results.models import PublishedResult, SpecialAward
from monev.results.queries import EventData
from monev.scoring import (
    COMPARE_DECIMALS,
    CategoryDef,
    CriterionDef,
    EntryDef,
    EventDef,
    EventResults,
    FairnessReport,
    ScoringInputError,
    SheetInput,
    StageDef,
    compute_fairness,
    compute_results,
    prepare,
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
PUBLISHABLE = ("results", "published")


@dataclass
class Computed:
    """An event's live results. ``problem`` (translated) says why they could not be
    computed; then ``results`` and ``fairness`` are None."""

    data: EventData
    results: EventResults | None
    fairness: FairnessReport | None
    problem: str | None = None

    @property
    def event(self) -> Event:
        return self.data.event


# --- computing ----------------------------------------------------------------------------


def engine_inputs(data: EventData) -> tuple[EventDef, list[EntryDef], list[SheetInput]]:
    """The scoring core's inputs. Keys: stage and criterion codes, entry, judge (user) and
    category ids. Only final sheets carry values; drafts and missing sheets are left out."""
    event = data.event
    by_stage: dict[int, list] = {s.id: [] for s in data.stages}
    for c in data.criteria:
        by_stage.setdefault(c.stage_id, []).append(
            CriterionDef(c.key, c.aspect, c.weight, c.min, c.max)
        )
    stages = [StageDef(s.key, float(s.weight), by_stage[s.id]) for s in data.stages]
    categories = [
        CategoryDef(c.id, c.award_ladder or DEFAULT_LADDER, c.score_bands or ())
        for c in data.categories
    ]
    definition = EventDef(
        stages,
        aggregation=event.aggregation,
        normalize_judges=event.normalize_judges,
        tie_breaks=list(event.tie_breaks or ()),
        categories=categories,
    )
    entries = [EntryDef(e.id, e.category_id) for e in data.entries]
    key_of = {c.id: c.key for c in data.criteria}
    stage_key = {s.id: s.key for s in data.stages}
    values = data.values
    sheets = [
        SheetInput(
            s.entry_id,
            s.judge_id,
            stage_key[s.stage_id],
            True,
            {key_of[cid]: v for cid, v in values.get(s.id, {}).items()},
        )
        for s in data.sheets
        if s.status == "final"
    ]
    return definition, entries, sheets


def compute(event: Event, *, fairness: bool = True) -> Computed:
    """The event's live ranking and fairness figures (admins only: never shown publicly)."""
    data = queries.load_event_data(event)
    return compute_from(data, fairness=fairness)


def compute_from(data: EventData, *, fairness: bool = True) -> Computed:
    try:
        prepared = prepare(*engine_inputs(data))
    except ScoringInputError as error:
        return Computed(data, None, None, _scoring_problem(data, error))
    results = compute_results(prepared)
    report = compute_fairness(prepared) if fairness else None
    return Computed(data, results, report)


def _scoring_problem(data: EventData, error: ScoringInputError) -> str:
    if not data.stages:
        return _("The event has no stages yet.")
    if any(not any(c.stage_id == s.id for c in data.criteria) for s in data.stages):
        return _("Every stage needs criteria before results can be computed.")
    return _("The scores cannot be ranked: %(problem)s", problem=str(error))


def unfinished_sheets(data: EventData) -> int:
    """Assignments of accepted entries whose sheet is not final (draft or not started)."""
    return sum(1 for s in data.sheets if s.status != "final")


# --- digest -------------------------------------------------------------------------------


def digest_lines(data: EventData) -> list[str]:
    """One line per score on a final sheet, ``stage<TAB>entry code<TAB>judge id<TAB>
    criterion<TAB>value`` (the value with two decimals), sorted by code point."""
    entry_code = {e.id: e.code for e in data.entries}
    stage_key = {s.id: s.key for s in data.stages}
    key_of = {c.id: c.key for c in data.criteria}
    lines = []
    for sheet in data.sheets:
        if sheet.status != "final":
            continue
        prefix = f"{stage_key[sheet.stage_id]}\t{entry_code[sheet.entry_id]}\t{sheet.judge_id}\t"
        for cid, value in data.values.get(sheet.id, {}).items():
            lines.append(f"{prefix}{key_of[cid]}\t{value:.2f}")
    lines.sort()
    return lines


def scores_digest(lines: Iterable[str]) -> str:
    """SHA-256 (hex) of the digest lines, each ended by a newline, in UTF-8."""
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()


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
    lines = digest_lines(data)
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
    categories = []
    for category in data.categories:
        result = results.categories.get(category.id)
        rows = []
        for row in result.rows if result else ():
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
        "scores": len(lines),
        "final_sheets": sum(1 for s in data.sheets if s.status == "final"),
        "digest": scores_digest(lines),
    }


# --- publication --------------------------------------------------------------------------


def publish(event: Event, *, reason: str | None = None, actor=None) -> PublishedResult:
    """Freeze the event's current results as a new published version.

    The first version moves the event from "results" to "published". Every later version is
    a correction (*ralat*): it needs a reason and must differ from the version before it.
    Refused while any assigned sheet is not final.
    """
    if event.status not in PUBLISHABLE:
        raise ServiceError(
            _("Results can be published once the event is in the Results phase."), status=409
        )
    reason = (reason or "").strip() or None
    previous = queries.latest(event.id)
    if previous is not None and not reason:
        raise ServiceError(
            _("A correction (ralat) needs a reason: say what was wrong and what changed."),
            field="reason",
        )
    if reason and len(reason) > 2000:
        raise ServiceError(_("Use at most %(max)d characters.", max=2000), field="reason")
    computed = compute(event)
    if computed.results is None:
        raise ServiceError(computed.problem, status=409)
    missing = unfinished_sheets(computed.data)
    if missing:
        raise ServiceError(
            _(
                "Judging is not finished: %(n)d assigned score sheets are not final.",
                n=missing,
            ),
            status=409,
        )
    snapshot = build_snapshot(computed)
    if previous is not None and previous.snapshot == snapshot:
        raise ServiceError(
            _(
                "Nothing has changed since version %(version)d: a correction is published "
                "only when the results or scores differ.",
                version=previous.version,
            ),
            status=409,
        )
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    published = PublishedResult(
        event_id=event.id,
        version=previous.version + 1 if previous else 1,
        created_by_id=getattr(actor, "id", None),
        reason=reason,
        digest=snapshot["digest"],
        snapshot=snapshot,
    )
    db.session.add(published)
    db.session.flush()
    changes = snapshot_changes(previous.snapshot, snapshot) if previous else []
    audit.record(
        "results.published",
        "event",
        event.id,
        {
            "version": published.version,
            "digest": published.digest,
            "reason": reason,
            "changes": len(changes),
        },
        actor=actor,
    )
    if event.status == "results":
        event.status = "published"
        audit.record(
            "event.status_changed",
            "event",
            event.id,
            {"status": ["results", "published"]},
            actor=actor,
        )
    return published


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


# --- special awards -----------------------------------------------------------------------


def add_special_award(event: Event, *, entry_id: int, title: str, justification: str):
    """A special award (e.g. "KIM Terinovatif") for one accepted entry, with the jury's
    justification. It appears in the results from the next publication on."""
    from sqlalchemy import select

    title, justification = (title or "").strip(), (justification or "").strip()
    if not title:
        raise ServiceError(_("Name the award, e.g. KIM Terinovatif."), field="title")
    if not justification:
        raise ServiceError(
            _("Record the jury's justification for this award."), field="justification"
        )
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.event_id != event.id or entry.nomination_status != "accepted":
        raise ServiceError(_("Choose a finalist entry of this event."), field="entry_id")
    taken = db.session.scalar(
        select(SpecialAward.id).where(
            SpecialAward.event_id == event.id, SpecialAward.title == title
        )
    )
    if taken is not None:
        raise ServiceError(_("This event already has an award with this name."), field="title")
    award = SpecialAward(
        event_id=event.id,
        entry_id=entry.id,
        title=title,
        justification=justification,
        created_by_id=current_user.id if _signed_in() else None,
    )
    db.session.add(award)
    db.session.flush()
    audit.record(
        "special_award.added",
        "event",
        event.id,
        {"title": title, "entry": entry.code, "justification": justification},
    )
    return award


def remove_special_award(event: Event, award_id: int) -> None:
    award = db.session.get(SpecialAward, award_id)
    if award is None or award.event_id != event.id:
        raise ServiceError(_("This award does not exist."), status=404)
    audit.record("special_award.removed", "event", event.id, {"title": award.title})
    db.session.delete(award)
    db.session.flush()


def _signed_in() -> bool:
    return has_request_context() and current_user.is_authenticated
