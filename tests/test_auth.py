"""Sign-in, sessions, passwords, resets and invitations, through the HTTP client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from monev.audit.models import AuditEntry
from monev.auth.models import LoginAttempt, User, UserSession
from monev.extensions import db
from tests.conftest import PASSWORD, csrf_token, link_in, login, outbox_messages, post, t

COMMON = (
    "This password is too common or too easy to guess. A few unrelated words make a strong "
    "password that is easy to remember."
)


def test_login_page_is_indonesian_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="id"' in page
    assert "<h1>Masuk</h1>" in page


def test_login_with_right_password_opens_the_role_home(client, make_user):
    user = make_user("judge", name="Juri Uji Satu")
    response = login(client, user.email)
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Juri Uji Satu" in home


def test_login_email_is_case_insensitive(client, make_user):
    user = make_user("judge", email="juri.besar@uji.monev.id")
    login(client, "  JURI.Besar@Uji.Monev.ID ")
    assert user.name in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "password", "msgid"),
    [
        ("", "", "Enter your e-mail address."),
        ("bukan-email", PASSWORD, "Enter a valid e-mail address, like nama@contoh.id."),
        ("a" * 250 + "@x.id", PASSWORD, "Use at most %(max)d characters."),
        ("someone@uji.monev.id", "", "Enter your password."),
    ],
)
def test_login_bad_input_gets_a_clear_message(app, client, email, password, msgid):
    response = post(client, "/login", {"email": email, "password": password})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert t(app, msgid, max=254) in page
    assert f'value="{email}"' in page if email else True  # input kept


def test_wrong_password_is_refused_and_counted(app, client, make_user):
    user = make_user("judge")
    response = post(client, "/login", {"email": user.email, "password": "salah-sekali"})
    assert response.status_code == 422
    assert t(app, "The e-mail address or password is wrong.") in response.get_data(as_text=True)
    with app.app_context():
        attempts = db.session.scalars(select(LoginAttempt)).all()
        assert [(a.email, a.succeeded) for a in attempts] == [(user.email, False)]
        assert db.session.scalar(select(func.count(UserSession.id))) == 0


def test_unknown_account_gets_the_same_message(app, client):
    response = post(
        client,
        "/login",
        {"email": "tidak.ada@uji.monev.id", "password": "apa saja"},
    )
    assert response.status_code == 422
    assert t(app, "The e-mail address or password is wrong.") in response.get_data(as_text=True)


def test_deactivated_account_cannot_sign_in(app, client, make_user):
    user = make_user("judge", active=False)
    response = post(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 422
    assert t(app, "This account has been deactivated. Contact the organiser.") in response.get_data(
        as_text=True
    )


def test_login_without_csrf_token_is_refused_with_a_message(app, client, make_user):
    user = make_user("judge")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert (
        t(
            app,
            "Your form has expired or was sent without its security token. Reload the page "
            "and try again.",
        )
        in page
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(UserSession.id))) == 0


def test_open_redirect_after_login_is_ignored(client, make_user):
    user = make_user("judge")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=https://jahat.example/",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_login_follows_a_local_next(client, make_user):
    user = make_user("admin")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=/admin/users",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin/users"


# --- throttling ---------------------------------------------------------------------------


def test_account_is_throttled_after_repeated_failures(app, client, make_user):
    user = make_user("judge")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        post(client, "/login", {"email": user.email, "password": "salah-terus"})
    # Even the right password is refused while throttled.
    response = post(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert t(
        app,
        "Too many failed sign-in attempts. Try again in %(n)d minutes, or ask for a sign-in "
        "link by e-mail below.",
        n=app.config["LOGIN_WINDOW_MINUTES"],
    ) in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(UserSession.id))) == 0


@pytest.mark.real_commits
def test_throttle_counters_are_shared_by_all_workers(app, make_user, tmp_path):
    """Two app instances (two server workers) on one database see the same counters."""
    from monev import create_app

    user = make_user("judge")
    second_worker = create_app(
        {**{k: app.config[k] for k in ("ENV_NAME", "SQLALCHEMY_DATABASE_URI", "OUTBOX_DIR")}}
    )
    workers = [app.test_client(), second_worker.test_client()]
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for i in range(limit):
        post(
            workers[i % 2],
            "/login",
            {"email": user.email, "password": "salah"},
        )
    for worker in workers:
        response = post(worker, "/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
    with second_worker.app_context():
        db.engine.dispose()


def _client_at(app, address: str):
    """A browser at another network address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_guesses_from_elsewhere_do_not_lock_the_owner_out(app, client, make_user):
    user = make_user("judge")
    attacker = _client_at(app, "203.0.113.9")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] + 3):
        post(attacker, "/login", {"email": user.email, "password": "tebak-tebakan"})
    assert post(attacker, "/login", {"email": user.email, "password": PASSWORD}).status_code == 429
    login(client, user.email)  # the owner, from their own address


def test_a_locked_out_owner_signs_in_once_from_a_mailed_link(app, client, make_user):
    app.config["LOGIN_MAX_FAILURES_ACCOUNT_TOTAL"] = 3
    user = make_user("judge")
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        other = _client_at(app, address)
        post(other, "/login", {"email": user.email, "password": "salah"})
    assert post(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 429

    response = post(client, "/login/link", {"email": user.email})
    assert response.status_code == 302
    link = re.sub(r"^https?://[^/]+", "", link_in(outbox_messages(app)[-1].body))
    assert client.get(link).status_code == 200  # opening the link changes nothing
    signed_in = post(client, link, {})
    assert signed_in.status_code == 302
    assert client.get("/account").status_code == 200
    post(client, "/logout")
    used = client.get(link)
    assert used.status_code == 404
    assert t(app, "This link is not valid or has already been used.") in used.get_data(as_text=True)


def test_a_sign_in_link_is_sent_only_to_an_active_account_and_not_endlessly(app, client, make_user):
    user = make_user("judge")
    before = len(outbox_messages(app))
    for _ in range(5):
        assert post(client, "/login/link", {"email": user.email}).status_code == 302
    assert post(client, "/login/link", {"email": "siapa@tidak.ada"}).status_code == 302
    assert len(outbox_messages(app)) - before == 3
    bad = post(client, "/login/link", {"email": "bukan-email"})
    assert bad.status_code == 422


def test_address_is_throttled_across_accounts(app, client, make_user):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 4
    users = [make_user("judge") for _ in range(5)]
    for user in users[:4]:
        post(client, "/login", {"email": user.email, "password": "salah"})
    response = post(client, "/login", {"email": users[4].email, "password": PASSWORD})
    assert response.status_code == 429


def test_failures_older_than_the_window_do_not_count(app, client, make_user):
    user = make_user("judge")
    with app.app_context():
        old = LoginAttempt.created_at.default.arg(None) - timedelta(
            minutes=app.config["LOGIN_WINDOW_MINUTES"] + 1
        )
        for _ in range(10):
            db.session.add(LoginAttempt(email=user.email, ip="127.0.0.1", created_at=old))
        db.session.commit()
    login(client, user.email)


# --- server-side sessions -----------------------------------------------------------------


def test_logout_ends_the_session_and_a_replayed_cookie_is_refused(app, client, make_user):
    user = make_user("admin")
    login(client, user.email)
    stolen = client.get_cookie("monev_session").value
    assert client.get("/admin/").status_code == 200
    post(client, "/logout")
    assert client.get("/admin/").status_code == 302  # to the login page

    replay = app.test_client()
    replay.set_cookie("monev_session", stolen)
    response = replay.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_password_change_ends_other_sessions_but_keeps_this_one(app, make_user):
    user = make_user("judge")
    laptop, tablet = app.test_client(), app.test_client()
    login(laptop, user.email)
    login(tablet, user.email)
    new_password = "ikan-bakar-di-tepi-mahakam"
    response = post(
        laptop,
        "/account/password",
        {"current": PASSWORD, "password": new_password, "confirm": new_password},
    )
    assert response.status_code == 302
    assert laptop.get("/account").status_code == 200
    assert tablet.get("/account").status_code == 302
    with app.app_context():
        stored = db.session.get(User, user.id)
        from monev.auth.passwords import verify_password

        assert verify_password(stored.password_hash, new_password)
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert "user.password_changed" in actions


def test_password_change_with_wrong_current_password_changes_nothing(app, client, make_user):
    user = make_user("judge")
    login(client, user.email)
    response = post(
        client,
        "/account/password",
        {
            "current": "bukan-ini",
            "password": "ikan-bakar-di-tepi-mahakam",
            "confirm": "ikan-bakar-di-tepi-mahakam",
        },
    )
    assert response.status_code == 422
    assert t(app, "The current password is wrong.") in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).password_hash == user.password_hash


@pytest.mark.parametrize(
    ("password", "msgid"),
    [
        ("pendek", "Use at least %(n)d characters."),
        (
            "password123",
            COMMON,
        ),
        (
            "12345678",
            COMMON,
        ),
        ("x" * 129, "Use at most %(n)d characters."),
    ],
)
def test_weak_passwords_are_refused(app, client, make_user, password, msgid):
    user = make_user("judge")
    login(client, user.email)
    response = post(
        client,
        "/account/password",
        {"current": PASSWORD, "password": password, "confirm": password},
    )
    assert response.status_code == 422
    assert t(app, msgid, n=8 if "least" in msgid else 128) in response.get_data(as_text=True)


def test_password_made_of_own_email_is_refused(app, client, make_user):
    user = make_user("judge", email="rahmawati.hasan@uji.monev.id")
    login(client, user.email)
    weak = "rahmawati.hasan"
    response = post(
        client,
        "/account/password",
        {"current": PASSWORD, "password": weak, "confirm": weak},
    )
    assert response.status_code == 422


def test_no_composition_rules_a_long_passphrase_is_accepted(client, make_user):
    user = make_user("judge")
    login(client, user.email)
    phrase = "sungai mahakam mengalir tenang"
    response = post(
        client,
        "/account/password",
        {"current": PASSWORD, "password": phrase, "confirm": phrase},
    )
    assert response.status_code == 302


def test_deactivation_ends_every_session_of_that_user(app, make_user):
    admin = make_user("admin")
    judge = make_user("judge")
    admin_client, judge_client = app.test_client(), app.test_client()
    login(admin_client, admin.email)
    login(judge_client, judge.email)
    assert judge_client.get("/account").status_code == 200
    response = post(
        admin_client,
        f"/admin/users/{judge.id}",
        {"name": judge.name, "role": "judge", "district_id": "", "kim_id": "", "institution": ""},
    )
    assert response.status_code == 302
    assert judge_client.get("/account").status_code == 302
    with app.app_context():
        assert db.session.get(User, judge.id).active is False


def test_end_other_sessions_button(app, make_user):
    user = make_user("judge")
    a, b = app.test_client(), app.test_client()
    login(a, user.email)
    login(b, user.email)
    post(a, "/account/sessions/end-others")
    assert a.get("/account").status_code == 200
    assert b.get("/account").status_code == 302


# --- forgotten password -------------------------------------------------------------------


def test_forgotten_password_link_works_once(app, client, make_user):
    user = make_user("judge")
    response = post(client, "/password/forgot", {"email": user.email})
    assert response.status_code == 302
    [message] = outbox_messages(app)
    assert message.to == user.email
    link = link_in(message.body)
    path = re.sub(r"^https?://[^/]+", "", link)
    assert client.get(path).status_code == 200
    new = "kopi-tubruk-tanpa-gula"
    response = post(client, path, {"password": new, "confirm": new})
    assert response.status_code == 302
    login(client, user.email, new)
    post(client, "/logout")
    # Used once: the same link is now refused, with a message.
    again = client.get(path)
    assert again.status_code == 404
    assert t(app, "This link is not valid or has already been used.") in again.get_data(
        as_text=True
    )


def test_forgotten_password_for_unknown_address_says_the_same_and_sends_nothing(app, client):
    response = post(
        client,
        "/password/forgot",
        {"email": "siapa@uji.monev.id"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert outbox_messages(app) == []


def test_forgotten_password_bad_email(app, client):
    response = post(client, "/password/forgot", {"email": "tanpa-at"})
    assert response.status_code == 422
    assert t(app, "Enter a valid e-mail address, like nama@contoh.id.") in response.get_data(
        as_text=True
    )


def test_expired_reset_link_is_refused(app, client, make_user):
    from monev.auth import tokens

    user = make_user("judge")
    with app.test_request_context():
        token = tokens.make_token(db.session.get(User, user.id), tokens.RESET)
    app.config["PASSWORD_RESET_HOURS"] = -1
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 410
    assert t(app, "This link has expired. Ask for a new one.") in response.get_data(as_text=True)


def test_forged_reset_link_is_refused(app, client):
    response = client.get("/password/reset/eyJmb3JnZWQiOjF9.abc.def")
    assert response.status_code == 404


def test_reset_with_mismatched_passwords_keeps_the_old_one(app, client, make_user):
    user = make_user("judge")
    post(client, "/password/forgot", {"email": user.email})
    path = re.sub(r"^https?://[^/]+", "", link_in(outbox_messages(app)[0].body))
    response = post(
        client,
        path,
        {"password": "kopi-tubruk-tanpa-gula", "confirm": "kopi-tubruk-tanpa-susu"},
    )
    assert response.status_code == 422
    assert t(app, "The two passwords are not the same.") in response.get_data(as_text=True)
    login(client, user.email)


# --- invitations --------------------------------------------------------------------------


def test_invited_judge_sets_a_password_and_signs_in(app, make_user):
    admin = make_user("admin")
    admin_client, guest = app.test_client(), app.test_client()
    login(admin_client, admin.email)
    response = post(
        admin_client,
        "/admin/users/new",
        {
            "email": "juri.baru@uji.monev.id",
            "name": "Juri Baru",
            "role": "judge",
            "district_id": "",
            "kim_id": "",
            "institution": "Universitas Mulawarman",
        },
    )
    assert response.status_code == 302
    [message] = outbox_messages(app)
    assert message.to == "juri.baru@uji.monev.id"
    path = re.sub(r"^https?://[^/]+", "", link_in(message.body))
    assert "Juri Baru" in guest.get(path).get_data(as_text=True)
    # Cannot sign in before accepting.
    assert (
        post(
            guest,
            "/login",
            {"email": "juri.baru@uji.monev.id", "password": "anything at all"},
        ).status_code
        == 422
    )
    password = "juri-baru-dari-samarinda"
    assert post(guest, path, {"password": password, "confirm": password}).status_code == 302
    login(guest, "juri.baru@uji.monev.id", password)
    # The invitation cannot be used twice.
    assert app.test_client().get(path).status_code == 404


def test_operator_invitation_requires_a_district(app, client, login_as):
    login_as("admin")
    response = post(
        client,
        "/admin/users/new",
        {
            "email": "op@uji.monev.id",
            "name": "Operator",
            "role": "operator",
            "district_id": "",
            "kim_id": "",
        },
    )
    assert response.status_code == 422
    assert t(app, "An operator must belong to a kabupaten/kota.") in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "op@uji.monev.id")) is None
    assert outbox_messages(app) == []


def test_inviting_an_existing_address_is_refused(app, client, login_as, make_user):
    other = make_user("judge")
    login_as("admin")
    response = post(
        client,
        "/admin/users/new",
        {"email": other.email.upper(), "name": "Dobel", "role": "judge"},
    )
    assert response.status_code == 422
    assert t(app, "An account with this e-mail address already exists.") in response.get_data(
        as_text=True
    )


def test_admin_cannot_deactivate_or_demote_themselves(app, client, login_as):
    admin = login_as("admin")
    response = post(
        client,
        f"/admin/users/{admin.id}",
        {"name": admin.name, "role": "judge"},
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(User, admin.id).role == "admin"


# --- account page -------------------------------------------------------------------------


def test_profile_update_keeps_input_on_error(app, client, login_as):
    login_as("judge")
    response = post(client, "/account/profile", {"name": "", "locale": "en"})
    assert response.status_code == 422
    assert t(app, "Enter your name.") in response.get_data(as_text=True)


def test_choosing_english_switches_the_interface(client, login_as):
    login_as("judge")
    response = post(client, "/account/profile", {"name": "Juri Inggris", "locale": "en"})
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "My account" in page


def test_language_switch_for_visitors(client):
    post(client, "/lang/en", {"next": "/login"})
    assert '<html lang="en"' in client.get("/login").get_data(as_text=True)


def test_production_hashes_with_argon2id_at_its_default_cost(tmp_path, monkeypatch):
    """Tests hash cheaply (TestingConfig.ARGON2_PARAMETERS); production keeps argon2-cffi's
    RFC 9106 low-memory profile: 3 passes over 64 MiB with 4 lanes."""
    from argon2 import Type, extract_parameters

    from monev import create_app
    from monev.auth.passwords import hash_password, needs_rehash

    monkeypatch.setenv("MONEV_INSTANCE_PATH", str(tmp_path))
    production = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
        }
    )
    assert "ARGON2_PARAMETERS" not in production.config
    with production.app_context():
        stored = hash_password(PASSWORD)
        params = extract_parameters(stored)
        assert not needs_rehash(stored)
    assert (
        params.type,
        params.time_cost,
        params.memory_cost,
        params.parallelism,
        params.hash_len,
        params.salt_len,
    ) == (Type.ID, 3, 65536, 4, 32, 16)


def test_testing_hashes_cheaply_and_a_production_hash_still_verifies(app):
    from argon2 import PasswordHasher, extract_parameters

    from monev.auth.passwords import hash_password, needs_rehash, verify_password

    with app.app_context():
        params = extract_parameters(hash_password(PASSWORD))
        production_hash = PasswordHasher().hash(PASSWORD)
        assert verify_password(production_hash, PASSWORD)
        assert needs_rehash(production_hash)  # signing in moves it to this app's parameters
    assert (params.time_cost, params.memory_cost, params.parallelism) == (1, 8, 1)
