"""The event logo: checked like evidence images, stored, served publicly with nosniff."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from monev.events.models import Event
from monev.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_event


def png(size=(64, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (11, 110, 79)).save(buf, "PNG")
    return buf.getvalue()


def _event(app, status="nomination"):
    with app.app_context():
        make_event(
            "logo-2025", title="Monev Logo", year=2025, organiser="D", categories=(), status=status
        )
        db.session.commit()


def _upload(client, data: bytes, name: str):
    token = csrf_token(client)
    return client.post(
        "/admin/events/logo-2025/logo",
        data={"csrf_token": token, "logo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_admin_uploads_a_logo_that_is_served_publicly(app, client, login_as):
    _event(app)
    login_as("admin")
    response = _upload(client, png(), "logo kominfo.png")
    assert response.status_code == 303
    with app.app_context():
        key = db.session.scalar(select(Event.logo_path))
    assert key.startswith("events/") and key.endswith(".png")
    public = app.test_client().get("/events/logo-2025/logo")
    assert public.status_code == 200
    assert public.headers["Content-Type"] == "image/png"
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(public.data)).size == (64, 32)
    assert 'src="/events/logo-2025/logo"' in app.test_client().get("/events/logo-2025").get_data(
        as_text=True
    )


def test_html_named_png_is_refused_and_nothing_is_stored(app, client, login_as):
    _event(app)
    login_as("admin")
    response = _upload(client, b"<html><script>alert(1)</script></html>", "logo.png")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Event.logo_path)) is None
    assert app.test_client().get("/events/logo-2025/logo").status_code == 404


def test_removing_or_replacing_the_logo_deletes_the_old_file(app, client, login_as):
    from monev.storage import get_storage

    _event(app)
    login_as("admin")
    _upload(client, png(), "logo.png")
    with app.app_context():
        first = db.session.scalar(select(Event.logo_path))
    _upload(client, png((40, 40)), "baru.png")
    with app.app_context():
        second = db.session.scalar(select(Event.logo_path))
        assert second != first
        assert get_storage().size(first) is None
    token = csrf_token(client)
    client.post("/admin/events/logo-2025/logo", data={"csrf_token": token, "remove": "1"})
    with app.app_context():
        assert db.session.scalar(select(Event.logo_path)) is None
        assert get_storage().size(second) is None


def test_draft_event_logo_is_not_public(app, client, login_as):
    _event(app, status="draft")
    login_as("admin")
    _upload(client, png(), "logo.png")
    assert app.test_client().get("/events/logo-2025/logo").status_code == 404
