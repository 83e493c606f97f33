"""Fixtures: a migrated database per test (SQLite file copy, or PostgreSQL truncated),
the app, a client, factories and helpers.

Set MONEV_TEST_DATABASE_URL=postgresql://... to run the whole suite on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import event, text

from monev import create_app
from monev.auth.models import User
from monev.auth.passwords import hash_password
from monev.directory.models import Kim
from monev.extensions import db
from monev.regions import queries as regions

PG_URL = os.environ.get("MONEV_TEST_DATABASE_URL")
PASSWORD = "kopi-susu-pagi-hari"  # passes the policy; used by factories
# Reference data loaded by migrations; kept between tests.
KEEP_TABLES = {"alembic_version", "provinces", "districts"}
_HASH_CACHE: dict[str, str] = {}


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
    """Run the migrations once; each test gets a copy (SQLite) or truncated tables (PG)."""
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


@pytest.fixture
def app(template_db, tmp_path) -> Iterator:
    instance = tmp_path / "instance"
    instance.mkdir()
    if PG_URL:
        uri = template_db
    else:
        shutil.copy(template_db, tmp_path / "monev.db")
        uri = f"sqlite:///{tmp_path / 'monev.db'}"
    os.environ["MONEV_INSTANCE_PATH"] = str(instance)
    application = create_app(_config(instance, uri))
    if PG_URL:
        _truncate_pg(application)
    # No app context is held during the test: each request gets its own, as in production
    # (a shared one would share ``g`` and Flask-Login's cached user between requests).
    yield application
    with application.app_context():
        db.engine.dispose()


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


def csrf_token(client, url: str = "/") -> str:
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def post(client, url: str, data: dict | None = None, *, token_from: str = "/", **kwargs):
    """POST a form the way a browser does: with the CSRF token of the user's session."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(url, data=data, **kwargs)


def login(client, email: str, password: str = PASSWORD):
    response = post(client, "/login", {"email": email, "password": password}, token_from="/login")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def login_as(client, make_user):
    def do(role: str = "admin", **kwargs) -> User:
        user = make_user(role, **kwargs)
        login(client, user.email)
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
