"""Who is told what, for each step of the competition: one function per row of the table
(``catalog.KINDS``), called by the service that makes the change, inside its transaction.

Each builds the message's parameters, its link and its once-only key, and finds the people:
the KIM accounts of an entry, the operators of the entry's kabupaten/kota, a judge.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import current_app, has_request_context
from flask import url_for as flask_url_for
from flask_babel import force_locale
from sqlalchemy import select

from monev.auth.models import User
from monev.core.timezones import format_moment
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.notify.services import notify


def when(moment: datetime | None, event: Event) -> str:
    """A moment as every message writes it, on the event's clock: "6 Des 2026, 14.00 WITA"."""
    if moment is None:
        return "-"
    with force_locale("id"):
        return format_moment(moment, event.timezone)


def url_for(endpoint: str, **values) -> str:
    """A path inside the app, also from a job (no request: the app's own test context)."""
    if has_request_context():
        return flask_url_for(endpoint, **values)
    with current_app.test_request_context():
        return flask_url_for(endpoint, **values)


# --- people ---------------------------------------------------------------------------------


def kim_users(entries: Iterable[Entry]) -> dict[int, list[User]]:
    """The active KIM accounts of each entry (by entry id), in one query."""
    entries = list(entries)
    by_kim: dict[int, list[User]] = {}
    kim_ids = {e.kim_id for e in entries}
    if kim_ids:
        for user in db.session.scalars(
            select(User).where(User.role == "kim", User.kim_id.in_(kim_ids), User.active)
        ):
            by_kim.setdefault(user.kim_id, []).append(user)
    return {e.id: by_kim.get(e.kim_id, []) for e in entries}


def district_operators(entry: Entry) -> list[User]:
    district_id = db.session.scalar(select(Kim.district_id).where(Kim.id == entry.kim_id))
    return db.session.scalars(
        select(User).where(User.role == "operator", User.district_id == district_id, User.active)
    ).all()


def _entry_params(entry: Entry) -> dict:
    return {"event": entry.event.title, "entry": entry.code, "kim": entry.kim.name}


# --- KIM --------------------------------------------------------------------------------------


def submission_opened(event: Event, entries: Iterable[Entry], deadline: datetime | None) -> int:
    entries = list(entries)
    people = kim_users(entries)
    made = 0
    for entry in entries:
        made += notify(
            people[entry.id],
            "submission_opened",
            key=f"{entry.id}",
            params={"event": event.title, "deadline": when(deadline, event)},
            event=event,
            link=url_for("workspace.index", slug=event.slug),
        )
    return made


def deadline_reminder(entry: Entry, days: int, deadline: datetime, missing: str) -> int:
    kind = "deadline_h3" if days == 3 else "deadline_h1"
    return notify(
        kim_users([entry])[entry.id],
        kind,
        key=f"{entry.id}:{deadline.isoformat()}",
        params={
            **_entry_params(entry),
            "deadline": when(deadline, entry.event),
            "missing": missing,
        },
        event=entry.event,
        link=url_for("workspace.index", slug=entry.event.slug),
    )


def entry_returned(entry: Entry, note: str, deadline: datetime | None, round_key: str) -> int:
    return notify(
        kim_users([entry])[entry.id],
        "entry_returned",
        key=f"{entry.id}:{round_key}",
        params={**_entry_params(entry), "note": note, "deadline": when(deadline, entry.event)},
        event=entry.event,
        link=url_for("workspace.index", slug=entry.event.slug),
    )


def entry_verified(entry: Entry) -> int:
    return notify(
        kim_users([entry])[entry.id],
        "entry_verified",
        key=f"{entry.id}",
        params=_entry_params(entry),
        event=entry.event,
        link=url_for("workspace.index", slug=entry.event.slug),
    )


def standing_changed(
    entry: Entry, label: str, reason: str | None, change_key: str, *, tell_kim: bool = True
) -> int:
    """The KIM and its district's operators learn a new standing (the public reason only;
    a KIM not selected for the next stage hears it from :func:`selection` instead)."""
    params = {**_entry_params(entry), "standing": label, "reason": reason or ""}
    seq = change_key
    made = notify(
        kim_users([entry])[entry.id] if tell_kim else [],
        "standing_changed",
        key=f"{entry.id}:{seq}",
        params=params,
        event=entry.event,
        link=url_for("workspace.index", slug=entry.event.slug),
    )
    return made + notify(
        district_operators(entry),
        "finalist_standing",
        key=f"{entry.id}:{seq}",
        params=params,
        event=entry.event,
        link=url_for("verification.progress", slug=entry.event.slug),
    )


def selection(entry: Entry, next_stage: Stage, advances: bool) -> int:
    return notify(
        kim_users([entry])[entry.id],
        "stage_selected" if advances else "stage_not_selected",
        key=f"{entry.id}:{next_stage.id}",
        params={**_entry_params(entry), "stage": next_stage.name},
        event=entry.event,
        link=url_for("workspace.index", slug=entry.event.slug),
    )


def schedule_set(entry: Entry, stage: Stage, starts_at: datetime, place: str | None) -> int:
    return notify(
        kim_users([entry])[entry.id],
        "schedule_set",
        key=f"{entry.id}:{stage.id}:{starts_at.isoformat()}",
        params={
            **_entry_params(entry),
            "stage": stage.name,
            "when": when(starts_at, entry.event),
            "place": place or "",
        },
        event=entry.event,
        link=url_for("schedule.mine"),
    )


def visit_set(entry: Entry, stage: Stage, starts_at: datetime, address: str) -> int:
    return notify(
        kim_users([entry])[entry.id],
        "visit_set",
        key=f"{entry.id}:{stage.id}:{starts_at.isoformat()}",
        params={
            **_entry_params(entry),
            "stage": stage.name,
            "when": when(starts_at, entry.event),
            "place": address,
        },
        event=entry.event,
        link=url_for("public.home"),
    )


def provisional_results(event: Event, entries: Iterable[Entry], closes: datetime | None, version):
    entries = list(entries)
    people = kim_users(entries)
    return sum(
        notify(
            people[e.id],
            "provisional_results",
            key=f"{e.id}:{version}",
            params={"event": event.title, "closes": when(closes, event)},
            event=event,
            link=url_for("results_kim.kim_index", slug=event.slug),
        )
        for e in entries
    )


def objection_decided(entry: Entry, objection_id: int, decision: str, note: str) -> int:
    return notify(
        kim_users([entry])[entry.id],
        "objection_decided",
        key=f"{objection_id}",
        params={**_entry_params(entry), "decision": decision, "note": note or ""},
        event=entry.event,
        link=url_for("results_kim.kim_index", slug=entry.event.slug),
    )


def results_published(event: Event, outcomes: dict[int, str], entries: Iterable[Entry], version):
    """Each KIM with its own outcome ("Juara I, nilai 86,40"), each district's operators once
    with their KIMs' outcomes."""
    entries = list(entries)
    people = kim_users(entries)
    made = 0
    by_district: dict[int, list[str]] = {}
    operators: dict[int, list[User]] = {}
    link = url_for("results_public.public_index", slug=event.slug)  # the same for everyone
    for entry in entries:
        outcome = outcomes.get(entry.id, "")
        made += notify(
            people[entry.id],
            "results_published",
            key=f"{entry.id}:{version}",
            params={"event": event.title, "outcome": outcome},
            event=event,
            link=link,
        )
        district = entry.kim.district_id
        by_district.setdefault(district, []).append(f"{entry.kim.name}: {outcome}")
        if district not in operators:
            operators[district] = district_operators(entry)
    for district, lines in by_district.items():
        made += notify(
            operators[district],
            "district_results",
            key=f"{event.id}:{district}:{version}",
            params={"event": event.title, "outcome": "; ".join(lines)},
            event=event,
            link=link,
        )
    return made


def certificates_ready(event: Event, certificates) -> int:
    """Each entry's KIM accounts learn of its new certificate (a judge's certificate is
    handed out by the organiser). ``certificates``: objects with ``id``, ``entry_id``,
    ``number``, ``award``; the entries and their people are read in two queries."""
    certificates = [c for c in certificates if c.entry_id is not None]
    if not certificates:
        return 0
    entries = {
        e.id: e
        for e in db.session.scalars(
            select(Entry).where(Entry.id.in_({c.entry_id for c in certificates}))
        )
    }
    people = kim_users(entries.values())
    made = 0
    for cert in certificates:
        entry = entries[cert.entry_id]
        made += notify(
            people[entry.id],
            "certificate_ready",
            key=f"{cert.id}",
            params={
                "event": event.title,
                "entry": entry.code,
                "number": cert.number,
                "award": cert.award or "-",
            },
            event=event,
            link=url_for("certificates.download", certificate_id=cert.id),
        )
    return made


def rapors_ready(event: Event, entries: Iterable[Entry]) -> int:
    """Each entry's rapor (made from the published results) can be read: once per entry."""
    entries = list(entries)
    people = kim_users(entries)
    link = url_for("documents.kim_rapor", slug=event.slug)
    return sum(
        notify(
            people[e.id],
            "rapor_ready",
            key=f"{e.id}",
            params={"event": event.title, "entry": e.code, "kim": e.kim.name},
            event=event,
            link=link,
        )
        for e in entries
    )


# --- judge ------------------------------------------------------------------------------------


def panel_added(judge: User, stage: Stage) -> int:
    return notify(
        judge,
        "panel_added",
        key=f"{stage.id}",
        params={
            "event": stage.event.title,
            "stage": stage.name,
            "deadline": when(stage.closes_at, stage.event),
        },
        event=stage.event,
        link=url_for("judge.index"),
    )


def assigned(judge: User, stage: Stage, count: int, batch: str) -> int:
    return notify(
        judge,
        "assigned",
        key=f"{stage.id}:{batch}",
        params={
            "event": stage.event.title,
            "stage": stage.name,
            "count": count,
            "deadline": when(stage.closes_at, stage.event),
        },
        event=stage.event,
        link=url_for("judge.index"),
    )


def judging_reminder(judge: User, stage: Stage, days: int, count: int) -> int:
    return notify(
        judge,
        "judging_h3" if days == 3 else "judging_h1",
        key=f"{stage.id}:{stage.closes_at.isoformat() if stage.closes_at else '-'}",
        params={
            "event": stage.event.title,
            "stage": stage.name,
            "count": count,
            "deadline": when(stage.closes_at, stage.event),
        },
        event=stage.event,
        link=url_for("judge.index"),
    )


def sheet_dropped(
    judge: User, stage: Stage, entry_label: str, reason: str | None, key: str, *, dropped: bool
) -> int:
    """The organiser dropped (or restored) one of the judge's sheets; ``key``: the audit row."""
    return notify(
        judge,
        "sheet_dropped" if dropped else "sheet_restored",
        key=key,
        params={
            "event": stage.event.title,
            "stage": stage.name,
            "entry": entry_label,
            "reason": reason or "",
        },
        event=stage.event,
        link=url_for("judge.index"),
    )


def sheet_reopened(judge: User, stage: Stage, entry_label: str, reason: str, seq: int) -> int:
    return notify(
        judge,
        "sheet_reopened",
        key=f"{seq}",
        params={
            "event": stage.event.title,
            "stage": stage.name,
            "entry": entry_label,
            "reason": reason or "",
        },
        event=stage.event,
        link=url_for("judge.index"),
    )
