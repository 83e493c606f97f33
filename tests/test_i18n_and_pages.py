"""Language catalog, error pages, outbox, demo data."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from sqlalchemy import func, select

from monev.auth.models import User
from monev.directory.models import Kim
from monev.extensions import db
from tests.conftest import login, outbox_messages, post

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def test_indonesian_catalog_covers_every_message_in_the_code():
    """Every msgid extracted from the code and templates has an Indonesian translation."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "_l": None,
        "lazy_gettext": None,
        "lazy_ngettext": (1, 2),
    }
    extracted = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        extracted.add(message[0] if isinstance(message, tuple) else message)
    catalog = polib.pofile(str(ROOT / "translations/id/LC_MESSAGES/messages.po"))
    translated = {e.msgid for e in catalog.translated_entries()}
    missing = sorted(extracted - translated)
    assert missing == [], f"untranslated (run `make translations`, then translate): {missing}"


def test_translations_keep_their_placeholders():
    catalog = polib.pofile(str(ROOT / "translations/id/LC_MESSAGES/messages.po"))
    bad = []
    for entry in catalog:
        wanted = set(PLACEHOLDER.findall(entry.msgid))
        texts = [entry.msgstr] if entry.msgstr else list(entry.msgstr_plural.values())
        for text in texts:
            if set(PLACEHOLDER.findall(text)) - wanted - {"num"} or wanted - set(
                PLACEHOLDER.findall(text)
            ) - {"num"}:
                bad.append(entry.msgid)
    assert bad == []


def test_error_pages_are_friendly(app, client, login_as):
    response = client.get("/tidak-ada")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.get_data(as_text=True) or "<h1>" in (
        response.get_data(as_text=True)
    )
    login_as("judge")
    forbidden = client.get("/admin/")
    assert forbidden.status_code == 403
    assert 'class="error-page"' in forbidden.get_data(as_text=True)


@pytest.mark.real_commits
def test_unexpected_error_shows_a_500_page_and_saves_nothing(app, make_user):
    from flask import Blueprint

    from monev.core import access

    bp = Blueprint("boom", __name__)

    @bp.route("/boom", methods=["POST"])
    @access.public
    def boom():
        db.session.add(Kim(name="Setengah", district_id=1))
        db.session.flush()
        raise RuntimeError("kaboom")

    app.register_blueprint(bp)
    client = app.test_client()
    response = post(client, "/boom")
    assert response.status_code == 500
    assert 'class="error-page"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Kim.id))) == 0


def test_admin_reads_the_outbox(app, client, login_as, make_user):
    judge = make_user("judge")
    post(client, "/password/forgot", {"email": judge.email})
    [message] = outbox_messages(app)
    login_as("admin")
    listing = client.get("/admin/outbox").get_data(as_text=True)
    assert judge.email in listing
    page = client.get(f"/admin/outbox/{message.name}").get_data(as_text=True)
    assert "/password/reset/" in page
    assert client.get("/admin/outbox/..%2Fsecret_key").status_code == 404


def test_mail_is_not_sent_when_the_change_is_rolled_back(app, client, login_as):
    login_as("admin")
    post(
        client,
        "/admin/users/new",
        {"email": "op@uji.monev.id", "name": "Op", "role": "operator", "district_id": ""},
    )
    assert outbox_messages(app) == []


def test_smtp_is_used_when_configured(app, monkeypatch, make_user):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self, context):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, message):
            sent.append(("send", message["To"]))

    import smtplib

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(SMTP_HOST="smtp.contoh.id", SMTP_PORT=2525, SMTP_USER="monev")
    judge = make_user("judge")
    post(app.test_client(), "/password/forgot", {"email": judge.email})
    assert sent == [
        ("connect", "smtp.contoh.id", 2525),
        ("starttls",),
        ("login", "monev"),
        ("send", judge.email),
    ]
    assert outbox_messages(app) == []


def test_demo_loads_a_realistic_competition_and_its_logins_work(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.monev.id" in result.output
    with app.app_context():
        names = set(db.session.scalars(select(Kim.name)))
        assert {
            "KIM Teluk Pandan",
            "KIM Pinang Raya",
            "KIM Teluk Lingga",
            "KIM Sangatta Utara",
        } <= names
        roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
        assert roles["admin"] == 1 and roles["judge"] >= 3 and roles["operator"] >= 3
    client = app.test_client()
    for email in [
        "admin@demo.monev.id",
        "operator.kutim@demo.monev.id",
        "juri1@demo.monev.id",
        "kim.telukpandan@demo.monev.id",
    ]:
        login(client, email, app.config["DEMO_PASSWORD"])
        post(client, "/logout")
    again = runner.invoke(args=["demo"])
    assert again.exit_code != 0
    assert runner.invoke(args=["demo", "--if-empty"]).exit_code == 0


@pytest.mark.parametrize("role", ["operator", "kim", "judge"])
def test_each_role_home_page(client, login_as, role):
    user = login_as(role)
    page = client.get("/").get_data(as_text=True)
    assert user.name in page or "KIM Uji" in page or "Kabupaten Kutai Timur" in page


def test_create_admin_command(app, runner):
    result = runner.invoke(
        args=["create-admin", "--email", "Kadis@Kaltimprov.go.id", "--name", "Kadis"],
        input="tepian-mahakam-berseri\ntepian-mahakam-berseri\n",
    )
    assert result.exit_code == 0, result.output
    client = app.test_client()
    login(client, "kadis@kaltimprov.go.id", "tepian-mahakam-berseri")
    weak = runner.invoke(
        args=["create-admin", "--email", "b@x.id", "--name", "B"], input="12345678\n12345678\n"
    )
    assert weak.exit_code != 0


def test_a_name_ending_with_a_full_stop_gets_one_stop_not_two(app, make_user):
    from tests.conftest import login

    judge = make_user("judge", name="Dr. Rahmawati Hasan, M.Si.")
    client = app.test_client()
    login(client, judge.email)
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Dr. Rahmawati Hasan, M.Si." in page
    assert "M.Si.." not in page
