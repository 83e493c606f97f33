"""Prometheus ``/metrics`` (token-protected) and request ids in the logs."""

from __future__ import annotations

import logging
import re

import pytest

from monev.core.timeutil import utcnow
from monev.extensions import db
from tests.judging_setup import autosave, build
from tests.judging_setup import sign_in as judge_sign_in
from tests.submission_fixtures import *  # noqa: F403  (its fixtures)
from tests.submission_fixtures import send_file
from tests.test_certificate_batch import queue, setup  # noqa: F401  (fixtures)
from tests.upload_corpus import pdf

TOKEN = "scrape-token-0123456789"


def _scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def _value(text: str, name: str, **labels) -> float:
    """The sample ``name{labels}`` (labels in any order), 0 when absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def scraper(app):
    app.config["METRICS_TOKEN"] = TOKEN
    return app.test_client()


def test_metrics_do_not_exist_without_a_token_setting(app, client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(scraper):
    assert scraper.get("/metrics").status_code == 401
    wrong = scraper.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and "MONEV_METRICS_TOKEN" in wrong.get_data(as_text=True)


def test_request_latency_is_recorded_per_endpoint(scraper):
    before = _value(
        _scrape(scraper),
        "monev_http_request_duration_seconds_count",
        endpoint="auth.login",
        method="GET",
        status="200",
    )
    scraper.get("/login")
    scraper.get("/login")
    text = _scrape(scraper)
    after = _value(
        text,
        "monev_http_request_duration_seconds_count",
        endpoint="auth.login",
        method="GET",
        status="200",
    )
    assert after == before + 2
    assert "monev_http_request_duration_seconds_bucket{" in text


def test_score_saves_and_uploads_are_counted_when_committed(app, scraper, finalist, kim_client):
    text = _scrape(scraper)
    saves = _value(text, "monev_score_saves_total", kind="score")
    uploads = _value(text, "monev_uploads_total", kind="file")

    send_file(kim_client, finalist.file_url("a1"), pdf(), "sk.pdf")
    refused = send_file(kim_client, finalist.file_url("a1"), b"MZ\x90\x00", "virus.exe")
    assert refused.status_code >= 400  # refused: rolled back, not counted

    judged = build(app, n_entries=1)
    judge = app.test_client()
    token = judge_sign_in(judge, judged.judges[0]["email"])
    response = autosave(judge, token, judged.assignment(0, 0), judged.criteria[0], "8", 0)
    assert response.status_code == 200

    text = _scrape(scraper)
    assert _value(text, "monev_uploads_total", kind="file") == uploads + 1
    assert _value(text, "monev_score_saves_total", kind="score") == saves + 1


def test_queue_workers_batches_and_failed_notifications_are_read_at_scrape(
    app,
    scraper,
    setup,  # noqa: F811
    queue,  # noqa: F811
):
    from monev.auth.models import User
    from monev.notify.models import Delivery, Notification
    from tests.conftest import post, sign_in

    admin = app.test_client()
    sign_in(admin, setup.admin.email)
    post(admin, f"/admin/events/{setup.slug}/certificates/batch")  # queued, no worker
    with app.app_context():
        user = db.session.get(User, setup.admin.id)
        deliveries = [("email", "failed"), ("email", "failed"), ("whatsapp", "sent")]
        for n, (channel, status) in enumerate(deliveries):
            note = Notification(
                user_id=user.id, kind="test", key=f"k{n}", params={}, created_at=utcnow()
            )
            db.session.add(note)
            db.session.flush()
            db.session.add(
                Delivery(
                    notification_id=note.id,
                    channel=channel,
                    address="x",
                    status=status,
                    attempts=5,
                    created_at=utcnow(),
                )
            )
        db.session.commit()

    text = _scrape(scraper)
    assert _value(text, "monev_job_queue_depth") == 1
    assert _value(text, "monev_job_queue_up") == 1
    assert _value(text, "monev_workers_alive") == 0
    assert _value(text, "monev_certificate_batch_total", event=setup.slug) == 7
    assert _value(text, "monev_certificate_batch_done", event=setup.slug) == 0
    assert 'monev_certificate_batch_done{batch="' in text
    assert _value(text, "monev_notification_deliveries_failed", channel="email") == 2
    assert _value(text, "monev_notification_deliveries_failed", channel="whatsapp") == 0


@pytest.mark.real_commits  # adds a route to its own app
def test_every_log_line_of_a_request_carries_its_id(app, client, caplog):
    @app.route("/_test/log")
    def _log_something():
        logging.getLogger("monev.test").warning("inside the request")
        return "ok"

    from monev.core import access

    access.public(_log_something)
    with caplog.at_level(logging.WARNING):
        response = client.get("/_test/log", headers={"X-Request-ID": "proxy-id-12345678"})
        other = client.get("/_test/log")
    assert response.headers["X-Request-ID"] == "proxy-id-12345678"
    generated = other.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    ids = [r.request_id for r in caplog.records if r.getMessage() == "inside the request"]
    assert ids == ["proxy-id-12345678", generated]
    logging.getLogger("monev.test").warning("outside")
    assert caplog.records[-1].request_id == "-"
