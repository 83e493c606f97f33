"""Nominations: operators nominate KIMs of their own district within a quota, the organiser
decides; no operator sees or touches another district."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from monev.audit.models import AuditEntry
from monev.auth.models import User
from monev.directory.models import Kim
from monev.entries.models import Entry
from monev.events import services as event_services
from monev.extensions import db
from tests import factories
from tests.conftest import PG_URL, count_queries, district, login, outbox_messages, post, t

SLUG = "monev-kim-kaltim-2025"


@dataclass(frozen=True)
class EventRef:
    id: int
    slug: str
    desa: int
    kelurahan: int

    @property
    def page(self) -> str:
        return f"/nominations/{self.slug}"

    @property
    def admin_page(self) -> str:
        return f"/admin/events/{self.slug}/nominations"


@pytest.fixture
def make_event(app):
    def factory(status: str = "nomination", quotas: dict | None = None, slug: str = SLUG):
        quotas = {"64.04": 2} if quotas is None else quotas
        with app.app_context():
            built = factories.make_event(
                slug,
                title="Monev KIM se-Kalimantan Timur 2025",
                year=2025,
                organiser="Diskominfo Provinsi Kalimantan Timur",
                stages=[factories.StagePlan("presentasi", "Presentasi", 100)],
                categories=factories.DESA_AND_KELURAHAN,
            )
            event = built.event
            desa, kel = built.categories["desa"], built.categories["kelurahan"]
            event_services.set_quotas(event, {district(code).id: n for code, n in quotas.items()})
            event.status = status
            db.session.commit()
            return EventRef(event.id, event.slug, desa.id, kel.id)

    return factory


def nominate(client, event: EventRef, kim_id, **fields):
    data = {"kim_id": kim_id, "category_id": event.desa, "note": "", "email": ""}
    data.update(fields)
    return post(client, f"{event.page}/nominate", data)


def new_kim_form(event: EventRef, **overrides) -> dict:
    data = {
        "name": "KIM Teluk Lingga",
        "kecamatan": "Sangatta Utara",
        "village_kind": "kelurahan",
        "village": "Teluk Lingga",
        "chair_name": "Rahmawati",
        "phone": "0812 5500 7788",
        "email": "kim.teluklingga@contoh.id",
        "category_id": event.kelurahan,
        "note": "Aktif mengelola media sosial kelurahan.",
    }
    data.update(overrides)
    return {f"new-{k}": v for k, v in data.items()}


def post_new_kim(client, event: EventRef, **overrides):
    from tests.conftest import csrf_token

    data = new_kim_form(event, **overrides)
    data["new-csrf_token"] = csrf_token(client, event.page)
    return post(client, f"{event.page}/new-kim", data)


def entries(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(Entry.code, Kim.name, Entry.nomination_status)
            .join(Kim, Kim.id == Entry.kim_id)
            .order_by(Entry.code)
        ).all()
        return [tuple(r) for r in rows]


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def signed_in(app, user) -> object:
    client = app.test_client()
    login(client, user.email)
    return client


# --- nominating ---------------------------------------------------------------------------


def test_operator_nominates_an_existing_kim_within_quota(
    app, client, login_as, make_kim, make_event
):
    event = make_event(quotas={"64.04": 2})
    kim = make_kim("KIM Teluk Pandan", district_code="64.04", email="kim.telukpandan@contoh.id")
    login_as("operator", district_code="64.04")

    response = nominate(client, event, kim.id, note="Juara kabupaten 2024.")

    assert response.status_code == 303
    assert entries(app) == [("K-001", "KIM Teluk Pandan", "nominated")]
    page = client.get(event.page).get_data(as_text=True)
    assert (
        t(app, "%(kim)s has been nominated as %(code)s.", kim="KIM Teluk Pandan", code="K-001")
        in page
    )
    assert t(app, "%(used)d of %(quota)d", used=1, quota=2) in page
    # The KIM had no account: one is invited at the KIM's own address.
    with app.app_context():
        account = db.session.scalar(select(User).where(User.kim_id == kim.id))
        assert (account.email, account.role, account.has_password) == (
            "kim.telukpandan@contoh.id",
            "kim",
            False,
        )
        entry = db.session.scalar(select(Entry))
        assert entry.nomination_note == "Juara kabupaten 2024."
    [mail] = outbox_messages(app)
    assert mail.to == "kim.telukpandan@contoh.id"
    assert "/invite/" in mail.body


def test_codes_increase_within_the_event(app, client, login_as, make_kim, make_event):
    event = make_event(quotas={"64.04": 3})
    kims = [
        make_kim(f"KIM {n}", district_code="64.04", email=f"kim{n}@contoh.id")
        for n in ("Satu", "Dua", "Tiga")
    ]
    login_as("operator", district_code="64.04")
    for kim in kims:
        assert nominate(client, event, kim.id).status_code == 303
    assert [code for code, _name, _status in entries(app)] == ["K-001", "K-002", "K-003"]


def test_kim_with_an_account_gets_no_new_invitation(
    app, client, login_as, make_kim, make_user, make_event
):
    event = make_event()
    kim = make_kim("KIM Teluk Pandan", district_code="64.04", email="kim.telukpandan@contoh.id")
    make_user("kim", kim=kim)
    login_as("operator", district_code="64.04")
    assert nominate(client, event, kim.id).status_code == 303
    assert outbox_messages(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.kim_id == kim.id)) == 1


def test_kim_without_account_or_email_needs_an_address(app, client, login_as, make_kim, make_event):
    event = make_event()
    kim = make_kim("KIM Pinang Raya", district_code="64.04")
    login_as("operator", district_code="64.04")

    response = nominate(client, event, kim.id, note="Catatan saya")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        t(
            app,
            "%(kim)s has no KIM account yet and no e-mail address on record: enter the "
            "e-mail address its account will be sent to.",
            kim="KIM Pinang Raya",
        )
        in page
    )
    assert "Catatan saya" in page  # input kept
    assert entries(app) == []

    response = nominate(client, event, kim.id, email="pinangraya@contoh.id")
    assert response.status_code == 303
    [mail] = outbox_messages(app)
    assert mail.to == "pinangraya@contoh.id"


def test_quota_exceeded_is_refused_and_nothing_stored(app, client, login_as, make_kim, make_event):
    event = make_event(quotas={"64.04": 1})
    first = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    second = make_kim("KIM Pinang Raya", district_code="64.04", email="b@contoh.id")
    login_as("operator", district_code="64.04")
    assert nominate(client, event, first.id).status_code == 303

    response = nominate(client, event, second.id)

    assert response.status_code == 409
    assert t(
        app,
        "Your district's quota is used up: %(used)d of %(quota)d places. Withdraw a "
        "nomination first to nominate another KIM.",
        used=1,
        quota=1,
    ) in response.get_data(as_text=True)
    assert entries(app) == [("K-001", "KIM Teluk Pandan", "nominated")]
    with app.app_context():
        assert db.session.scalar(select(User).where(User.kim_id == second.id)) is None
    assert [m.to for m in outbox_messages(app)] == ["a@contoh.id"]


def test_new_kim_beyond_the_quota_is_not_created(app, client, login_as, make_kim, make_event):
    event = make_event(quotas={"64.04": 0})
    login_as("operator", district_code="64.04")
    response = post_new_kim(client, event)
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Kim.id))) == 0
    assert outbox_messages(app) == []


def test_rejected_nominations_free_their_place(app, client, login_as, make_kim, make_event):
    event = make_event(quotas={"64.04": 1})
    first = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    second = make_kim("KIM Pinang Raya", district_code="64.04", email="b@contoh.id")
    login_as("operator", district_code="64.04")
    nominate(client, event, first.id)
    with app.app_context():
        db.session.scalar(select(Entry)).nomination_status = "rejected"
        db.session.commit()
    assert nominate(client, event, second.id).status_code == 303


def test_district_without_a_quota_is_told_so(app, client, login_as, make_kim, make_event):
    event = make_event(quotas={"64.05": 3})
    kim = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    login_as("operator", district_code="64.04")
    page = client.get(event.page).get_data(as_text=True)
    assert t(app, "The organiser has not set a quota for your district yet.") in page

    response = nominate(client, event, kim.id)

    assert response.status_code == 409
    assert t(
        app,
        "The organiser has not set a quota for your district yet, so no KIM can be "
        "nominated. Please contact the organiser.",
    ) in response.get_data(as_text=True)
    assert entries(app) == []


@pytest.mark.parametrize("status", ["submission", "judging"])
def test_nominating_outside_the_nomination_window_is_refused(
    app, client, login_as, make_kim, make_event, status
):
    event = make_event(status=status)
    kim = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    login_as("operator", district_code="64.04")

    response = nominate(client, event, kim.id)

    assert response.status_code == 409
    assert t(
        app,
        "Nominations for %(event)s are not open: the nomination window is closed.",
        event="Monev KIM se-Kalimantan Timur 2025",
    ) in response.get_data(as_text=True)
    assert entries(app) == []


def test_draft_event_does_not_exist_for_operators(client, login_as, make_event):
    event = make_event(status="draft")
    login_as("operator", district_code="64.04")
    assert client.get(event.page).status_code == 404


def test_kim_of_another_district_is_refused_as_not_found(
    app, client, login_as, make_kim, make_event
):
    event = make_event(quotas={"64.04": 2, "64.05": 2})
    berau = make_kim("KIM Sungai Bedungun", district_code="64.05", email="b@contoh.id")
    login_as("operator", district_code="64.04")

    page = client.get(event.page).get_data(as_text=True)
    assert "KIM Sungai Bedungun" not in page  # not offered

    for forged in (berau.id, 999_999, 10**20):
        response = nominate(client, event, forged)
        assert response.status_code == 404
        assert t(app, "This KIM was not found among the KIMs of your district.") in (
            response.get_data(as_text=True)
        )
    assert entries(app) == []
    assert outbox_messages(app) == []


def test_category_of_another_event_is_refused(app, client, login_as, make_kim, make_event):
    event = make_event()
    other = make_event(slug="monev-kim-kaltim-2024")
    kim = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    login_as("operator", district_code="64.04")
    response = nominate(client, event, kim.id, category_id=other.desa)
    assert response.status_code == 422
    assert t(app, "Choose a category of this event.") in response.get_data(as_text=True)
    assert entries(app) == []


def test_duplicate_nomination_is_refused(app, client, login_as, make_kim, make_event):
    event = make_event(quotas={"64.04": 3})
    kim = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    login_as("operator", district_code="64.04")
    assert nominate(client, event, kim.id).status_code == 303

    response = nominate(client, event, kim.id, category_id=event.kelurahan)

    assert response.status_code == 409
    assert t(
        app,
        "%(kim)s has already been nominated for this event (%(code)s).",
        kim="KIM Teluk Pandan",
        code="K-001",
    ) in response.get_data(as_text=True)
    assert entries(app) == [("K-001", "KIM Teluk Pandan", "nominated")]


def test_new_kim_inline_creates_the_kim_and_invites_its_account(app, client, login_as, make_event):
    event = make_event()
    login_as("operator", district_code="64.04")

    response = post_new_kim(client, event)

    assert response.status_code == 303
    assert entries(app) == [("K-001", "KIM Teluk Lingga", "nominated")]
    with app.app_context():
        kim = db.session.scalar(select(Kim))
        assert (kim.district.code, kim.kecamatan.name, kim.village.label, kim.email) == (
            "64.04",
            "Sangatta Utara",
            "Kelurahan Teluk Lingga",
            "kim.teluklingga@contoh.id",
        )
        entry = db.session.scalar(select(Entry))
        assert entry.category_id == event.kelurahan
        account = db.session.scalar(select(User).where(User.kim_id == kim.id))
        assert (account.email, account.role) == ("kim.teluklingga@contoh.id", "kim")
    [mail] = outbox_messages(app)
    assert mail.to == "kim.teluklingga@contoh.id"
    page = client.get(event.page).get_data(as_text=True)
    assert (
        t(
            app,
            "An invitation to the KIM account has been sent to %(email)s.",
            email="kim.teluklingga@contoh.id",
        )
        in page
    )


def test_new_kim_needs_an_email_and_keeps_the_input(app, client, login_as, make_event):
    event = make_event()
    login_as("operator", district_code="64.04")

    response = post_new_kim(client, event, email="")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, "Enter the KIM's e-mail address: its account invitation is sent there.") in page
    assert 'value="KIM Teluk Lingga"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Kim.id))) == 0


def test_new_kim_in_another_district_cannot_be_smuggled(app, client, login_as, make_event):
    event = make_event()
    login_as("operator", district_code="64.04")
    data = new_kim_form(event)
    with app.app_context():
        data["new-district_id"] = district("64.05").id
    from tests.conftest import csrf_token

    data["new-csrf_token"] = csrf_token(client, event.page)
    assert post(client, f"{event.page}/new-kim", data).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Kim)).district.code == "64.04"


# --- isolation ----------------------------------------------------------------------------


def test_operator_cannot_see_or_touch_other_districts(app, make_kim, make_user, make_event):
    event = make_event(quotas={"64.04": 2, "64.05": 2})
    kutim = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    berau = make_kim("KIM Sungai Bedungun", district_code="64.05", email="b@contoh.id")
    op_kutim = signed_in(app, make_user("operator", district_code="64.04"))
    op_berau = signed_in(app, make_user("operator", district_code="64.05"))
    assert nominate(op_kutim, event, kutim.id, note="Rahasia Kutim").status_code == 303
    assert nominate(op_berau, event, berau.id).status_code == 303
    with app.app_context():
        kutim_entry = db.session.scalar(select(Entry).where(Entry.kim_id == kutim.id)).id

    page = op_berau.get(event.page).get_data(as_text=True)
    assert "KIM Sungai Bedungun" in page
    assert "KIM Teluk Pandan" not in page and "Rahasia Kutim" not in page
    assert t(app, "%(used)d of %(quota)d", used=1, quota=2) in page

    # Withdrawing another district's nomination: it does not exist for this operator.
    response = post(op_berau, f"{event.page}/{kutim_entry}/withdraw")
    assert response.status_code == 404
    assert ("K-001", "KIM Teluk Pandan", "nominated") in entries(app)

    assert post(op_berau, f"{event.page}/{10**20}/withdraw").status_code == 404

    # The organiser's pages are closed to operators.
    assert op_berau.get(event.admin_page).status_code == 403
    assert op_berau.get(f"/admin/events/{event.slug}/quotas").status_code == 403
    response = post(
        op_berau,
        f"{event.admin_page}/{kutim_entry}/decide",
        {"decision": "rejected", "note": "x"},
    )
    assert response.status_code == 403
    assert entries(app)[0] == ("K-001", "KIM Teluk Pandan", "nominated")


# --- withdrawing --------------------------------------------------------------------------


def test_operator_withdraws_an_undecided_nomination(app, client, login_as, make_kim, make_event):
    event = make_event(quotas={"64.04": 1})
    kim = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    login_as("operator", district_code="64.04")
    nominate(client, event, kim.id)
    with app.app_context():
        entry_id = db.session.scalar(select(Entry.id))

    response = post(client, f"{event.page}/{entry_id}/withdraw")

    assert response.status_code == 303
    assert entries(app) == []
    page = client.get(event.page).get_data(as_text=True)
    assert t(app, "The nomination of %(kim)s has been withdrawn.", kim="KIM Teluk Pandan") in page
    assert t(app, "%(used)d of %(quota)d", used=0, quota=1) in page
    # The place is free and the KIM may be nominated again.
    assert nominate(client, event, kim.id).status_code == 303


def test_decided_nomination_cannot_be_withdrawn(app, client, login_as, make_kim, make_event):
    event = make_event()
    kim = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    login_as("operator", district_code="64.04")
    nominate(client, event, kim.id)
    with app.app_context():
        entry = db.session.scalar(select(Entry))
        entry.nomination_status, entry_id = "accepted", entry.id
        db.session.commit()

    response = post(client, f"{event.page}/{entry_id}/withdraw")

    assert response.status_code == 409
    assert t(
        app, "The organiser has already decided on this nomination; it can no longer be withdrawn."
    ) in response.get_data(as_text=True)
    assert entries(app) == [("K-001", "KIM Teluk Pandan", "accepted")]


# --- deciding -----------------------------------------------------------------------------


@pytest.fixture
def nominated(app, make_kim, make_user, make_event):
    """An event with two Kutim nominations and one from Berau; the Kutim operator's client."""
    event = make_event(quotas={"64.04": 2, "64.05": 1})
    operator = make_user("operator", district_code="64.04", email="op.kutim@uji.monev.id")
    make_user("operator", district_code="64.05", email="op.berau@uji.monev.id")
    op_client = signed_in(app, operator)
    kims = {
        name: make_kim(name, district_code=code, email=f"{n}@contoh.id")
        for n, (name, code) in enumerate(
            [
                ("KIM Teluk Pandan", "64.04"),
                ("KIM Pinang Raya", "64.04"),
                ("KIM Sungai Bedungun", "64.05"),
            ]
        )
    }
    for name in ("KIM Teluk Pandan", "KIM Pinang Raya"):
        assert nominate(op_client, event, kims[name].id).status_code == 303
    berau_client = signed_in(app, make_user("operator", district_code="64.05"))
    assert nominate(berau_client, event, kims["KIM Sungai Bedungun"].id).status_code == 303
    with app.app_context():
        ids = dict(
            db.session.execute(
                select(Kim.name, Entry.id).select_from(Entry).join(Kim, Kim.id == Entry.kim_id)
            ).all()
        )
    return event, op_client, ids


def decide(client, event, entry_id, decision, note="", **kwargs):
    return post(
        client,
        f"{event.admin_page}/{entry_id}/decide",
        {"decision": decision, "note": note},
        **kwargs,
    )


def test_admin_sees_nominations_per_district_and_filters(app, client, login_as, nominated):
    event, _op, _ids = nominated
    login_as("admin")
    page = client.get(event.admin_page).get_data(as_text=True)
    for name in ("KIM Teluk Pandan", "KIM Pinang Raya", "KIM Sungai Bedungun"):
        assert name in page
    assert t(app, "%(used)d of %(quota)d", used=2, quota=2) in page  # Kutai Timur
    assert t(app, "%(used)d of %(quota)d", used=1, quota=1) in page  # Berau
    with app.app_context():
        berau = district("64.05").id
    page = client.get(f"{event.admin_page}?district={berau}").get_data(as_text=True)
    results = page.split('id="nomination-results"')[1]
    assert "KIM Sungai Bedungun" in results and "KIM Teluk Pandan" not in results
    fragment = client.get(
        f"{event.admin_page}?district={berau}",
        headers={"HX-Request": "true", "HX-Target": "nomination-results"},
    ).get_data(as_text=True)
    assert "<html" not in fragment and "KIM Sungai Bedungun" in fragment


def test_admin_accepts_and_rejects_with_a_note_and_the_operator_sees_it(
    app, client, login_as, nominated
):
    event, op_client, ids = nominated
    login_as("admin")

    accepted = decide(client, event, ids["KIM Teluk Pandan"], "accepted")
    rejected = decide(
        client, event, ids["KIM Pinang Raya"], "rejected", note="SK kelembagaan belum ada."
    )

    assert (accepted.status_code, rejected.status_code) == (303, 303)
    assert entries(app)[:2] == [
        ("K-001", "KIM Teluk Pandan", "accepted"),
        ("K-002", "KIM Pinang Raya", "rejected"),
    ]
    page = op_client.get(event.page).get_data(as_text=True)
    assert "SK kelembagaan belum ada." in page
    assert t(app, "Accepted") in page and t(app, "Rejected") in page
    # The district's operators are told; the other district's are not.
    mails = [m for m in outbox_messages(app) if m.to.startswith("op.")]
    assert sorted((m.to, m.subject) for m in mails) == [
        ("op.kutim@uji.monev.id", t(app, "Nomination accepted: %(kim)s", kim="KIM Teluk Pandan")),
        ("op.kutim@uji.monev.id", t(app, "Nomination rejected: %(kim)s", kim="KIM Pinang Raya")),
    ]
    rejection = next(m for m in mails if "Pinang" in m.subject)
    assert "SK kelembagaan belum ada." in rejection.body
    assert f"/nominations/{event.slug}" in rejection.body


def test_reject_without_a_note_is_refused(app, client, login_as, nominated):
    event, _op, ids = nominated
    login_as("admin")

    response = decide(client, event, ids["KIM Pinang Raya"], "rejected", note="   ")

    assert response.status_code == 422
    assert t(app, "Give a reason for the rejection: the district operator will read it.") in (
        response.get_data(as_text=True)
    )
    assert ("K-002", "KIM Pinang Raya", "nominated") in entries(app)
    assert not [m for m in outbox_messages(app) if m.to.startswith("op.")]


def test_decision_by_htmx_returns_the_row(app, client, login_as, nominated):
    event, _op, ids = nominated
    login_as("admin")
    headers = {"HX-Request": "true", "HX-Target": f"entry-{ids['KIM Pinang Raya']}"}

    refused = decide(client, event, ids["KIM Pinang Raya"], "rejected", headers=headers)
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith("<tr")

    done = decide(
        client, event, ids["KIM Pinang Raya"], "rejected", note="Belum aktif.", headers=headers
    )
    assert done.status_code == 200
    assert done.headers["HX-Trigger"] == "nominations-changed"
    assert "Belum aktif." in done.get_data(as_text=True)


def test_decisions_close_with_verification(app, client, login_as, nominated):
    event, _op, ids = nominated
    with app.app_context():
        from monev.events.models import Event

        db.session.get(Event, event.id).status = "verification"
        db.session.commit()
    login_as("admin")
    response = decide(client, event, ids["KIM Teluk Pandan"], "accepted")
    assert response.status_code == 409
    assert entries(app)[0] == ("K-001", "KIM Teluk Pandan", "nominated")


def test_every_nomination_step_is_audited(app, client, login_as, nominated):
    event, op_client, ids = nominated
    login_as("admin")
    decide(client, event, ids["KIM Pinang Raya"], "rejected", note="Belum aktif.")
    actions = audit_actions(app)
    assert actions.count("nomination.created") == 3
    assert actions.count("user.invited") == 3
    assert actions.count("nomination.decided") == 1
    with app.app_context():
        row = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "nomination.decided"))
        assert row.object_id == str(ids["KIM Pinang Raya"])
        assert row.changes["status"] == ["nominated", "rejected"]
        assert row.changes["note"] == [None, "Belum aktif."]
        assert row.actor.startswith("admin")


def test_withdrawal_is_audited(app, client, login_as, make_kim, make_event):
    event = make_event()
    kim = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    login_as("operator", district_code="64.04")
    nominate(client, event, kim.id)
    with app.app_context():
        entry_id = db.session.scalar(select(Entry.id))
    post(client, f"{event.page}/{entry_id}/withdraw")
    assert audit_actions(app)[-3:] == ["nomination.created", "user.invited", "nomination.withdrawn"]


def test_admin_list_query_count_does_not_grow(
    app, client, login_as, make_kim, make_user, make_event
):
    event = make_event(quotas={"64.04": 10, "64.05": 10})
    op = signed_in(app, make_user("operator", district_code="64.04"))
    login_as("admin")
    kim = make_kim(district_code="64.04", email="k0@contoh.id")
    nominate(op, event, kim.id)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        client.get(event.admin_page)
    for n in range(1, 6):
        kim = make_kim(district_code="64.04", email=f"k{n}@contoh.id")
        nominate(op, event, kim.id)
    with count_queries(engine) as many:
        client.get(event.admin_page)
    assert len(many) == len(few)


# --- quotas -------------------------------------------------------------------------------


def test_admin_sets_quotas_kaltim_first(app, client, login_as, make_event):
    event = make_event(quotas={})
    login_as("admin")
    url = f"/admin/events/{event.slug}/quotas"
    page = client.get(url).get_data(as_text=True)
    assert "Kabupaten Kutai Timur" in page and "Kabupaten Sambas" not in page
    assert "Kabupaten Sambas" in client.get(f"{url}?all=1").get_data(as_text=True)
    with app.app_context():
        kutim, berau = district("64.04").id, district("64.05").id

    response = post(client, url, {f"quota-{kutim}": "4", f"quota-{berau}": "2"})

    assert response.status_code == 303
    with app.app_context():
        from monev.entries.nominations import queries

        assert queries.quota_values(event.id) == {kutim: 4, berau: 2}
    assert "event.quotas_set" in audit_actions(app)


def test_bad_quota_is_refused_with_the_input_kept(app, client, login_as, make_event):
    event = make_event(quotas={"64.04": 2})
    login_as("admin")
    url = f"/admin/events/{event.slug}/quotas"
    with app.app_context():
        kutim, berau = district("64.04").id, district("64.05").id

    response = post(client, url, {f"quota-{kutim}": "lima", f"quota-{berau}": "3"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, "Enter a whole number from 0 to 100.") in page
    assert 'value="lima"' in page
    response = post(client, url, {f"quota-{kutim}": "101"})
    assert response.status_code == 422
    assert t(app, "A quota lies between 0 and 100.") in response.get_data(as_text=True)
    with app.app_context():
        from monev.entries.nominations import queries

        assert queries.quota_values(event.id) == {kutim: 2}


# --- operator home ------------------------------------------------------------------------


def test_operator_home_links_to_open_nominations(app, client, login_as, make_event):
    event = make_event(quotas={"64.04": 4})
    make_event(status="draft", slug="rahasia-draft")
    login_as("operator", district_code="64.04")
    page = client.get("/").get_data(as_text=True)
    assert f'href="/nominations/{event.slug}"' in page
    assert "rahasia-draft" not in page
    assert t(app, "Nominate your KIMs: %(used)d of %(quota)d places used", used=0, quota=4) in page


# --- concurrency --------------------------------------------------------------------------


@pytest.mark.real_commits
@pytest.mark.skipif(not PG_URL, reason="PostgreSQL-only: SQLite serialises writers anyway")
def test_concurrent_nominations_cannot_exceed_the_quota_on_postgres(
    app, make_kim, make_user, make_event
):
    """Two operators take the last place at the same time: the second waits for the first
    nomination's lock, then counts it and is refused."""
    import threading

    from monev.core.errors import ServiceError
    from monev.entries.nominations import services
    from monev.events.models import Event

    event = make_event(quotas={"64.04": 1})
    first = make_kim("KIM Teluk Pandan", district_code="64.04", email="a@contoh.id")
    second = make_kim("KIM Pinang Raya", district_code="64.04", email="b@contoh.id")
    op1 = make_user("operator", district_code="64.04")
    op2 = make_user("operator", district_code="64.04")
    outcome: dict[str, str] = {}

    def nominate_second():
        with app.test_request_context():
            try:
                services.nominate(
                    db.session.get(User, op2.id),
                    db.session.get(Event, event.id),
                    second.id,
                    event.desa,
                )
                db.session.commit()
                outcome["second"] = "stored"
            except ServiceError as error:
                db.session.rollback()
                outcome["second"] = error.message

    with app.test_request_context():
        services.nominate(
            db.session.get(User, op1.id), db.session.get(Event, event.id), first.id, event.desa
        )
        worker = threading.Thread(target=nominate_second)
        worker.start()
        worker.join(timeout=1.5)
        assert worker.is_alive()  # waiting for the first nomination's lock
        db.session.commit()
    worker.join(timeout=10)
    assert not worker.is_alive()
    expected = t(
        app,
        "Your district's quota is used up: %(used)d of %(quota)d places. Withdraw a "
        "nomination first to nominate another KIM.",
        used=1,
        quota=1,
    )
    assert outcome["second"] == html.unescape(expected)
    assert entries(app) == [("K-001", "KIM Teluk Pandan", "nominated")]
