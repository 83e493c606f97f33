"""Notifications: recorded once with the change, delivered after the commit by e-mail and a
WhatsApp gateway (a local HTTP server here), retried with back-off, never failing the
request; the in-app list; channels on Akun saya; H-3 / H-1 reminders with a frozen clock."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monev.auth.models import User
from monev.core.timeutil import utcnow
from monev.entries.models import Entry
from monev.entries.workspace import reminders as kim_reminders
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging import reminders as judge_reminders
from monev.notify import services as notify_services
from monev.notify.catalog import KINDS
from monev.notify.models import Delivery, Notification
from tests.conftest import login, outbox_messages, post, t
from tests.submission_fixtures import *  # noqa: F403
from tests.submission_fixtures import SLUG, close_window, set_entry

README = Path(__file__).resolve().parents[1] / "README.md"


# --- a WhatsApp gateway on 127.0.0.1 ----------------------------------------------------------


class Gateway:
    """Records every POST; answers ``status`` (200 unless a test makes it fail)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"] or 0))
                gateway.requests.append(
                    {"auth": self.headers.get("Authorization"), "body": json.loads(body)}
                )
                self.send_response(gateway.status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(app):
    server = Gateway()
    app.config.update(WHATSAPP_URL=server.url, WHATSAPP_TOKEN="rahasia-uji")
    yield server
    server.close()


def _notes(app, email=None, kind=None) -> list[Notification]:
    with app.app_context():
        query = select(Notification).join(User, User.id == Notification.user_id)
        if email:
            query = query.where(User.email == email)
        if kind:
            query = query.where(Notification.kind == kind)
        return db.session.scalars(query.order_by(Notification.id)).all()


def _deliveries(app, channel=None) -> list[Delivery]:
    with app.app_context():
        query = select(Delivery).order_by(Delivery.id)
        if channel:
            query = query.where(Delivery.channel == channel)
        return db.session.scalars(query).all()


def _with_whatsapp(app, email, phone="0812 5500 1234"):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        user.notify_whatsapp, user.phone = True, phone
        db.session.commit()


def _send_back(client, finalist, note="SK kedaluwarsa: unggah SK terbaru."):
    deadline = utcnow() + timedelta(days=2) + timedelta(hours=8)  # WITA wall clock, ahead
    return post(
        client,
        f"/admin/events/{finalist.slug}/verification/{finalist.entry_id}/send-back",
        {"note": note, "deadline": f"{deadline:%Y-%m-%dT%H:%M}"},
    )


@pytest.fixture
def returned_setup(app, make_finalist, make_user):
    finalist = make_finalist(status="verification")
    set_entry(app, finalist.entry_id, submission_status="submitted", submitted_at=utcnow())
    admin = make_user("admin")
    client = app.test_client()
    login(client, admin.email)
    return finalist, client


# --- the table ------------------------------------------------------------------------------


def test_readme_lists_every_notification_of_the_table():
    text = README.read_text(encoding="utf-8")
    section = text.split("### Notifications", 1)[1].split("\n## ", 1)[0]
    for kind in KINDS.values():
        assert f"`{kind.code}`" in section, f"README's notification table lacks {kind.code}"


# --- recorded once, after commit, delivered ---------------------------------------------------


def test_a_sent_back_entry_tells_its_kim_once_in_the_app_and_by_email(app, returned_setup):
    finalist, client = returned_setup
    assert _send_back(client, finalist).status_code == 303

    (note,) = _notes(app, finalist.email)
    assert note.kind == "entry_returned"
    (mail,) = [m for m in outbox_messages(app) if m.to == finalist.email]
    assert mail.subject == t(app, "%(event)s: your entry needs fixes", event="Monev KIM Uji 2026")
    assert "SK kedaluwarsa: unggah SK terbaru." in mail.body
    assert (_deliveries(app)[0].status, _deliveries(app)[0].attempts) == ("sent", 1)

    # The KIM sees it in the app with an unread count, opens it, and lands on its entry.
    kim = app.test_client()
    login(kim, finalist.email)
    home = kim.get("/").get_data(as_text=True)
    assert re.search(r'class="badge">1<', home)
    listing = kim.get("/notifications").get_data(as_text=True)
    assert "SK kedaluwarsa: unggah SK terbaru." in listing
    opened = kim.get(f"/notifications/{note.id}/open")
    assert opened.status_code == 302 and opened.location.endswith(f"/entry/{finalist.slug}")
    assert _notes(app, finalist.email)[0].read_at is not None
    assert 'class="badge"' not in kim.get("/").get_data(as_text=True)


def test_asking_twice_records_once(app, returned_setup):
    finalist, _client = returned_setup
    with app.test_request_context():
        entry = db.session.get(Entry, finalist.entry_id)
        users = db.session.scalars(select(User).where(User.email == finalist.email)).all()
        first = notify_services.notify(users, "entry_verified", key="x", params={"entry": "K"})
        again = notify_services.notify(users, "entry_verified", key="x", params={"entry": "K"})
        db.session.commit()
    assert (first, again) == (1, 0)
    assert len(_notes(app, finalist.email)) == 1
    assert entry is not None


def test_nothing_is_recorded_or_sent_for_a_change_that_rolled_back(app, returned_setup):
    finalist, _client = returned_setup
    with app.test_request_context():
        users = db.session.scalars(select(User).where(User.email == finalist.email)).all()
        notify_services.notify(users, "entry_verified", key="y", params={"entry": "K"})
        db.session.rollback()
    assert _notes(app, finalist.email) == []
    assert outbox_messages(app) == []


def test_a_refused_action_tells_nobody(app, returned_setup):
    finalist, client = returned_setup
    refused = _send_back(client, finalist, note="")
    assert refused.status_code == 422
    assert _notes(app) == [] and outbox_messages(app) == []


# --- WhatsApp gateway -----------------------------------------------------------------------


def test_whatsapp_goes_through_the_gateway_with_the_token_and_a_normalised_number(
    app, returned_setup, gateway
):
    finalist, client = returned_setup
    _with_whatsapp(app, finalist.email, "0812-5500 1234")
    assert _send_back(client, finalist).status_code == 303

    (request,) = gateway.requests
    assert request["auth"] == "rahasia-uji"
    assert request["body"]["target"] == "6281255001234"
    assert "SK kedaluwarsa: unggah SK terbaru." in request["body"]["message"]
    assert [d.status for d in _deliveries(app, "whatsapp")] == ["sent"]


def test_a_failing_gateway_never_fails_the_request_and_is_retried_with_back_off(
    app, returned_setup, gateway
):
    finalist, client = returned_setup
    _with_whatsapp(app, finalist.email)
    gateway.status = 502

    assert _send_back(client, finalist).status_code == 303  # the user's action went through
    (delivery,) = _deliveries(app, "whatsapp")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "502" in delivery.last_error
    assert delivery.next_attempt_at > utcnow()
    assert [d.status for d in _deliveries(app, "email")] == ["sent"]  # e-mail is unaffected

    with app.test_request_context():  # not due yet: nothing is sent again
        assert notify_services.deliver_due() == 0
    assert len(gateway.requests) == 1

    gateway.status = 200
    with app.test_request_context():
        assert notify_services.deliver_due(now=utcnow() + timedelta(minutes=2)) == 1
        db.session.commit()
    assert [d.status for d in _deliveries(app, "whatsapp")] == ["sent"]
    assert len(gateway.requests) == 2
    with app.test_request_context():  # sent stays sent: never twice
        assert notify_services.deliver_due(now=utcnow() + timedelta(days=1)) == 0
    assert len(gateway.requests) == 2


def test_a_gateway_that_keeps_failing_is_given_up_and_shown_as_failed(app, returned_setup, gateway):
    finalist, client = returned_setup
    _with_whatsapp(app, finalist.email)
    gateway.status = 500
    _send_back(client, finalist)
    later = utcnow()
    with app.test_request_context():
        for _attempt in range(notify_services.MAX_ATTEMPTS + 2):
            later += timedelta(hours=5)
            notify_services.deliver_due(now=later)
        db.session.commit()
    (delivery,) = _deliveries(app, "whatsapp")
    assert (delivery.status, delivery.attempts) == ("failed", notify_services.MAX_ATTEMPTS)
    assert len(gateway.requests) == notify_services.MAX_ATTEMPTS

    kim = app.test_client()
    login(kim, finalist.email)
    assert t(app, "could not be sent") in kim.get("/notifications").get_data(as_text=True)


# --- the in-app list --------------------------------------------------------------------------


def test_another_persons_notification_is_not_found(app, returned_setup, make_user):
    finalist, client = returned_setup
    _send_back(client, finalist)
    (note,) = _notes(app, finalist.email)
    stranger = app.test_client()
    login(stranger, make_user("kim").email)
    assert stranger.get(f"/notifications/{note.id}/open").status_code == 404
    assert stranger.get("/notifications/999999/open").status_code == 404
    assert _notes(app, finalist.email)[0].read_at is None


def test_mark_all_read_needs_the_form_token(app, returned_setup):
    finalist, client = returned_setup
    _send_back(client, finalist)
    kim = app.test_client()
    login(kim, finalist.email)
    assert kim.post("/notifications/read").status_code == 400  # no CSRF token
    assert _notes(app, finalist.email)[0].read_at is None
    assert post(kim, "/notifications/read").status_code == 302
    assert _notes(app, finalist.email)[0].read_at is not None


def test_the_list_needs_a_sign_in(app):
    response = app.test_client().get("/notifications")
    assert response.status_code == 302 and "/login" in response.location


# --- channels on Akun saya --------------------------------------------------------------------


def test_channels_refuse_a_bad_number_and_keep_the_input(app, make_user, gateway):
    user = make_user("judge")
    client = app.test_client()
    login(client, user.email)
    bad = post(
        client,
        "/account/channels",
        {"notify_email": "y", "notify_whatsapp": "y", "phone": "nomor saya"},
    )
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert t(app, "Enter an Indonesian mobile number, like 0812 5500 1234.") in page
    assert 'value="nomor saya"' in page
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert (stored.notify_whatsapp, stored.phone) == (False, None)

    missing = post(client, "/account/channels", {"notify_whatsapp": "y", "phone": ""})
    assert missing.status_code == 422
    assert t(app, "Enter the number that receives WhatsApp messages.") in missing.get_data(
        as_text=True
    )

    good = post(client, "/account/channels", {"notify_whatsapp": "y", "phone": "+62 812 1111 2222"})
    assert good.status_code == 302
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert (stored.notify_email, stored.notify_whatsapp) == (False, True)
        assert stored.phone == "+62 812 1111 2222"


def test_email_switched_off_leaves_the_in_app_notification(app, returned_setup):
    finalist, client = returned_setup
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == finalist.email))
        user.notify_email = False
        db.session.commit()
    _send_back(client, finalist)
    assert len(_notes(app, finalist.email)) == 1
    assert outbox_messages(app) == [] and _deliveries(app) == []


# --- steps of the competition -----------------------------------------------------------------


def test_opening_submission_tells_every_finalist(app, make_finalist, make_user):
    finalists = [make_finalist(status="nomination") for _ in range(2)]
    with app.app_context():
        for stage in db.session.scalars(select(Stage)):
            stage.opens_at, stage.closes_at = utcnow(), utcnow() + timedelta(days=20)
        db.session.commit()
    admin = make_user("admin")
    client = app.test_client()
    login(client, admin.email)
    response = post(
        client, f"/admin/events/{SLUG}/phase/submission", {"confirm": "y", "acknowledge": []}
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:3000]
    for finalist in finalists:
        (note,) = _notes(app, finalist.email, "submission_opened")
        assert note.link == f"/entry/{SLUG}"
    subjects = {m.subject for m in outbox_messages(app)}
    assert t(app, "%(event)s: you can upload your evidence now", event="Monev KIM Uji 2026") in (
        subjects
    )


def test_a_window_that_closes_tells_the_kim_and_its_operator_once(app, five, make_user):
    operator = make_user("operator", district_code="64.04")
    close_window(app, five[0].event_id)
    with app.test_request_context():
        event = db.session.get(Event, five[0].event_id)
        from monev.entries import standing

        standing.sweep(event)
        standing.sweep(event)
        db.session.commit()
    assert len(_notes(app, five[1].email, "standing_changed")) == 1
    assert len(_notes(app, operator.email, "finalist_standing")) == 4
    assert _notes(app, five[0].email) == []  # it submitted: nothing changed for it


# --- reminders with a frozen clock --------------------------------------------------------------


def test_kim_reminders_fire_at_h3_and_h1_once_each(app, make_finalist):
    finalist = make_finalist(closes=timedelta(days=10))
    with app.app_context():
        deadline = db.session.scalar(
            select(func.min(Stage.closes_at)).where(Stage.event_id == finalist.event_id)
        )

    def run(at):
        with app.test_request_context():
            event = db.session.get(Event, finalist.event_id)
            made = kim_reminders.remind_event(event, now=at)
            db.session.commit()
            return made

    assert run(deadline - timedelta(days=4)) == 0
    assert run(deadline - timedelta(days=3)) == 1
    assert run(deadline - timedelta(days=2, hours=12)) == 0  # already told
    assert run(deadline - timedelta(hours=23)) == 1
    assert run(deadline - timedelta(hours=2)) == 0
    assert run(deadline + timedelta(hours=1)) == 0  # past: no reminder
    kinds = [n.kind for n in _notes(app, finalist.email)]
    assert kinds == ["deadline_h3", "deadline_h1"]
    missing = _notes(app, finalist.email)[0].params["missing"]
    assert re.fullmatch(r"\d+ dari \d+ butir masih kurang", missing), missing
    (mail, *_later) = [m for m in outbox_messages(app) if m.to == finalist.email]
    assert missing in mail.body


def test_submitted_entries_get_no_reminder(app, make_finalist):
    finalist = make_finalist(closes=timedelta(days=2))
    set_entry(app, finalist.entry_id, submission_status="submitted", submitted_at=utcnow())
    with app.test_request_context():
        event = db.session.get(Event, finalist.event_id)
        assert kim_reminders.remind_event(event) == 0


def test_judge_reminders_fire_at_h3_and_h1_for_sheets_not_final(app):
    from tests import judging_setup

    setup = judging_setup.build(app, n_entries=2, n_judges=2, judges_per_entry=2)
    with app.app_context():
        stage = db.session.get(Stage, setup.stage_id)
        stage.closes_at = utcnow() + timedelta(days=10)
        db.session.commit()
        closes = stage.closes_at

    def run(at):
        with app.test_request_context():
            made = judge_reminders.remind_stage(db.session.get(Stage, setup.stage_id), now=at)
            db.session.commit()
            return made

    assert run(closes - timedelta(days=5)) == 0
    assert run(closes - timedelta(days=2)) == 2  # both judges, each with 2 sheets open
    assert run(closes - timedelta(days=2)) == 0
    assert run(closes - timedelta(hours=12)) == 2
    (note, *_rest) = _notes(app, setup.judges[0]["email"], "judging_h3")
    assert note.params["count"] == 2


# --- results --------------------------------------------------------------------------------------


def _kim_account(app, entry_id, make_user, district_code="64.04"):
    """A KIM account for a results_factory entry (and an operator of the KIM's district)."""
    from monev.directory.models import Kim

    with app.app_context():
        kim = db.session.get(Kim, db.session.get(Entry, entry_id).kim_id)
        record = type("K", (), {"id": kim.id})()
    return make_user("kim", kim=record)


def test_provisional_results_objection_and_publication_reach_each_kim_and_operator(app, make_user):
    from monev.core.access import OPERATOR
    from monev.events import queries as event_queries
    from monev.regions.models import District
    from monev.results import objections, publication
    from tests import results_factory

    judged = results_factory.build(app, entries=3)
    kims = [_kim_account(app, entry_id, make_user) for entry_id in judged.entry_ids]
    with app.app_context():
        from monev.directory.models import Kim

        district = db.session.scalar(
            select(District.code)
            .join(Kim, Kim.district_id == District.id)
            .join(Entry, Entry.kim_id == Kim.id)
            .where(Entry.id == judged.entry_ids[0])
        )
    operator = make_user(OPERATOR, district_code=district)

    with app.test_request_context():
        event = event_queries.get_by_slug(judged.slug)
        objections.announce(
            event, closes_at=utcnow() + timedelta(days=2), actor=None, confirmed=True
        )
        db.session.commit()
    for kim in kims:
        (note,) = _notes(app, kim.email, "provisional_results")
        assert note.link == f"/my/results/{judged.slug}"

    with app.test_request_context():
        kim_user = db.session.get(User, kims[0].id)
        objection = objections.file_objection(
            db.session.get(Event, judged.event_id),
            db.session.get(Entry, judged.entry_ids[0]),
            reason="Nilai presentasi kami tertukar dengan KIM lain.",
            evidence_url=None,
            user=kim_user,
        )
        admin = db.session.get(User, make_user("admin").id)
        objections.resolve_objection(
            db.session.get(Event, judged.event_id),
            objection.id,
            decision="rejected",
            note="Nilai sudah diperiksa ulang.",
            reopen=False,
            admin=admin,
        )
        db.session.commit()
    (decided,) = _notes(app, kims[0].email, "objection_decided")
    assert decided.params["note"] == "Nilai sudah diperiksa ulang."

    results_factory.acknowledge_all(app, judged.slug)
    with app.test_request_context():
        publication.publish(event_queries.get_by_slug(judged.slug), actor=None, confirmed=True)
        db.session.commit()
    outcomes = [_notes(app, k.email, "results_published")[0].params["outcome"] for k in kims]
    assert sum("Juara I," in o for o in outcomes) == 1, outcomes
    assert all("peringkat" in o for o in outcomes), outcomes
    assert all(len(_notes(app, k.email, "rapor_ready")) == 1 for k in kims)
    (district_note,) = _notes(app, operator.email, "district_results")
    assert "KIM Hasil" in district_note.params["outcome"]
