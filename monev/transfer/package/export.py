"""Export: an event as a ``monev-event/1`` document, the same text for the same data."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from monev.auth.models import User
from monev.core.documents import (
    iso_utc,
    json_number,
)
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from monev.judging.models import Assignment, EventJudge, Score, ScoreSheet
from monev.regions.models import District
from monev.rubrics.models import Criterion
from monev.transfer.package.plan import FORMAT
from monev.transfer.rubric.export import (
    rubric_items,
)


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
                "kind": s.kind,
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
