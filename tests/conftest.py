"""Fixtures: the app, created once per session, with each test inside a transaction that is
rolled back; a client, factories and helpers.

Every test runs in an outer transaction on one connection; the app's sessions join it with a
SAVEPOINT (``join_transaction_mode="create_savepoint"``), so a request's commit and rollback
behave as in production while nothing outlives the test. ``app.config`` is restored after
each test, and each test has its own instance, outbox and storage folders.

A test that needs real commits (threads or other connections, a second app on the same
database, worker processes, or changes to the app's setup such as a new blueprint) is marked
``@pytest.mark.real_commits``: it gets an app and a database of its own, as every test did
before (a copy of the migrated SQLite file, or PostgreSQL truncated before and after).

Set MONEV_TEST_DATABASE_URL=postgresql://... to run the whole suite on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import current_app
from flask_sqlalchemy.session import Session as FlaskSession
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, text

from monev import create_app
from monev.auth.models import User
from monev.auth.passwords import hash_password
from monev.directory.models import Kim
from monev.extensions import db
from monev.regions import queries as regions


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist (``make test`` runs one worker per core) each worker gets its own
    PostgreSQL database beside the given one (``<name>_gw0``, …), made when missing; the
    databases the fixtures derive from it are then the worker's own too."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _database_of_this_worker(os.environ.get("MONEV_TEST_DATABASE_URL"))
PASSWORD = "kopi-susu-pagi-hari"  # passes the policy; used by factories
# Reference data loaded by migrations; kept between tests.
KEEP_TABLES = {"alembic_version", "provinces", "districts"}
_HASH_CACHE: dict[str, str] = {}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "real_commits: the test gets an app and a database of its own, where commits are real "
        "(threads or other connections, a second app, worker processes, a changed app setup)",
    )


def _fast_hash(password: str) -> str:
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = hash_password(password)
    return _HASH_CACHE[password]


def _config(instance: Path, uri: str) -> dict:
    return {
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": uri,
        "OUTBOX_DIR": str(instance / "outbox"),
        "STORAGE_DIR": str(instance / "files"),
        "SERVER_NAME": None,
    }


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> str:
    """Run the migrations once: the SQLite file every database is copied from, or the
    PostgreSQL database (emptied between tests)."""
    from flask_migrate import upgrade

    folder = tmp_path_factory.mktemp("template")
    if PG_URL:
        app = create_app(_config(folder, PG_URL))
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            upgrade()
            db.engine.dispose()
        return PG_URL
    path = folder / "template.db"
    app = create_app(_config(folder, f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return str(path)


def _truncate_pg(app) -> None:
    with app.app_context():
        names = [t.name for t in db.metadata.sorted_tables if t.name not in KEEP_TABLES]
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))


# --- the app: once per session, each test rolled back -------------------------------------


class _RolledBackSession(FlaskSession):
    """The app's session class in tests: in the shared app, it joins the test's connection
    (and its outer transaction) instead of taking a connection from the pool."""

    app = None
    connection = None

    def get_bind(self, *args, **kwargs):
        cls = type(self)
        if cls.connection is not None and current_app._get_current_object() is cls.app:
            return cls.connection
        return super().get_bind(*args, **kwargs)


@pytest.fixture(scope="session")
def shared_app(template_db, tmp_path_factory):
    """The app every ordinary test uses (through ``app``), on a database of the session."""
    folder = tmp_path_factory.mktemp("shared")
    if PG_URL:
        uri = template_db
    else:
        shutil.copy(template_db, folder / "monev.db")
        uri = f"sqlite:///{folder / 'monev.db'}"
    os.environ["MONEV_INSTANCE_PATH"] = str(folder)
    application = create_app(_config(folder, uri))
    factory = db.session.session_factory
    factory.class_ = _RolledBackSession
    factory.kw["join_transaction_mode"] = "create_savepoint"
    _RolledBackSession.app = application
    yield application
    _RolledBackSession.app = None
    with application.app_context():
        db.engine.dispose()


def own_app(tmp_path: Path, source: str, files: Path | None = None) -> Iterator:
    """An app on a database of its own, where commits are real: a copy of the SQLite file
    ``source``, or the PostgreSQL database ``source`` (the test database is emptied before
    and after). ``files``: a storage folder to start from (copied)."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    if files is not None:
        shutil.copytree(files, instance / "files")
    if source.startswith("postgresql"):
        uri = source
    else:
        shutil.copy(source, tmp_path / "monev.db")
        uri = f"sqlite:///{tmp_path / 'monev.db'}"
    os.environ["MONEV_INSTANCE_PATH"] = str(instance)
    application = create_app(_config(instance, uri))
    if source == PG_URL:
        _truncate_pg(application)
    try:
        yield application
    finally:
        if source == PG_URL:
            _truncate_pg(application)
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def app(request, template_db, tmp_path) -> Iterator:
    """The app, with a database where everything the test writes is rolled back after it
    (or, for a test marked ``real_commits``, an app and database of its own).

    No app context is held during the test: each request gets its own, as in production
    (a shared one would share ``g`` and Flask-Login's cached user between requests)."""
    if request.node.get_closest_marker("real_commits"):
        yield from own_app(tmp_path, template_db)
        return
    yield from _rolled_back(request.getfixturevalue("shared_app"), tmp_path / "instance")


def _rolled_back(application, instance: Path) -> Iterator:
    from monev import jobs
    from monev.results.computing import cache as results_cache
    from monev.storage import _EXTENSION_KEY as STORAGE_KEY

    if jobs._state.app is not application:  # an app of a real_commits test took the queue
        jobs.init_app(application)
    instance.mkdir()
    config = copy.deepcopy(dict(application.config))
    instance_path = application.instance_path
    os.environ["MONEV_INSTANCE_PATH"] = str(instance)
    application.config.update(
        OUTBOX_DIR=str(instance / "outbox"), STORAGE_DIR=str(instance / "files")
    )
    application.instance_path = str(instance)
    application.extensions.pop(STORAGE_KEY, None)
    with application.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    _RolledBackSession.connection = connection
    try:
        yield application
    finally:
        _RolledBackSession.connection = None
        if transaction.is_active:
            transaction.rollback()
        connection.close()
        application.config.clear()
        application.config.update(config)
        application.instance_path = instance_path
        application.extensions.pop(STORAGE_KEY, None)
        # pages kept per ETag: ids are reused once a test's rows are rolled back
        application.extensions["monev_caching"].bodies.clear()
        results_cache.clear()  # results kept per score version: the same ids come back


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories ----------------------------------------------------------------------------


def district(code: str):
    from sqlalchemy import select

    from monev.regions.models import District

    return db.session.scalar(select(District).where(District.code == code))


@dataclass(frozen=True)
class Record:
    """Plain copy of a row's columns, usable after its session is gone."""

    id: int
    data: dict

    def __getattr__(self, name):
        try:
            return self.data[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def record(obj) -> Record:
    return Record(obj.id, {c.key: getattr(obj, c.key) for c in obj.__table__.columns})


@pytest.fixture
def make_kim(app) -> Callable[..., Record]:
    counter = iter(range(1, 10_000))

    def factory(name: str | None = None, district_code: str = "64.04", **fields) -> Record:
        with app.app_context():
            return _make_kim(name, district_code, counter, **fields)

    return factory


def _make_kim(name, district_code, counter, **fields) -> Record:
    d = district(district_code)
    kec = regions.get_or_create_kecamatan(d.id, fields.pop("kecamatan", "Sangatta Utara"))
    village = regions.get_or_create_village(
        kec, fields.pop("village_kind", "desa"), fields.pop("village", f"Desa {next(counter)}")
    )
    kim = Kim(
        name=name or f"KIM Uji {next(counter)}",
        district_id=d.id,
        kecamatan=kec,
        village=village,
        **fields,
    )
    kim.refresh_search_text()
    db.session.add(kim)
    db.session.commit()
    return record(kim)


@pytest.fixture
def make_user(app, make_kim) -> Callable[..., Record]:
    counter = iter(range(1, 10_000))

    def factory(
        role: str = "admin",
        email: str | None = None,
        password: str | None = PASSWORD,
        district_code: str = "64.04",
        kim: Record | None = None,
        **fields,
    ) -> Record:
        kim_id = None
        if role == "kim":
            kim_id = (kim or make_kim(district_code=district_code)).id
        with app.app_context():
            return _make_user(role, email, password, district_code, kim_id, next(counter), fields)

    return factory


def _make_user(role, email, password, district_code, kim_id, n, fields) -> Record:
    user = User(
        email=email or f"{role}{n}@uji.monev.id",
        name=fields.pop("name", f"Pengguna {role} {n}"),
        role=role,
        password_hash=_fast_hash(password) if password else None,
        active=fields.pop("active", True),
        **fields,
    )
    if role == "operator":
        user.district_id = district(district_code).id
    user.kim_id = kim_id
    db.session.add(user)
    db.session.commit()
    return record(user)


# --- helpers ------------------------------------------------------------------------------

CSRF_RE = re.compile(
    r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"|"X-CSRFToken": "([^"]+)"'
)


def csrf_token(client, url: str | None = None) -> str:
    """A valid CSRF token of the client's session, made as Flask-WTF's ``generate_csrf``
    makes it (the session's secret, signed), without fetching a page. With ``url``, the
    token is read from that page instead."""
    if url is not None:
        page = client.get(url, follow_redirects=True).get_data(as_text=True)
        match = CSRF_RE.search(page)
        assert match, f"no CSRF token on {url}"
        return match.group(1) or match.group(2)
    app = client.application
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    with client.session_transaction() as sess:
        if field not in sess:
            sess[field] = secrets.token_hex(20)  # as Flask-WTF: 40 random hex digits
        raw = sess[field]
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST a form the way a browser does: with the CSRF token of the user's session."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=data, **kwargs)


def login(client, email: str, password: str = PASSWORD):
    """Sign in through the login form (the password is checked)."""
    response = post(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def sign_in(client, email: str) -> None:
    """Sign in as the login form does, without it: a server-side session and Flask-Login's
    session keys (with its session-protection identifier of this client), no password
    check and no sign-in attempt recorded."""
    from flask import request
    from flask_login.utils import _create_identifier

    from monev.auth import services

    app = client.application
    with app.test_request_context(environ_base=client.environ_base):
        user = services.user_by_email(email)
        assert user is not None and user.active, email
        token = services.start_session(user, request.remote_addr, request.user_agent.string)
        db.session.commit()
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess.clear()
        sess.permanent = True
        sess["_user_id"] = token
        sess["_fresh"] = True
        sess["_id"] = identifier


@pytest.fixture
def login_as(client, make_user):
    def do(role: str = "admin", **kwargs) -> User:
        user = make_user(role, **kwargs)
        sign_in(client, user.email)
        return user

    return do


@contextlib.contextmanager
def count_queries(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def outbox_messages(app) -> list:
    from monev.mail.services import list_outbox

    with app.test_request_context():
        return list_outbox()


def link_in(body: str) -> str:
    match = re.search(r"https?://[^\s]+", body)
    assert match, body
    return match.group(0)


def t(app, msgid: str, locale: str = "id", **params) -> str:
    """The text a user sees for ``msgid`` in ``locale`` (HTML-escaped like in templates)."""
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    with app.test_request_context(), force_locale(locale):
        return str(escape(gettext(msgid, **params)))
