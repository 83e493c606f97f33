"""Browser fixtures: Debian's Chromium driven by Playwright's sync API, and the app with the
demo data served on a loopback port.

The demo is loaded once per session into a template (a SQLite file, or a PostgreSQL
database, plus its stored files); each browser test gets a copy of its own, where the live
server's threads commit for real.

Chromium must be at /usr/bin/chromium (``playwright install`` is not used). Without it the
browser tests are skipped, except in CI (``CI=true``), where they must run and so fail.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    sync_playwright,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from monev import create_app
from monev.extensions import db
from tests.conftest import PG_URL, _config, own_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"Chromium not found at {CHROMIUM}, and CI=true: the browser tests must run "
                "in CI (install Debian's chromium)",
                pytrace=False,
            )
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: browser tests skipped (install Debian's chromium)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def demo_template(template_db, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The demo, loaded once: (the SQLite file or PostgreSQL URL, its storage folder)."""
    from flask_migrate import upgrade

    from monev.core.database import write_intent
    from monev.demo import loader

    folder = tmp_path_factory.mktemp("demo")
    if PG_URL:
        source = _pg_database("demo", template=None)
    else:
        source = str(folder / "demo.db")
        shutil.copy(template_db, source)
    os.environ["MONEV_INSTANCE_PATH"] = str(folder)
    application = create_app(_config(folder, source if PG_URL else f"sqlite:///{source}"))
    with application.app_context():
        if PG_URL:
            upgrade()
        with write_intent():
            loader.load(application.config["DEMO_PASSWORD"])
        db.session.commit()
        if not PG_URL:  # everything into the main file before it is copied
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.close()
        db.engine.dispose()
    yield source, folder / "files"
    if PG_URL:
        _drop_pg_database(source)


def _pg_admin(sql: str) -> None:
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def _pg_database(suffix: str, template: str | None) -> str:
    """A new PostgreSQL database beside the test one (made again if it exists), empty or a
    copy of ``template``; its URL."""
    url = make_url(PG_URL)
    name = f"{url.database}_{suffix}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    _pg_admin(f'CREATE DATABASE "{name}"{copy}')
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(url: str) -> None:
    _pg_admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@pytest.fixture
def app(browser, demo_template, tmp_path) -> Iterator:
    """An app on a copy of the demo of its own (the live server commits for real). Asks for
    the browser first, so without Chromium the test is skipped before the demo is built."""
    source, files = demo_template
    if not PG_URL:
        yield from own_app(tmp_path, source, files=files)
        return
    copy = _pg_database("browser", template=source)
    try:
        yield from own_app(tmp_path, copy, files=files)
    finally:
        _drop_pg_database(copy)


@pytest.fixture
def demo_password(app) -> str:
    return app.config["DEMO_PASSWORD"]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test app with the demo data, served on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def context(browser, live_server) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="id-ID")
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def field_phone(browser, live_server) -> Iterator:
    """Makes browser contexts as a judge's phone in the field: Indonesian, in WITA, at the
    position ``where`` with the geolocation permission granted (``viewport`` and Playwright's
    other context options may be given); every one is closed after the test."""
    opened: list[BrowserContext] = []

    def make(where: dict, viewport: dict = PHONE, **options) -> BrowserContext:
        phone = browser.new_context(
            base_url=live_server,
            viewport=viewport,
            locale="id-ID",
            timezone_id="Asia/Makassar",
            geolocation=where,
            permissions=["geolocation"],
            **options,
        )
        phone.set_default_timeout(15_000)
        opened.append(phone)
        return phone

    yield make
    for phone in opened:
        phone.close()


@pytest.fixture
def allowed_answers() -> list[tuple]:
    """Error answers a test provokes on purpose: (method, URL regex, status) it appends."""
    return []


@pytest.fixture
def page(context, allowed_answers) -> Iterator[Page]:
    """A page that fails its test on a script error, a console error (such as a Content
    Security Policy violation) or a failed sub-request (a missing stylesheet, a failed htmx
    request). Error answers to page loads are left to the tests: a wrong password is a 4xx."""
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        # Chromium logs every 4xx/5xx answer as "Failed to load resource"; on_response
        # reports those that are not page loads.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"console error: {msg.text} ({msg.location.get('url')})")

    def on_response(response: Response) -> None:
        if response.status >= 400 and not response.request.is_navigation_request():
            for method, pattern, status in allowed_answers:
                if (response.request.method, response.status) == (method, status) and re.search(
                    pattern, response.url
                ):
                    return
            errors.append(f"{response.request.method} {response.url}: {response.status}")

    new_page = context.new_page()
    new_page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    new_page.on("console", on_console)
    new_page.on("response", on_response)
    yield new_page
    assert not errors, "errors in the browser:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
