"""The storage interface, the same tests against both backends: the local folder and an
S3-compatible server (a real SeaweedFS started for the session; see tests/s3_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monev.extensions import db
from monev.storage import StorageError, get_storage, tracking
from tests.submission_fixtures import *  # noqa: F403  (its fixtures)


@pytest.fixture
def storage(backend, app):
    with app.app_context():
        yield get_storage()


def _spooled(storage, data: bytes) -> Path:
    path = storage.spool_dir() / ".upload-test"
    path.write_bytes(data)
    return path


def test_put_open_size_delete(storage):
    source = _spooled(storage, b"%PDF-1.7 isi")
    storage.put("entries/1/abc.pdf", source, "application/pdf")
    assert not source.exists()  # consumed
    with storage.open("entries/1/abc.pdf") as fh:
        assert fh.read() == b"%PDF-1.7 isi"
    assert storage.size("entries/1/abc.pdf") == 12
    assert storage.keys() == ["entries/1/abc.pdf"]
    storage.delete("entries/1/abc.pdf")
    assert storage.size("entries/1/abc.pdf") is None
    assert storage.keys() == []
    storage.delete("entries/1/abc.pdf")  # deleting what is gone is fine


def test_put_bytes_replaces_whole(storage):
    storage.put_bytes("entries/2/t.thumb.jpg", b"first", "image/jpeg")
    storage.put_bytes("entries/2/t.thumb.jpg", b"second version", "image/jpeg")
    with storage.open("entries/2/t.thumb.jpg") as fh:
        assert fh.read() == b"second version"


def test_reading_a_missing_file_is_a_storage_error(storage):
    with pytest.raises(StorageError):
        storage.open("entries/9/missing.pdf")


@pytest.mark.parametrize(
    "key",
    [
        "../outside.pdf",
        "/etc/passwd",
        "entries/../../x.pdf",
        "entries/1/A.PDF",
        "",
        "a//b.pdf",
        "entries/1/x.pdf/..",
        "entries\\1\\x.pdf",
        "x" * 201,
    ],
)
def test_keys_that_could_leave_the_store_are_refused(storage, key):
    with pytest.raises(StorageError):
        storage.put_bytes(key, b"x", "application/pdf")


def test_local_files_live_outside_static(app):
    from config import BASE_DIR

    with app.app_context():
        root = Path(get_storage().root)
    assert BASE_DIR / "static" not in root.parents


def test_local_write_is_atomic(app, monkeypatch):
    """A write that fails half-way leaves neither a file under the key nor a temp file."""
    with app.app_context():
        storage = get_storage()

        def failing(out):
            out.write(b"half")
            raise OSError("disk full")

        target = storage._path("entries/3/half.pdf")
        target.parent.mkdir(parents=True, exist_ok=True)
        with pytest.raises(OSError):
            storage._write_atomic(target, failing)
        assert list(target.parent.iterdir()) == []


def _begin() -> None:
    """Files are registered inside a transaction (every request reads something first)."""
    from sqlalchemy import text

    db.session.execute(text("SELECT 1"))


def test_written_files_follow_the_transaction(storage, app):
    with app.test_request_context():
        _begin()
        storage.put_bytes("entries/4/kept.pdf", b"kept", "application/pdf")
        tracking.stored(storage, "entries/4/kept.pdf")
        db.session.commit()
        _begin()
        storage.put_bytes("entries/4/dropped.pdf", b"dropped", "application/pdf")
        tracking.stored(storage, "entries/4/dropped.pdf")
        db.session.rollback()
        assert storage.keys() == ["entries/4/kept.pdf"]


def test_deleted_files_go_only_after_the_commit(storage, app):
    with app.test_request_context():
        _begin()
        storage.put_bytes("entries/5/a.pdf", b"a", "application/pdf")
        tracking.delete_after_commit(storage, "entries/5/a.pdf")
        db.session.rollback()  # the deletion did not happen: the file stays
        assert storage.keys() == ["entries/5/a.pdf"]
        _begin()
        tracking.delete_after_commit(storage, "entries/5/a.pdf")
        db.session.commit()
        assert storage.keys() == []


def test_savepoint_release_does_not_settle_the_files(storage, app):
    with app.test_request_context():
        _begin()
        storage.put_bytes("entries/6/b.pdf", b"b", "application/pdf")
        tracking.stored(storage, "entries/6/b.pdf")
        with db.session.begin_nested():
            pass  # fires after_commit for the savepoint
        db.session.rollback()
        assert storage.keys() == []


def test_unknown_backend_is_refused(app):
    from monev.storage import make_storage

    with pytest.raises(RuntimeError, match="MONEV_STORAGE_BACKEND"):
        make_storage({"STORAGE_BACKEND": "ftp", "STORAGE_DIR": "/tmp"})  # noqa: S108
