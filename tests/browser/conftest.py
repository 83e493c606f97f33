"""Browser fixtures: Debian's Chromium driven by Playwright's sync API, and the app with the
demo data served on a loopback port.

Chromium must be at /usr/bin/chromium (``playwright install`` is not used). Without it the
browser tests are skipped, except in CI (``CI=true``), where they must run and so fail.
"""

from __future__ import annotations

import os
import re
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
from werkzeug.serving import make_server

from monev.extensions import db

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


@pytest.fixture
def demo_password(app) -> str:
    return app.config["DEMO_PASSWORD"]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test app with the demo data, served on 127.0.0.1; yields its base URL."""
    from monev.core.database import write_intent
    from monev.demo import loader

    with app.app_context():
        with write_intent():
            loader.load(app.config["DEMO_PASSWORD"])
        db.session.commit()

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
