"""Submissions: the finalist's workspace, the checklist, submit and the deadline (enforced on
the server whatever the client sends), the organiser's verification with its send-back flow,
and the operators' progress page."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from monev.core.timeutil import utcnow
from monev.core.timezones import to_local
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from tests import upload_corpus as corpus
from tests.conftest import count_queries, csrf_token, login, outbox_messages, post, t
from tests.submission_fixtures import *  # noqa: F403  (its fixtures)
from tests.submission_fixtures import (
    audit_actions,
    entry_state,
    page_text,
    plain,
    rows,
    said,
    said_before,
    send_file,
    send_link,
    stored_keys,
)

PROFILE = {
    "sk_number": "141/12/SK-KIM/2024",
    "sk_date": "2024-03-14",
    "chair_name": "Hendra Saputra",
    "members_count": "15",
    "phone": "0812 5500 7788",
    "email": "kim@contoh.id",
    "website": "https://kim.desa.id",
    "social_links": "https://www.instagram.com/kim.uji",
    "description": "KIM aktif.",
}


PRESENTATION_MISSING = "Upload the presentation (PDF or PPTX) or give a link to its video."


def complete(client, finalist) -> None:
    """Everything the checklist asks for."""
    assert post(client, f"{finalist.page}/profile", PROFILE).status_code == 303
    assert send_file(client, finalist.file_url("a1"), corpus.pdf("SK")).status_code == 303
    assert send_link(client, finalist.link_url("a2"), "https://kim.desa.id").status_code == 303
    assert (
        send_link(client, finalist.link_url("a3"), "https://kim.desa.id/laporan").status_code == 303
    )
    assert (
        send_file(client, finalist.file_url(None), corpus.office("pptx"), "materi.pptx").status_code
        == 303
    )


def submit(client, finalist):
    return post(client, f"{finalist.page}/submit", {"confirm": "y"})


def set_window(app, finalist, *, opens=None, closes=None, status=None) -> None:
    with app.app_context():
        values = {}
        if opens is not None:
            values["opens_at"] = utcnow() + opens
        if closes is not None:
            values["closes_at"] = utcnow() + closes
        if values:
            db.session.execute(
                update(Stage)
                .where(Stage.event_id == finalist.event_id, Stage.key == "administrasi")
                .values(**values)
            )
        if status:
            db.session.execute(
                update(Event).where(Event.id == finalist.event_id).values(status=status)
            )
        db.session.commit()


# --- the workspace -------------------------------------------------------------------------


def test_workspace_has_a_card_per_criterion_asking_for_evidence(app, finalist, kim_client):
    page = kim_client.get(finalist.page).get_data(as_text=True)
    for key in ("a1", "a2", "a3"):
        assert f'id="criterion-{finalist.criteria[key]}"' in page
        assert f"Panduan penilaian {key}." in page
        assert f"Petunjuk {key}" in page
    assert f'id="criterion-{finalist.criteria["p1"]}"' not in page  # asks for no evidence
    assert 'id="presentation"' in page
    assert 'value="01/SK/2024"' in page  # the profile is pre-filled from the directory
    assert 'accept=".pdf,.jpg,.jpeg,.png,.webp,.pptx,.docx,.xlsx,.mp4,' in page
    assert 'accept=".pdf,.pptx,application/pdf,' in page


def test_another_kims_entry_does_not_exist_for_a_kim(app, make_finalist):
    mine = make_finalist()
    other = make_finalist()
    client = app.test_client()
    login(client, other.email)
    assert client.get(mine.page).status_code == 200  # same event: their own entry
    with app.app_context():
        db.session.execute(delete_entry(other.entry_id))
        db.session.commit()
    assert client.get(mine.page).status_code == 404  # no entry of theirs here


def delete_entry(entry_id):
    from sqlalchemy import delete

    return delete(Entry).where(Entry.id == entry_id)


def test_entry_not_accepted_has_no_workspace(app, make_finalist):
    pending = make_finalist(nomination_status="nominated")
    client = app.test_client()
    login(client, pending.email)
    assert client.get(pending.page).status_code == 404


def test_kim_home_links_to_the_workspace(app, finalist, kim_client):
    page = kim_client.get("/").get_data(as_text=True)
    assert f'href="{finalist.page}"' in page


def test_profile_saves_to_the_entry_and_refreshes_its_card(app, finalist, kim_client):
    token = csrf_token(kim_client, finalist.page)
    response = kim_client.post(
        f"{finalist.page}/profile",
        data={**PROFILE, "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<article id="profile"')
    assert response.headers["HX-Trigger"] == "entry-changed"
    entry = entry_state(app, finalist.entry_id)
    assert entry.profile["sk_number"] == "141/12/SK-KIM/2024"
    assert entry.profile["sk_date"] == "2024-03-14"
    assert entry.profile["social_links"] == ["https://www.instagram.com/kim.uji"]
    assert entry.submission_status == "in_progress"
    assert "entry.profile_saved" in audit_actions(app)


def test_invalid_profile_is_refused_and_kept(app, finalist, kim_client):
    data = {**PROFILE, "website": "javascript:alert(1)", "members_count": "-3"}
    response = post(kim_client, f"{finalist.page}/profile", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, "Enter a full web address starting with http:// or https://.") in page
    assert 'value="javascript:alert(1)"' in page
    assert entry_state(app, finalist.entry_id).profile is None


# --- the checklist and submitting ----------------------------------------------------------


def test_checklist_says_exactly_what_is_missing(app, finalist, kim_client):
    send_file(kim_client, finalist.file_url("a1"), corpus.pdf())
    response = kim_client.get(
        finalist.page, headers={"HX-Request": "true", "HX-Target": "checklist"}
    )
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="checklist"')
    shown = page_text(html)
    assert plain(app, "%(done)d of %(total)d complete.", done=1, total=5) in shown
    missing = plain(app, "missing")
    for label, what in [
        ("A2 Kanal informasi", "Add a link."),
        ("A3 Laporan kegiatan", "Upload a file or add a link."),
        (
            plain(app, "Presentation"),
            "Upload the presentation (PDF or PPTX) or give a link to its video.",
        ),
    ]:
        assert f"{label}: {missing} — {plain(app, what)}" in shown
    # the directory's values fill the profile, except the SK date this KIM never gave
    sk_date = plain(app, "Fill in: %(fields)s.", fields=plain(app, "SK date"))
    assert f"{plain(app, 'Profile')}: {missing} — {sk_date}" in shown


def test_submit_is_refused_while_evidence_is_missing_and_changes_nothing(app, finalist, kim_client):
    send_file(kim_client, finalist.file_url("a1"), corpus.pdf())
    before = audit_actions(app)
    response = submit(kim_client, finalist)
    assert response.status_code == 409
    page = page_text(response.get_data(as_text=True))
    sk_date_missing = plain(app, "Fill in: %(fields)s.", fields=plain(app, "SK date"))
    items = "; ".join(
        f"{label}: {what}"
        for label, what in [
            (plain(app, "Profile"), sk_date_missing),
            ("A2 Kanal informasi", plain(app, "Add a link.")),
            ("A3 Laporan kegiatan", plain(app, "Upload a file or add a link.")),
            (
                plain(app, "Presentation"),
                plain(app, PRESENTATION_MISSING),
            ),
        ]
    )
    expected = plain(
        app, "Your entry cannot be submitted yet. Still missing: %(items)s", items=items
    )
    assert expected in page
    entry = entry_state(app, finalist.entry_id)
    assert entry.submission_status == "in_progress" and entry.submitted_at is None
    assert audit_actions(app) == before


def test_submitted_entry_is_read_only(app, finalist, kim_client):
    complete(kim_client, finalist)
    response = submit(kim_client, finalist)
    assert response.status_code == 303
    entry = entry_state(app, finalist.entry_id)
    assert entry.submission_status == "submitted" and entry.submitted_at is not None
    items, keys = len(rows(app)), stored_keys(app)
    page = kim_client.get(finalist.page).get_data(as_text=True)
    assert said(app, "Your entry has been submitted and can no longer be changed.") in page
    assert 'type="file"' not in page and "/remove" not in page
    token = csrf_token(kim_client, finalist.page)
    refused = [
        send_file(kim_client, finalist.file_url("a1"), corpus.pdf("Baru"), token=token),
        send_link(kim_client, finalist.link_url("a2"), "https://lain.id", token=token),
        kim_client.post(
            f"{finalist.page}/evidence/{rows(app)[0].id}/remove", data={"csrf_token": token}
        ),
        kim_client.post(
            f"{finalist.page}/profile", data={**PROFILE, "chair_name": "X", "csrf_token": token}
        ),
        kim_client.post(f"{finalist.page}/submit", data={"csrf_token": token, "confirm": "y"}),
    ]
    assert [r.status_code for r in refused] == [409] * 5
    assert len(rows(app)) == items and stored_keys(app) == keys
    assert entry_state(app, finalist.entry_id).profile["chair_name"] == "Hendra Saputra"


def test_remove_deletes_row_and_file(app, finalist, kim_client):
    send_file(kim_client, finalist.file_url("a1"), corpus.image("PNG"), "foto.png")
    (item,) = rows(app)
    assert len(stored_keys(app)) == 2  # the image and its thumbnail
    response = post(kim_client, f"{finalist.page}/evidence/{item.id}/remove")
    assert response.status_code == 303
    assert rows(app) == [] and stored_keys(app) == []


def test_presentation_is_replaced_not_added(app, finalist, kim_client):
    send_file(kim_client, finalist.file_url(None), corpus.pdf("Versi 1"), "v1.pdf")
    send_link(kim_client, finalist.link_url(None), "https://www.youtube.com/watch?v=abc")
    (item,) = rows(app)
    assert item.kind == "link" and item.criterion_id is None
    assert stored_keys(app) == []  # the replaced file is gone too


# --- the deadline, on the server ------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (
            {"closes": timedelta(minutes=-1), "opens": timedelta(days=-3)},
            ("The submission window closed on %(when)s.", "when"),
        ),
        ({"opens": timedelta(hours=2)}, ("The submission window opens on %(when)s.", "when")),
        ({"status": "verification"}, ("The submission window of this event has closed.", None)),
        (
            {"status": "nomination"},
            ("The submission window of this event has not opened yet.", None),
        ),
    ],
    ids=["after closing", "before opening", "event moved on", "event not there yet"],
)
def test_deadline_is_enforced_on_the_server(app, finalist, kim_client, window, message):
    token = csrf_token(kim_client, finalist.page)  # the page was loaded while still open
    set_window(app, finalist, **window)
    responses = [
        send_file(kim_client, finalist.file_url("a1"), corpus.pdf(), token=token),
        send_link(kim_client, finalist.link_url("a2"), "https://a.id", token=token),
        kim_client.post(f"{finalist.page}/profile", data={**PROFILE, "csrf_token": token}),
        kim_client.post(f"{finalist.page}/submit", data={"csrf_token": token, "confirm": "y"}),
    ]
    assert [r.status_code for r in responses] == [409] * 4
    msgid, param = message
    expected = said_before(app, msgid, param) if param else said(app, msgid)
    assert expected in responses[0].get_data(as_text=True)
    assert rows(app) == [] and stored_keys(app) == []
    assert entry_state(app, finalist.entry_id).submission_status == "not_started"


def test_deadline_is_shown_in_the_events_time_zone(app, finalist, kim_client):
    with app.app_context():
        closes = db.session.scalar(select(Stage.closes_at).where(Stage.key == "administrasi"))
    local = to_local(closes, "Asia/Makassar")
    page = kim_client.get(finalist.page).get_data(as_text=True)
    assert f"{local:%H:%M} WITA" in page


# --- verification and the send-back flow ---------------------------------------------------


@pytest.fixture
def admin_client(app, make_user):
    client = app.test_client()
    login(client, make_user("admin").email)
    return client


def verification_url(finalist, suffix=""):
    return f"/admin/events/{finalist.slug}/verification/{finalist.entry_id}{suffix}"


def test_send_back_flow(app, finalist, kim_client, admin_client):
    complete(kim_client, finalist)
    submit(kim_client, finalist)
    set_window(
        app, finalist, closes=timedelta(minutes=-5), opens=timedelta(days=-3), status="verification"
    )

    queue = admin_client.get(f"/admin/events/{finalist.slug}/verification").get_data(as_text=True)
    assert verification_url(finalist) in queue

    deadline = to_local(utcnow() + timedelta(days=2), "Asia/Makassar")
    response = post(
        admin_client,
        verification_url(finalist, "/send-back"),
        {
            "note": "SK sudah kedaluwarsa: unggah SK terbaru.",
            "deadline": f"{deadline:%Y-%m-%dT%H:%M}",
        },
    )
    assert response.status_code == 303
    entry = entry_state(app, finalist.entry_id)
    assert entry.submission_status == "returned"
    assert entry.returned_note == "SK sudah kedaluwarsa: unggah SK terbaru."
    (mail,) = [m for m in outbox_messages(app) if m.to == finalist.email]
    assert "SK sudah kedaluwarsa: unggah SK terbaru." in mail.body
    link = re.search(r"https?://\S+/notifications/\d+/open", mail.body).group(0)
    opened = kim_client.get(urlsplit(link).path)  # the mail's link opens the notification
    assert opened.status_code == 302 and opened.location.endswith(f"/entry/{finalist.slug}")

    # the window is closed for everyone else, open for this KIM until its own deadline
    page = kim_client.get(finalist.page).get_data(as_text=True)
    assert "SK sudah kedaluwarsa: unggah SK terbaru." in page
    assert (
        send_file(
            kim_client, finalist.file_url("a1"), corpus.pdf("SK baru"), "sk-baru.pdf"
        ).status_code
        == 303
    )
    assert submit(kim_client, finalist).status_code == 303
    assert entry_state(app, finalist.entry_id).submission_status == "submitted"

    assert (
        post(
            admin_client,
            verification_url(finalist, "/verify"),
        ).status_code
        == 303
    )
    entry = entry_state(app, finalist.entry_id)
    assert entry.submission_status == "verified" and entry.verified_at is not None
    actions = audit_actions(app)
    for action in ("entry.submitted", "entry.returned", "evidence.added", "entry.verified"):
        assert action in actions


def test_personal_deadline_passes_like_any_other(app, finalist, kim_client, admin_client):
    complete(kim_client, finalist)
    submit(kim_client, finalist)
    deadline = to_local(utcnow() + timedelta(hours=1), "Asia/Makassar")
    post(
        admin_client,
        verification_url(finalist, "/send-back"),
        {"note": "Perbaiki laporan.", "deadline": f"{deadline:%Y-%m-%dT%H:%M}"},
    )
    with app.app_context():
        db.session.execute(
            update(Entry)
            .where(Entry.id == finalist.entry_id)
            .values(personal_deadline=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    response = send_file(kim_client, finalist.file_url("a3"), corpus.pdf("Terlambat"))
    assert response.status_code == 409
    expected = said_before(app, "The deadline for your fixes passed on %(when)s.", "when")
    assert expected in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"note": "", "deadline": "2099-01-01T10:00"},
            "Write what the KIM must fix: it is sent to them.",
        ),
        ({"note": "Perbaiki.", "deadline": ""}, "Set the deadline for the fixes."),
        (
            {"note": "Perbaiki.", "deadline": "2001-01-01T10:00"},
            "The deadline must be in the future.",
        ),
    ],
)
def test_send_back_needs_a_note_and_a_future_deadline(
    app, finalist, kim_client, admin_client, data, message
):
    complete(kim_client, finalist)
    submit(kim_client, finalist)
    response = post(
        admin_client,
        verification_url(finalist, "/send-back"),
        data,
    )
    assert response.status_code == 422
    assert said(app, message) in response.get_data(as_text=True)
    assert entry_state(app, finalist.entry_id).submission_status == "submitted"
    assert outbox_messages(app) == []


def test_only_submitted_entries_can_be_verified(app, finalist, admin_client):
    response = post(admin_client, verification_url(finalist, "/verify"))
    assert response.status_code == 409
    assert entry_state(app, finalist.entry_id).submission_status == "not_started"


def test_verification_page_previews_the_evidence(app, finalist, kim_client, admin_client):
    send_file(kim_client, finalist.file_url("a1"), corpus.pdf(), "sk.pdf")
    send_file(kim_client, finalist.file_url("a3"), corpus.image("PNG"), "foto.png")
    send_file(kim_client, finalist.file_url("a3"), corpus.office("docx"), "laporan.docx")
    send_link(kim_client, finalist.link_url("a2"), "https://kim.desa.id")
    pdf, png, docx, link = rows(app)
    page = admin_client.get(verification_url(finalist)).get_data(as_text=True)
    assert f'<iframe class="preview-pdf" src="/files/{pdf.id}" title="sk.pdf"' in page
    assert f'<img class="preview-image" src="/files/{png.id}" alt="foto.png"' in page
    assert f'href="/files/{docx.id}?download=1"' in page
    assert f'src="/files/{docx.id}"' not in page
    assert 'href="https://kim.desa.id" rel="noopener noreferrer nofollow ugc"' in page
    framed = admin_client.get(f"/files/{pdf.id}")
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]


def test_verification_queue_query_count_does_not_grow(app, make_finalist, admin_client):
    first = make_finalist()
    url = f"/admin/events/{first.slug}/verification"
    admin_client.get(url)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as one:
        assert admin_client.get(url).status_code == 200
    for _ in range(3):
        make_finalist()
    with count_queries(engine) as four:
        assert admin_client.get(url).status_code == 200
    assert len(four) == len(one)


# --- the operators' progress ---------------------------------------------------------------


def test_operator_sees_the_progress_of_their_district_only(app, make_finalist, make_user):
    own = make_finalist(name="KIM Kutai Timur")
    make_finalist(name="KIM Berau", district_code="64.05")
    client = app.test_client()
    login(client, own.email)
    complete(client, own)
    submit(client, own)
    operator = app.test_client()
    login(operator, make_user("operator", district_code="64.04").email)
    url = f"/nominations/{own.slug}/progress"
    page = operator.get(url).get_data(as_text=True)
    assert "KIM Kutai Timur" in page and "KIM Berau" not in page
    assert f'<span class="badge badge-ok">{said(app, "Submitted")}</span>' in page
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as before:
        operator.get(url)
    make_finalist(name="KIM Kutai Timur 2")
    with count_queries(engine) as after:
        operator.get(url)
    assert len(after) == len(before)


def test_migration_matches_the_models_for_submissions(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        diffs = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
        )
    mine = [d for d in diffs if "evidence" in str(d) or "entries" in str(d)]
    assert mine == []
