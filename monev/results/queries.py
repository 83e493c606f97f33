"""Set-based reads for results: everything the scoring core needs for one event in a fixed
number of queries, whatever the number of entries, judges or scores (STYLE.md item 8).

``load_event_data`` runs 6 queries after the event itself: criteria (with their aspects),
accepted entries (with KIM, district and village), assignments with their sheets, judges'
names, the values of final sheets (one row per score, cast to float in the database) and
special awards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Float, cast, func, select

from monev.auth.models import User
from monev.directory.models import Kim
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Category, Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, Score, ScoreSheet
from monev.regions.models import District, Village
from monev.results.models import Objection, ProvisionalResult, PublishedResult, SpecialAward
from monev.rubrics.models import Aspect, Criterion


@dataclass(frozen=True, slots=True)
class CriterionRow:
    id: int
    key: str
    name: str
    aspect: str
    stage_id: int
    weight: float
    min: float
    max: float


@dataclass(frozen=True, slots=True)
class EntryRow:
    id: int
    code: str
    kim_id: int
    kim: str
    category_id: int
    district_code: str
    district: str
    village: str | None
    standing: str = standing.ACTIVE  # or NOT_SELECTED (only entries that took part are read)
    standing_stage_id: int | None = None  # NOT_SELECTED: the stage it did not advance to

    @property
    def competing(self) -> bool:
        return self.standing == standing.ACTIVE


@dataclass(frozen=True, slots=True)
class SheetRow:
    """An assignment and its sheet: ``status`` is "draft", "final", "missing" (no sheet
    yet, ``id`` None) or "dropped" (not final, dropped by the organiser: not counted)."""

    id: int | None
    entry_id: int
    judge_id: int
    stage_id: int
    status: str


@dataclass(frozen=True, slots=True)
class DropRow:
    """A sheet the organiser dropped (not final, not counted) and why."""

    assignment_id: int
    entry_id: int
    judge_id: int
    stage_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class AwardRow:
    id: int
    entry_id: int
    title: str
    justification: str


@dataclass
class EventData:
    """One event's rubric, entries, judges and sheets as plain rows."""

    event: Event
    stages: list[Stage]
    categories: list[Category]
    criteria: list[CriterionRow]  # rubric order: stage, aspect, criterion
    entries: list[EntryRow]  # accepted entries, by code
    judges: dict[int, str]  # user id -> name
    sheets: list[SheetRow]  # every assignment of an accepted entry, with its sheet's status
    # final sheet id -> {criterion id: value}; a missing value is absent
    values: dict[int, dict[int, float]] = field(default_factory=dict)
    special_awards: list[AwardRow] = field(default_factory=list)
    drops: list[DropRow] = field(default_factory=list)  # by stage position, entry code, judge
    # figures made from the scores alone (the digest), shared by every view of one version
    memo: dict = field(default_factory=dict)

    def stage(self, stage_id: int) -> Stage:
        return next(s for s in self.stages if s.id == stage_id)


def load_event_data(event: Event) -> EventData:
    """Read an event's scoring data; ``event`` has its stages and categories loaded."""
    scored = load_scored(event)
    return EventData(
        event=event,
        stages=list(event.stages),
        categories=list(event.categories),
        criteria=load_criteria(event),
        entries=scored.entries,
        judges=scored.judges,
        sheets=scored.sheets,
        values=scored.values,
        special_awards=load_special_awards(event, {e.id for e in scored.entries}),
        drops=scored.drops,
        memo=scored.memo,
    )


def load_criteria(event: Event) -> list[CriterionRow]:
    """The event's criteria in rubric order (one query)."""
    return [
        CriterionRow(cid, key, name, aspect, stage_id, float(w), float(lo), float(hi))
        for cid, key, name, aspect, stage_id, w, lo, hi in db.session.execute(
            select(
                Criterion.id,
                Criterion.key,
                Criterion.name,
                Aspect.name,
                Criterion.stage_id,
                Criterion.weight,
                Criterion.min_score,
                Criterion.max_score,
            )
            .join(Aspect, Aspect.id == Criterion.aspect_id)
            .join(Stage, Stage.id == Criterion.stage_id)
            .where(Criterion.event_id == event.id)
            .order_by(Stage.position, Aspect.position, Aspect.id, Criterion.position, Criterion.id)
        )
    ]


@dataclass
class Scored:
    """The part of an event's data that grows with its entries and scores."""

    entries: list[EntryRow]
    judges: dict[int, str]
    sheets: list[SheetRow]
    values: dict[int, dict[int, float]]
    drops: list[DropRow]
    memo: dict = field(default_factory=dict)  # see EventData.memo


def load_scored(event: Event) -> Scored:
    """Entries, sheets, judges' names, final values and drops (4 queries)."""
    entries = [
        EntryRow(
            eid,
            code,
            kim_id,
            kim,
            category_id,
            d_code,
            _district_label(kind, d_name),
            vil,
            entry_standing,
            standing_stage_id,
        )
        for (
            eid,
            code,
            kim_id,
            kim,
            category_id,
            d_code,
            kind,
            d_name,
            vil,
            entry_standing,
            standing_stage_id,
        ) in db.session.execute(
            select(
                Entry.id,
                Entry.code,
                Kim.id,
                Kim.name,
                Entry.category_id,
                District.code,
                District.kind,
                District.name,
                Village.name,
                Entry.standing,
                Entry.standing_stage_id,
            )
            .join(Kim, Kim.id == Entry.kim_id)
            .join(District, District.id == Kim.district_id)
            .outerjoin(Village, Village.id == Kim.village_id)
            .where(Entry.event_id == event.id, standing.taken_part())
            .order_by(Entry.code)
        )
    ]
    accepted = {e.id for e in entries}

    sheet_query = (
        select(
            ScoreSheet.id,
            Assignment.entry_id,
            Assignment.judge_id,
            Assignment.stage_id,
            ScoreSheet.status,
            Assignment.id,
            Assignment.drop_reason,
        )
        .select_from(Assignment)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .join(Stage, Stage.id == Assignment.stage_id)
        .where(Stage.event_id == event.id)
    )
    sheets, drops = [], []
    for sheet_id, entry_id, judge_id, stage_id, status, assignment_id, why in db.session.execute(
        sheet_query
    ):
        if entry_id not in accepted:
            continue
        if why is not None and status != "final":  # a drop always has its reason
            status = "dropped"
            drops.append(DropRow(assignment_id, entry_id, judge_id, stage_id, why))
        sheets.append(SheetRow(sheet_id, entry_id, judge_id, stage_id, status or "missing"))

    judges = dict(
        db.session.execute(
            select(User.id, User.name).where(
                User.id.in_(
                    select(Assignment.judge_id)
                    .join(Stage, Stage.id == Assignment.stage_id)
                    .where(Stage.event_id == event.id)
                )
            )
        ).all()
    )

    stage_order = {s.id: (s.position, s.id) for s in event.stages}
    entry_code = {e.id: e.code for e in entries}
    drops.sort(key=lambda d: (stage_order[d.stage_id], entry_code[d.entry_id], d.judge_id))
    return Scored(entries, judges, sheets, final_values(event.id), drops)


def load_special_awards(event: Event, accepted: set[int]) -> list[AwardRow]:
    return [
        AwardRow(*row)
        for row in db.session.execute(
            select(
                SpecialAward.id,
                SpecialAward.entry_id,
                SpecialAward.title,
                SpecialAward.justification,
            )
            .where(SpecialAward.event_id == event.id)
            .order_by(SpecialAward.title)
        )
        if row[1] in accepted
    ]


def entries_taken_part(event_id: int) -> int:
    """How many entries took part (one count): part of the key of cached results."""
    return db.session.scalar(
        select(func.count())
        .select_from(Entry)
        .where(Entry.event_id == event_id, standing.taken_part())
    )


def final_values(event_id: int) -> dict[int, dict[int, float]]:
    """Every value on the event's final sheets, one query: {sheet id: {criterion id: v}}."""
    values: dict[int, dict[int, float]] = {}
    rows = db.session.execute(score_rows_query(event_id)).tuples()
    for sheet_id, criterion_id, value in rows:
        if value is None:
            continue
        found = values.get(sheet_id)
        if found is None:
            found = values[sheet_id] = {}
        found[criterion_id] = value
    return values


def score_rows_query(event_id: int):
    """(sheet id, criterion id, value as float) of every score on a final sheet."""
    return (
        select(Score.sheet_id, Score.criterion_id, cast(Score.value, Float))
        .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .join(Stage, Stage.id == Assignment.stage_id)
        .where(Stage.event_id == event_id, ScoreSheet.status == "final")
    )


def _district_label(kind: str, name: str) -> str:
    return f"{'Kabupaten' if kind == 'kabupaten' else 'Kota'} {name}"  # as District.label


def entry_scores(entry_id: int) -> list[tuple]:
    """Every score of one entry's sheets, draft or final, with its comment (drill-down):
    (sheet id, criterion id, value, comment)."""
    return list(
        db.session.execute(
            select(Score.sheet_id, Score.criterion_id, Score.value, Score.comment)
            .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .where(Assignment.entry_id == entry_id)
        ).tuples()
    )


# --- publications -------------------------------------------------------------------------


def versions(event_id: int) -> list[PublishedResult]:
    """Every published version of the event, newest first, with its publisher and the
    fairness checks it was published with."""
    from sqlalchemy.orm import joinedload, undefer

    return list(
        db.session.scalars(
            select(PublishedResult)
            .where(PublishedResult.event_id == event_id)
            .options(
                joinedload(PublishedResult.created_by),
                undefer(PublishedResult.acknowledgements),
            )
            .order_by(PublishedResult.version.desc())
        )
    )


def version_list(event_id: int) -> list[PublishedResult]:
    """The event's versions newest first, without their snapshots (the public pages)."""
    from sqlalchemy.orm import defer

    return list(
        db.session.scalars(
            select(PublishedResult)
            .where(PublishedResult.event_id == event_id)
            .options(defer(PublishedResult.snapshot))
            .order_by(PublishedResult.version.desc())
        )
    )


def event_by_slug(slug: str) -> Event | None:
    """The event alone (no stages or categories): the public pages read those from the
    snapshot."""
    return db.session.scalar(select(Event).where(Event.slug == slug))


def latest(event_id: int) -> PublishedResult | None:
    return db.session.scalar(
        select(PublishedResult)
        .where(PublishedResult.event_id == event_id)
        .order_by(PublishedResult.version.desc())
        .limit(1)
    )


def version(event_id: int, number: int) -> PublishedResult | None:
    return db.session.scalar(
        select(PublishedResult).where(
            PublishedResult.event_id == event_id, PublishedResult.version == number
        )
    )


def published_events() -> list[tuple[Event, PublishedResult]]:
    """Events with a published result and their latest version (snapshot deferred), newest
    event first (one query)."""
    from sqlalchemy import func
    from sqlalchemy.orm import defer

    newest = (
        select(PublishedResult.event_id, func.max(PublishedResult.version).label("version"))
        .group_by(PublishedResult.event_id)
        .subquery()
    )
    return list(
        db.session.execute(
            select(Event, PublishedResult)
            .options(defer(PublishedResult.snapshot))
            .join(PublishedResult, PublishedResult.event_id == Event.id)
            .join(
                newest,
                (newest.c.event_id == PublishedResult.event_id)
                & (newest.c.version == PublishedResult.version),
            )
            .order_by(Event.year.desc(), Event.title)
        ).tuples()
    )


# --- provisional results and objections ---------------------------------------------------


def latest_provisional(event_id: int) -> ProvisionalResult | None:
    return db.session.scalar(
        select(ProvisionalResult)
        .where(ProvisionalResult.event_id == event_id)
        .order_by(ProvisionalResult.version.desc())
        .limit(1)
    )


def objections(event_id: int, entry_id: int | None = None) -> list[tuple[Objection, str, str]]:
    """Objections of the event (or of one entry), newest first, with entry code and KIM."""
    stmt = (
        select(Objection, Entry.code, Kim.name)
        .join(Entry, Entry.id == Objection.entry_id)
        .join(Kim, Kim.id == Entry.kim_id)
        .where(Objection.event_id == event_id)
        .order_by(Objection.created_at.desc(), Objection.id.desc())
    )
    if entry_id is not None:
        stmt = stmt.where(Objection.entry_id == entry_id)
    return list(db.session.execute(stmt).tuples())


def kim_entry(event_id: int, kim_id: int | None) -> Entry | None:
    """The KIM's accepted entry in the event, if any."""
    if kim_id is None:
        return None
    return db.session.scalar(
        select(Entry).where(
            Entry.event_id == event_id,
            Entry.kim_id == kim_id,
            Entry.nomination_status == "accepted",
        )
    )


def open_objections(event_id: int) -> int:
    """How many objections to the event's provisional results are not decided yet."""
    return db.session.scalar(
        select(func.count()).where(Objection.event_id == event_id, Objection.status == "open")
    )
