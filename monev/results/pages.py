"""Plain view models for the results templates, built from computed results or from a
published snapshot, so the templates only display (no logic, no queries)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import ngettext

from monev.core.templating import number
from monev.entries.standing import NOT_SELECTED
from monev.results import charts
from monev.results.acknowledgements import message_key
from monev.results.computing import finalists_first
from monev.results.messages import REASONS, agreement_words, describe
from monev.results.queries import EntryRow
from monev.results.services import AGREEMENT_KEYS, Change, Computed
from monev.scoring import RankedRow


@dataclass
class StageCol:
    key: str
    name: str
    weight: float
    aspects: list[str]


@dataclass
class Row:
    ranked: RankedRow
    entry: EntryRow
    scores: list[float | None]  # per stage
    aspects: list[list[float | None]]  # per stage, per aspect (weighted contribution)
    judges: list[list[tuple[str, float]]]  # per stage: (judge name, raw sheet total)
    not_selected_for: str | None = None  # the stage it did not advance to (never ranked)


@dataclass
class CategoryView:
    id: int
    key: str
    name: str
    rows: list[Row]  # the rows of the page shown
    spread: charts.Spread
    total: int = 0  # rows of the whole category
    page: int = 1
    page_count: int = 1
    first: int = 1  # the position of ``rows[0]`` in the category, from 1


PAGE_SIZE = 100  # rows of a category's tables on one page of the admin results
OUTLIERS_SHOWN = 50  # outlying sheets listed per stage: the largest differences


@dataclass
class LeniencyRow:
    judge: str
    sheets: int
    mean_total: float
    compared: int
    leniency: float | None
    bar: charts.Lean | None


@dataclass
class OutlierRow:
    entry_id: int
    code: str
    kim: str
    judge: str
    total: float
    others_mean: float
    deviation: float


@dataclass
class StageFairnessView:
    key: str
    name: str
    entries: int
    judges: int
    sheets: int
    alpha: float | None
    alpha_reason: str | None
    icc: list[tuple[str, str, float | None]]  # (open-data key, form, value)
    icc_reason: str | None
    leniency: list[LeniencyRow]
    outliers: list[OutlierRow]
    histograms: charts.Histograms
    dropped_note: str | None = None  # the organiser dropped sheets of this stage
    alpha_words: str = ""  # what the alpha means, in plain words ("good: …", "below chance: …")
    outliers_more: int = 0  # outlying sheets not listed (a large event: the largest are)


@dataclass
class StabilityRow:
    judge: str
    changes: list[tuple[str, str, str, int | None, int | None, str | None, str | None]]


class Guidance(NamedTuple):
    """One message of the fairness guidance: ``key`` names a warning for its acknowledgement
    (:func:`monev.results.acknowledgements.message_key`)."""

    severity: str
    text: str
    key: str | None = None


@dataclass
class AdminResults:
    stages: list[StageCol]
    categories: list[CategoryView]
    fairness: list[StageFairnessView]
    messages: list[Guidance]
    stability: list[StabilityRow]
    judges: dict[int, str]
    progress: dict[str, int] = field(default_factory=dict)
    drops: list[str] = field(default_factory=list)  # one line per dropped sheet


def _largest(outliers, n: int) -> list:
    """All of ``outliers`` in their order when at most ``n``; else the ``n`` that differ most
    from the other judges, in their order."""
    if len(outliers) <= n:
        return list(outliers)
    keep = set(sorted(range(len(outliers)), key=lambda i: -abs(outliers[i].deviation))[:n])
    return [o for i, o in enumerate(outliers) if i in keep]


def admin_results(
    computed: Computed, pages: dict[str, int] | None = None, page_size: int | None = None
) -> AdminResults:
    """The admin page's view. Each category's tables (ranking, aspects, judges, spread
    chart) show one page of ``page_size`` rows: ``pages`` gives the page by category key
    (1 when absent; a page past the end shows the last)."""
    page_size = page_size or PAGE_SIZE
    data, results, report = computed.data, computed.results, computed.fairness
    judges = data.judges
    entries = {e.id: e for e in data.entries}
    stage_name = {s.key: s.name for s in data.stages}
    stages = []
    for s in data.stages:
        aspects = list(dict.fromkeys(c.aspect for c in data.criteria if c.stage_id == s.id))
        stages.append(StageCol(s.key, s.name, float(s.weight), aspects))

    def judge_name(judge_id) -> str:
        return judges.get(judge_id, _("Judge %(id)s", id=judge_id))

    left_out = not_selected_stages(data)
    categories = []
    for category in data.categories:
        result = results.categories.get(category.id)
        ordered = finalists_first(result.rows if result else (), left_out)
        total = len(ordered)
        page_count = max(1, -(-total // page_size))
        page = min(max(1, (pages or {}).get(category.key, 1)), page_count)
        start = (page - 1) * page_size
        rows = []
        for ranked in ordered[start : start + page_size]:
            per_stage = [ranked.stages[s.key] for s in stages]
            rows.append(
                Row(
                    ranked,
                    entries[ranked.entry],
                    [st.score for st in per_stage],
                    [
                        [st.aspects.get(a) for a in s.aspects]
                        for st, s in zip(per_stage, stages, strict=False)
                    ],
                    [[(judge_name(j.judge), j.raw) for j in st.judges] for st in per_stage],
                    left_out.get(ranked.entry),
                )
            )
        spread = charts.entry_spread(
            [
                (
                    r.entry.code,
                    r.ranked.total,
                    [
                        (score, [t for _n, t in js])
                        for score, js in zip(r.scores, r.judges, strict=False)
                    ],
                )
                for r in rows
            ]
        )
        categories.append(
            CategoryView(
                category.id,
                category.key,
                category.name,
                rows,
                spread,
                total,
                page,
                page_count,
                start + 1,
            )
        )

    stage_id = {s.key: s.id for s in data.stages}
    fairness = []
    for s in stages:
        figures = report.stages.get(s.key) if report else None
        if figures is None:
            continue
        per_judge: dict[int, list[float]] = {}
        for category in categories:
            for row in category.rows:
                for judge in row.ranked.stages[s.key].judges:
                    per_judge.setdefault(judge.judge, []).append(judge.raw)
        fairness.append(
            StageFairnessView(
                key=s.key,
                name=s.name,
                entries=figures.entries,
                judges=figures.judges,
                sheets=figures.sheets,
                alpha=figures.alpha,
                alpha_reason=_reason(REASONS, figures.alpha_unavailable),
                alpha_words=agreement_words(figures.alpha),
                icc=[(k, form, figures.icc.get(form)) for k, form in AGREEMENT_KEYS.items()],
                icc_reason=_reason(REASONS, figures.icc_unavailable),
                leniency=[
                    LeniencyRow(
                        judge_name(j.judge),
                        j.sheets,
                        j.mean_total,
                        j.compared,
                        j.leniency,
                        charts.leniency_bar(j.leniency),
                    )
                    for j in figures.leniency
                ],
                outliers=[
                    OutlierRow(
                        o.entry,
                        entries[o.entry].code,
                        entries[o.entry].kim,
                        judge_name(o.judge),
                        o.total,
                        o.others_mean,
                        o.deviation,
                    )
                    for o in _largest(figures.outliers, OUTLIERS_SHOWN)
                ],
                outliers_more=max(0, len(figures.outliers) - OUTLIERS_SHOWN),
                histograms=charts.judge_histograms(
                    [(judge_name(j), sorted(t)) for j, t in sorted(per_judge.items())]
                ),
                dropped_note=_dropped_note(
                    sum(1 for d in data.drops if d.stage_id == stage_id[s.key]), figures
                ),
            )
        )

    category_name = {c.id: c.name for c in data.categories}
    stability = [
        StabilityRow(
            judge_name(loo.judge),
            [
                (
                    category_name.get(c.category, str(c.category)),
                    entries[c.entry].code,
                    entries[c.entry].kim,
                    c.rank_with,
                    c.rank_without,
                    c.award_with,
                    c.award_without,
                )
                for c in loo.changes
            ],
        )
        for loo in (report.rank_stability if report else ())
    ]
    messages = [
        Guidance(
            m.severity,
            describe(m, lambda key: stage_name.get(key, str(key)), judge_name),
            message_key(m) if m.severity == "warning" else None,
        )
        for m in (report.messages if report else ())
    ]
    progress: dict[str, int] = {}
    for sheet in data.sheets:
        progress[sheet.status] = progress.get(sheet.status, 0) + 1
    return AdminResults(
        stages,
        categories,
        fairness,
        messages,
        stability,
        judges,
        progress,
        drop_lines(data),
    )


def drop_lines(data) -> list[str]:
    """ "Sheet of <judge> for <entry> (<stage>) dropped: <reason>", one per dropped sheet
    (organisers only: the public page never names the judge)."""
    entries = {e.id: e for e in data.entries}
    stage_name = {s.id: s.name for s in data.stages}
    return [
        _(
            "Sheet of %(judge)s for %(entry)s (%(stage)s) dropped: %(reason)s",
            judge=data.judges.get(d.judge_id, d.judge_id),
            entry=f"{entries[d.entry_id].code} {entries[d.entry_id].kim}",
            stage=stage_name[d.stage_id],
            reason=d.reason,
        )
        for d in data.drops
    ]


def _dropped_note(count: int, figures) -> str | None:
    """Why the stage's panel is incomplete, when the organiser dropped sheets of it."""
    if not count:
        return None
    if figures.full_panel:
        return ngettext(
            "%(num)d sheet of this stage was dropped by the organisers; the remaining sheets "
            "still form one full panel, so the intraclass correlations (ICC) are computed "
            "without it.",
            "%(num)d sheets of this stage were dropped by the organisers; the remaining sheets "
            "still form one full panel, so the intraclass correlations (ICC) are computed "
            "without them.",
            count,
        )
    return ngettext(
        "%(num)d sheet of this stage was dropped by the organisers, so its panel is "
        "incomplete: the intraclass correlations (ICC) need every entry scored by the same full "
        "panel and are not computed; Krippendorff's alpha, which allows incomplete panels, is "
        "used.",
        "%(num)d sheets of this stage were dropped by the organisers, so its panel is "
        "incomplete: the intraclass correlations (ICC) need every entry scored by the same full "
        "panel and are not computed; Krippendorff's alpha, which allows incomplete panels, is "
        "used.",
        count,
    )


def not_selected_stages(data) -> dict[int, str]:
    """Entry id -> the name of the stage it was not selected for (a selection between
    stages left it out: listed after the finalists, never ranked)."""
    names = {s.id: s.name for s in data.stages}
    return {
        e.id: names.get(e.standing_stage_id, "—")
        for e in data.entries
        if e.standing == NOT_SELECTED
    }


def _reason(reasons, code: str | None) -> str | None:
    return str(reasons.get(code, code)) if code else None


# --- changes between versions -------------------------------------------------------------


def describe_change(change: Change) -> str:
    """One line of a correction's list of changes, in the user's language."""

    who = f"{change.code} {change.kim}" if change.code else ""
    if change.field == "scores":
        return _("The scores differ (%(old)s → %(new)s scores).", old=change.old, new=change.new)
    if change.field == "method":
        return _("The scoring method or the rubric differs.")
    if change.field == "special_award":
        if change.old is None:
            return _("Special award %(title)s: %(entry)s.", title=change.new, entry=who)
        if change.new is None:
            return _("Special award %(title)s withdrawn.", title=change.old)
        return _("Special award %(title)s changed: %(entry)s.", title=change.new, entry=who)
    if change.field == "added":
        return _("%(category)s: %(entry)s added.", category=change.category, entry=who)
    if change.field == "removed":
        return _("%(category)s: %(entry)s removed.", category=change.category, entry=who)
    labels = {
        "rank": _("rank"),
        "award": _("award"),
        "band": _("band"),
        "total": _("total"),
    }

    def show(value) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            return number(round(value, 2))
        return str(value)

    return _(
        "%(category)s: %(entry)s, %(field)s %(old)s → %(new)s.",
        category=change.category,
        entry=who,
        field=labels[change.field],
        old=show(change.old),
        new=show(change.new),
    )


# --- public pages (from a snapshot) -------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    """Like ``number(round(value, digits))`` (Indonesian style, 83.50 -> "83,5"), fast:
    the public page formats a thousand figures per request."""
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


@dataclass(slots=True)
class PublicRow:
    """One entry of a published category, formatted for display."""

    rank: str
    shared: bool
    kim: str
    village: str | None
    district: str
    district_code: str
    stages: list[str]
    total: str
    award: str | None
    band: str | None
    podium: bool
    not_selected_for: str | None = None  # the stage it did not advance to


@dataclass
class PublicCategory:
    key: str
    name: str
    podium: list[PublicRow]  # ranks 1–3
    rows: list[PublicRow]  # after the district filter
    count: int  # before the filter


@dataclass
class PublicResults:
    stages: list[dict]
    categories: list[PublicCategory]
    all_categories: list[tuple[str, str]]  # (key, name), for the category links
    districts: list[tuple[str, str]]  # (code, name) of every district with an entry
    district: str | None  # the chosen filter, when it names a district
    district_name: str | None
    special_awards: list[dict] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # without judges' names or reasons


def public_results(snapshot: dict, *, category_key: str | None = None) -> PublicResults:
    """The public view of a snapshot, unfiltered (see :func:`for_district`)."""
    districts = sorted(
        {(e["district_code"], e["district"]) for c in snapshot["categories"] for e in c["entries"]}
    )
    stage_keys = [s["key"] for s in snapshot["stages"]]
    categories = []
    for c in snapshot["categories"]:
        if category_key is not None and c["key"] != category_key:
            continue
        rows = [
            PublicRow(
                rank="—" if e["rank"] is None else str(e["rank"]),
                shared=e["shared"] and e["rank"] is not None,
                kim=e["kim"],
                village=e["village"],
                district=e["district"],
                district_code=e["district_code"],
                stages=[fmt(e["stages"].get(k)) for k in stage_keys],
                total=fmt(e["total"]),
                award=e["award"],
                band=e["band"],
                podium=e["rank"] is not None and e["rank"] <= 3,
                not_selected_for=(e.get("not_selected") or {}).get("stage_name"),
            )
            for e in c["entries"]
        ]
        categories.append(
            PublicCategory(c["key"], c["name"], [r for r in rows if r.podium], rows, len(rows))
        )
    return PublicResults(
        stages=[
            dict(
                s, alpha=fmt(s["agreement"]["krippendorff_alpha"], 3), weight_text=fmt(s["weight"])
            )
            for s in snapshot["stages"]
        ],
        categories=categories,
        all_categories=[(c["key"], c["name"]) for c in snapshot["categories"]],
        districts=districts,
        district=None,
        district_name=None,
        special_awards=[
            a
            for a in snapshot.get("special_awards", [])
            if category_key is None or a["category"] == category_key
        ],
        dropped=public_drop_lines(snapshot, category_key),
    )


def public_drop_lines(snapshot: dict, category_key: str | None = None) -> list[str]:
    """That a judge's sheet was dropped, per entry and stage, for everyone: never the
    judge's name (blind judging) nor the reason (an official statement kept for the Berita
    Acara)."""
    category_of = {e["code"]: c["key"] for c in snapshot["categories"] for e in c["entries"]}
    counts: dict[tuple[str, str, str], int] = {}
    for d in snapshot.get("dropped_sheets", []):
        if category_key is not None and category_of.get(d["code"]) != category_key:
            continue
        key = (d["stage_name"], d["code"], d["kim"])
        counts[key] = counts.get(key, 0) + 1
    return [
        ngettext(
            "%(kim)s, stage %(stage)s: %(num)d judge's sheet was dropped by the organisers "
            "and is not counted.",
            "%(kim)s, stage %(stage)s: %(num)d judges' sheets were dropped by the organisers "
            "and are not counted.",
            n,
            kim=kim,
            stage=stage,
        )
        for (stage, _code, kim), n in counts.items()
    ]


def for_district(view: PublicResults, district: str | None) -> PublicResults:
    """The view with only the entries of ``district`` in its tables (the podium stays);
    an unknown code shows everything."""
    names = dict(view.districts)
    if district not in names:
        return view
    return replace(
        view,
        categories=[
            replace(c, rows=[r for r in c.rows if r.district_code == district])
            for c in view.categories
        ],
        district=district,
        district_name=names[district],
    )
