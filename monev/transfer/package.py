"""The event package: a whole event as one JSON document, format ``monev-event/1``.

Export writes the event's settings, stages, categories, rubric, entries (with their KIMs),
judges, assignments and scores, deterministically (same data, same text), so that
export -> import into an empty database -> export gives the same document.

Import checks the whole document first and collects every problem with its JSON path
(``$.rubric[1].criteria[0].step``), using the rubric rules of ``monev.rubrics.validation``;
only a document without problems is written, in the caller's transaction (services flush,
the caller commits or rolls back). The format is described in ``docs/event-format.md``.

The package composes several domains (events, rubrics, directory, entries, judging), so it
sits above them and imports from each; nothing imports it but the CLI and its views.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from monev.audit import services as audit
from monev.auth.models import User
from monev.core.documents import (
    DocumentError,
    Reader,
    check_unique,
    iso_utc,
    json_number,
    parse_json,
)
from monev.core.timeutil import utcnow
from monev.core.timezones import ZONES
from monev.directory.models import Kim
from monev.entries.models import NOMINATION_STATUSES, Entry
from monev.events.models import AGGREGATIONS, DEFAULT_LADDER, STATUSES, Category, Event, Stage
from monev.events.services import KEY_RE, SLUG_RE
from monev.extensions import db
from monev.judging.models import Assignment, EventJudge, Score, ScoreSheet
from monev.regions import queries as regions
from monev.regions.models import District
from monev.rubrics.messages import describe
from monev.rubrics.models import Criterion
from monev.rubrics.validation import criterion_problems, tie_break_problems
from monev.transfer.rubric import (
    SUM_RULES,
    AspectRow,
    CriterionRow,
    StageRef,
    check_rubric,
    read_rubric,
    rubric_items,
    write_rubric,
)

FORMAT = "monev-event/1"
TOP_REQUIRED = ("format", "event")
TOP_OPTIONAL = (
    "stages",
    "categories",
    "rubric",
    "entries",
    "judges",
    "assignments",
    "scores",
)
EVENT_REQUIRED = ("slug", "title", "year")
EVENT_OPTIONAL = (
    "organiser",
    "description",
    "status",
    "timezone",
    "aggregation",
    "normalize_judges",
    "tie_breaks",
)
STAGE_OPTIONAL = ("position", "opens_at", "closes_at", "judges_per_entry")
CATEGORY_OPTIONAL = ("award_ladder", "score_bands")
KIM_FIELDS = (
    "kecamatan",
    "village",
    "village_kind",
    "sk_number",
    "sk_date",
    "chair_name",
    "members_count",
    "website",
)
ENTRY_OPTIONAL = ("nomination_status", *KIM_FIELDS)
JUDGE_OPTIONAL = ("institution", "home_district")
SCORE_OPTIONAL = ("comment", "final")
# Published results are a frozen snapshot made by publishing; an import cannot carry one.
IMPORTABLE_STATUSES = tuple(s for s in STATUSES if s not in ("published", "archived"))
DEFAULT_ORGANISER = "Diskominfo"


# --- export -------------------------------------------------------------------------------


def _judge_keys(users: list[User]) -> dict[int, str]:
    """A short key per judge: the local part of the e-mail, or the whole address where two
    judges share it. Depends only on the addresses, so it is the same in every export."""
    local = {u.id: u.email.partition("@")[0] for u in users}
    taken = Counter(local.values())
    return {u.id: local[u.id] if taken[local[u.id]] == 1 else u.email for u in users}


def export_event(event: Event) -> dict:
    stages = sorted(event.stages, key=lambda s: (s.position, s.id))
    stage_keys = {s.id: s.key for s in stages}
    rubric = rubric_items(event)
    criterion_order = {
        c["key"]: i for i, c in enumerate(c for item in rubric for c in item["criteria"])
    }
    entries = list(
        db.session.scalars(
            select(Entry)
            .where(Entry.event_id == event.id)
            .options(
                joinedload(Entry.kim).joinedload(Kim.district),
                joinedload(Entry.kim).joinedload(Kim.kecamatan),
                joinedload(Entry.kim).joinedload(Kim.village),
                joinedload(Entry.category),
            )
            .order_by(Entry.code)
        ).unique()
    )
    entry_codes = {e.id: e.code for e in entries}
    panel = list(
        db.session.scalars(
            select(EventJudge)
            .where(EventJudge.event_id == event.id)
            .options(joinedload(EventJudge.user))
        )
    )
    assignments = list(
        db.session.scalars(
            select(Assignment)
            .where(Assignment.stage_id.in_(list(stage_keys)))
            .options(joinedload(Assignment.judge))
        )
    )
    users = {j.user.id: j.user for j in panel} | {a.judge.id: a.judge for a in assignments}
    home = {j.user_id: j.home_district_id for j in panel}
    home_ids = [i for i in home.values() if i]
    districts = dict(
        db.session.execute(select(District.id, District.code).where(District.id.in_(home_ids)))
        .tuples()
        .all()
    )
    judge_keys = _judge_keys(list(users.values()))
    criteria = dict(
        db.session.execute(
            select(Criterion.id, Criterion.key).where(Criterion.event_id == event.id)
        ).all()
    )
    score_rows = db.session.execute(
        select(Score, ScoreSheet.status, Assignment.entry_id, Assignment.judge_id)
        .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .where(Assignment.stage_id.in_(list(stage_keys)))
    ).all()
    stage_position = {s.key: i for i, s in enumerate(stages)}

    scores = [
        {
            "entry": entry_codes[entry_id],
            "judge": judge_keys[judge_id],
            "criterion": criteria[score.criterion_id],
            "value": json_number(score.value),
            "comment": score.comment,
            "final": status == "final",
        }
        for score, status, entry_id, judge_id in score_rows
    ]
    scores.sort(key=lambda s: (s["entry"], s["judge"], criterion_order.get(s["criterion"], 0)))
    assignment_items = sorted(
        (
            {
                "stage": stage_keys[a.stage_id],
                "entry": entry_codes[a.entry_id],
                "judge": judge_keys[a.judge_id],
            }
            for a in assignments
        ),
        key=lambda a: (stage_position[a["stage"]], a["entry"], a["judge"]),
    )
    return {
        "format": FORMAT,
        "event": {
            "slug": event.slug,
            "title": event.title,
            "year": event.year,
            "organiser": event.organiser,
            "description": event.description,
            "status": event.status,
            "timezone": event.timezone,
            "aggregation": event.aggregation,
            "normalize_judges": event.normalize_judges,
            "tie_breaks": list(event.tie_breaks or []),
        },
        "stages": [
            {
                "key": s.key,
                "name": s.name,
                "weight": json_number(s.weight),
                "position": s.position,
                "opens_at": iso_utc(s.opens_at),
                "closes_at": iso_utc(s.closes_at),
                "judges_per_entry": s.judges_per_entry,
            }
            for s in stages
        ],
        "categories": [
            {
                "key": c.key,
                "name": c.name,
                "award_ladder": list(c.award_ladder or []),
                "score_bands": [
                    {"min": json_number(Decimal(str(b["min"]))), "label": b["label"]}
                    for b in c.score_bands or []
                ],
            }
            for c in sorted(event.categories, key=lambda c: (c.position, c.id))
        ],
        "rubric": rubric,
        "entries": [_entry_item(e) for e in entries],
        "judges": sorted(
            (
                {
                    "key": judge_keys[u.id],
                    "name": u.name,
                    "email": u.email,
                    "institution": u.institution,
                    "home_district": districts.get(home.get(u.id)),
                }
                for u in users.values()
            ),
            key=lambda j: j["email"],
        ),
        "assignments": assignment_items,
        "scores": scores,
    }


def _entry_item(entry: Entry) -> dict:
    kim = entry.kim
    return {
        "key": entry.code,
        "kim": kim.name,
        "district": kim.district.code,
        "category": entry.category.key,
        "nomination_status": entry.nomination_status,
        "kecamatan": kim.kecamatan.name if kim.kecamatan else None,
        "village": kim.village.name if kim.village else None,
        "village_kind": kim.village.kind if kim.village else None,
        "sk_number": kim.sk_number,
        "sk_date": kim.sk_date.isoformat() if kim.sk_date else None,
        "chair_name": kim.chair_name,
        "members_count": kim.members_count,
        "website": kim.website,
    }


# --- import: reading and checking ---------------------------------------------------------


@dataclass
class _StageIn:
    path: str
    key: str | None
    name: str | None
    weight: Decimal | None
    position: int
    opens_at: datetime | None
    closes_at: datetime | None
    judges_per_entry: int


@dataclass
class _CategoryIn:
    key: str | None
    name: str | None
    award_ladder: list[str]
    score_bands: list[dict]


@dataclass
class _EntryIn:
    path: str
    key: str | None
    kim_name: str | None
    district: District | None
    category: str | None
    nomination_status: str
    profile: dict
    kim: Kim | None = None  # an existing KIM it reuses


@dataclass
class _JudgeIn:
    key: str | None
    name: str | None
    email: str | None
    institution: str | None
    home_district: District | None
    user: User | None = None  # an existing account it reuses


@dataclass
class _ScoreIn:
    path: str
    entry: str
    judge: str
    criterion: CriterionRow
    stage: str
    value: Decimal | None
    comment: str | None
    final: bool


@dataclass
class _Plan:
    reader: Reader = field(default_factory=Reader)
    event: dict = field(default_factory=dict)
    stages: list[_StageIn] = field(default_factory=list)
    categories: list[_CategoryIn] = field(default_factory=list)
    aspects: list[AspectRow] = field(default_factory=list)
    entries: list[_EntryIn] = field(default_factory=list)
    judges: list[_JudgeIn] = field(default_factory=list)
    assignments: set[tuple[str, str, str]] = field(default_factory=set)  # stage, entry, judge
    scores: list[_ScoreIn] = field(default_factory=list)


def parse(data: bytes | str):
    """The uploaded bytes as a document (``DocumentError`` when they are not JSON)."""
    return parse_json(data)


def check(document) -> _Plan:
    """Read and check a package; writes nothing. ``plan.reader.problems`` lists what is wrong."""
    plan = _Plan()
    r = plan.reader
    doc = r.object(document, "$", required=TOP_REQUIRED, optional=TOP_OPTIONAL)
    if doc is None:
        return plan
    if "format" in doc and doc["format"] != FORMAT:
        r.problem("$.format", _('Expected "%(format)s".', format=FORMAT))
    if "event" in doc:
        _read_event(plan, doc["event"])
    _read_stages(plan, doc)
    _read_categories(plan, doc)
    stage_keys = {s.key for s in plan.stages if s.key}
    plan.aspects = read_rubric(r, r.items(doc, "rubric", "$"), stage_keys)
    _read_entries(plan, doc)
    _read_judges(plan, doc)
    _read_assignments(plan, doc)
    _read_scores(plan, doc)
    _check_rules(plan)
    return plan


def _read_event(plan: _Plan, value) -> None:
    r, path = plan.reader, "$.event"
    ev = r.object(value, path, required=EVENT_REQUIRED, optional=EVENT_OPTIONAL)
    if ev is None:
        return
    slug = r.text(ev, "slug", path, max_len=80)
    if slug is not None and not SLUG_RE.match(slug):
        r.problem(
            f"{path}.slug",
            _("Use lower-case letters, digits and dashes only, e.g. monev-kim-kaltim-2025."),
        )
    elif slug is not None and db.session.scalar(select(Event.id).where(Event.slug == slug)):
        r.problem(f"{path}.slug", _("Another event already uses this address."))
    if ev.get("status") in ("published", "archived"):
        r.problem(
            f"{path}.status",
            _(
                'A published event cannot be imported: import it with the status "results" '
                "and publish it again."
            ),
        )
        status = None
    else:
        status = r.choice(ev, "status", path, IMPORTABLE_STATUSES, default="draft")
    plan.event = {
        "slug": slug,
        "title": r.text(ev, "title", path, max_len=200),
        "year": r.integer(ev, "year", path, low=2000, high=2100),
        "organiser": r.text(ev, "organiser", path, max_len=200, default=DEFAULT_ORGANISER),
        "description": r.text(ev, "description", path, max_len=10000, nullable=True),
        "status": status,
        "timezone": r.choice(ev, "timezone", path, tuple(ZONES), default="Asia/Makassar"),
        "aggregation": r.choice(ev, "aggregation", path, AGGREGATIONS, default="mean"),
        "normalize_judges": r.boolean(ev, "normalize_judges", path),
        "tie_breaks": r.text_list(ev, "tie_breaks", path, max_len=80) or [],
    }


def _read_key(r: Reader, obj: dict, path: str, max_len: int = 40) -> str | None:
    key = r.text(obj, "key", path, max_len=max_len)
    if key is not None and not KEY_RE.match(key):
        r.problem(
            f"{path}.key",
            _("Use a short code of lower-case letters, digits, - or _ (e.g. presentasi)."),
        )
        return None
    return key


def _read_stages(plan: _Plan, doc: dict) -> None:
    r = plan.reader
    for index, (path, value) in enumerate(r.items(doc, "stages", "$")):
        obj = r.object(value, path, required=("key", "name", "weight"), optional=STAGE_OPTIONAL)
        if obj is None:
            continue
        weight = r.number(obj, "weight", path)
        if weight is not None and not Decimal(0) <= weight <= Decimal(100):
            r.problem(f"{path}.weight", _("A stage weight lies between 0 and 100."))
            weight = None
        stage = _StageIn(
            path=path,
            key=_read_key(r, obj, path),
            name=r.text(obj, "name", path, max_len=120),
            weight=weight,
            position=r.integer(obj, "position", path, low=0, high=1000, default=index) or 0,
            opens_at=r.timestamp(obj, "opens_at", path),
            closes_at=r.timestamp(obj, "closes_at", path),
            judges_per_entry=r.integer(obj, "judges_per_entry", path, low=1, high=50, default=3)
            or 3,
        )
        if stage.opens_at and stage.closes_at and stage.closes_at <= stage.opens_at:
            r.problem(f"{path}.closes_at", _("The stage must close after it opens."))
        plan.stages.append(stage)
    check_unique(
        r,
        [(f"{s.path}.key", s.key) for s in plan.stages],
        lambda *_a: _("Another stage already uses this code."),
    )
    check_unique(
        r,
        [(f"{s.path}.name", s.name.lower() if s.name else None) for s in plan.stages],
        lambda *_a: _("Another stage already has this name."),
    )


def _read_categories(plan: _Plan, doc: dict) -> None:
    r = plan.reader
    paths = []
    for path, value in r.items(doc, "categories", "$"):
        obj = r.object(value, path, required=("key", "name"), optional=CATEGORY_OPTIONAL)
        if obj is None:
            continue
        ladder = r.text_list(obj, "award_ladder", path, max_len=80)
        bands = []
        for b_path, b_value in r.items(obj, "score_bands", path):
            band = r.object(b_value, b_path, required=("min", "label"))
            if band is None:
                continue
            low = r.number(band, "min", b_path)
            if low is not None and not Decimal(0) <= low <= Decimal(100):
                r.problem(
                    f"{b_path}.min", _("Use a number from %(low)d to %(high)d.", low=0, high=100)
                )
                low = None
            label = r.text(band, "label", b_path, max_len=80)
            if low is not None and label is not None:
                bands.append({"min": float(low), "label": label})
        category = _CategoryIn(
            key=_read_key(r, obj, path),
            name=r.text(obj, "name", path, max_len=120),
            award_ladder=ladder if ladder else list(DEFAULT_LADDER),
            score_bands=sorted(bands, key=lambda b: -b["min"]),
        )
        paths.append(path)
        plan.categories.append(category)
    check_unique(
        r,
        [(f"{p}.key", c.key) for p, c in zip(paths, plan.categories, strict=True)],
        lambda *_a: _("Another category already uses this code."),
    )
    check_unique(
        r,
        [
            (f"{p}.name", c.name.lower() if c.name else None)
            for p, c in zip(paths, plan.categories, strict=True)
        ],
        lambda *_a: _("Another category already has this name."),
    )


def _district(cache: dict, value: str) -> District | None:
    if value not in cache:
        cache[value] = regions.district_by_code_or_name(value)
    return cache[value]


def _read_entries(plan: _Plan, doc: dict) -> None:
    r = plan.reader
    categories = {c.key for c in plan.categories if c.key}
    districts: dict[str, District | None] = {}
    for path, value in r.items(doc, "entries", "$"):
        obj = r.object(
            value, path, required=("key", "kim", "district", "category"), optional=ENTRY_OPTIONAL
        )
        if obj is None:
            continue
        district = None
        district_text = r.text(obj, "district", path, max_len=80)
        if district_text is not None:
            district = _district(districts, district_text)
            if district is None:
                r.problem(
                    f"{path}.district",
                    _("No kabupaten/kota has the code or name %(value)s.", value=district_text),
                )
        category = r.text(obj, "category", path, max_len=40)
        if category is not None and category not in categories:
            r.problem(f"{path}.category", _("No category has the code %(key)s.", key=category))
        kecamatan = r.text(obj, "kecamatan", path, max_len=80, nullable=True)
        village = r.text(obj, "village", path, max_len=80, nullable=True)
        if village and not kecamatan:
            r.problem(f"{path}.kecamatan", _("Give the kecamatan of the desa/kelurahan."))
        profile = {
            "kecamatan": kecamatan,
            "village": village,
            "village_kind": r.choice(obj, "village_kind", path, ("desa", "kelurahan"))
            if obj.get("village_kind") is not None
            else "desa",
            "sk_number": r.text(obj, "sk_number", path, max_len=120, nullable=True),
            "sk_date": r.day(obj, "sk_date", path),
            "chair_name": r.text(obj, "chair_name", path, max_len=120, nullable=True),
            "members_count": r.integer(obj, "members_count", path, low=0, high=100_000)
            if obj.get("members_count") is not None
            else None,
            "website": r.text(obj, "website", path, max_len=300, nullable=True),
        }
        plan.entries.append(
            _EntryIn(
                path=path,
                key=r.text(obj, "key", path, max_len=20),
                kim_name=r.text(obj, "kim", path, max_len=120),
                district=district,
                category=category,
                nomination_status=r.choice(
                    obj, "nomination_status", path, NOMINATION_STATUSES, default="accepted"
                )
                or "accepted",
                profile=profile,
            )
        )
    check_unique(
        r,
        [(f"{e.path}.key", e.key) for e in plan.entries],
        lambda *_a: _("Another entry already uses this code."),
    )
    check_unique(
        r,
        [
            (f"{e.path}.kim", (e.district.id, e.kim_name.lower()))
            for e in plan.entries
            if e.district and e.kim_name
        ],
        lambda _value, other: _("The entry at %(other)s already names this KIM.", other=other),
    )
    _match_kims(plan.entries)


def _match_kims(entries: list[_EntryIn]) -> None:
    """Reuse the KIM of the district with the entry's KIM name (any case): one query."""
    district_ids = {e.district.id for e in entries if e.district}
    if not district_ids:
        return
    existing = {
        (k.district_id, k.name.lower()): k
        for k in db.session.scalars(select(Kim).where(Kim.district_id.in_(district_ids)))
    }
    for e in entries:
        if e.district and e.kim_name:
            e.kim = existing.get((e.district.id, e.kim_name.lower()))


def _read_judges(plan: _Plan, doc: dict) -> None:
    r = plan.reader
    districts: dict[str, District | None] = {}
    paths = []
    for path, value in r.items(doc, "judges", "$"):
        obj = r.object(value, path, required=("key", "name", "email"), optional=JUDGE_OPTIONAL)
        if obj is None:
            continue
        home = None
        home_text = r.text(obj, "home_district", path, max_len=80, nullable=True)
        if home_text is not None:
            home = _district(districts, home_text)
            if home is None:
                r.problem(
                    f"{path}.home_district",
                    _("No kabupaten/kota has the code or name %(value)s.", value=home_text),
                )
        paths.append(path)
        plan.judges.append(
            _JudgeIn(
                key=r.text(obj, "key", path, max_len=254),
                name=r.text(obj, "name", path, max_len=120),
                email=r.email(obj, "email", path),
                institution=r.text(obj, "institution", path, max_len=160, nullable=True),
                home_district=home,
            )
        )
    pairs = list(zip(paths, plan.judges, strict=True))
    check_unique(
        r,
        [(f"{p}.key", j.key) for p, j in pairs],
        lambda *_a: _("Another judge already uses this key."),
    )
    check_unique(
        r,
        [(f"{p}.email", j.email) for p, j in pairs],
        lambda *_a: _("Another judge already has this e-mail address."),
    )
    emails = [j.email for j in plan.judges if j.email]
    users = (
        {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
        if emails
        else {}
    )
    for p, j in pairs:
        user = users.get(j.email)
        if user is None:
            continue
        if user.role != "judge":
            r.problem(
                f"{p}.email",
                _(
                    "This e-mail address belongs to an account that is not a judge (%(role)s).",
                    role=user.role,
                ),
            )
        j.user = user


def _ref(r: Reader, obj: dict, key: str, path: str, known, message) -> str | None:
    value = r.text(obj, key, path, max_len=254)
    if value is not None and value not in known:
        r.problem(f"{path}.{key}", message(value))
        return None
    return value


def _read_assignments(plan: _Plan, doc: dict) -> None:
    r = plan.reader
    stages = {s.key for s in plan.stages if s.key}
    entries = {e.key for e in plan.entries if e.key}
    judges = {j.key for j in plan.judges if j.key}
    seen: list[tuple[str, tuple]] = []
    for path, value in r.items(doc, "assignments", "$"):
        obj = r.object(value, path, required=("stage", "entry", "judge"))
        if obj is None:
            continue
        stage = _ref(
            r, obj, "stage", path, stages, lambda v: _("No stage has the code %(key)s.", key=v)
        )
        entry = _ref(
            r, obj, "entry", path, entries, lambda v: _("No entry has the code %(key)s.", key=v)
        )
        judge = _ref(
            r, obj, "judge", path, judges, lambda v: _("No judge has the key %(key)s.", key=v)
        )
        if stage and entry and judge:
            seen.append((path, (stage, entry, judge)))
            plan.assignments.add((stage, entry, judge))
    check_unique(r, seen, lambda *_a: _("This assignment is listed twice."))


def _read_scores(plan: _Plan, doc: dict) -> None:
    r = plan.reader
    entries = {e.key for e in plan.entries if e.key}
    judges = {j.key for j in plan.judges if j.key}
    criteria = {c.key: (a.stage, c) for a in plan.aspects for c in a.criteria if c.key and a.stage}
    seen: list[tuple[str, tuple]] = []
    unreadable = False
    for path, value in r.items(doc, "scores", "$"):
        obj = r.object(
            value, path, required=("entry", "judge", "criterion", "value"), optional=SCORE_OPTIONAL
        )
        if obj is None:
            unreadable = True
            continue
        entry = _ref(
            r, obj, "entry", path, entries, lambda v: _("No entry has the code %(key)s.", key=v)
        )
        judge = _ref(
            r, obj, "judge", path, judges, lambda v: _("No judge has the key %(key)s.", key=v)
        )
        key = _ref(
            r,
            obj,
            "criterion",
            path,
            criteria,
            lambda v: _("No criterion has the code %(key)s.", key=v),
        )
        score_value = r.number(obj, "value", path, nullable=True)
        final = r.boolean(obj, "final", path)
        comment = r.text(obj, "comment", path, max_len=5000, nullable=True)
        if obj.get("value", 0) is None and final:
            r.problem(f"{path}.value", _("A final score needs a value."))
        if not (entry and judge and key):
            unreadable = True
            continue
        stage, criterion = criteria[key]
        # Values are checked against a sound criterion only; its own problems are reported.
        usable = criterion.complete and not criterion_problems(criterion.spec(""))
        if score_value is not None and usable:
            _check_value(r, f"{path}.value", score_value, criterion)
        seen.append((path, (entry, judge, key)))
        plan.scores.append(
            _ScoreIn(path, entry, judge, criterion, stage, score_value, comment, final)
        )
    check_unique(r, seen, lambda *_a: _("This score is listed twice."))
    if not unreadable:  # a sheet missing an unreadable score would be reported twice
        _check_final_sheets(plan)


def _check_value(r: Reader, path: str, value: Decimal, c: CriterionRow) -> None:
    from monev.rubrics.validation import fmt

    if not c.min_score <= value <= c.max_score:
        r.problem(
            path,
            _(
                "The score %(value)s lies outside the range %(min)s–%(max)s.",
                value=fmt(value),
                min=fmt(c.min_score),
                max=fmt(c.max_score),
            ),
        )
    elif (value - c.min_score) % c.step != 0:
        r.problem(
            path,
            _(
                "The score %(value)s is not on the steps of %(step)s from %(min)s.",
                value=fmt(value),
                step=fmt(c.step),
                min=fmt(c.min_score),
            ),
        )


def _check_final_sheets(plan: _Plan) -> None:
    """A sheet whose scores are all final must score every criterion of its stage."""
    stage_criteria: dict[str, list[str]] = {}
    for a in plan.aspects:
        for c in a.criteria:
            if a.stage and c.key:
                stage_criteria.setdefault(a.stage, []).append(c.key)
    sheets: dict[tuple, list[_ScoreIn]] = {}
    for s in plan.scores:
        sheets.setdefault((s.stage, s.entry, s.judge), []).append(s)
    for (stage, _entry, _judge), scores in sheets.items():
        if not all(s.final for s in scores):
            continue
        scored = {s.criterion.key for s in scores if s.value is not None}
        missing = [k for k in stage_criteria.get(stage, []) if k not in scored]
        if missing:
            plan.reader.problem(
                scores[0].path,
                _(
                    "A final sheet scores every criterion of its stage; missing: %(keys)s.",
                    keys=", ".join(missing),
                ),
            )


def _check_rules(plan: _Plan) -> None:
    """The rubric and tie-break rules of ``monev.rubrics.validation``, on document paths."""
    r = plan.reader
    status = plan.event.get("status") or "draft"
    # A rubric may be unfinished while the event is being set up, as in the builder; it must
    # be complete once KIMs submit (see events.services.readiness_problems) or scores exist.
    complete = (
        STATUSES.index(status) >= STATUSES.index("submission")
        or bool(plan.scores)
        or bool(plan.assignments)
    )
    refs = [StageRef(s.key, s.name or s.key, s.weight, s.path) for s in plan.stages if s.key]
    check_rubric(
        r,
        plan.aspects,
        refs,
        stages_path="$.stages",
        skip=() if complete else SUM_RULES,
    )
    rules = plan.event.get("tie_breaks") or []
    stage_keys = {s.key for s in plan.stages if s.key}
    criterion_keys = {c.key for a in plan.aspects for c in a.criteria if c.key}
    for problem in tie_break_problems(rules, stage_keys, criterion_keys):
        r.problem(f"$.event.{problem.path}", describe(problem))


# --- import: writing ----------------------------------------------------------------------


def import_package(document) -> Event:
    """Create the event of a checked package; ``DocumentError`` lists every problem."""
    plan = check(document)
    if plan.reader.problems:
        raise DocumentError(sorted(plan.reader.problems, key=_document_order))
    return _write(plan)


def _document_order(problem) -> tuple:
    """Problems in the order of the document: by section, then by list positions (a stable
    sort keeps the reading order within one place)."""
    head = problem.path.split(".")[1] if "." in problem.path else ""
    section = head.split("[")[0]
    rank = TOP_REQUIRED.index(section) if section in TOP_REQUIRED else 0
    if section in TOP_OPTIONAL:
        rank = len(TOP_REQUIRED) + TOP_OPTIONAL.index(section)
    return (rank, [int(n) for n in re.findall(r"\[(\d+)\]", problem.path)])


def _write(plan: _Plan) -> Event:
    event = Event(**plan.event)
    db.session.add(event)
    db.session.flush()
    stages = {}
    for s in plan.stages:
        stages[s.key] = Stage(
            event=event,
            key=s.key,
            name=s.name,
            weight=s.weight,
            position=s.position,
            opens_at=s.opens_at,
            closes_at=s.closes_at,
            judges_per_entry=s.judges_per_entry,
        )
        db.session.add(stages[s.key])
    categories = {}
    for position, c in enumerate(plan.categories):
        categories[c.key] = Category(
            event=event,
            key=c.key,
            name=c.name,
            position=position,
            award_ladder=c.award_ladder,
            score_bands=c.score_bands,
        )
        db.session.add(categories[c.key])
    db.session.flush()
    criteria_count = write_rubric(event, stages, plan.aspects)
    criteria = {
        c.key: c
        for c in db.session.scalars(select(Criterion).where(Criterion.event_id == event.id))
    }

    kims_created = []
    entries = {}
    for e in plan.entries:
        kim = e.kim or _new_kim(e)
        if e.kim is None:
            kims_created.append(kim.name)
        entries[e.key] = Entry(
            event=event,
            kim=kim,
            category=categories[e.category],
            code=e.key,
            nomination_status=e.nomination_status,
            decided_at=utcnow() if e.nomination_status != "nominated" else None,
        )
        db.session.add(entries[e.key])

    accounts_created = []
    judges = {}
    for j in plan.judges:
        user = j.user
        if user is None:
            user = User(
                email=j.email, name=j.name, role="judge", institution=j.institution, active=True
            )
            db.session.add(user)
            accounts_created.append(j.email)
        judges[j.key] = user
        db.session.add(
            EventJudge(
                event=event,
                user=user,
                home_district_id=j.home_district.id if j.home_district else None,
            )
        )
    db.session.flush()

    wanted = set(plan.assignments) | {(s.stage, s.entry, s.judge) for s in plan.scores}
    assignments = {}
    for stage, entry, judge in sorted(wanted):
        assignments[(stage, entry, judge)] = Assignment(
            stage=stages[stage], entry=entries[entry], judge=judges[judge]
        )
        db.session.add(assignments[(stage, entry, judge)])
    sheets: dict[tuple, list[_ScoreIn]] = {}
    for s in plan.scores:
        sheets.setdefault((s.stage, s.entry, s.judge), []).append(s)
    now = utcnow()
    for marker, scores in sheets.items():
        final = all(s.final for s in scores)
        sheet = ScoreSheet(
            assignment=assignments[marker],
            status="final" if final else "draft",
            finalised_at=now if final else None,
        )
        for s in scores:
            sheet.scores.append(
                Score(criterion=criteria[s.criterion.key], value=s.value, comment=s.comment)
            )
        db.session.add(sheet)
    db.session.flush()
    audit.record(
        "event.imported",
        "event",
        event.id,
        {
            "slug": event.slug,
            "title": event.title,
            "status": event.status,
            "stages": len(stages),
            "categories": len(categories),
            "criteria": criteria_count,
            "entries": len(entries),
            "kims_created": kims_created,
            "judges": len(judges),
            "accounts_created": accounts_created,
            "assignments": len(assignments),
            "score_sheets": len(sheets),
            "scores": len(plan.scores),
        },
    )
    return event


def _new_kim(e: _EntryIn) -> Kim:
    p = e.profile
    kim = Kim(
        name=e.kim_name,
        district_id=e.district.id,
        sk_number=p["sk_number"],
        sk_date=p["sk_date"],
        chair_name=p["chair_name"],
        members_count=p["members_count"],
        website=p["website"],
        social_links=[],
    )
    if p["kecamatan"]:
        kim.kecamatan = regions.get_or_create_kecamatan(e.district.id, p["kecamatan"])
        if p["village"]:
            kim.village = regions.get_or_create_village(
                kim.kecamatan, p["village_kind"] or "desa", p["village"]
            )
    kim.refresh_search_text()
    db.session.add(kim)
    # A later entry of the same district may not name it again (checked); flushed for its id.
    db.session.flush()
    return kim


def events_for_transfer() -> list[tuple[Event, int]]:
    """Every event with its number of criteria, newest first (one query)."""
    rows = db.session.execute(
        select(Event, func.count(Criterion.id))
        .outerjoin(Criterion, Criterion.event_id == Event.id)
        .group_by(Event.id)
        .order_by(Event.year.desc(), Event.title)
    ).all()
    return [(event, count) for event, count in rows]
