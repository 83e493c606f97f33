"""The PDF check on /verify is costly (pyHanko's validation): visitors who are not signed in
get a limited number of checks per address and window, counted in the database (every
worker process sees the same counts), answered 429 with a clear message and the form kept."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from monev.certificates import pdfcheck
from monev.core import ratelimit
from monev.core.database import write_intent
from tests import upload_corpus as corpus
from tests.conftest import login, t


def _upload(client, address="203.0.113.7"):
    return client.post(
        "/verify",
        data={"file": (io.BytesIO(corpus.pdf("Sertifikat")), "sertifikat.pdf")},
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": address},
    )


def _count_checks(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = pdfcheck.check

    def counted(data):
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(pdfcheck, "check", counted)
    return calls


def test_anonymous_uploads_beyond_the_limit_are_429_with_the_form_kept(app, monkeypatch):
    app.config.update(VERIFY_UPLOADS_PER_WINDOW=2, VERIFY_UPLOAD_WINDOW_MINUTES=10)
    checks = _count_checks(monkeypatch)
    client = app.test_client()
    assert [_upload(client).status_code for _ in range(2)] == [200, 200]
    refused = _upload(client)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    page = refused.get_data(as_text=True)
    minutes = int(refused.headers["Retry-After"]) // 60 + (
        int(refused.headers["Retry-After"]) % 60 > 0
    )
    assert (
        t(
            app,
            "Too many files were checked from your address. Try again in %(n)d minute(s); the "
            "form is kept below.",
            n=minutes,
        )
        in page
    )
    assert 'type="file"' in page and 'role="alert"' in page
    assert len(checks) == 2  # the refused upload was not checked
    # Another address is counted on its own.
    assert _upload(client, address="198.51.100.9").status_code == 200


def test_signed_in_users_are_not_limited(app, make_user, monkeypatch):
    app.config.update(VERIFY_UPLOADS_PER_WINDOW=1)
    admin = make_user("admin")
    client = app.test_client()
    login(client, admin.email)
    assert [_upload(client).status_code for _ in range(3)] == [200, 200, 200]


def test_counts_start_again_in_the_next_window_and_old_windows_are_removed(app):
    start = datetime(2026, 12, 6, 10, 0, 0)
    with app.app_context(), write_intent():
        hit = lambda now: ratelimit.hit("k", limit=2, window_minutes=10, now=now)  # noqa: E731
        assert hit(start) is None and hit(start + timedelta(minutes=1)) is None
        limited = hit(start + timedelta(minutes=4))
        assert limited is not None and (limited.minutes, limited.seconds) == (6, 360)
        assert hit(start + timedelta(minutes=10)) is None  # a new window
        assert ratelimit.hit("k", limit=2, window_minutes=10, now=start + timedelta(days=2)) is None
        from sqlalchemy import select

        from monev.extensions import db

        starts = db.session.scalars(select(ratelimit.RateCount.window_start)).all()
        assert starts == [start + timedelta(days=2)]  # the windows of two days ago are gone
