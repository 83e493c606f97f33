"""Import, writing: a checked plan becomes an event with its rows, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select

from monev.audit import services as audit
from monev.auth.models import User
from monev.core.timeutil import utcnow
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events.models import Category, Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, EventJudge, Score, ScoreSheet
from monev.regions import queries as regions
from monev.rubrics.models import Criterion
from monev.transfer.package.plan import EntryIn, Plan, ScoreIn
from monev.transfer.rubric.document import (
    write_rubric,
)


def write_plan(plan: Plan) -> Event:
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
            kind=s.kind,
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
    sheets: dict[tuple, list[ScoreIn]] = {}
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


def _new_kim(e: EntryIn) -> Kim:
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
