"""Special awards with the jury's justification, and provisional results with objections
(masa sanggah): announced to the finalists, filed by a KIM, resolved by the organiser."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from types import SimpleNamespace

from sqlalchemy import select, text

from monev.core.timeutil import utcnow
from monev.core.timezones import to_local
from monev.entries.models import Entry
from monev.extensions import db
from monev.judging.models import Assignment, ScoreSheet
from monev.results.models import Objection
from tests import results_factory
from tests.conftest import login, post, t

ADMIN = "/admin/events/{slug}/results/"


def admin_post(client, slug: str, path: str, data: dict):
    """Post as the organiser; publishing and announcing through their confirmation step
    (``confirm`` ticked, every fairness check acknowledged first)."""
    url = ADMIN.format(slug=slug)
    if path in ("publish", "provisional"):
        data = {"confirm": "y", **data}
    if path == "publish":
        results_factory.acknowledge_all(client.application, slug)
    return post(client, url + path, data)


def kim_of(app, entry_id: int) -> SimpleNamespace:
    with app.app_context():
        return SimpleNamespace(id=db.session.get(Entry, entry_id).kim_id)


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(text("SELECT action FROM audit_log ORDER BY seq")))


def test_special_award_needs_a_justification_and_is_published(app, client, login_as):
    ev = results_factory.build(app, entries=3)
    login_as("admin")

    missing = admin_post(
        client,
        ev.slug,
        "special-awards",
        {"entry_id": ev.entry_ids[1], "title": "KIM Terinovatif", "justification": ""},
    )
    assert missing.status_code == 422
    assert unescape(t(app, "Record the jury's justification for this award.")) in unescape(
        missing.get_data(as_text=True)
    )
    justification = "Aplikasi layanan informasi desa berbasis WhatsApp yang dipakai warga."
    added = admin_post(
        client,
        ev.slug,
        "special-awards",
        {"entry_id": ev.entry_ids[1], "title": "KIM Terinovatif", "justification": justification},
    )
    assert added.status_code == 302
    twice = admin_post(
        client,
        ev.slug,
        "special-awards",
        {"entry_id": ev.entry_ids[0], "title": "KIM Terinovatif", "justification": "Lagi."},
    )
    assert twice.status_code == 422
    assert admin_post(client, ev.slug, "publish", {"reason": ""}).status_code == 302

    api = app.test_client().get(f"/api/v1/events/{ev.slug}/results").get_json()
    assert api["special_awards"] == [
        {
            "title": "KIM Terinovatif",
            "code": "K-002",
            "kim": f"KIM Hasil {ev.slug} 2",
            "district": api["special_awards"][0]["district"],
            "category": "desa",
            "justification": justification,
        }
    ]
    public = app.test_client().get(f"/events/{ev.slug}/results").get_data(as_text=True)
    assert "KIM Terinovatif" in public and justification in public
    assert "special_award.added" in audit_actions(app)


def test_withdrawing_a_special_award_after_publication_needs_a_correction(app, client, login_as):
    ev = results_factory.build(app, entries=2)
    login_as("admin")
    admin_post(
        client,
        ev.slug,
        "special-awards",
        {"entry_id": ev.entry_ids[0], "title": "KIM Terfavorit", "justification": "Suara warga."},
    )
    admin_post(client, ev.slug, "publish", {"reason": ""})
    with app.app_context():
        award_id = db.session.scalar(text("SELECT id FROM special_awards"))

    assert admin_post(client, ev.slug, f"special-awards/{award_id}/delete", {}).status_code == 302

    page = client.get(ADMIN.format(slug=ev.slug)).get_data(as_text=True)
    assert t(app, "Special award %(title)s withdrawn.", title="KIM Terfavorit") in page
    public = app.test_client().get(f"/events/{ev.slug}/results").get_data(as_text=True)
    assert "KIM Terfavorit" in public  # still in the published version


def test_provisional_results_objection_rejected_and_accepted_with_reopened_sheets(
    app, client, make_user
):
    ev = results_factory.build(app, entries=3, judges=2)
    kim_user = make_user("kim", kim=kim_of(app, ev.entry_ids[2]))
    outsider = make_user("kim")  # a KIM without an entry in this event
    admin = make_user("admin")
    login(client, admin.email)
    closes = to_local(utcnow() + timedelta(days=3), "Asia/Makassar")
    announced = admin_post(
        client, ev.slug, "provisional", {"closes_at": closes.strftime("%Y-%m-%dT%H:%M")}
    )
    assert announced.status_code == 302

    kim = app.test_client()
    login(kim, kim_user.email)
    page = kim.get(f"/my/results/{ev.slug}")
    assert page.status_code == 200
    assert f"KIM Hasil {ev.slug} 1" in page.get_data(as_text=True)  # the provisional ranking
    outsider_client = app.test_client()
    login(outsider_client, outsider.email)
    assert outsider_client.get(f"/my/results/{ev.slug}").status_code == 404
    url = f"/my/results/{ev.slug}"
    bad_link = post(kim, url + "/objections", {"reason": "Nilai", "evidence_url": "file:///x"})
    assert bad_link.status_code == 422
    for reason in ("Nilai kanal informasi kami keliru.", "Bukti SK belum dinilai."):
        filed = post(
            kim,
            url + "/objections",
            {"reason": reason, "evidence_url": "https://drive.example/bukti"},
        )
        assert filed.status_code == 302
    refused = admin_post(client, ev.slug, "publish", {"reason": ""})
    assert refused.status_code == 409
    assert "2 sanggahan masih terbuka" in refused.get_data(as_text=True)
    with app.app_context():
        first, second = db.session.scalars(select(Objection.id).order_by(Objection.id)).all()

    rejected = admin_post(
        client,
        ev.slug,
        f"objections/{first}",
        {f"o{first}-decision": "rejected", f"o{first}-note": "Nilai sudah sesuai rubrik."},
    )
    assert rejected.status_code == 302
    accepted = admin_post(
        client,
        ev.slug,
        f"objections/{second}",
        {
            f"o{second}-decision": "accepted",
            f"o{second}-note": "SK terlampir; juri menilai ulang.",
            f"o{second}-reopen": "y",
        },
    )
    assert accepted.status_code == 302

    kim_page = kim.get(url).get_data(as_text=True)
    assert "Nilai sudah sesuai rubrik." in kim_page
    assert "SK terlampir; juri menilai ulang." in kim_page
    with app.app_context():
        drafts = db.session.scalar(
            select(db.func.count(ScoreSheet.id))
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .where(Assignment.entry_id == ev.entry_ids[2], ScoreSheet.status == "draft")
        )
        assert drafts == 2 * 2  # both judges, both stages
        assert db.session.get(Objection, second).reopened_sheets == 4
    actions = audit_actions(app)
    assert actions.count("objection.filed") == 2
    assert actions.count("objection.resolved") == 2
    assert actions.count("sheet.reopened") == 4
    assert "results.provisional_announced" in actions
    # Publishing waits until the reopened sheets are final again.
    assert admin_post(client, ev.slug, "publish", {"reason": ""}).status_code == 409
    again = admin_post(
        client,
        ev.slug,
        f"objections/{second}",
        {f"o{second}-decision": "rejected", f"o{second}-note": "x"},
    )
    assert again.status_code == 409


def test_objections_are_refused_after_the_window_closes(app, client, make_user, monkeypatch):
    ev = results_factory.build(app, entries=2)
    kim_user = make_user("kim", kim=kim_of(app, ev.entry_ids[0]))
    login(client, make_user("admin").email)
    closes = to_local(utcnow() + timedelta(hours=2), "Asia/Makassar")
    admin_post(client, ev.slug, "provisional", {"closes_at": closes.strftime("%Y-%m-%dT%H:%M")})
    past = admin_post(client, ev.slug, "provisional", {"closes_at": "2020-01-01T08:00"})
    assert past.status_code == 422
    later = utcnow() + timedelta(hours=2, minutes=1)  # the window has ended
    monkeypatch.setattr("monev.results.objections.utcnow", lambda: later)

    kim = app.test_client()
    login(kim, kim_user.email)
    url = f"/my/results/{ev.slug}"
    refused = post(kim, url + "/objections", {"reason": "Terlambat."})

    assert refused.status_code == 409
    assert t(app, "The objection window is closed.") in refused.get_data(as_text=True)
