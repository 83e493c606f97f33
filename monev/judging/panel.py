"""The event's judging panel: who judges, on which stages, from which kabupaten/kota, and
whether judges see the entries' names."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from monev.audit import services as audit
from monev.auth import services as auth_services
from monev.auth.models import User
from monev.core.errors import ServiceError
from monev.events.models import Event
from monev.extensions import db
from monev.judging import queries, versions
from monev.judging.models import Assignment, EventJudge, PanelMember
from monev.notify import tell
from monev.regions.models import District

# --- settings -----------------------------------------------------------------------------


def set_judges_see_names(event: Event, see_names: bool) -> None:
    if bool(event.judges_see_names) == bool(see_names):
        return
    event.judges_see_names = bool(see_names)
    audit.record(
        "judging.settings", "event", event.id, {"judges_see_names": [not see_names, see_names]}
    )


# --- panel --------------------------------------------------------------------------------


def _stage_ids(event: Event, stage_ids) -> set[int]:
    valid = {s.id for s in event.stages}
    chosen = {int(s) for s in stage_ids or ()}
    if chosen - valid:
        raise ServiceError(_("Choose stages of this event."), field="stages")
    return chosen


def _set_stages(event: Event, judge_id: int, chosen: set[int]) -> None:
    """Put the judge on exactly the chosen stages' panels. A stage still judged by the whole
    event panel (no members of its own) first gets today's whole panel as members."""
    panel = [j.user_id for j in queries.event_panel(event.id)]
    for stage in event.stages:
        members = set(
            db.session.scalars(select(PanelMember.judge_id).where(PanelMember.stage_id == stage.id))
        )
        if not members:
            for other in panel:
                if other != judge_id:
                    db.session.add(PanelMember(stage_id=stage.id, judge_id=other))
                    members.add(other)
        if stage.id in chosen and judge_id not in members:
            db.session.add(PanelMember(stage_id=stage.id, judge_id=judge_id))
            tell.panel_added(db.session.get(User, judge_id), stage)
        elif stage.id not in chosen and judge_id in members:
            db.session.execute(
                delete(PanelMember).where(
                    PanelMember.stage_id == stage.id, PanelMember.judge_id == judge_id
                )
            )
    versions.bump(event.id, judge_id)
    db.session.flush()


def _check_district(district_id) -> int | None:
    if district_id in (None, "", 0):
        return None

    if db.session.get(District, int(district_id)) is None:
        raise ServiceError(_("Choose a kabupaten/kota from the list."), field="home_district_id")
    return int(district_id)


def add_judge(
    event: Event,
    *,
    email: str,
    name: str,
    institution: str | None,
    home_district_id: int | None,
    stage_ids,
) -> EventJudge:
    """Put a judge on the event's panel, inviting them when they have no account yet."""
    chosen = _stage_ids(event, stage_ids)
    home = _check_district(home_district_id)
    user = auth_services.user_by_email(auth_services.normalise_email(email))
    if user is None:
        user = auth_services.invite_user(
            email=email, name=name, role="judge", institution=institution
        )
    elif user.role != "judge":
        raise ServiceError(
            _("This e-mail address belongs to an account that is not a judge."), field="email"
        )
    if queries.event_judge(event.id, user.id) is not None:
        raise ServiceError(_("This judge is already on the panel."), field="email")
    if institution and not user.institution:
        user.institution = institution.strip()
    judge = EventJudge(event_id=event.id, user_id=user.id, home_district_id=home)
    db.session.add(judge)
    db.session.flush()
    _set_stages(event, user.id, chosen)
    audit.record(
        "judge.added",
        "event",
        event.id,
        {"judge": user.email, "home_district_id": home, "stages": sorted(chosen)},
    )
    return judge


def update_judge(event: Event, judge: EventJudge, *, home_district_id, stage_ids) -> None:
    chosen = _stage_ids(event, stage_ids)
    before = {
        "home_district_id": judge.home_district_id,
        "stages": sorted(queries.panel_stages(event).get(judge.user_id, set())),
    }
    judge.home_district_id = _check_district(home_district_id)
    _set_stages(event, judge.user_id, chosen)
    after = {"home_district_id": judge.home_district_id, "stages": sorted(chosen)}
    changes = audit.diff(before, after)
    if changes:
        audit.record("judge.updated", "event", event.id, {"judge": judge.user.email, **changes})


def remove_judge(event: Event, judge: EventJudge) -> None:
    stage_ids = [s.id for s in event.stages]
    assigned = db.session.scalar(
        select(Assignment.id)
        .where(Assignment.judge_id == judge.user_id, Assignment.stage_id.in_(stage_ids))
        .limit(1)
    )
    if assigned is not None:
        raise ServiceError(
            _("This judge still has assignments in this event; remove them first."), status=409
        )
    db.session.execute(
        delete(PanelMember).where(
            PanelMember.judge_id == judge.user_id, PanelMember.stage_id.in_(stage_ids)
        )
    )
    email = judge.user.email
    versions.bump(event.id, judge.user_id)
    db.session.delete(judge)
    db.session.flush()
    audit.record("judge.removed", "event", event.id, {"judge": email})
