"""Backup and restore (``flask --app monev backup --out DIR`` / ``restore DIR``): the demo
competition backed up while a writer holds a transaction open, restored into an empty
instance: every event exports the same, every file is byte-identical, the audit chain
verifies. A backup whose parts do not match its manifest is refused, and so is a target that
is not empty. On SQLite and on PostgreSQL (``pg_dump`` / ``pg_restore``)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from monev import create_app
from monev.audit.services import verify as verify_audit
from monev.core.database import write_intent
from monev.demo import loader
from monev.events import queries as event_queries
from monev.extensions import db
from monev.ops import backup
from monev.storage import get_storage
from monev.transfer import package
from tests.conftest import PG_URL, _config
from tests.submission_fixtures import s3  # noqa: F401  (fixture)


def _snapshot(app) -> tuple[dict, dict]:
    """Every event's package and every stored file's bytes."""
    with app.app_context():
        events = {e.slug: package.export_event(e) for e in event_queries.all_events()}
        storage = get_storage()
        files = {}
        for obj in storage.objects():
            key = obj.key
            with storage.open(key) as fh:
                files[key] = fh.read()
        db.session.remove()
    return events, files


def _empty_database(tmp_path: Path) -> tuple[str, callable]:
    """A new, empty database of the suite's kind, and how to drop it."""
    if not PG_URL:
        return f"sqlite:///{tmp_path / 'restored.db'}", lambda: None
    import psycopg

    base = make_url(PG_URL)
    name = f"{base.database}_restore"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)

    def run(statement: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(statement)

    run(f'DROP DATABASE IF EXISTS "{name}"')
    run(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False), lambda: run(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    )


@pytest.fixture
def demo(app):
    with app.app_context(), write_intent():
        loader.load("monev-demo")
        db.session.commit()
    return app


@pytest.fixture
def target(tmp_path):
    """A second installation: an empty database and an empty storage folder."""
    uri, drop = _empty_database(tmp_path)
    folder = tmp_path / "target"
    folder.mkdir()
    application = create_app(_config(folder, uri))
    yield application
    with application.app_context():
        db.engine.dispose()
    drop()


def _hold_a_write_open(app, started: threading.Event, release: threading.Event) -> None:
    """Another process's writer: a transaction with an uncommitted change during the backup."""
    with app.app_context(), db.engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("UPDATE events SET title = 'UNCOMMITTED' WHERE id = 1"))
        started.set()
        release.wait(60)
        transaction.rollback()


@pytest.mark.real_commits
def test_backup_while_running_then_restore_into_an_empty_instance(demo, target, tmp_path):
    app = demo
    events_before, files_before = _snapshot(app)
    assert len(events_before) == 3 and len(files_before) >= 20

    started, release = threading.Event(), threading.Event()
    writer = threading.Thread(target=_hold_a_write_open, args=(app, started, release))
    writer.start()
    try:
        assert started.wait(30)
        result = app.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path / "bk")])
    finally:
        release.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert f"{len(files_before)} file(s)" in result.output
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["database"]["dialect"] == ("postgresql" if PG_URL else "sqlite")
    assert {f["key"] for f in manifest["files"]} == set(files_before)
    assert manifest["missing"] == []

    restored = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
    assert restored.exit_code == 0, restored.output
    assert "chain intact" in restored.output
    events_after, files_after = _snapshot(target)
    assert events_after == events_before  # the uncommitted title is not in the backup
    assert files_after == files_before
    with target.app_context():
        assert verify_audit().ok
    # The restored instance serves the same competition.
    page = target.test_client().get(f"/events/{next(iter(events_before))}")
    assert page.status_code == 200

    again = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
    assert again.exit_code == 1 and "The database is not empty" in again.output


@pytest.mark.real_commits
def test_a_backup_whose_digests_do_not_match_is_refused(demo, target, tmp_path):
    result = demo.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    changed = tmp_path / "bk" / "files" / manifest["files"][0]["key"]
    changed.write_bytes(changed.read_bytes() + b"tampered")
    (tmp_path / "bk" / "files" / manifest["files"][1]["key"]).unlink()

    refused = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
    assert refused.exit_code == 1
    assert "does not match its manifest; nothing was restored" in refused.output
    assert f"files/{manifest['files'][0]['key']}: its SHA-256 does not match" in refused.output
    assert f"files/{manifest['files'][1]['key']}: missing" in refused.output
    with target.app_context():
        assert get_storage().keys() == []
        from sqlalchemy import inspect

        with db.engine.connect() as conn:
            assert inspect(conn).get_table_names() == []


def test_backup_refuses_a_folder_that_is_not_empty(app, tmp_path, runner):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "old.txt").write_text("x")
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "used")])
    assert result.exit_code == 1 and "is not empty" in result.output


def test_restore_refuses_a_folder_without_a_manifest(app, tmp_path, runner):
    (tmp_path / "nothing").mkdir()
    result = runner.invoke(args=["restore", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "not a Monev backup folder" in result.output


def test_pg_dump_is_installed_for_postgresql_backups():
    if PG_URL is None:
        pytest.skip("the suite runs on SQLite")
    assert shutil.which("pg_dump") and shutil.which("pg_restore")
    assert backup  # the module names them in its message when they are missing


@pytest.mark.real_commits
def test_backup_and_restore_with_the_files_on_s3(app, s3, tmp_path):  # noqa: F811
    from tests.submission_fixtures import use_s3

    use_s3(app, s3)
    with app.app_context(), write_intent():
        loader.load("monev-demo")  # its evidence files go to the bucket
        db.session.commit()
    events_before, files_before = _snapshot(app)
    assert len(files_before) >= 20
    result = app.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output

    uri, drop = _empty_database(tmp_path)
    (tmp_path / "target").mkdir()
    target = create_app(_config(tmp_path / "target", uri))
    use_s3(target, s3)  # an empty prefix of its own
    try:
        restored = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
        assert restored.exit_code == 0, restored.output
        assert _snapshot(target) == (events_before, files_before)
    finally:
        with target.app_context():
            db.engine.dispose()
        drop()
