"""Every route, every role: who may use it is enforced on the server.

EXPECTED lists every endpoint of the app with the roles that may use it. A new route that
is not listed here fails ``test_every_route_is_listed``; a route whose server-side rule
differs from this table fails ``test_role_access``. "public" means anyone, signed in or not.
"""

from __future__ import annotations

import pytest

from monev.core import access
from tests.conftest import csrf_token, login

ANON, ADMIN, OPERATOR, KIM, JUDGE = "anonymous", "admin", "operator", "kim", "judge"
SIGNED_IN = {ADMIN, OPERATOR, KIM, JUDGE}
PUBLIC = {ANON} | SIGNED_IN

EXPECTED: dict[str, set[str]] = {
    "static": PUBLIC,
    "public.home": PUBLIC,
    "ops.healthz": PUBLIC,
    "ops.readyz": PUBLIC,
    "ops.prometheus": PUBLIC,
    "ops.system": {ADMIN},
    "auth.login": PUBLIC,
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.accept_invitation": PUBLIC,
    "auth.request_sign_in_link": PUBLIC,
    "auth.sign_in_link": PUBLIC,
    "auth.set_language": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.account": SIGNED_IN,
    "auth.update_profile": SIGNED_IN,
    "auth.update_channels": SIGNED_IN,
    "notify.index": SIGNED_IN,
    "notify.open": SIGNED_IN,
    "notify.read_all": SIGNED_IN,
    "auth.change_password": SIGNED_IN,
    "auth.end_other_sessions": SIGNED_IN,
    "admin.index": {ADMIN},
    "admin.users": {ADMIN},
    "admin.invite_user": {ADMIN},
    "admin.edit_user": {ADMIN},
    "admin.resend_invitation": {ADMIN},
    "admin.outbox": {ADMIN},
    "admin.outbox_message": {ADMIN},
    "admin.signing": {ADMIN},
    "admin.remove_trust_root": {ADMIN},
    "audit.index": {ADMIN},
    "audit.check": {ADMIN},
    "regions.index": {ADMIN},
    "regions.district": {ADMIN},
    "public.event": PUBLIC,
    "public.event_logo": PUBLIC,
    "events.logo": {ADMIN},
    "events.index": {ADMIN},
    "events.create": {ADMIN},
    "events.detail": {ADMIN},
    "lifecycle.move": {ADMIN},
    "lifecycle.standing_page": {ADMIN},
    "lifecycle.change_standing": {ADMIN},
    "lifecycle.selection_page": {ADMIN},
    "lifecycle.selection_rule": {ADMIN},
    "lifecycle.selection_confirm": {ADMIN},
    "lifecycle.selection_undo": {ADMIN},
    "events.stage": {ADMIN},
    "events.delete_stage": {ADMIN},
    "events.category": {ADMIN},
    "events.delete_category": {ADMIN},
    "rubrics.index": {ADMIN},
    "rubrics.summary": {ADMIN},
    "rubrics.add_aspect": {ADMIN},
    "rubrics.edit_aspect": {ADMIN},
    "rubrics.delete_aspect": {ADMIN},
    "rubrics.move_aspect": {ADMIN},
    "rubrics.new_criterion": {ADMIN},
    "rubrics.edit_criterion": {ADMIN},
    "rubrics.criterion_row": {ADMIN},
    "rubrics.delete_criterion": {ADMIN},
    "rubrics.move_criterion": {ADMIN},
    "rubrics.copy": {ADMIN},
    "directory.index": {ADMIN, OPERATOR},
    "directory.create": {ADMIN, OPERATOR},
    "directory.detail": {ADMIN, OPERATOR, KIM},
    "directory.edit": {ADMIN, OPERATOR, KIM},
    "nominations.district": {OPERATOR},
    "nominations.nominate": {OPERATOR},
    "nominations.nominate_new": {OPERATOR},
    "nominations.withdraw": {OPERATOR},
    "nominations.admin_index": {ADMIN},
    "nominations.decide": {ADMIN},
    "nominations.quotas": {ADMIN},
    "transfer.index": {ADMIN},
    "transfer.import_package": {ADMIN},
    "transfer.export_package": {ADMIN},
    "transfer.rubric": {ADMIN},
    "transfer.export_rubric_json": {ADMIN},
    "transfer.export_rubric_excel": {ADMIN},
    "workspace.index": {KIM},
    "workspace.profile": {KIM},
    "workspace.upload": {KIM},
    "workspace.upload_presentation": {KIM},
    "workspace.add_link": {KIM},
    "workspace.add_presentation_link": {KIM},
    "workspace.remove": {KIM},
    "workspace.submit": {KIM},
    "workspace.file": {ADMIN, KIM, JUDGE},
    "workspace.thumbnail": {ADMIN, KIM, JUDGE},
    "verification.queue": {ADMIN},
    "verification.entry": {ADMIN},
    "verification.verify": {ADMIN},
    "verification.send_back": {ADMIN},
    "verification.progress": {OPERATOR},
    "results.index": {ADMIN},
    "results.entry": {ADMIN},
    "results.publish": {ADMIN},
    "results.export_excel": {ADMIN},
    "results.export_csv": {ADMIN},
    "results.add_special_award": {ADMIN},
    "results.remove_special_award": {ADMIN},
    "results.announce": {ADMIN},
    "results.acknowledge": {ADMIN},
    "results.resolve": {ADMIN},
    "results_kim.kim_index": {KIM},
    "results_kim.kim_object": {KIM},
    "results_public.public_index": PUBLIC,
    "results_public.public_category": PUBLIC,
    "results_public.public_version": PUBLIC,
    "api.openapi": PUBLIC,
    "api.events": PUBLIC,
    "api.event_results": PUBLIC,
    "judging.index": {ADMIN},
    "judging.judges": {ADMIN},
    "judging.edit_judge": {ADMIN},
    "judging.remove_judge": {ADMIN},
    "judging.conflicts": {ADMIN},
    "judging.delete_conflict": {ADMIN},
    "judging.assignments": {ADMIN},
    "judging.unassign": {ADMIN},
    "judging.auto_assign": {ADMIN},
    "judging.progress": {ADMIN},
    "judging.judge_sheets": {ADMIN},
    "judging.entry_sheets": {ADMIN},
    "judging.remind": {ADMIN},
    "judging.sheet_detail": {ADMIN},
    "judging.drop_sheet": {ADMIN},
    "judging.restore_sheet": {ADMIN},
    "judging.changes": {ADMIN},
    "judging.schedule": {ADMIN},
    "judging.edit_slot": {ADMIN},
    "judging.visits_board": {ADMIN},
    "judging.edit_visit": {ADMIN},
    "judging.paper_index": {ADMIN},
    "judging.paper_template": {ADMIN},
    "judging.paper_entry_form": {ADMIN},
    "judging.paper_import": {ADMIN},
    "judging.paper_apply": {ADMIN},
    "judge.index": {JUDGE},
    "judge.sheet": {JUDGE},
    "judge.finalise": {JUDGE},
    "judge.save_score": {JUDGE},
    "judge.declare_conflict": {JUDGE},
    "judge.paper_form": {JUDGE},
    "schedule.mine": {JUDGE, KIM},
    "schedule.visit": {JUDGE, KIM, ADMIN},
    "schedule.visit_photo": {JUDGE, ADMIN},
    "schedule.confirm_visit": {JUDGE},
    "schedule.visit_minutes": {JUDGE, KIM, ADMIN},
    "judge.save_visit_check": {JUDGE},
    "judge.save_visit_photo": {JUDGE},
    "judge.delete_visit_photo": {JUDGE},
    "judge.offline_prepare": {JUDGE},
    "judge.offline_bundle": {JUDGE},
    "judge.offline_session": {JUDGE},
    "judge.sync": {JUDGE},
    "offline.service_worker": PUBLIC,
    "offline.manifest": PUBLIC,
    "offline.shell": PUBLIC,
    "certificates.verify": PUBLIC,
    "certificates.verify_form": PUBLIC,
    "certificates.verify_upload": PUBLIC,
    "certificates.admin_index": {ADMIN},
    "certificates.issue": {ADMIN},
    "certificates.settings": {ADMIN},
    "certificates.preview": {ADMIN},
    "certificates.revoke": {ADMIN},
    "certificates.reissue": {ADMIN},
    "certificates.download": {ADMIN, KIM, JUDGE},
    "certificate_batches.start": {ADMIN},
    "certificate_batches.progress": {ADMIN},
    "certificate_batches.download_pdf": {ADMIN},
    "certificate_batches.download_zip": {ADMIN},
    "documents.admin_index": {ADMIN},
    "documents.sign": {ADMIN},
    "documents.berita_acara": {ADMIN},
    "documents.decree": {ADMIN},
    "documents.all_rapor": {ADMIN},
    "documents.rapor": {ADMIN},
    "documents.kim_rapor": {KIM},
}

ROLES = [ANON, ADMIN, OPERATOR, KIM, JUDGE]


def test_every_route_is_listed(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(EXPECTED), (
        "Routes without an entry in EXPECTED (add them with the roles that may use them): "
        f"{sorted(endpoints - set(EXPECTED))}; listed but gone: {sorted(set(EXPECTED) - endpoints)}"
    )


def test_every_route_has_a_server_side_rule(app):
    with app.test_request_context():
        missing = [e for e in EXPECTED if access.rule_for(e) is None]
    assert missing == []


@pytest.fixture
def people(make_user, make_kim):
    kim = make_kim(name="KIM Matriks", district_code="64.04")
    return {
        ADMIN: make_user("admin"),
        OPERATOR: make_user("operator", district_code="64.04"),
        KIM: make_user("kim", kim=kim),
        JUDGE: make_user("judge"),
        "kim_record": kim,
    }


def _url(app, rule, people, role):
    values = {}
    for arg in rule.arguments:
        values[arg] = {
            "user_id": (people.get(role) or people[ADMIN]).id,
            "kim_id": people["kim_record"].id,
            "code": "en" if rule.endpoint == "auth.set_language" else "64.04",
            "token": "bukan-token",
            "name": "tidak-ada.eml",
            "filename": "css/app.css",
            "slug": "tidak-ada",
            "stage_id": 1,
            "category_id": 1,
            "aspect_id": 1,
            "criterion_id": 1,
            "entry_id": 1,
            "evidence_id": 1,
            "judge_id": 1,
            "conflict_id": 1,
            "assignment_id": 1,
            "sheet_id": 1,
            "category_key": "desa",
            "version": 1,
            "certificate_id": 1,
            "batch_id": 1,
            "target": "nomination",
            "action": "withdraw",
            "award_id": 1,
            "objection_id": 1,
            "notification_id": 1,
            "root_id": 1,
            "visit_id": 1,
            "photo_id": 1,
        }[arg]
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _denied(response) -> bool:
    if response.status_code == 403:
        return True
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
def test_role_access(app, people, role):
    client = app.test_client()
    if role != ANON:
        login(client, people[role].email)
    token = csrf_token(client)
    problems = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"auth.logout"}:
            continue  # would end the session used by the rest of this loop; tested below
        url = _url(app, rule, people, role)
        if "GET" in rule.methods:
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        allowed = role in EXPECTED[rule.endpoint]
        if allowed and _denied(response):
            problems.append(f"{role} refused at {rule.endpoint} ({response.status_code})")
        if not allowed and not _denied(response):
            problems.append(f"{role} reached {rule.endpoint} ({response.status_code})")
        if response.status_code >= 500:
            problems.append(f"{role} got {response.status_code} at {rule.endpoint}")
    assert problems == []


@pytest.mark.parametrize("role", ROLES)
def test_logout_access(app, people, role):
    client = app.test_client()
    if role != ANON:
        login(client, people[role].email)
    token = csrf_token(client)
    response = client.post("/logout", data={"csrf_token": token})
    if role in EXPECTED["auth.logout"]:
        assert response.headers["Location"] == "/login"  # signed out
        assert client.get("/account").headers["Location"].startswith("/login?next=")
    else:
        assert response.headers["Location"].startswith("/login?next=")  # asked to sign in


@pytest.mark.real_commits
def test_unlisted_route_is_refused_by_default(app, make_user):
    """Deny by default: a view registered without any rule answers 403 even to an admin."""
    from flask import Blueprint

    bp = Blueprint("forgotten", __name__)

    @bp.route("/forgotten")
    def forgotten():
        return "should never be served"

    app.register_blueprint(bp)
    admin = make_user("admin")
    client = app.test_client()
    login(client, admin.email)
    assert client.get("/forgotten").status_code == 403
