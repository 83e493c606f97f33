"""What each role should do now: one service per role, computed from the lifecycle.

- :func:`kim_tasks`: per event, the KIM's one task (upload, submit, fix, wait, object, its
  award), its deadline on the event's clock with a countdown, and one button;
- :func:`judge_tasks`: the next sheet to score, and each assigned stage with its state
  (not open yet / open until … / closed / done) and what is missing before which deadline;
- :func:`operator_overview`: every event the district takes part in, through all phases,
  with the finalists' progress, standings, awards and certificates;
- :func:`admin_cockpit`: an event's phase, the checklist of its next move and its figures.

The templates only show what these return: the rules live here, not in ``{% if %}``.
Each service reads with a fixed number of queries (see :mod:`monev.home.queries`); the KIM's
checklist is read only for an entry whose window is open now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from monev.core.templating import STATUS_LABELS
from monev.core.timezones import label as tz_label
from monev.core.timezones import to_local
from monev.entries import standing
from monev.entries.models import Entry
from monev.entries.nominations import queries as nomination_queries
from monev.entries.workspace import queries as workspace_queries
from monev.entries.workspace import services as workspace
from monev.events.models import Event, Stage
from monev.home import queries
from monev.judging.queries.panel import entry_label_for_judges
from monev.judging.queries.progress import (
    CLOSED,
    NOT_OPEN,
    OPEN,
    JudgeStageProgress,
    judge_progress,
)
from monev.lifecycle.readiness import BLOCK, readiness
from monev.lifecycle.transitions import allowed_targets, is_forward

# How a task card looks: something to do, something to wait for, done, or out of the running.
DO, WAIT, FINISHED, OFF = "do", "wait", "done", "off"
PUBLISHED = ("published", "archived")


# --- time, as people read it ----------------------------------------------------------------


def when(moment: datetime, event: Event) -> str:
    """A UTC moment on the event's clock, e.g. "6 Des 2026, 14.00 WITA"."""
    local = to_local(moment, event.timezone)
    text = format_datetime(local, "d MMM yyyy, HH.mm", rebase=False)
    return f"{text} {tz_label(event.timezone)}"


def countdown(deadline: datetime, now: datetime, tz: str) -> str:
    """How long until ``deadline`` (both UTC): "4 hari lagi", "besok", "3 jam lagi", "lewat"."""
    left = deadline - now
    if left <= timedelta(0):
        return _("passed")
    if left < timedelta(hours=1):
        return _("less than an hour left")
    if left < timedelta(hours=24):
        hours = int(left.total_seconds() // 3600)
        return ngettext("%(num)d hour left", "%(num)d hours left", hours)
    days = (to_local(deadline, tz).date() - to_local(now, tz).date()).days
    if days <= 1:
        return _("tomorrow")
    return ngettext("%(num)d day left", "%(num)d days left", days)


# --- what the pages show --------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A link: the one large button of a task, or one of the links under it."""

    label: str
    endpoint: str
    values: dict = field(default_factory=dict)
    anchor: str | None = None

    @property
    def url(self) -> str:
        url = url_for(self.endpoint, **self.values)
        return f"{url}#{self.anchor}" if self.anchor else url


@dataclass(frozen=True)
class Task:
    """What to do now (or to wait for), with its deadline and the button that does it."""

    code: str  # stable, for tests: "upload", "submit", "fix", "wait_verification", …
    title: str
    detail: str | None = None
    tone: str = DO
    deadline: datetime | None = None  # UTC
    deadline_label: str | None = None  # "Deadline", "Opens", "Objections until", …
    deadline_text: str | None = None  # on the event's clock
    countdown: str | None = None
    action: Action | None = None
    overdue: bool = False  # the deadline has passed


def _task(
    code, title, detail=None, *, event=None, now=None, deadline=None, deadline_label=None, **rest
):
    if deadline is not None and event is not None and now is not None:
        rest.update(
            deadline=deadline,
            deadline_label=deadline_label or _("Deadline"),
            deadline_text=when(deadline, event),
            countdown=countdown(deadline, now, event.timezone),
            overdue=deadline <= now,
        )
    return Task(code, title, detail, **rest)


def first_stage(event: Event) -> Stage | None:
    return min(event.stages, key=lambda s: (s.position, s.id), default=None)


def standing_now(entry: Entry, now: datetime) -> standing.Standing:
    """The entry's standing; before the submission phase no deadline can have passed for it
    (it could not submit yet), so only what is recorded counts."""
    if not entry.event.at_least("submission"):
        return standing.Standing(entry.standing, entry.standing_reason, entry.standing_stage_id)
    return standing.standing_of(entry, now)


# --- KIM --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placing:
    """The entry's line in the published results."""

    award: str | None
    rank: int | None
    shared: bool
    total: float | None
    category: str


@dataclass(frozen=True)
class KimEvent:
    """One event on the KIM's home page: its task, standing, award and links."""

    event: Event
    entry: Entry
    phase: str
    task: Task
    standing: str | None  # the standing's label when it is not simply "active"
    placing: Placing | None
    links: tuple[Action, ...] = ()


def placing_in(snapshot: dict | None, code: str) -> Placing | None:
    """The entry ``code`` in a published snapshot, if it is ranked there."""
    for category in (snapshot or {}).get("categories", ()):
        for row in category.get("entries", ()):
            if row.get("code") == code:
                return Placing(
                    row.get("award"),
                    row.get("rank"),
                    bool(row.get("shared")),
                    row.get("total"),
                    category.get("name", ""),
                )
    return None


def kim_tasks(kim, now: datetime) -> list[KimEvent]:
    """The KIM's task in each event it was nominated for, newest event first."""
    entries = queries.kim_entries(kim.id if kim is not None else None)
    by_status = lambda *s: [e for e in entries if e.event.status in s]  # noqa: E731
    snapshots = queries.latest_snapshots(e.event_id for e in by_status(*PUBLISHED))
    provisionals = queries.latest_provisionals(e.event_id for e in by_status("results"))
    certificates = queries.live_certificates(e.id for e in by_status(*PUBLISHED))
    slots = queries.next_slots(e.id for e in by_status("verification", "judging"))
    visits = queries.next_visits((e.id for e in by_status("judging")), now - VISIT_SHOWN_AFTER)
    teams = queries.visit_teams(visits.values())
    return [
        _kim_event(
            entry,
            now,
            snapshot=snapshots.get(entry.event_id),
            provisional=provisionals.get(entry.event_id),
            certificate=certificates.get(entry.id),
            slot=slots.get(entry.id),
            visit=visits.get(entry.id),
            team=teams.get(visits[entry.id].id, []) if entry.id in visits else [],
        )
        for entry in entries
    ]


# A field visit stays the KIM's task this long after it started (the judges may be late).
VISIT_SHOWN_AFTER = timedelta(hours=12)


def _visit_task(entry: Entry, visit, team: list[str], now) -> Task:
    event = entry.event
    if visit.confirmed_at is not None:
        return _task(
            "visit",
            _(
                "The field visit took place: confirmed on %(when)s",
                when=when(visit.confirmed_at, event),
            ),
            _(
                "%(name)s confirmed the visit for your KIM; its Berita Acara visitasi is ready.",
                name=visit.representative_name,
            ),
            event=event,
            tone=FINISHED,
            action=Action(
                _("Download the Berita Acara visitasi (PDF)"),
                "schedule.visit_minutes",
                {"visit_id": visit.id},
            ),
        )
    detail = visit.address
    if team:
        detail = _("Team: %(names)s · %(place)s", names=", ".join(team), place=visit.address)
    return _task(
        "visit",
        _("Prepare for the field visit: %(when)s", when=when(visit.starts_at, event)),
        detail,
        event=event,
        now=now,
        deadline=visit.starts_at,
        deadline_label=_("Field visit"),
        tone=DO,
        action=Action(
            _("See the visit and what to prepare"), "schedule.visit", {"visit_id": visit.id}
        ),
    )


def _kim_event(
    entry: Entry, now, *, snapshot, provisional, certificate, slot, visit=None, team=()
) -> KimEvent:
    event = entry.event
    accepted = entry.nomination_status == "accepted"
    now_standing = standing_now(entry, now) if accepted else None
    placing = placing_in(snapshot, entry.code) if accepted else None
    task = _kim_task(entry, now, now_standing, placing, provisional, certificate, slot)
    if visit is not None and task.code == "judging":
        task = _visit_task(entry, visit, list(team), now)
    shown_standing = (
        now_standing.label
        if now_standing and now_standing.code not in (standing.ACTIVE, standing.RETURNED)
        else None
    )
    return KimEvent(
        event,
        entry,
        str(STATUS_LABELS[event.status]),
        task,
        shown_standing,
        placing,
        _kim_links(entry, accepted, slot, task),
    )


def _kim_links(entry, accepted, slot, task) -> tuple[Action, ...]:
    event = entry.event
    slug = {"slug": event.slug}
    links = []
    if accepted:
        links.append(Action(_("Your entry"), "workspace.index", slug))
    if slot is not None:
        links.append(Action(_("Presentation schedule"), "schedule.mine"))
    if accepted and event.at_least("results"):
        links.append(Action(_("Results and objections"), "results_kim.kim_index", slug))
    if event.status in PUBLISHED:
        links.append(Action(_("Published results"), "results_public.public_index", slug))
    # The certificates and the rapor have their own lists below the tasks.
    return _without(links, task.action)


def _without(links, main: Action | None) -> tuple[Action, ...]:
    """The links under a task, without the task's own button (it is not said twice)."""
    return tuple(
        link
        for link in links
        if main is None or (link.endpoint, link.values) != (main.endpoint, main.values)
    )


def _kim_task(entry, now, now_standing, placing, provisional, certificate, slot) -> Task:
    event = entry.event
    slug = {"slug": event.slug}
    see_entry = Action(_("See your entry"), "workspace.index", slug)
    if entry.nomination_status == "nominated":
        return Task(
            "wait_nomination",
            _("Nomination awaiting the organiser's decision"),
            _(
                "Your district operator has nominated your KIM. "
                "Meanwhile, keep your profile up to date."
            ),
            WAIT,
            action=Action(_("Update your profile"), "directory.edit", {"kim_id": entry.kim_id}),
        )
    if entry.nomination_status != "accepted":
        return Task(
            "not_accepted",
            _("Nomination not accepted"),
            _("Your KIM does not take part in this event."),
            OFF,
        )
    if event.status in PUBLISHED and placing is not None:
        return _published_task(entry, placing, certificate)
    if now_standing.code not in (standing.ACTIVE, standing.RETURNED):
        return Task(
            now_standing.code,
            now_standing.label,
            now_standing.reason_text,
            OFF,
            action=Action(_("Published results"), "results_public.public_index", slug)
            if event.status in PUBLISHED
            else see_entry,
        )
    status = entry.submission_status
    if status == "returned":
        return _fix_task(entry, now)
    if event.status == "nomination":
        stage = first_stage(event)
        opens = stage.opens_at if stage and stage.opens_at and stage.opens_at > now else None
        return _task(
            "wait_submission",
            _("Accepted as a finalist"),
            _(
                "You can prepare your evidence now; "
                "you can send it once the submission window opens."
            )
            if opens
            else _(
                "You can prepare your evidence now; you can send it once the organiser "
                "opens the submission phase."
            ),
            event=event,
            now=now,
            deadline=opens,
            deadline_label=_("Submission opens"),
            tone=WAIT,
            action=Action(_("Prepare your entry"), "workspace.index", slug),
        )
    if event.status in ("submission", "verification") and status == "submitted":
        return Task(
            "wait_verification",
            _("Submitted: waiting for verification"),
            _(
                "The organiser checks that your entry is complete. "
                "You will be told if anything needs fixing."
            ),
            WAIT,
            action=see_entry,
        )
    if event.status in ("submission", "verification") and status == "verified":
        return Task(
            "wait_judging",
            _("Verified: waiting for the judging"),
            _("Your entry is complete and locked. The judges score it once the judging starts."),
            FINISHED,
            action=see_entry,
        )
    if event.status == "submission":
        return _submission_task(entry, now)
    if event.status == "judging":
        if slot is not None:
            detail = _("Your presentation: %(when)s", when=when(slot.starts_at, event))
            if slot.room:
                detail = f"{detail} · {slot.room}"
            return _task(
                "judging",
                _("Your entry is being judged"),
                detail,
                event=event,
                now=now,
                deadline=slot.starts_at,
                deadline_label=_("Presentation"),
                tone=WAIT,
                action=Action(_("Presentation schedule"), "schedule.mine"),
            )
        return Task(
            "judging",
            _("Your entry is being judged"),
            _("The judges are scoring the entries. The results are announced after the judging."),
            WAIT,
            action=see_entry,
        )
    if event.status == "results":
        results = Action(_("See the provisional results"), "results_kim.kim_index", slug)
        if provisional is not None and now < provisional.objections_close_at:
            return _task(
                "objections",
                _("Provisional results are out"),
                _("Check them: you may object with a reason until the window closes."),
                event=event,
                now=now,
                deadline=provisional.objections_close_at,
                deadline_label=_("Objections until"),
                action=results,
            )
        if provisional is not None:
            return Task(
                "wait_publication",
                _("The objection window has closed"),
                _("The organiser decides the objections and then publishes the final results."),
                WAIT,
                action=results,
            )
        return Task(
            "wait_results",
            _("The results are being computed"),
            _("The organiser reviews the scores; the results are published afterwards."),
            WAIT,
        )
    if event.status in PUBLISHED:  # taken part but not in the snapshot (e.g. a late change)
        return Task(
            "published",
            _("The results are published"),
            None,
            FINISHED,
            action=Action(_("Published results"), "results_public.public_index", slug),
        )
    return Task("wait", str(STATUS_LABELS[event.status]), None, WAIT, action=see_entry)


def _published_task(entry, placing: Placing, certificate) -> Task:
    event = entry.event
    if placing.award:
        title = placing.award
    elif placing.rank:
        title = _("Rank %(rank)d in %(category)s", rank=placing.rank, category=placing.category)
    else:
        title = _("The results are published")
    parts = []
    if placing.rank:
        parts.append(
            _("Rank %(rank)d in %(category)s", rank=placing.rank, category=placing.category)
            + (f" ({_('shared')})" if placing.shared else "")
        )
    if placing.total is not None:
        parts.append(_("final score %(score)s", score=f"{placing.total:.2f}".replace(".", ",")))
    if certificate is not None:
        action = Action(
            _("Download your certificate"),
            "certificates.download",
            {"certificate_id": certificate.id},
        )
    else:
        parts.append(_("The certificate is not issued yet."))
        action = Action(_("Published results"), "results_public.public_index", {"slug": event.slug})
    return Task("published", title, " · ".join(parts) or None, FINISHED, action=action)


def _fix_task(entry, now) -> Task:
    event = entry.event
    state = workspace.window(entry, now)
    if not state.open:
        return Task("fix_closed", _("Sent back for fixes"), state.reason, OFF)
    missing = workspace.missing_items(
        workspace.checklist(
            entry,
            workspace_queries.evidence_criteria(entry.event_id),
            workspace_queries.items(entry.id),
        )
    )
    detail = (
        _("The organiser's note: %(note)s", note=entry.returned_note)
        if entry.returned_note
        else None
    )
    if missing:
        still = ngettext(
            "%(num)d item still missing.", "%(num)d items still missing.", len(missing)
        )
        detail = f"{detail} {still}" if detail else still
    return _task(
        "fix",
        _("Fix your entry and send it again"),
        detail,
        event=event,
        now=now,
        deadline=state.deadline,
        deadline_label=_("Fix before"),
        action=Action(_("Fix your entry"), "workspace.index", {"slug": event.slug}),
    )


def _submission_task(entry, now) -> Task:
    event = entry.event
    slug = {"slug": event.slug}
    state = workspace.window(entry, now)
    stage = first_stage(event)
    if not state.open:
        if stage and stage.opens_at and now < stage.opens_at:
            return _task(
                "wait_submission",
                _("The submission window opens soon"),
                _("You can prepare your evidence now; you can send it once the window opens."),
                event=event,
                now=now,
                deadline=stage.opens_at,
                deadline_label=_("Submission opens"),
                tone=WAIT,
                action=Action(_("Prepare your entry"), "workspace.index", slug),
            )
        return Task("closed", _("Submissions are closed"), state.reason, OFF)
    checks = workspace.checklist(
        entry,
        workspace_queries.evidence_criteria(entry.event_id),
        workspace_queries.items(entry.id),
    )
    criteria = [c for c in checks if c.anchor.startswith("criterion-")]
    missing_criteria = [c for c in criteria if not c.done]
    others = [c.label for c in checks if not c.done and not c.anchor.startswith("criterion-")]
    deadline = {"event": event, "now": now, "deadline": state.deadline}
    if missing_criteria:
        return _task(
            "upload",
            ngettext(
                "Upload evidence: %(num)d of %(total)d criteria missing",
                "Upload evidence: %(num)d of %(total)d criteria missing",
                len(missing_criteria),
                total=len(criteria),
            ),
            _("Also missing: %(items)s.", items=", ".join(others)) if others else None,
            **deadline,
            action=Action(_("Upload evidence"), "workspace.index", slug),
        )
    if others:
        return _task(
            "complete",
            _("Complete your entry: %(items)s", items=", ".join(others)),
            _("Every criterion has its evidence."),
            **deadline,
            action=Action(_("Complete your entry"), "workspace.index", slug),
        )
    return _task(
        "submit",
        _("Submit your entry"),
        _("Everything is complete. Once sent, the entry can no longer be changed."),
        **deadline,
        action=Action(_("Submit your entry"), "workspace.index", slug, anchor="checklist"),
    )


# --- judge ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeStage:
    """One stage the judge has entries in, as the judge should read it."""

    progress: JudgeStageProgress
    state: str  # NOT_OPEN, OPEN, CLOSED or DONE
    label: str  # "Belum dibuka", "Dibuka sampai 6 Des 2026, 14.00 WITA", "Ditutup", "Selesai"
    detail: str
    countdown: str | None
    action: Action | None

    @property
    def event(self) -> Event:
        return self.progress.event

    @property
    def stage(self) -> Stage:
        return self.progress.stage


@dataclass(frozen=True)
class TodayVisit:
    """A field visit of the judge's team today (the event's date), with the judge's sheet."""

    visit: object  # monev.judging.models.Visit
    label: str  # the entry as judges see it
    time: str  # "10.00 WITA"
    assignment_id: int
    sheet: str  # "empty", "draft" or "final"

    @property
    def event(self) -> Event:
        return self.visit.stage.event


@dataclass(frozen=True)
class JudgeHome:
    task: Task
    stages: tuple[JudgeStage, ...]
    today: tuple[TodayVisit, ...] = ()

    @property
    def links(self) -> tuple[Action, ...]:
        """The public pages of the judge's events (and their results, once published)."""
        links: list[Action] = []
        for event in dict.fromkeys(s.event for s in self.stages):
            slug = {"slug": event.slug}
            links.append(Action(event.title, "public.event", slug))
            if event.status in PUBLISHED:
                links.append(
                    Action(
                        _("Results of %(event)s", event=event.title),
                        "results_public.public_index",
                        slug,
                    )
                )
        return tuple(links)


def judge_stage(p: JudgeStageProgress, now: datetime) -> JudgeStage:
    event, stage = p.event, p.stage
    state = p.state(now)
    left = None
    action = None
    if state == NOT_OPEN:
        label = _("Not open yet")
        if stage.opens_at is not None and now < stage.opens_at:
            detail = _("Scoring opens on %(when)s.", when=when(stage.opens_at, event))
            left = countdown(stage.opens_at, now, event.timezone)
        else:
            detail = _("Scoring opens when the organiser starts the judging.")
    elif state == OPEN:
        if stage.closes_at is not None:
            label = _("Open until %(when)s", when=when(stage.closes_at, event))
            left = countdown(stage.closes_at, now, event.timezone)
            detail = ngettext(
                "%(num)d sheet not final yet, closes %(when)s",
                "%(num)d sheets not final yet, closes %(when)s",
                p.missing,
                when=when(stage.closes_at, event),
            )
        else:
            label = _("Open")
            detail = ngettext(
                "%(num)d sheet not final yet", "%(num)d sheets not final yet", p.missing
            )
        if p.next is not None:
            action = Action(
                _("Score next: %(label)s", label=p.next.label),
                "judge.sheet",
                {"assignment_id": p.next.assignment_id},
            )
    elif state == CLOSED:
        label = _("Closed")
        detail = (
            ngettext(
                "%(num)d sheet not final, closed %(when)s",
                "%(num)d sheets not final, closed %(when)s",
                p.missing,
                when=when(stage.closes_at, event),
            )
            + " "
            + _("Ask the organiser if a sheet must still be finalised.")
        )
    else:
        label = _("Done")
        if p.missing:
            detail = _("The results are out: nothing more to score.")
        else:
            detail = ngettext(
                "Your %(num)d sheet is final.", "All your %(num)d sheets are final.", p.final
            )
    return JudgeStage(p, state, label, detail, left, action)


def visits_today(user, now: datetime) -> tuple[TodayVisit, ...]:
    """The field visits of the judge's teams whose date, on their event's clock, is today's
    there (one query)."""
    out = []
    for visit, assignment_id, status in queries.judge_visits_between(
        user.id, now - timedelta(days=1), now + timedelta(days=1)
    ):
        event = visit.stage.event
        local = to_local(visit.starts_at, event.timezone)
        if local.date() != to_local(now, event.timezone).date():
            continue
        out.append(
            TodayVisit(
                visit,
                entry_label_for_judges(visit.entry, event),
                f"{format_datetime(local, 'HH.mm', rebase=False)} {tz_label(event.timezone)}",
                assignment_id,
                status or "empty",
            )
        )
    return tuple(out)


def judge_tasks(user, now: datetime) -> JudgeHome:
    """The judge's next sheet, every stage the judge has entries in, and the field visits of
    today (three queries)."""
    home = _judge_tasks(user, now)
    today = visits_today(user, now)
    return JudgeHome(home.task, home.stages, today) if today else home


def _judge_tasks(user, now: datetime) -> JudgeHome:
    stages = tuple(judge_stage(p, now) for p in judge_progress(user.id))
    open_stages = sorted(
        (s for s in stages if s.state == OPEN and s.progress.missing),
        key=lambda s: (s.stage.closes_at is None, s.stage.closes_at or now),
    )
    if open_stages:
        first = open_stages[0]
        p = first.progress
        return JudgeHome(
            _task(
                "score",
                ngettext(
                    "%(num)d sheet to score and finalise",
                    "%(num)d sheets to score and finalise",
                    p.missing,
                ),
                f"{first.event.title} · {first.stage.name}",
                event=first.event,
                now=now,
                deadline=first.stage.closes_at,
                deadline_label=_("Closes"),
                action=first.action,
            ),
            stages,
        )
    upcoming = sorted(
        (s for s in stages if s.state == NOT_OPEN and s.stage.opens_at and now < s.stage.opens_at),
        key=lambda s: s.stage.opens_at,
    )
    if upcoming:
        first = upcoming[0]
        return JudgeHome(
            _task(
                "wait_scoring",
                _("Nothing to score yet"),
                f"{first.event.title} · {first.stage.name}",
                event=first.event,
                now=now,
                deadline=first.stage.opens_at,
                deadline_label=_("Scoring opens"),
                tone=WAIT,
            ),
            stages,
        )
    if any(s.state == NOT_OPEN for s in stages):
        return JudgeHome(
            Task(
                "wait_scoring",
                _("Nothing to score yet"),
                _("Scoring opens when the organiser starts the judging."),
                WAIT,
            ),
            stages,
        )
    if any(s.state == CLOSED for s in stages):
        return JudgeHome(
            Task(
                "closed",
                _("The scoring deadline has passed"),
                _("Some sheets are not final. Ask the organiser if they must still be finalised."),
                OFF,
            ),
            stages,
        )
    if stages:
        return JudgeHome(
            Task("done", _("Nothing to score now"), _("All your sheets are final."), FINISHED),
            stages,
        )
    return JudgeHome(
        Task(
            "none",
            _("No entries to score yet"),
            _("When the organiser assigns entries to you, they appear here with your deadline."),
            WAIT,
        ),
        stages,
    )


# --- operator ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finalist:
    entry: Entry
    status: str  # the nomination's or the submission's state, as a label
    standing: str | None  # when not simply active
    award: str | None
    certificate: bool


@dataclass(frozen=True)
class OperatorEvent:
    event: Event
    phase: str
    task: Task
    finalists: tuple[Finalist, ...]
    links: tuple[Action, ...]


NOMINATION_LABELS = {
    "nominated": _l("Nominated, awaiting decision"),
    "rejected": _l("Nomination rejected"),
    "withdrawn": _l("Nomination withdrawn"),
}


def operator_overview(user, now: datetime) -> list[OperatorEvent]:
    """Every announced event the operator's district takes part in (or may nominate for),
    newest first, with what to do or watch now."""
    district_id = user.district_id
    open_events = {o.event.id: o for o in nomination_queries.open_for_district(district_id)}
    entries = queries.district_entries(district_id)
    events: dict[int, Event] = {o.event.id: o.event for o in open_events.values()}
    by_event: dict[int, list[Entry]] = {}
    for entry in entries:
        events.setdefault(entry.event_id, entry.event)
        by_event.setdefault(entry.event_id, []).append(entry)
    published = [i for i, e in events.items() if e.status in PUBLISHED]
    snapshots = queries.latest_snapshots(published)
    provisionals = queries.latest_provisionals(
        i for i, e in events.items() if e.status == "results"
    )
    certificates = queries.live_certificates(e.id for i in published for e in by_event.get(i, ()))
    ordered = sorted(events.values(), key=lambda e: (-e.year, -e.id))
    out = []
    for event in ordered:
        rows = tuple(
            _finalist(e, now, snapshots.get(event.id), certificates.get(e.id))
            for e in by_event.get(event.id, ())
        )
        task = _operator_task(
            event, now, rows, open_events.get(event.id), provisionals.get(event.id)
        )
        out.append(
            OperatorEvent(
                event,
                str(STATUS_LABELS[event.status]),
                task,
                rows,
                _without(_operator_links(event), task.action),
            )
        )
    return out


def _finalist(entry: Entry, now, snapshot, certificate) -> Finalist:
    if entry.nomination_status != "accepted":
        return Finalist(
            entry, str(NOMINATION_LABELS.get(entry.nomination_status, "")), None, None, False
        )
    now_standing = standing_now(entry, now)
    placing = placing_in(snapshot, entry.code)
    return Finalist(
        entry,
        str(workspace.STATUS_LABELS.get(entry.submission_status, entry.submission_status)),
        now_standing.label if now_standing.code != standing.ACTIVE else None,
        placing.award if placing else None,
        certificate is not None,
    )


def _operator_links(event: Event) -> tuple[Action, ...]:
    slug = {"slug": event.slug}
    links = [Action(_("Nominations"), "nominations.district", slug)]
    if event.at_least("submission"):
        links.append(Action(_("Finalists' progress"), "verification.progress", slug))
    if event.status in PUBLISHED:
        links.append(Action(_("Published results"), "results_public.public_index", slug))
    links.append(Action(_("Public page of the event"), "public.event", slug))
    return tuple(links)


def _operator_task(event: Event, now, rows, nomination, provisional) -> Task:
    slug = {"slug": event.slug}
    progress = Action(_("Finalists' progress"), "verification.progress", slug)
    finalists = [r for r in rows if r.entry.nomination_status == "accepted"]
    competing = [
        r
        for r in finalists
        if standing_now(r.entry, now).code in (standing.ACTIVE, standing.RETURNED)
    ]
    if event.status == "nomination":
        nominate = Action(_("Nominate your KIMs"), "nominations.district", slug)
        if nomination is None or nomination.quota is None:
            return Task(
                "nominate",
                _("Nominate your KIMs"),
                _("The organiser has not set a quota for your district yet."),
                action=nominate,
            )
        return Task(
            "nominate",
            _(
                "Nominate your KIMs: %(used)d of %(quota)d places used",
                used=nomination.used,
                quota=nomination.quota,
            ),
            None,
            DO if nomination.used < nomination.quota else FINISHED,
            action=nominate,
        )
    if event.status == "submission":
        stage = first_stage(event)
        waiting = [
            r
            for r in competing
            if r.entry.submission_status in ("not_started", "in_progress", "returned")
        ]
        if not waiting:
            return Task(
                "submitted", _("All your finalists have submitted"), None, FINISHED, action=progress
            )
        return _task(
            "remind",
            ngettext(
                "%(num)d of %(total)d finalists has not submitted yet",
                "%(num)d of %(total)d finalists have not submitted yet",
                len(waiting),
                total=len(finalists),
            ),
            _("Remind them before the deadline: a late entry is not judged."),
            event=event,
            now=now,
            deadline=stage.closes_at if stage else None,
            action=progress,
        )
    if event.status == "verification":
        returned = [r for r in competing if r.entry.submission_status == "returned"]
        if returned:
            deadlines = [r.entry.personal_deadline for r in returned if r.entry.personal_deadline]
            return _task(
                "returned",
                ngettext(
                    "%(num)d finalist was sent back for fixes",
                    "%(num)d finalists were sent back for fixes",
                    len(returned),
                ),
                _("Help them fix their entry before their deadline."),
                event=event,
                now=now,
                deadline=min(deadlines) if deadlines else None,
                deadline_label=_("Fix before"),
                action=progress,
            )
        return Task(
            "wait_verification",
            _("The organiser is verifying the entries"),
            None,
            WAIT,
            action=progress,
        )
    if event.status == "judging":
        return Task(
            "wait_judging", _("The judges are scoring the entries"), None, WAIT, action=progress
        )
    if event.status == "results":
        if provisional is not None and now < provisional.objections_close_at:
            return _task(
                "objections",
                _("Provisional results are out"),
                _("Your finalists may object until the window closes."),
                event=event,
                now=now,
                deadline=provisional.objections_close_at,
                deadline_label=_("Objections until"),
                tone=WAIT,
                action=progress,
            )
        return Task(
            "wait_results", _("The results are being finalised"), None, WAIT, action=progress
        )
    if event.status in PUBLISHED:
        winners = sum(1 for r in finalists if r.award)
        return Task(
            "published",
            ngettext(
                "Results published: %(num)d of your KIMs won an award",
                "Results published: %(num)d of your KIMs won an award",
                winners,
            )
            if winners
            else _("Results published"),
            None,
            FINISHED,
            action=Action(_("See the results"), "results_public.public_index", slug),
        )
    return Task("wait", str(STATUS_LABELS[event.status]), None, WAIT)


# --- admin ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckLine:
    level: str  # "block" or "warn"
    message: str
    url: str | None


@dataclass(frozen=True)
class Cockpit:
    event: Event
    phase: str
    next_target: str | None
    next_label: str | None
    next_action: Action | None
    checks: tuple[CheckLine, ...]
    figures: dict[str, int]

    @property
    def ready(self) -> bool:
        return not any(c.level == BLOCK for c in self.checks)


def admin_cockpit(event: Event, now: datetime) -> Cockpit:
    """The event's phase, the checklist of its next forward move and its figures."""
    if event.status == "results":
        target = "published"
        action = Action(_("Review and publish the results"), "results.index", {"slug": event.slug})
    else:
        target = next((t for t in allowed_targets(event) if is_forward(event, t)), None)
        action = (
            Action(
                _("Move to %(phase)s", phase=STATUS_LABELS[target]),
                "lifecycle.move",
                {"slug": event.slug, "target": target},
            )
            if target
            else None
        )
    checks = ()
    if target is not None:
        found = readiness(event, target, now)
        checks = tuple(
            CheckLine(
                c.level,
                c.message,
                url_for(c.endpoint, **c.args) if c.endpoint else None,
            )
            for c in found.checks
        )
    figures = queries.entry_figures(event.id)
    final, assigned = queries.sheet_figures(event.id)
    open_objections, objections = queries.objection_figures(event.id)
    figures.update(
        sheets_final=final, sheets=assigned, objections_open=open_objections, objections=objections
    )
    return Cockpit(
        event,
        str(STATUS_LABELS[event.status]),
        target,
        str(STATUS_LABELS[target]) if target else None,
        action,
        checks,
        figures,
    )


def admin_cockpits(now: datetime) -> list[Cockpit]:
    """A cockpit for every event the organiser is running (not archived): a fixed number of
    queries per event (its checklist and four counts); an organiser runs one or two at once."""
    return [admin_cockpit(event, now) for event in queries.active_events()]
