"""Every page a role may use is reachable by links from that role's home page.

The demo competition is loaded, each demo role signs in, and a breadth-first crawl follows
every same-origin ``<a href>`` (GET) from "/", up to a page cap and a few URLs per endpoint.
The endpoints reached are compared with the GET endpoints that role may use
(``tests.test_access_matrix.EXPECTED``); an endpoint that cannot be a plain link, or that the
demo has no data for, is in ``NOT_LINKED`` below with its reason. A link that answers with an
error fails the test too: a page the role can see should not lead it to a 4xx or a 5xx.
"""

from __future__ import annotations

from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from monev.core.database import write_intent
from monev.demo import data, loader
from monev.extensions import db
from tests.conftest import sign_in
from tests.test_access_matrix import ADMIN, EXPECTED, JUDGE, KIM, OPERATOR

ACCOUNTS = {
    ADMIN: data.ADMIN[0],
    OPERATOR: data.OPERATORS[0][0],  # Kutai Timur: its KIMs took part in 2024 and 2025
    JUDGE: data.JUDGES[0][0],  # juri1: sheets in 2024, two still open; the visit of today
    KIM: f"kim.{data.KIMS[0][0]}@demo.monev.id",  # Teluk Pandan: 2024 (awarded) and 2025
}

# GET endpoints that are not reached by following links, each with its reason.
NOT_LINKED: dict[str, str] = {
    "judge.offline_bundle": "JSON that the offline page fetches to store the judge's visits",
    "judge.offline_session": "JSON that the offline app fetches for a fresh token before a sync",
    "offline.service_worker": "the service worker, registered by the offline pages' script",
    "offline.manifest": "the web app manifest, named by the offline app shell's <link>",
    "offline.shell": "the offline app shell, linked from the page that prepares a judge's visits",
    "schedule.visit_photo": "a field visit photo, shown as <img src> (and linked around its "
    "thumbnail) once a judge took one; the demo's visit of today has none yet "
    "(tests/test_demo_visit.py takes them)",
    "judge.delete_visit_photo": "offered beside a photo on the judge's visit sheet; the demo's "
    "visit of today has no photo yet",
    "schedule.visit_minutes": "the Berita Acara visitasi (PDF) of a visit's page: for the KIM "
    "once its representative confirmed the visit, which the demo's visit of today awaits "
    "(the team reaches it); tests/test_demo_visit.py downloads it after the confirmation",
    "documents.signed_rapor": "the ZIP of the signed rapor, linked from the documents page once "
    "the rapor are signed; the demo signs none (tests/test_signing_documents.py follows it)",
    "static": "stylesheets, scripts and images: loaded by pages, not linked",
    "ops.healthz": "for the monitoring of the server",
    "judging.entry_sheets": "the board's drill-down per entry, linked once a grid is larger than "
    "a screen (more than 20 judges or 30 entries); the demo's boards are small",
    "judging.judge_sheets": "the board's drill-down per judge, linked once a grid is larger than "
    "a screen; the demo's boards are small",
    "ops.readyz": "for the load balancer and monitoring: is each part ready",
    "ops.prometheus": "Prometheus metrics, for the monitoring system (a token)",
    "public.event_logo": "an image shown on the event pages (<img src>), not a link",
    "workspace.thumbnail": "a preview image of an evidence file (<img src>)",
    "rubrics.criterion_row": "an htmx fragment that the rubric builder loads in place",
    "auth.set_language": "signed in, the language switch is a form that posts (it is kept in "
    "the profile); a visitor's is a plain link",
    "auth.login": "the signed-out sign-in page",
    "auth.forgot_password": "reached from the sign-in page, signed out",
    "auth.request_sign_in_link": "reached from the sign-in page, signed out",
    "auth.reset_password": "opened from the link in an e-mail (a token)",
    "auth.accept_invitation": "opened from the link in an invitation e-mail (a token)",
    "auth.sign_in_link": "opened from the link in a sign-in e-mail (a token)",
    "certificates.verify": "opened from the QR code printed on a certificate",
    "api.openapi": "the read-only JSON API for machines, described in README",
    "api.events": "the read-only JSON API for machines, described in README",
    "api.event_results": "the read-only JSON API for machines, described in README",
    "certificate_batches.progress": "shown after starting a batch (a POST); the demo "
    "issues its certificates without a batch",
    "certificate_batches.download_pdf": "a finished batch's file; the demo has no batch",
    "certificate_batches.download_zip": "a finished batch's file; the demo has no batch",
    "notify.open": "a notification's own link; the demo's in-app list may be empty",
    "workspace.submit": "the submit step opens from a complete entry's button; the demo's open "
    "entry is half-way",
    "judge.finalise": "the finalise step opens from a complete sheet's button; the demo's "
    "open sheets (2024's late ones, the award's visits) are not complete yet",
    "results_public.public_version": "the list of versions shows once there are two; the "
    "demo has published one",
    "lifecycle.selection_confirm": "offered while a selection rule is set but not confirmed; "
    "the demo's selection is confirmed",
    "results.announce": "a GET form of the results page in the Results phase; no demo event "
    "is in that phase",
}

PAGE_CAP = 600  # pages fetched per role at most
PER_ENDPOINT = 6  # distinct URLs followed per endpoint (enough to find every kind of link)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _links(page: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    return parser.hrefs


def _get_endpoints(app) -> dict[str, bool]:
    """Endpoint -> whether any of its rules answers GET."""
    found: dict[str, bool] = {}
    for rule in app.url_map.iter_rules():
        found[rule.endpoint] = found.get(rule.endpoint, False) or "GET" in (rule.methods or ())
    return found


def crawl(app, client) -> tuple[dict[str, str], list[str]]:
    """Follow links from "/": (endpoint -> first URL that reached it, problems)."""
    adapter = app.url_map.bind("localhost")
    reached: dict[str, str] = {}
    problems: list[str] = []
    per_endpoint: Counter = Counter()
    seen = {"/"}
    queue = deque([("/", "(start)")])
    fetched = 0
    while queue and fetched < PAGE_CAP:
        url, source = queue.popleft()
        response = client.get(url)
        fetched += 1
        parts = urlsplit(url)
        try:
            endpoint, _args = adapter.match(parts.path, method="GET")
        except RequestRedirect:
            endpoint = None
        except HTTPException:
            endpoint = None
        if response.status_code >= 400:
            problems.append(f"{url} (linked from {source}) answered {response.status_code}")
            continue
        if endpoint:
            reached.setdefault(endpoint, url)
        if response.status_code in (301, 302, 303, 307, 308):
            targets = [response.headers["Location"]]
        elif response.mimetype == "text/html":
            targets = _links(response.get_data(as_text=True))
        else:
            continue  # a download: reached, nothing to follow
        for href in targets:
            absolute = urljoin(f"http://localhost{url}", href)
            split = urlsplit(absolute)
            if split.scheme not in ("http", "https") or split.netloc != "localhost":
                continue  # another site, mailto:, tel:
            target = split.path + (f"?{split.query}" if split.query else "")
            if target in seen or split.path.startswith("/static/"):
                continue
            try:
                name, _args = adapter.match(split.path, method="GET")
            except (HTTPException, RequestRedirect):
                problems.append(f"{target} (linked from {url}) is no GET route")
                continue
            if name == "auth.logout":
                continue
            seen.add(target)
            if per_endpoint[name] >= PER_ENDPOINT:
                reached.setdefault(name, target)  # linked: that is what counts
                continue
            per_endpoint[name] += 1
            queue.append((target, url))
    return reached, problems


@pytest.fixture
def demo(app):
    with app.app_context(), write_intent():
        loader.load(app.config["DEMO_PASSWORD"])
        db.session.commit()
    return app


@pytest.mark.parametrize("role", [ADMIN, OPERATOR, JUDGE, KIM])
def test_every_page_of_a_role_is_reachable_from_its_home(demo, role):
    client = demo.test_client()
    sign_in(client, ACCOUNTS[role])
    reached, problems = crawl(demo, client)
    gets = _get_endpoints(demo)
    expected = {
        endpoint
        for endpoint, roles in EXPECTED.items()
        if role in roles and gets.get(endpoint) and endpoint not in NOT_LINKED
    }
    assert problems == [], "links that lead to an error:\n" + "\n".join(problems)
    unreachable = sorted(expected - set(reached))
    assert unreachable == [], f"{role} cannot reach by links: {unreachable}"


def test_the_allow_list_names_only_real_endpoints(app):
    assert set(NOT_LINKED) <= set(_get_endpoints(app))
