"""Who receives which certificate: the participants (accepted entries), the judges of the
panel and the winners of the published results, as plain :class:`Subject` values."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from monev.auth.models import User
from monev.core.errors import ServiceError
from monev.directory.models import Kim
from monev.entries import standing
from monev.entries.models import Entry
from monev.events.models import Event
from monev.extensions import db
from monev.judging.models import EventJudge
from monev.results.queries import latest


@dataclass(frozen=True)
class Subject:
    kind: str
    subject_key: str
    holder_name: str
    holder_detail: str | None
    award: str | None = None
    category_name: str | None = None
    entry_id: int | None = None
    user_id: int | None = None


def kim_detail(kim: Kim) -> str:
    parts = [kim.village.label] if kim.village is not None else []
    parts.append(kim.district.label)
    return ", ".join(parts)


def _entries(event: Event, *, accepted_only: bool = True) -> list[Entry]:
    query = (
        select(Entry)
        .where(Entry.event_id == event.id)
        .options(
            joinedload(Entry.category),
            joinedload(Entry.kim).joinedload(Kim.village),
            joinedload(Entry.kim).joinedload(Kim.district),
        )
        .order_by(Entry.code)
    )
    if accepted_only:
        query = query.where(standing.taken_part())
    return list(db.session.scalars(query).unique())


def participant_subjects(event: Event) -> list[Subject]:
    return [
        Subject(
            kind="participant",
            subject_key=f"entry:{e.id}",
            holder_name=e.kim.name,
            holder_detail=kim_detail(e.kim),
            category_name=e.category.name,
            entry_id=e.id,
        )
        for e in _entries(event)
    ]


def judge_subjects(event: Event) -> list[Subject]:
    rows = db.session.execute(
        select(User)
        .join(EventJudge, EventJudge.user_id == User.id)
        .where(EventJudge.event_id == event.id)
        .order_by(User.name)
    ).scalars()
    return [
        Subject(
            kind="judge",
            subject_key=f"judge:{u.id}",
            holder_name=u.name,
            holder_detail=u.institution,
            user_id=u.id,
        )
        for u in rows
    ]


def winner_subjects(event: Event) -> list[Subject]:
    """Entries with an award in the latest published results (none before publication)."""

    published = latest(event.id)
    if published is None:
        raise ServiceError(_("Publish the results before issuing winner certificates."))
    by_code = {e.code: e for e in _entries(event, accepted_only=False)}
    subjects = []
    for category in published.snapshot.get("categories", []):
        for row in category.get("entries", []):
            entry = by_code.get(row.get("code"))
            if entry is None or not row.get("award") or row.get("not_selected"):
                continue
            subjects.append(
                Subject(
                    kind="winner",
                    subject_key=f"entry:{entry.id}",
                    holder_name=entry.kim.name,
                    holder_detail=kim_detail(entry.kim),
                    award=row["award"],
                    category_name=category.get("name") or entry.category.name,
                    entry_id=entry.id,
                )
            )
    # Special awards (e.g. "KIM Terinovatif"): a certificate of their own, also for an entry
    # that already has a rank award; one per entry and title.
    for award in published.snapshot.get("special_awards", []):
        entry = by_code.get(award.get("code"))
        if entry is None or not award.get("title"):
            continue
        digest = hashlib.sha256(award["title"].encode("utf-8")).hexdigest()[:12]
        subjects.append(
            Subject(
                kind="winner",
                subject_key=f"special:{entry.id}:{digest}",
                holder_name=entry.kim.name,
                holder_detail=kim_detail(entry.kim),
                award=award["title"],
                category_name=entry.category.name,
                entry_id=entry.id,
            )
        )
    return subjects


SUBJECTS = {"participant": participant_subjects, "judge": judge_subjects, "winner": winner_subjects}
