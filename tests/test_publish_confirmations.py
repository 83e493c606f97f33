"""Publishing, each correction (ralat) and the announcement of provisional results go through
the shared confirmation step, with their consequences in numbers; publishing waits until
every "Check:" of the fairness panel is acknowledged with a note for the current scores
(issue 12). Every refusal is made at the server and stores nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from monev.audit.models import AuditEntry
from monev.events import queries as event_queries
from monev.events.models import Event
from monev.extensions import db
from monev.lifecycle.readiness import readiness
from monev.results.models import FairnessAcknowledgement, ProvisionalResult, PublishedResult
from tests import results_factory
from tests.conftest import post, t
from tests.test_results import set_score

BASE = "/admin/events/{slug}/results/"
NOTE = "Juri 3 memang lebih murah hati; selisihnya tidak mengubah juara."


def url(ev, path: str = "") -> str:
    return BASE.format(slug=ev.slug) + path


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def keys_on_page(page: str) -> list[str]:
    return re.findall(r'name="key" value="([^"]+)"', page)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def status(app, ev) -> str:
    with app.app_context():
        return db.session.get(Event, ev.event_id).status


@pytest.fixture
def ev(app):
    return results_factory.build(app, entries=4, judges=3)  # 10 "Check:" warnings


@pytest.fixture
def admin(client, login_as):
    login_as("admin")
    return client


# --- fairness acknowledgements ------------------------------------------------------------


def test_publishing_waits_until_every_check_is_acknowledged_with_a_note(app, ev, admin):
    page = text_of(admin.get(url(ev)))
    keys = keys_on_page(page)
    assert len(keys) == 10
    assert "Periksa:" in page and "Tinjau dan beri catatan" in page
    assert "10 belum ditinjau" in page

    step = text_of(admin.get(url(ev, "publish")))
    blocked = '10 pemeriksaan keadilan ("Periksa:") belum ditinjau'
    assert blocked in step
    assert f'href="/admin/events/{ev.slug}/results/#fairness"' in step
    assert re.search(r'<button type="submit" disabled aria-disabled="true">', step)
    forged = post(admin, url(ev, "publish"), {"confirm": "y"})
    assert forged.status_code == 409 and blocked in text_of(forged)
    assert count(app, PublishedResult) == 0 and status(app, ev) == "results"

    for key in keys[:-1]:
        done = post(admin, url(ev, "fairness/acknowledge"), {"key": key, "note": NOTE})
        assert done.status_code == 302
        assert done.headers["Location"].endswith("#fairness")
    still = post(admin, url(ev, "publish"), {"confirm": "y"})
    assert still.status_code == 409
    assert '1 pemeriksaan keadilan ("Periksa:") belum ditinjau' in text_of(still)

    post(admin, url(ev, "fairness/acknowledge"), {"key": keys[-1], "note": NOTE})
    page = text_of(admin.get(url(ev)))
    assert 'Setiap "Periksa:" sudah ditinjau untuk nilai saat ini.' in page
    assert NOTE in page and "Sudah ditinjau" in page
    published = post(admin, url(ev, "publish"), {"confirm": "y"})
    assert published.status_code == 302
    with app.app_context():
        version = db.session.scalars(select(PublishedResult)).one()
        assert len(version.acknowledgements) == 10
        assert {a["note"] for a in version.acknowledgements} == {NOTE}
        logged = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "results.published")
        ).one()
    assert len(logged.changes["fairness_acknowledged"]) == 10
    history = text_of(admin.get(url(ev)))
    assert "10 pemeriksaan keadilan ditinjau" in history  # beside version 1


def test_an_acknowledgement_needs_a_note_of_at_most_2000_characters(app, ev, admin):
    key = keys_on_page(text_of(admin.get(url(ev))))[0]

    empty = post(admin, url(ev, "fairness/acknowledge"), {"key": key, "note": "   "})
    long = post(admin, url(ev, "fairness/acknowledge"), {"key": key, "note": "x" * 2001})
    stale = post(
        admin, url(ev, "fairness/acknowledge"), {"key": "agreement_weak:stage=zz", "note": NOTE}
    )

    assert empty.status_code == 422
    assert "Tuliskan apa yang Anda periksa" in text_of(empty)
    assert long.status_code == 422
    assert t(app, "Use at most %(max)d characters.", max=2000) in text_of(long)
    assert stale.status_code == 409
    assert "tidak lagi ada di panel keadilan penilaian" in text_of(stale)
    assert count(app, FairnessAcknowledgement) == 0


def test_changed_scores_need_every_check_acknowledged_again(app, ev, admin):
    assert results_factory.acknowledge_all(app, ev.slug) == 10
    with app.app_context():
        event = event_queries.get_by_slug(ev.slug)
        assert "fairness_unacknowledged" not in [
            c.code for c in readiness(event, "published").blocks
        ]

    set_score(app, ev.event_id, "K-004", "p1", "10")

    with app.app_context():
        event = event_queries.get_by_slug(ev.slug)
        check = next(
            c for c in readiness(event, "published").blocks if c.code == "fairness_unacknowledged"
        )
    assert check.endpoint == "results.index" and check.args["_anchor"] == "fairness"
    refused = post(admin, url(ev, "publish"), {"confirm": "y"})
    assert refused.status_code == 409
    assert check.message in text_of(refused)
    assert count(app, PublishedResult) == 0


def test_the_checklist_for_publishing_blocks_on_unread_checks(app, ev):
    with app.app_context():
        codes = [c.code for c in readiness(event_queries.get_by_slug(ev.slug), "published").blocks]
    assert [c for c in codes if c != "structure"] == ["fairness_unacknowledged"]


# --- publishing and corrections -----------------------------------------------------------


def test_publish_step_states_what_it_does_and_is_refused_without_the_confirmation(app, ev, admin):
    results_factory.acknowledge_all(app, ev.slug)
    step = text_of(admin.get(url(ev, "publish")))
    assert "Hasil 4 entri dalam 1 kategori diumumkan ke publik." in step
    assert (
        "4 penghargaan (peringkat dan penghargaan khusus); sertifikat juara dapat diterbitkan."
        in (step)
    )
    assert "10 pemeriksaan keadilan yang sudah ditinjau dicatat bersama versi ini" in step

    unconfirmed = post(admin, url(ev, "publish"), {"reason": "Hasil akhir."})
    assert unconfirmed.status_code == 422
    body = unconfirmed.get_data(as_text=True)
    assert t(app, "Confirm that you have read what this will do.") in body
    assert 'id="publish-confirm-error"' in body  # beside the checkbox
    assert "Hasil akhir." in body  # the reason is kept
    assert count(app, PublishedResult) == 0 and status(app, ev) == "results"

    fragment = admin.get(url(ev, "publish"), headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'id="publish-title"' in fragment.get_data(as_text=True)

    assert post(admin, url(ev, "publish"), {"confirm": "y"}).status_code == 302
    assert status(app, ev) == "published"


def test_a_correction_states_what_changes_and_needs_its_reason(app, ev, admin):
    results_factory.acknowledge_all(app, ev.slug)
    post(admin, url(ev, "publish"), {"confirm": "y"})
    set_score(app, ev.event_id, "K-004", "p1", "10")
    results_factory.acknowledge_all(app, ev.slug)

    step = text_of(admin.get(url(ev, "publish")))
    summary = re.search(r"Versi 2 menggantikan versi 1: ([^<]*)\.", step)
    assert summary, step[-4000:]
    assert summary.group(1) == "1 nilai akhir berubah, nilai berbeda"
    assert "K-004" in step
    assert "Halaman publik menampilkan versi 2 beserta alasan Anda" in step

    no_reason = post(admin, url(ev, "publish"), {"confirm": "y"})
    assert no_reason.status_code == 422
    assert t(
        app, "A correction (ralat) needs a reason: say what was wrong and what changed."
    ) in no_reason.get_data(as_text=True)
    unconfirmed = post(admin, url(ev, "publish"), {"reason": "Salah input K-004."})
    assert unconfirmed.status_code == 422
    assert count(app, PublishedResult) == 1

    done = post(admin, url(ev, "publish"), {"confirm": "y", "reason": "Salah input K-004."})
    assert done.status_code == 302
    assert count(app, PublishedResult) == 2


# --- provisional results ------------------------------------------------------------------


def test_announcing_states_who_sees_it_until_when_and_needs_the_confirmation(app, ev, admin):
    step = text_of(admin.get(url(ev, "provisional") + "?closes_at=2030-08-12T17:00"))
    assert (
        "4 finalis melihat hasil sementara dan dapat mengajukan sanggahan sampai "
        "12 Agu 2030, 17.00 WITA." in step
    )
    assert 'type="hidden" name="closes_at" value="2030-08-12T17:00"' in step

    unconfirmed = post(admin, url(ev, "provisional"), {"closes_at": "2030-08-12T17:00"})
    assert unconfirmed.status_code == 422
    assert t(app, "Confirm that you have read what this will do.") in unconfirmed.get_data(
        as_text=True
    )
    past = post(admin, url(ev, "provisional"), {"closes_at": "2020-01-01T08:00", "confirm": "y"})
    assert past.status_code == 422
    assert t(app, "The objection window must close in the future.") in past.get_data(as_text=True)
    assert 'type="datetime-local"' in past.get_data(as_text=True)  # the field to correct
    assert count(app, ProvisionalResult) == 0

    done = post(admin, url(ev, "provisional"), {"closes_at": "2030-08-12T17:00", "confirm": "y"})
    assert done.status_code == 302
    assert count(app, ProvisionalResult) == 1
    again = text_of(admin.get(url(ev, "provisional") + "?closes_at=2030-08-13T17:00"))
    assert "Versi 2 hasil sementara menggantikan versi 1" in again


def test_announcing_is_refused_while_a_sheet_is_open(app, admin):
    ev = results_factory.build(app, entries=2, judges=2)
    with app.app_context():
        from monev.judging.models import ScoreSheet

        db.session.scalars(select(ScoreSheet).limit(1)).one().status = "draft"
        db.session.commit()
    step = text_of(admin.get(url(ev, "provisional") + "?closes_at=2030-08-12T17:00"))
    assert "Belum dapat dilakukan. Perbaiki dulu:" in step
    forged = post(admin, url(ev, "provisional"), {"closes_at": "2030-08-12T17:00", "confirm": "y"})
    assert forged.status_code == 409
    assert count(app, ProvisionalResult) == 0


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["judge", "operator", "kim", "anonymous"])
def test_nobody_but_the_organiser_reaches_the_new_steps(app, ev, client, make_user, role):
    if role != "anonymous":
        from tests.conftest import sign_in

        sign_in(client, make_user(role).email)
    responses = [
        client.get(url(ev, "publish")),
        client.get(url(ev, "provisional") + "?closes_at=2030-08-12T17:00"),
        post(client, url(ev, "publish"), {"confirm": "y"}),
        post(client, url(ev, "provisional"), {"closes_at": "2030-08-12T17:00", "confirm": "y"}),
        post(client, url(ev, "fairness/acknowledge"), {"key": "x", "note": NOTE}),
    ]
    for response in responses:
        assert response.status_code in (302, 403), response.status_code
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]
    assert count(app, PublishedResult) == 0
    assert count(app, ProvisionalResult) == 0
    assert count(app, FairnessAcknowledgement) == 0
