"""Field visits without a signal: what a judge's phone takes along (:func:`bundle`) and how
what the judge did offline comes back (:func:`sync_score`, :func:`sync_check`, and the KIM
representative's confirmation, :func:`sync_confirm`).

The bundle holds the judge's own visits only (assignments of visit stages, not dropped, in
announced events): the visit, the entry as judges see it (blind rules), the rubric with its
descriptors, the judge's sheet as stored (values, comments, version, checklist) and the
entry's evidence summary (names and kinds, no files) and how many photos the judge already
sent per criterion. Seven queries whatever the number of visits.

Every save the phone sends carries a key the phone chose (``client_key``) and what the phone
saw before the change (the sheet's version and the value or checklist line then): a key
already stored for the sheet (:class:`~monev.judging.models.SyncKey`) is acknowledged and
not applied again; a change made meanwhile by someone else (online, another tab) to the very
value the phone changed is a conflict (:class:`SyncConflict`, 409, with the server's value),
never overwritten silently. A change elsewhere on the sheet is no conflict: the phone's value
is applied on top. Services flush; the request commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from monev.auth.models import User
from monev.core.errors import ServiceError
from monev.core.templating import number
from monev.core.timezones import format_moment, label
from monev.entries.models import Evidence
from monev.extensions import db
from monev.judging import queries
from monev.judging.models import (
    VISIT_NAME_MAX,
    Assignment,
    Conflict,
    Score,
    SyncKey,
    VisitCheck,
    VisitPhoto,
)
from monev.judging.numbers import ScoreRefused, parse_score
from monev.judging.sheets import closed_reason, lock_assignment, locked_sheet, save_score
from monev.judging.visits import (
    CLIENT_KEY,
    confirm_opens_at,
    confirm_visit,
    require_visit_stage,
    save_visit_check,
    visit_of,
)
from monev.rubrics.models import Aspect

BUNDLE_FORMAT = "monev-offline/1"


# --- the bundle ---------------------------------------------------------------------------


def _coordinate(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _criterion(c) -> dict:
    return {
        "id": c.id,
        "name": c.name,
        "guidance": c.guidance or "",
        "weight": number(c.weight),
        "min": number(c.min_score),
        "max": number(c.max_score),
        "step": number(c.step),
        "descriptors": [
            {"min": number(d.get("min")), "max": number(d.get("max")), "text": d.get("text", "")}
            for d in (c.descriptors or [])
        ],
        "evidence": c.evidence,
        "photos_required": c.photos_required,
    }


def _evidence(item: Evidence) -> dict:
    return {
        "kind": item.kind,
        "name": item.url if item.kind == "link" else (item.original_name or ""),
        "size": item.size,
    }


def bundle(judge: User, now: datetime) -> dict:
    """Everything the judge's phone needs to run the judge's visits offline (plain data)."""
    rows = queries.judge_visit_rows(judge.id)
    stage_ids = sorted({v.stage_id for v, _a in rows})
    entry_ids = sorted({v.entry_id for v, _a in rows})
    sheet_ids = sorted(a.sheet.id for _v, a in rows if a.sheet is not None)
    aspects: dict[int, list[Aspect]] = {}
    if stage_ids:
        for aspect in db.session.scalars(
            select(Aspect)
            .where(Aspect.stage_id.in_(stage_ids))
            .options(selectinload(Aspect.criteria))
            .order_by(Aspect.position, Aspect.id)
        ):
            aspects.setdefault(aspect.stage_id, []).append(aspect)
    scores: dict[int, dict[int, Score]] = {}
    checks: dict[int, dict[int, VisitCheck]] = {}
    photos: dict[int, dict[str, int]] = {}  # photos already on the server, per criterion
    if sheet_ids:
        for score in db.session.scalars(select(Score).where(Score.sheet_id.in_(sheet_ids))):
            scores.setdefault(score.sheet_id, {})[score.criterion_id] = score
        for check in db.session.scalars(
            select(VisitCheck).where(VisitCheck.sheet_id.in_(sheet_ids))
        ):
            checks.setdefault(check.sheet_id, {})[check.criterion_id] = check
        for sheet_id, criterion_id, n in db.session.execute(
            select(VisitPhoto.sheet_id, VisitPhoto.criterion_id, func.count())
            .where(VisitPhoto.sheet_id.in_(sheet_ids))
            .group_by(VisitPhoto.sheet_id, VisitPhoto.criterion_id)
        ):
            photos.setdefault(sheet_id, {})[str(criterion_id)] = n
    conflicts = (
        set(
            db.session.scalars(
                select(Conflict.entry_id).where(
                    Conflict.judge_id == judge.id, Conflict.entry_id.in_(entry_ids)
                )
            )
        )
        if entry_ids
        else set()
    )
    evidence: dict[int, list[Evidence]] = {}
    if entry_ids:
        for item in db.session.scalars(
            select(Evidence).where(Evidence.entry_id.in_(entry_ids)).order_by(Evidence.id)
        ):
            evidence.setdefault(item.entry_id, []).append(item)

    visits = []
    for visit, assignment in rows:
        event, stage, sheet = visit.stage.event, visit.stage, assignment.sheet
        conflict = visit.entry_id in conflicts
        reason = (
            _("You declared a conflict of interest with this entry, so you cannot score it.")
            if conflict
            else _("This sheet is final and locked; only the organiser can reopen it.")
            if sheet is not None and sheet.status == "final"
            else closed_reason(assignment, now)
        )
        own_scores = scores.get(sheet.id, {}) if sheet else {}
        own_checks = checks.get(sheet.id, {}) if sheet else {}
        items = [] if conflict else evidence.get(visit.entry_id, [])
        visits.append(
            {
                "sheet": assignment.id,
                "visit": visit.id,
                "label": queries.entry_label_for_judges(visit.entry, event),
                "event": event.title,
                "stage": stage.name,
                "timezone": event.timezone,
                "zone": label(event.timezone),
                "starts_at": visit.starts_at.isoformat() + "Z",
                "when": format_moment(visit.starts_at, event.timezone),
                "address": visit.address,
                "latitude": _coordinate(visit.latitude),
                "longitude": _coordinate(visit.longitude),
                "editable": reason is None,
                "closed_reason": reason or "",
                "status": sheet.status if sheet else "draft",
                "version": sheet.version if sheet else 0,
                "scores": {
                    str(cid): {
                        "value": number(s.value) if s.value is not None else "",
                        "comment": s.comment or "",
                    }
                    for cid, s in own_scores.items()
                },
                "checks": {
                    str(cid): {"mark": c.mark, "note": c.note or ""}
                    for cid, c in own_checks.items()
                },
                "photos": photos.get(sheet.id, {}) if sheet else {},
                "confirm": _confirmation(visit, event.timezone),
                "aspects": []
                if conflict
                else [
                    {"id": a.id, "name": a.name, "criteria": [_criterion(c) for c in a.criteria]}
                    for a in aspects.get(stage.id, [])
                ],
                "evidence": {
                    str(cid if cid is not None else "presentation"): [
                        _evidence(i) for i in items if i.criterion_id == cid
                    ]
                    for cid in {i.criterion_id for i in items}
                },
            }
        )
    tz = rows[0][0].stage.event.timezone if rows else "Asia/Makassar"
    return {
        "format": BUNDLE_FORMAT,
        "judge": {"id": judge.id, "name": judge.name},
        "prepared_at": now.isoformat() + "Z",
        "prepared_text": format_moment(now, tz),
        "visits": visits,
    }


def _confirmation(visit, tz: str) -> dict:
    """The KIM representative's confirmation as the phone shows it: given (by whom, when),
    or from when it may be given (:func:`~monev.judging.visits.confirm_opens_at`)."""
    opens = confirm_opens_at(visit)
    return {
        "done": visit.confirmed_at is not None,
        "name": visit.representative_name or "",
        "when": format_moment(visit.confirmed_at, tz) if visit.confirmed_at else "",
        "opens_at": opens.isoformat() + "Z",
        "opens": format_moment(opens, tz),
        "name_max": VISIT_NAME_MAX,
    }


# --- syncing ------------------------------------------------------------------------------


class SyncConflict(ServiceError):
    """The value the phone changed was changed on the server meanwhile (by the judge online,
    in another tab): nothing was saved; ``server`` is what is stored now."""

    def __init__(self, server: dict, version: int):
        super().__init__(
            _(
                "This was changed online since your phone was prepared; nothing was "
                "overwritten. Choose which to keep."
            ),
            status=409,
            field="conflict",
        )
        self.server = server
        self.version = version


@dataclass(frozen=True)
class Synced:
    applied: bool  # False: the key was seen before; acknowledged, nothing changed
    version: int  # the sheet's version now
    stored: dict  # what is stored now for the criterion


def _key(client_key: str | None) -> str:
    key = (client_key or "").strip()
    if not CLIENT_KEY.match(key):
        raise ServiceError(_("This save carries an unreadable key; nothing was saved."))
    return key


def _own(assignment_id: int, judge: User) -> Assignment:
    assignment = lock_assignment(assignment_id)
    if assignment is None or assignment.judge_id != judge.id:
        raise ServiceError(_("This entry is not assigned to you; nothing was saved."), status=404)
    return assignment


def _refuse_if_final(sheet) -> None:
    if sheet is not None and sheet.status == "final":
        raise ServiceError(
            _("This sheet is final and locked; only the organiser can reopen it."), status=409
        )


def _seen(sheet_id: int | None, key: str) -> bool:
    if sheet_id is None:
        return False
    return (
        db.session.scalar(
            select(SyncKey.id).where(SyncKey.sheet_id == sheet_id, SyncKey.client_key == key)
        )
        is not None
    )


def _score_of(sheet_id: int | None, criterion_id: int) -> dict:
    score = (
        db.session.scalar(
            select(Score).where(Score.sheet_id == sheet_id, Score.criterion_id == criterion_id)
        )
        if sheet_id is not None
        else None
    )
    if score is None:
        return {"value": "", "comment": ""}
    return {
        "value": number(score.value) if score.value is not None else "",
        "comment": score.comment or "",
    }


def _as_number(text: str | None) -> Decimal | None | str:
    """A typed score to compare by value ("8" is "8,0"); unreadable text compares as text."""
    try:
        return parse_score(text or "")
    except ScoreRefused:
        return (text or "").strip()


def _same_score(a: dict, b: dict) -> bool:
    return _as_number(a.get("value")) == _as_number(b.get("value")) and (
        (a.get("comment") or "").strip() == (b.get("comment") or "").strip()
    )


def sync_score(
    assignment_id: int,
    judge: User,
    *,
    criterion_id: int,
    value: str | None,
    comment: str | None,
    client_key: str | None,
    base_version: int | None,
    base_value: str | None,
    base_comment: str | None,
) -> Synced:
    """Apply one score (value and comment) the judge gave offline, once per key."""
    key = _key(client_key)
    assignment = _own(assignment_id, judge)
    sheet = locked_sheet(assignment.id)
    sheet_id = sheet.id if sheet is not None else None
    if _seen(sheet_id, key):
        return Synced(False, sheet.version, _score_of(sheet_id, criterion_id))
    _refuse_if_final(sheet)
    current = sheet.version if sheet is not None else 0
    if base_version != current:
        stored = _score_of(sheet_id, criterion_id)
        base = {"value": base_value, "comment": base_comment}
        mine = {"value": value, "comment": comment}
        if not _same_score(stored, base) and not _same_score(stored, mine):
            raise SyncConflict(stored, current)
    result = save_score(
        assignment.id,
        judge,
        criterion_id=criterion_id,
        value=value if value is not None else "",
        comment=comment if comment is not None else "",
        version=current,
    )
    db.session.add(
        SyncKey(
            sheet_id=result.sheet.id,
            client_key=key,
            kind="score",
            criterion_id=criterion_id,
            version=result.sheet.version,
        )
    )
    db.session.flush()
    return Synced(True, result.sheet.version, _score_of(result.sheet.id, criterion_id))


def _check_of(sheet_id: int | None, criterion_id: int) -> dict:
    check = (
        db.session.scalar(
            select(VisitCheck).where(
                VisitCheck.sheet_id == sheet_id, VisitCheck.criterion_id == criterion_id
            )
        )
        if sheet_id is not None
        else None
    )
    if check is None:
        return {"mark": "", "note": ""}
    return {"mark": check.mark, "note": check.note or ""}


def _same_check(a: dict, b: dict) -> bool:
    return (a.get("mark") or "") == (b.get("mark") or "") and (
        (a.get("note") or "").strip() == (b.get("note") or "").strip()
    )


def sync_check(
    assignment_id: int,
    judge: User,
    *,
    criterion_id: int,
    mark: str | None,
    note: str | None,
    client_key: str | None,
    base_mark: str | None,
    base_note: str | None,
) -> Synced:
    """Apply one checklist line the judge filled offline, once per key
    (:func:`monev.judging.visits.save_visit_check` under the same rules)."""
    key = _key(client_key)
    assignment = _own(assignment_id, judge)
    require_visit_stage(assignment.stage)
    sheet = locked_sheet(assignment.id)
    sheet_id = sheet.id if sheet is not None else None
    if _seen(sheet_id, key):
        return Synced(False, sheet.version, _check_of(sheet_id, criterion_id))
    _refuse_if_final(sheet)
    stored = _check_of(sheet_id, criterion_id)
    mine = {"mark": mark, "note": note}
    if not _same_check(stored, {"mark": base_mark, "note": base_note}) and not _same_check(
        stored, mine
    ):
        raise SyncConflict(stored, sheet.version if sheet is not None else 0)
    saved = save_visit_check(
        assignment.id, judge, criterion_id=criterion_id, mark=mark, note=note, client_key=key
    )
    sheet = locked_sheet(assignment.id)
    if saved.applied:
        db.session.add(
            SyncKey(
                sheet_id=sheet.id,
                client_key=key,
                kind="check",
                criterion_id=criterion_id,
                version=sheet.version,
            )
        )
        db.session.flush()
    return Synced(saved.applied, sheet.version, _check_of(sheet.id, criterion_id))


def sync_confirm(
    assignment_id: int,
    judge: User,
    *,
    name: str | None,
    signature: str | None,
    typed_confirmation: bool,
    confirmed_at: str | None,
    client_key: str | None,
) -> Synced:
    """The KIM representative's confirmation given on the judge's phone offline, once per key
    (:func:`monev.judging.visits.confirm_visit`, the online confirmation's service: the same
    rules and refusals, with the phone's time of the confirmation)."""
    key = _key(client_key)
    assignment = _own(assignment_id, judge)
    require_visit_stage(assignment.stage)
    visit = visit_of(assignment)
    if visit is None:
        raise ServiceError(_("This visit is not one of your team's."), status=404)
    saved = confirm_visit(
        visit.id,
        judge,
        name=name,
        signature=signature,
        typed_confirmation=typed_confirmation,
        client_key=key,
        confirmed_at=confirmed_at if confirmed_at is not None else "",
    )
    sheet = locked_sheet(assignment.id)
    return Synced(
        saved.applied,
        sheet.version if sheet is not None else 0,
        _confirmation(saved.visit, saved.visit.stage.event.timezone),
    )
