"""SQLite settings and write locking; configuration safety."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text, update

from monev import create_app
from monev.auth.models import User
from monev.core.database import write_intent
from monev.directory.models import Kim
from monev.extensions import db
from tests.conftest import PG_URL, count_queries, login, post

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite settings")


@sqlite_only
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.real_commits
@sqlite_only
def test_unsafe_requests_begin_immediate_and_reads_do_not(app, client, make_user):
    user = make_user("judge")
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as _ignored:
        pass
    seen: list[str] = []

    def spy(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", spy)
    try:
        client.get("/login")
        reads = list(seen)
        seen.clear()
        login(client, user.email)
        writes = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert set(reads) <= {"BEGIN"}
    assert "BEGIN IMMEDIATE" in writes and "BEGIN" not in writes


@sqlite_only
def test_the_next_writer_goes_once_the_commit_is_made(tmp_path, monkeypatch):
    """The writers' queue moves on after SQLite's COMMIT (or ROLLBACK), not before it: the
    next writer never finds the lock still held and sleeps in the busy handler."""
    from sqlalchemy import create_engine

    from monev.core import database

    engine = create_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    database.configure_sqlite(engine, 5000)
    open_at_release: list[bool] = []
    release = database._Writers.release

    def spying(self):
        open_at_release.append(dbapi.in_transaction)
        release(self)

    monkeypatch.setattr(database._Writers, "release", spying)
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        conn.commit()
        with write_intent():
            for end in ("commit", "rollback"):
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
                assert dbapi.in_transaction
                getattr(conn, end)()
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    engine.dispose()
    assert open_at_release == [False, False]


@pytest.mark.real_commits
def test_concurrent_read_modify_write_transactions_all_succeed(app, make_user):
    """30 writers each read a row then update it: none fails with 'database is locked'."""
    user = make_user("judge")
    writers = 30
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def work(i: int):
        try:
            barrier.wait()
            with app.app_context(), write_intent():
                # FOR UPDATE locks the row on PostgreSQL; SQLite holds its write lock already.
                current = db.session.scalar(
                    select(User.institution).where(User.id == user.id).with_for_update()
                )
                db.session.execute(
                    update(User)
                    .where(User.id == user.id)
                    .values(institution=f"{current or ''}|{i}"[-150:])
                )
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        value = db.session.scalar(select(User.institution).where(User.id == user.id))
    # Every writer saw the previous one's value: no lost update.
    assert sorted(int(x) for x in value.strip("|").split("|")) == list(range(writers))


def test_production_refuses_debug_and_missing_or_weak_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("MONEV_INSTANCE_PATH", str(tmp_path))
    base = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"}
    with pytest.raises(RuntimeError, match="MONEV_SECRET_KEY"):
        create_app({**base, "SECRET_KEY": None})
    with pytest.raises(RuntimeError, match="MONEV_SECRET_KEY"):
        create_app({**base, "SECRET_KEY": "changeme"})
    with pytest.raises(RuntimeError, match="debug"):
        create_app({**base, "SECRET_KEY": "x" * 40, "DEBUG": True})
    app = create_app({**base, "SECRET_KEY": "x" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MONEV_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("MONEV_SECRET_KEY", raising=False)
    cfg = {"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/d.db"}
    first = create_app(cfg).config["SECRET_KEY"]
    second = create_app(cfg).config["SECRET_KEY"]
    assert len(first) == 64 and first == second
    assert (tmp_path / "secret_key").read_text() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_environment_name_is_refused(monkeypatch):
    monkeypatch.setenv("MONEV_ENV", "staging")
    with pytest.raises(RuntimeError, match="MONEV_ENV"):
        create_app()


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_failed_request_rolls_back(app, client, login_as):
    """A refused form leaves the database as it was (one commit per successful request)."""
    login_as("admin")
    with app.app_context():
        before = db.session.execute(text("SELECT count(*) FROM kecamatan")).scalar()
    post(
        client,
        "/kim/new",
        {"name": "", "kecamatan": "Kecamatan Baru", "village_kind": "desa", "village": "Desa"},
    )
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM kecamatan")).scalar() == before


# --- isolation between tests (the app is shared by the session) -----------------------------

LEAKED_KIM = "KIM yang tidak boleh bocor"


def test_isolation_first_a_test_commits_rows_and_changes_the_config(app, client, login_as):
    operator = login_as("operator")  # the KIM goes into the operator's district
    response = post(
        client,
        "/kim/new",
        {
            "name": LEAKED_KIM,
            "district_id": "",
            "kecamatan": "Kecamatan Bocor",
            "village_kind": "desa",
            "village": "Desa Bocor",
            "sk_number": "01/SK/2024",
            "sk_date": "2024-01-02",
            "chair_name": "Siti",
            "members_count": "11",
            "phone": "0812 5500 1234",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    app.config["LOGIN_WINDOW_MINUTES"] = 999
    with app.app_context():
        assert db.session.scalar(select(Kim.id).where(Kim.name == LEAKED_KIM)) is not None
        assert db.session.get(User, operator.id) is not None


def test_isolation_then_the_next_test_sees_none_of_it(app):
    """Runs after the test above (file order): its rows and its config change are gone."""
    with app.app_context():
        assert db.session.scalar(select(Kim.id).where(Kim.name == LEAKED_KIM)) is None
        assert db.session.scalar(select(func.count(User.id))) == 0
        assert db.session.scalar(select(func.count(Kim.id))) == 0
    assert app.config["LOGIN_WINDOW_MINUTES"] == 15


def _hold_write_lock(path: str, seconds: float) -> threading.Event:
    """Another connection takes SQLite's write lock (as a long import does) and keeps it
    for ``seconds``; the returned event is set once it holds the lock."""
    import sqlite3

    held = threading.Event()

    def hold():
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        threading.Event().wait(seconds)
        conn.execute("COMMIT")
        conn.close()

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(10)
    return held


@pytest.mark.real_commits
@sqlite_only
def test_a_write_block_after_reads_waits_for_a_held_lock_instead_of_failing(app, make_user):
    """A job reads first (what is due), then writes. ``write_intent`` inside the reading
    transaction cannot take effect and the upgrade fails at once while another process
    writes; ``writing`` ends the reading transaction and waits for the lock."""
    from sqlalchemy.exc import OperationalError

    from monev.core.database import writing

    user = make_user("judge")
    with app.app_context():
        path = db.engine.url.database
        db.session.scalar(select(User.name).where(User.id == user.id))  # a reading transaction
        _hold_write_lock(path, 0.6)
        with pytest.raises(OperationalError, match="database is locked"), write_intent():
            db.session.execute(update(User).where(User.id == user.id).values(institution="a"))
        db.session.rollback()

        db.session.scalar(select(User.name).where(User.id == user.id))
        _hold_write_lock(path, 0.6)
        with writing(db.session()):
            db.session.execute(update(User).where(User.id == user.id).values(institution="b"))
            db.session.commit()
    with app.app_context():
        assert db.session.scalar(select(User.institution).where(User.id == user.id)) == "b"


@pytest.mark.real_commits
@sqlite_only
def test_the_notification_job_waits_for_a_held_write_lock(app, make_user, caplog, monkeypatch):
    """The worker delivering notifications while ``flask demo`` (or any import) writes: the
    delivery is sent once the lock is free, without an error in the worker's log."""
    from monev.notify import services as notify_services
    from monev.notify.models import Delivery

    user = make_user("kim")
    with app.test_request_context():
        notify_services.notify(
            db.session.get(User, user.id),
            "submission_opened",
            key="lock-test",
            params={"event": "Uji", "deadline": "besok"},
        )
        db.session.commit()
        (delivery_id,) = db.session.scalars(select(Delivery.id)).all()
        with write_intent():  # as if the worker had not run yet (jobs run at once in tests)
            db.session.execute(update(Delivery).values(status="pending", attempts=0))
            db.session.commit()
        path = db.engine.url.database
    with app.test_request_context():
        real_due_ids = notify_services._due_ids

        def due_ids_then_a_writer_comes(now, limit):
            ids = real_due_ids(now, limit)  # the job's reading transaction is open here
            _hold_write_lock(path, 0.6)
            return ids

        monkeypatch.setattr(notify_services, "_due_ids", due_ids_then_a_writer_comes)
        assert notify_services.deliver_due() == 1
    with app.app_context():
        assert db.session.get(Delivery, delivery_id).status == "sent"
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "WARNING")]
