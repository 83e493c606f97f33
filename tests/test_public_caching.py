"""Results day: what anybody may read is cacheable.

A visitor's GET of a page without a form makes no session (no cookie, no ``Vary: Cookie``);
published results, the API, ``/verify/<code>`` and the event pages are ``Cache-Control:
public`` with an ETag and answer ``304`` to ``If-None-Match``; a ralat and a revocation
change the ETag; a signed-in user's pages are private; static files have busted URLs and
are cached for a year.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from flask import template_rendered
from sqlalchemy import select

from monev.certificates import services as certificates
from monev.core.database import write_intent
from monev.events.models import Event
from monev.extensions import db
from tests import results_factory
from tests.conftest import count_queries, post, sign_in, t
from tests.test_results import publish, set_score

STATIC = Path(__file__).resolve().parents[1] / "static"


@pytest.fixture
def published(app, client, make_user):
    """A published event (4 entries, 3 judges), and the admin's client that published it."""
    ev = results_factory.build(app, entries=4, judges=3)
    admin = make_user("admin", name="Admin Penerbit")
    sign_in(client, admin.email)
    assert publish(client, ev.slug).status_code == 302
    return ev


@pytest.fixture
def certificate(app, published) -> dict:
    """A participant certificate of the published event: its id and code."""
    with app.test_request_context(), write_intent():
        event = db.session.get(Event, published.event_id)
        cert = certificates.issue(event, "participant")[0]
        db.session.commit()
        return {"id": cert.id, "code": cert.code}


def public_urls(slug: str, code: str) -> list[str]:
    return [
        f"/events/{slug}",
        f"/events/{slug}/results",
        f"/events/{slug}/results/desa",
        f"/events/{slug}/results/versions/1",
        f"/events/{slug}/results?district=64.04",
        f"/verify/{code}",
        "/api/v1/openapi.json",
        "/api/v1/events",
        f"/api/v1/events/{slug}/results",
        f"/api/v1/events/{slug}/results?version=1",
    ]


def assert_shared(response) -> None:
    """An answer any cache may keep for everybody: no cookie made, none varied on."""
    assert "Set-Cookie" not in response.headers, response.request.path
    assert "cookie" not in response.headers.get("Vary", "").lower(), response.request.path
    assert "public" in response.headers["Cache-Control"], response.request.path
    assert "private" not in response.headers["Cache-Control"]


def test_each_public_page_is_shared_cacheable_and_revalidates_to_304(app, published, certificate):
    for url in public_urls(published.slug, certificate["code"]):
        visitor = app.test_client()
        first = visitor.get(url)
        assert first.status_code == 200, url
        assert_shared(first)
        etag = first.headers["ETag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag), (url, etag)

        again = visitor.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert_shared(again)
        # another visitor, another worker: the same ETag (nothing per process or visitor)
        assert app.test_client().get(url).headers["ETag"] == etag


def test_html_pages_are_revalidated_by_browsers_and_kept_by_proxies(app, published):
    page = app.test_client().get(f"/events/{published.slug}/results")
    assert page.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    api = app.test_client().get("/api/v1/events")
    assert api.headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=60"
    assert api.headers["Access-Control-Expose-Headers"] == "ETag"


def test_visitors_pages_without_a_form_make_no_session(app, published, certificate):
    pages = ["/", "/verify", "/no-such-page", f"/events/{published.slug}/results/tidak-ada"]
    for url in pages + public_urls(published.slug, certificate["code"]):
        response = app.test_client().get(url)
        assert "Set-Cookie" not in response.headers, url
        body = response.get_data(as_text=True)
        assert "X-CSRFToken" not in body and 'name="csrf_token"' not in body, url


def test_a_page_with_a_form_still_makes_its_session_and_the_form_works(app, make_user):
    user = make_user("judge")
    visitor = app.test_client()
    login_page = visitor.get("/login")
    assert "monev_session=" in login_page.headers["Set-Cookie"]
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login_page.text)
    response = visitor.post(
        "/login",
        data={"email": user.email, "password": "kopi-susu-pagi-hari", "csrf_token": token[1]},
    )
    assert response.status_code == 302
    # signed in, every page carries the token htmx sends with its posts
    assert '"X-CSRFToken": "' in visitor.get("/account").get_data(as_text=True)


def test_a_ralat_changes_the_etag_of_the_results_page_and_the_api(app, client, published):
    urls = [f"/events/{published.slug}/results", f"/api/v1/events/{published.slug}/results"]
    visitor = app.test_client()
    before = {url: visitor.get(url).headers["ETag"] for url in urls}
    old_version = visitor.get(f"/api/v1/events/{published.slug}/results?version=1")

    set_score(app, published.event_id, "K-002", "p1", "10")
    assert publish(client, published.slug, "Salah input nilai K-002.").status_code == 302

    for url, etag in before.items():
        fresh = visitor.get(url, headers={"If-None-Match": etag})
        assert fresh.status_code == 200, url
        assert fresh.headers["ETag"] != etag
    page = visitor.get(urls[0]).get_data(as_text=True)
    assert "Salah input nilai K-002." in page and t(app, "Correction (ralat)") in page
    assert visitor.get(urls[1]).get_json()["version"] == 2
    # version 1 itself did not change, but its answer now lists version 2: a new ETag too
    assert (
        visitor.get(
            f"/api/v1/events/{published.slug}/results?version=1",
            headers={"If-None-Match": old_version.headers["ETag"]},
        ).status_code
        == 200
    )


def test_revoking_a_certificate_changes_its_verification_etag(app, client, certificate):
    url = f"/verify/{certificate['code']}"
    visitor = app.test_client()
    valid = visitor.get(url)
    assert "notice-ok" in valid.get_data(as_text=True)

    response = post(client, f"/admin/certificates/{certificate['id']}/revoke", {"reason": "Keliru"})
    assert response.status_code == 303

    revoked = visitor.get(url, headers={"If-None-Match": valid.headers["ETag"]})
    assert revoked.status_code == 200
    assert revoked.headers["ETag"] != valid.headers["ETag"]
    assert "notice-bad" in revoked.get_data(as_text=True)
    assert_shared(revoked)


def test_an_unknown_code_is_cacheable_but_has_no_etag(app):
    response = app.test_client().get("/verify/bukan.kode")
    assert response.status_code == 404
    assert_shared(response)
    assert "ETag" not in response.headers


def test_signed_in_users_get_private_pages_that_name_them(app, client, published, certificate):
    """The admin who published (``client``) sees their name in the header of every public
    page: never shared, never a 304 to a visitor's ETag."""
    for url in public_urls(published.slug, certificate["code"])[:6]:
        visitor_etag = app.test_client().get(url).headers["ETag"]
        response = client.get(url, headers={"If-None-Match": visitor_etag})
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
        assert "ETag" not in response.headers
        assert "Admin Penerbit" in response.get_data(as_text=True)


def test_the_api_is_public_for_signed_in_users_too(client, published):
    response = client.get(f"/api/v1/events/{published.slug}/results")
    assert_shared(response)
    assert "ETag" in response.headers


def test_a_visitor_who_picks_a_language_gets_it_privately(app, published):
    url = f"/events/{published.slug}/results"
    visitor = app.test_client()
    indonesian = visitor.get(url)

    link = re.search(r'href="(/lang/en\?next=[^"]+)"', indonesian.get_data(as_text=True))[1]
    switched = visitor.get(link.replace("&amp;", "&"))
    assert switched.status_code == 303
    assert switched.headers["Location"] == url
    assert "monev_session=" in switched.headers["Set-Cookie"]  # the cookie: only now

    english = visitor.get(url, headers={"If-None-Match": indonesian.headers["ETag"]})
    assert english.status_code == 200  # the language is part of the ETag
    assert '<html lang="en"' in english.get_data(as_text=True)
    assert english.headers["Cache-Control"] == "private, no-cache"
    assert visitor.get(url, headers={"If-None-Match": english.headers["ETag"]}).status_code == 304
    # the other visitors' answer is unchanged
    assert app.test_client().get(url).headers["ETag"] == indonesian.headers["ETag"]


def test_the_language_link_goes_back_only_to_this_site(app):
    visitor = app.test_client()
    for target in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/", "x"):
        response = visitor.get("/lang/en", query_string={"next": target})
        assert response.headers["Location"] == "/", target


def test_signed_in_users_keep_the_language_switch_that_posts(app, client, make_user):
    user = make_user("judge")
    sign_in(client, user.email)
    page = client.get("/account").get_data(as_text=True)
    assert 'action="/lang/en"' in page
    assert post(client, "/lang/en", {"next": "/account"}).status_code == 303
    with app.app_context():
        from monev.auth.models import User

        assert db.session.get(User, user.id).locale == "en"
    # a link someone else made only changes this session's language, not the profile
    client.get("/lang/id?next=/account")
    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"


def test_a_published_page_is_rendered_once_per_version(app, published):
    url = f"/events/{published.slug}/results"
    app.test_client().get(url)  # rendered and kept
    rendered = []

    def on_render(_sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(on_render, app)
    try:
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as queries:
            response = app.test_client().get(url)
    finally:
        template_rendered.disconnect(on_render, app)
    assert response.status_code == 200
    assert rendered == []
    assert len(queries) <= 2, queries  # the event and the version list
    assert not any("snapshot" in q for q in queries)


def test_an_edited_event_title_changes_the_results_etag(app, published):
    url = f"/events/{published.slug}/results"
    etag = app.test_client().get(url).headers["ETag"]
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == published.slug))
        event.title = "Judul Baru"
        db.session.commit()
    response = app.test_client().get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "Judul Baru" in response.get_data(as_text=True)


def test_the_event_page_etag_follows_what_it_shows(app, published):
    url = f"/events/{published.slug}"
    etag = app.test_client().get(url).headers["ETag"]
    from monev.directory.models import Kim
    from monev.entries.models import Entry

    with app.app_context():
        entry = db.session.scalar(select(Entry).where(Entry.event_id == published.event_id))
        db.session.get(Kim, entry.kim_id).name = "KIM Nama Baru"
        db.session.commit()
    response = app.test_client().get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "KIM Nama Baru" in response.get_data(as_text=True)


# --- static files -------------------------------------------------------------------------


def test_static_urls_carry_the_file_hash_and_are_immutable(app):
    page = app.test_client().get("/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{12})"', page)
    names = {u.removeprefix("/static/") for u, _v in urls}
    assert {
        "vendor/pico-2.1.1/pico.min.css",
        "vendor/htmx-2.0.11/htmx.min.js",
        "css/app.css",
        "js/app.js",
        "img/favicon.svg",
    } <= names
    assert not re.search(r'(?:href|src)="/static/[^"?]+"', page)  # none without its hash
    for url, version in urls:
        content = (STATIC / url.removeprefix("/static/")).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:12]
        response = app.test_client().get(f"{url}?v={version}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert_shared(response)


def test_a_static_url_without_the_current_hash_is_revalidated(app):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = app.test_client().get(url)
        assert response.headers["Cache-Control"] == "public, no-cache"
        etag = response.headers["ETag"]
        assert app.test_client().get(url, headers={"If-None-Match": etag}).status_code == 304


def test_signed_in_pages_use_the_busted_urls_too(client, login_as):
    login_as("admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert re.search(r'src="/static/vendor/htmx-2\.0\.11/htmx\.min\.js\?v=[0-9a-f]{12}"', page)
    static = client.get("/static/js/app.js?v=0")
    assert "private" not in static.headers["Cache-Control"]


def test_an_html_405_names_the_allowed_methods(app, published):
    response = app.test_client().delete(f"/events/{published.slug}")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
