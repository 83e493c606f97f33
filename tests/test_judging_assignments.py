"""Panel, conflicts of interest and assignments, by hand and automatic, through the pages."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from monev.extensions import db
from tests.conftest import outbox_messages, t
from tests.judging_setup import autosave, build, sign_in, snapshot


@pytest.fixture
def admin(app):
    def make(setup):
        client = app.test_client()
        return client, sign_in(client, setup.admin_email)

    return make


def _pairs(app, stage_id):
    from monev.judging.models import Assignment

    with app.app_context():
        return set(
            db.session.execute(
                select(Assignment.entry_id, Assignment.judge_id).where(
                    Assignment.stage_id == stage_id
                )
            ).all()
        )


def _home(app, judge_id, code):
    from monev.judging.models import EventJudge
    from monev.regions.models import District

    with app.app_context():
        ej = db.session.scalar(select(EventJudge).where(EventJudge.user_id == judge_id))
        ej.home_district_id = db.session.scalar(select(District.id).where(District.code == code))
        db.session.commit()


def test_invite_a_new_judge_to_the_panel(app, admin):
    setup = build(app, assign=False)
    client, token = admin(setup)
    url = f"/admin/events/{setup.slug}/judging/judges"
    with app.app_context():
        from monev.regions.models import District

        samarinda = db.session.scalar(select(District.id).where(District.code == "64.72"))
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "Dr. Siti Aminah",
            "email": "Siti.Aminah@Unmul.ac.id",
            "institution": "Universitas Mulawarman",
            "home_district_id": samarinda,
            "stages": [setup.stage_id],
        },
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Dr. Siti Aminah" in page and "siti.aminah@unmul.ac.id" in page
    (mail,) = [m for m in outbox_messages(app) if m.to == "siti.aminah@unmul.ac.id"]
    assert "/invitation/" in mail.body or "http" in mail.body
    # The same address again is refused; an admin's address is not a judge's.
    again = client.post(
        url, data={"csrf_token": token, "name": "X", "email": "siti.aminah@unmul.ac.id"}
    )
    assert again.status_code == 422
    assert t(app, "This judge is already on the panel.") in again.get_data(as_text=True)
    other = client.post(url, data={"csrf_token": token, "name": "X", "email": setup.admin_email})
    assert other.status_code == 422


def test_manual_assignment_follows_the_rules(app, admin):
    setup = build(app, assign=False)
    client, token = admin(setup)
    url = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/assignments"
    e0, j0, j1 = setup.entries[0], setup.judges[0]["id"], setup.judges[1]["id"]
    assert (
        client.post(url, data={"csrf_token": token, "entry_id": e0, "judge_id": j0}).status_code
        == 302
    )
    assert _pairs(app, setup.stage_id) == {(e0, j0)}
    before = snapshot(app)
    dup = client.post(url, data={"csrf_token": token, "entry_id": e0, "judge_id": j0})
    assert dup.status_code == 422
    assert t(app, "This judge is already assigned to this entry.") in dup.get_data(as_text=True)
    _home(app, j1, "64.04")  # entry 0 is from Kutai Timur (64.04)
    before = snapshot(app)
    same = client.post(url, data={"csrf_token": token, "entry_id": e0, "judge_id": j1})
    assert same.status_code == 422
    assert t(app, "This judge comes from the entry's own kabupaten/kota and may not score it.") in (
        same.get_data(as_text=True)
    )
    assert snapshot(app) == before
    conflicts = f"/admin/events/{setup.slug}/judging/conflicts"
    e1 = setup.entries[1]
    assert (
        client.post(
            conflicts,
            data={"csrf_token": token, "judge_id": j0, "entry_id": e1, "reason": "Kerabat"},
        ).status_code
        == 302
    )
    before = snapshot(app)
    conflicted = client.post(url, data={"csrf_token": token, "entry_id": e1, "judge_id": j0})
    assert conflicted.status_code == 422
    assert t(app, "This judge has a conflict of interest with this entry.") in conflicted.get_data(
        as_text=True
    )
    assert snapshot(app) == before


def test_judge_not_on_the_stage_panel_cannot_be_assigned(app, admin):
    setup = build(app, assign=False)
    client, token = admin(setup)
    j2 = setup.judges[2]["id"]
    edit = f"/admin/events/{setup.slug}/judging/judges/{j2}"
    assert client.post(edit, data={"csrf_token": token, "home_district_id": ""}).status_code == 302
    url = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/assignments"
    before = snapshot(app)
    response = client.post(
        url, data={"csrf_token": token, "entry_id": setup.entries[0], "judge_id": j2}
    )
    assert response.status_code == 422  # not even offered in the form
    assert snapshot(app) == before
    from monev.core.errors import ServiceError
    from monev.events.models import Stage
    from monev.judging import services

    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            services.assign(
                db.session.get(Stage, setup.stage_id), entry_id=setup.entries[0], judge_id=j2
            )
        assert refused.value.message == html.unescape(
            t(app, "Choose a judge of this stage's panel.")
        )


def _auto(client, setup):
    return client.get(f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/auto")


def _apply(client, token, setup, page):
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page).group(1)
    return client.post(
        f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/auto",
        data={"csrf_token": token, "fingerprint": fingerprint},
    )


def test_automatic_assignment_preview_apply_and_rerun(app, admin):
    setup = build(app, n_entries=6, n_judges=4, assign=False, judges_per_entry=2)
    client, token = admin(setup)
    page = _auto(client, setup).get_data(as_text=True)
    assert t(app, "A complete plan is possible.") in page
    assert _apply(client, token, setup, page).status_code == 302
    pairs = _pairs(app, setup.stage_id)
    assert len(pairs) == 12
    loads = [sum(1 for _e, j in pairs if j == judge["id"]) for judge in setup.judges]
    assert sorted(loads) == [3, 3, 3, 3]
    # Re-running changes nothing.
    page = _auto(client, setup).get_data(as_text=True)
    assert t(app, "Nothing to change: the current assignments already follow the plan.") in page
    # A judge scores one entry, then declares a conflict on another: a re-run keeps the
    # scored assignment and releases the conflicted one, giving that entry another judge.
    judge = app.test_client()
    jtoken = sign_in(judge, setup.judges[0]["email"])
    from monev.judging.models import Assignment

    with app.app_context():
        mine = list(
            db.session.scalars(
                select(Assignment)
                .where(Assignment.judge_id == setup.judges[0]["id"])
                .order_by(Assignment.id)
            )
        )
        scored, conflicted = mine[0], mine[1]
        scored_pair = (scored.entry_id, scored.judge_id)
        conflicted_pair = (conflicted.entry_id, conflicted.judge_id)
    assert autosave(judge, jtoken, scored.id, setup.criteria[0], "8", 0).status_code == 200
    assert (
        judge.post(
            f"/judge/assignments/{conflicted.id}/conflict",
            data={
                "csrf_token": jtoken,
                "reason": "Saya pernah menjadi pendamping KIM ini.",
                "confirm": "y",
            },
        ).status_code
        == 302
    )
    page = _auto(client, setup).get_data(as_text=True)
    assert _apply(client, token, setup, page).status_code == 302
    pairs = _pairs(app, setup.stage_id)
    assert scored_pair in pairs
    assert conflicted_pair not in pairs
    assert sum(1 for e, _j in pairs if e == conflicted_pair[0]) == 2


def test_stale_plan_is_not_applied(app, admin):
    setup = build(app, assign=False, judges_per_entry=2)
    client, token = admin(setup)
    page = _auto(client, setup).get_data(as_text=True)
    url = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/assignments"
    client.post(
        url,
        data={"csrf_token": token, "entry_id": setup.entries[0], "judge_id": setup.judges[2]["id"]},
    )
    before = snapshot(app)
    response = _apply(client, token, setup, page)
    assert response.status_code == 409
    assert t(app, "The assignments changed since this plan was made. Review the new plan.") in (
        response.get_data(as_text=True)
    )
    assert snapshot(app) == before


def test_impossible_plan_says_why_and_what_it_can_do(app, admin):
    setup = build(app, n_entries=3, n_judges=3, assign=False, judges_per_entry=3)
    client, token = admin(setup)
    _home(app, setup.judges[0]["id"], "64.04")  # entry K-001 is from 64.04
    page = _auto(client, setup).get_data(as_text=True)
    assert t(app, "A complete plan is not possible.") in page
    assert "K-001" in page
    assert t(app, "Apply this incomplete plan") in page
    assert _apply(client, token, setup, page).status_code == 302
    pairs = _pairs(app, setup.stage_id)
    assert (setup.entries[0], setup.judges[0]["id"]) not in pairs
    assert sum(1 for e, _j in pairs if e == setup.entries[0]) == 2


def test_unassign_refuses_final_sheets_and_logs_dropped_scores(app, admin):
    from monev.audit.models import AuditEntry

    setup = build(app)
    client, token = admin(setup)
    judge = app.test_client()
    jtoken = sign_in(judge, setup.judges[0]["email"])
    a = setup.assignment(0, 0)
    autosave(judge, jtoken, a, setup.criteria[0], "8", 0)
    url = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/assignments/{a}/delete"
    assert client.post(url, data={"csrf_token": token}).status_code == 303
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "assignment.removed")
        )
        assert entry.changes["dropped_scores"] == {str(setup.criteria[0]): ["8.00", None]}
    b = setup.assignment(1, 0)
    judge.post(
        f"/judge/sheets/{b}/finalise",
        data={
            "csrf_token": jtoken,
            "version": 0,
            "confirm": "y",
            f"value-{setup.criteria[0]}": "8",
            f"value-{setup.criteria[1]}": "8",
        },
    )
    before = snapshot(app)
    url = f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/assignments/{b}/delete"
    client.post(url, data={"csrf_token": token})
    assert snapshot(app) == before


def test_remove_judge_with_assignments_is_refused(app, admin):
    setup = build(app)
    client, token = admin(setup)
    before = snapshot(app)
    url = f"/admin/events/{setup.slug}/judging/judges/{setup.judges[0]['id']}/remove"
    assert client.post(url, data={"csrf_token": token}).status_code == 303
    assert snapshot(app) == before


def test_judges_see_coded_ids_unless_the_organiser_chooses_names(app, admin):
    setup = build(app)
    judge = app.test_client()
    sign_in(judge, setup.judges[0]["email"])
    a = setup.assignment(0, 0)
    name = setup.kim_names[setup.entries[0]]
    for url in ("/", "/judge/", f"/judge/sheets/{a}"):
        page = judge.get(url).get_data(as_text=True)
        assert "K-001" in page
        assert name not in page
    client, token = admin(setup)
    response = client.post(
        f"/admin/events/{setup.slug}/judging/", data={"csrf_token": token, "judges_see_names": "y"}
    )
    assert response.status_code == 302
    assert name in judge.get(f"/judge/sheets/{a}").get_data(as_text=True)
