"""Set-based reads for the documents: a fixed number of queries per event, whatever the
number of entries, judges or comments (STYLE.md item 8)."""

from __future__ import annotations

from sqlalchemy import or_, select

from monev.auth.models import User
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, EventJudge, Score, ScoreSheet
from monev.results.models import PublishedResult


def judges(event_id: int) -> list[tuple[str, str | None]]:
    """(name, institution) of the event's judges, by name: the panel and anyone assigned."""
    assigned = (
        select(Assignment.judge_id)
        .join(Stage, Stage.id == Assignment.stage_id)
        .where(Stage.event_id == event_id)
    )
    panel = select(EventJudge.user_id).where(EventJudge.event_id == event_id)
    return list(
        db.session.execute(
            select(User.name, User.institution)
            .where(or_(User.id.in_(panel), User.id.in_(assigned)))
            .order_by(User.name, User.id)
        ).tuples()
    )


def final_comments(event_id: int) -> list[tuple[int, int, str]]:
    """(sheet id, criterion id, comment) of every non-empty comment on a final sheet."""
    return list(
        db.session.execute(
            select(Score.sheet_id, Score.criterion_id, Score.comment)
            .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .join(Stage, Stage.id == Assignment.stage_id)
            .where(
                Stage.event_id == event_id,
                ScoreSheet.status == "final",
                Score.comment.is_not(None),
                Score.comment != "",
            )
            .order_by(Score.sheet_id, Score.criterion_id)
        ).tuples()
    )


def published_entries_of_kim(kim_id: int | None) -> list[tuple[str, str, int]]:
    """(event slug, event title, year) of the KIM's accepted entries in events with published
    results, newest first (one query)."""
    if not kim_id:
        return []
    return list(
        db.session.execute(
            select(Event.slug, Event.title, Event.year)
            .join(Entry, Entry.event_id == Event.id)
            .where(
                Entry.kim_id == kim_id,
                Entry.nomination_status == "accepted",
                select(PublishedResult.id).where(PublishedResult.event_id == Event.id).exists(),
            )
            .order_by(Event.year.desc(), Event.id.desc())
        ).tuples()
    )
