"""A judged event for the results tests: two stages (adm 40 %, pres 60 %), two criteria
each (weights 50/50, range 1–10), one category "desa" (and "kelurahan" with
``categories=2``), entries K-001… of KIMs spread over districts, and every judge's final
sheet for every entry in both stages. Values come from ``value(entry, judge, criterion)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from monev.auth.models import User
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.extensions import db
from monev.judging.models import Assignment, Score, ScoreSheet
from monev.regions.models import District
from tests.factories import DESA_AND_KELURAHAN, CriterionPlan, StagePlan, make_event

DISTRICTS = ("64.04", "64.02", "64.72")
CRITERIA = {"adm": ("a1", "a2"), "pres": ("p1", "p2")}


def default_value(entry: int, judge: int, criterion: int) -> Decimal:
    """A spread of values 1–10 that differ per entry, judge and criterion."""
    return Decimal(1 + (entry * 3 + judge * 2 + criterion * 5 + entry * judge) % 10)


@dataclass(frozen=True)
class JudgedEvent:
    slug: str
    event_id: int
    entry_ids: list[int]
    judge_ids: list[int]
    judge_emails: list[str]


def build(
    app,
    *,
    slug: str = "uji-hasil-2024",
    entries: int = 4,
    judges: int = 3,
    status: str = "results",
    categories: int = 1,
    value=default_value,
    comment: str | None = None,
) -> JudgedEvent:
    with app.app_context():
        built = make_event(
            slug,
            year=2024,
            organiser="Diskominfo Uji",
            stages=[
                StagePlan(
                    key,
                    key.title(),
                    weight,
                    aspect=f"Aspek {key}",
                    criteria=tuple(
                        CriterionPlan(ckey, f"Kriteria {ckey}", 50, 1, 10, "0.5")
                        for ckey in CRITERIA[key]
                    ),
                )
                for key, weight in (("adm", 40), ("pres", 60))
            ],
            categories=DESA_AND_KELURAHAN[:categories],
            status=status,
            aggregation="mean",
            tie_breaks=["stage:pres"],
        )
        event, cats = built.event, list(built.categories.values())
        criteria = {
            key: [built.criteria[ckey] for ckey in CRITERIA[key]] for key in ("adm", "pres")
        }
        districts = {
            d.code: d.id
            for d in db.session.scalars(select(District).where(District.code.in_(DISTRICTS)))
        }
        judge_users = [
            User(
                email=f"juri{j}.{slug}@uji.monev.id",
                name=f"Juri Uji {j}",
                role="judge",
                active=True,
            )
            for j in range(judges)
        ]
        db.session.add_all(judge_users)
        db.session.flush()
        entry_rows = []
        for n in range(entries):
            kim = Kim(
                name=f"KIM Hasil {slug} {n + 1}",
                district_id=districts[DISTRICTS[n % len(DISTRICTS)]],
            )
            kim.refresh_search_text()
            db.session.add(kim)
            db.session.flush()
            entry = Entry(
                event_id=event.id,
                kim_id=kim.id,
                category_id=cats[n % len(cats)].id,
                code=f"K-{n + 1:03d}",
                nomination_status="accepted",
                submission_status="verified",  # judged entries were submitted and verified
            )
            db.session.add(entry)
            entry_rows.append(entry)
        db.session.flush()
        for stage_key, stage_criteria in criteria.items():
            stage_id = stage_criteria[0].stage_id
            for n, entry in enumerate(entry_rows):
                for j, judge in enumerate(judge_users):
                    assignment = Assignment(stage_id=stage_id, entry_id=entry.id, judge_id=judge.id)
                    db.session.add(assignment)
                    db.session.flush()
                    sheet = ScoreSheet(assignment_id=assignment.id, status="final")
                    db.session.add(sheet)
                    db.session.flush()
                    offset = 0 if stage_key == "adm" else 2
                    for i, c in enumerate(stage_criteria):
                        db.session.add(
                            Score(
                                sheet_id=sheet.id,
                                criterion_id=c.id,
                                value=value(n, j, i + offset),
                                comment=comment,
                            )
                        )
        db.session.commit()
        return JudgedEvent(
            slug,
            event.id,
            [e.id for e in entry_rows],
            [u.id for u in judge_users],
            [u.email for u in judge_users],
        )


ACK_NOTE = "Dibahas dewan juri: selisih nilai dapat dijelaskan; hasil dipertahankan."


def acknowledge_all(app, slug: str, note: str = ACK_NOTE) -> int:
    """Acknowledge every open "Check:" of the event's fairness panel for the current scores
    (as the organiser would, one note each), committed; returns how many."""
    from monev.core.database import write_intent
    from monev.events import queries as event_queries
    from monev.results import services

    with app.app_context(), write_intent():
        done = services.acknowledge_all(event_queries.get_by_slug(slug), note, actor=None)
        db.session.commit()
        return done
