"""Fixtures and helpers of the submission tests: an event in its submission phase with a
rubric asking for evidence, accepted finalists with KIM accounts, upload helpers, and the
storage backends (local folder; S3 on a real SeaweedFS server)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from monev.audit.models import AuditEntry
from monev.core.timeutil import utcnow
from monev.entries import standing
from monev.entries.models import Entry, Evidence
from monev.events.models import Event
from monev.extensions import db
from tests import s3_server
from tests.conftest import csrf_token, sign_in, t
from tests.factories import CriterionPlan, StagePlan, make_event

SLUG = "monev-kim-uji-2026"
# The fixtures, for ``from tests.submission_fixtures import *`` in the test modules.
__all__ = ["backend", "finalist", "five", "kim_client", "make_finalist", "s3"]


@dataclass(frozen=True)
class Finalist:
    slug: str
    event_id: int
    entry_id: int
    kim_id: int
    email: str
    criteria: dict = field(default_factory=dict)  # key -> id: a1 file, a2 link, a3 either, p1 none

    @property
    def page(self) -> str:
        return f"/entry/{self.slug}"

    def file_url(self, key: str | None = "a1") -> str:
        if key is None:
            return f"{self.page}/presentation/file"
        return f"{self.page}/criteria/{self.criteria[key]}/file"

    def link_url(self, key: str | None = "a2") -> str:
        if key is None:
            return f"{self.page}/presentation/link"
        return f"{self.page}/criteria/{self.criteria[key]}/link"


def _make_event(slug: str, status: str, opens, closes) -> tuple[Event, dict]:
    built = make_event(
        slug,
        title="Monev KIM Uji 2026",
        organiser="Diskominfo Provinsi Kalimantan Timur",
        stages=[
            StagePlan(
                "administrasi",
                "Administrasi",
                40,
                aspect="Kelembagaan",
                criteria=tuple(
                    CriterionPlan(
                        key,
                        name,
                        weight,
                        evidence=evidence,
                        evidence_hint=f"Petunjuk {key}",
                        guidance=f"Panduan penilaian {key}.",
                    )
                    for key, name, weight, evidence in [
                        ("a1", "SK pembentukan KIM", 40, "file"),
                        ("a2", "Kanal informasi", 30, "link"),
                        ("a3", "Laporan kegiatan", 30, "either"),
                    ]
                ),
                opens_at=opens,
                closes_at=closes,
            ),
            StagePlan(
                "presentasi",
                "Presentasi",
                60,
                aspect="Akses",
                criteria=(CriterionPlan("p1", "Akses informasi", 100),),
            ),
        ],
        status=status,
    )
    return built.event, {key: c.id for key, c in built.criteria.items()}


@pytest.fixture
def make_finalist(app, make_kim, make_user):
    """An accepted entry (and its KIM account) in the submission event, made on first use."""

    def factory(
        *,
        status: str = "submission",
        opens=timedelta(days=-1),
        closes=timedelta(days=1),
        district_code: str = "64.04",
        slug: str = SLUG,
        name: str | None = None,
        nomination_status: str = "accepted",
    ) -> Finalist:
        kim = make_kim(
            name=name,
            district_code=district_code,
            sk_number="01/SK/2024",
            chair_name="Siti",
            members_count=12,
            phone="0812 5500 1234",
        )
        user = make_user("kim", kim=kim)
        with app.app_context():
            event = db.session.scalar(select(Event).where(Event.slug == slug))
            if event is None:
                now = utcnow()
                event, criteria = _make_event(
                    slug,
                    status,
                    now + opens if opens is not None else None,
                    now + closes if closes is not None else None,
                )
            else:
                from monev.rubrics.models import Criterion

                criteria = dict(
                    db.session.execute(
                        select(Criterion.key, Criterion.id).where(Criterion.event_id == event.id)
                    ).all()
                )
            number = db.session.scalar(select(func.count(Entry.id))) + 1
            entry = Entry(
                event_id=event.id,
                kim_id=kim.id,
                category_id=event.categories[0].id,
                code=f"K-{number:03d}",
                nomination_status=nomination_status,
            )
            db.session.add(entry)
            db.session.commit()
            return Finalist(event.slug, event.id, entry.id, kim.id, user.email, criteria)

    return factory


@pytest.fixture
def finalist(make_finalist) -> Finalist:
    return make_finalist()


@pytest.fixture
def kim_client(app, finalist):
    client = app.test_client()
    sign_in(client, finalist.email)
    return client


def send_file(client, url: str, data: bytes, name: str = "bukti.pdf", *, htmx=False, token=None):
    token = token or csrf_token(client)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers,
    )


def send_link(client, url: str, link: str, *, htmx=False, token=None):
    token = token or csrf_token(client)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data={"csrf_token": token, "url": link}, headers=headers)


def rows(app) -> list[Evidence]:
    with app.app_context():
        items = list(db.session.scalars(select(Evidence).order_by(Evidence.id)))
        db.session.expunge_all()
        return items


def stored_keys(app) -> list[str]:
    from monev.storage import get_storage

    with app.app_context():
        return get_storage().keys()


def spool_files(app) -> list[str]:
    """Upload temp files left behind (there must never be any after a request)."""
    from monev.storage import get_storage

    with app.app_context():
        folder = get_storage().spool_dir()
        return sorted(p.name for p in folder.iterdir())


def entry_state(app, entry_id: int) -> Entry:
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        db.session.expunge(entry)
        return entry


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def assert_nothing_stored(app) -> None:
    assert rows(app) == []
    assert stored_keys(app) == []
    assert spool_files(app) == []


# --- storage backends ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    server = s3_server.start(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    s3_server.stop(server)


def use_s3(app, server) -> None:
    """Point ``app`` at the S3 server, under a prefix of its own (before its first request)."""
    app.config.update(
        STORAGE_BACKEND="s3",
        S3_ENDPOINT_URL=server.endpoint,
        S3_BUCKET=s3_server.BUCKET,
        S3_ACCESS_KEY=s3_server.ACCESS_KEY,
        S3_SECRET_KEY=s3_server.SECRET_KEY,
        S3_PREFIX=f"test-{uuid.uuid4().hex[:12]}",
        STORAGE_SPOOL_DIR=str(app.instance_path + "/spool"),
    )
    app.extensions.pop("monev_storage", None)


@pytest.fixture(params=["local", "s3"])
def backend(request, app) -> str:
    """Runs a test once with the local folder and once with S3 (SeaweedFS)."""
    if request.param == "s3":
        use_s3(app, request.getfixturevalue("s3"))
    return request.param


# --- what users read -----------------------------------------------------------------------


def said(app, msgid: str, **params) -> str:
    """``msgid`` as the user reads it (Indonesian by default), HTML-escaped like the page."""
    return t(app, msgid, **params)


def said_before(app, msgid: str, param: str, **params) -> str:
    """The translated text of ``msgid`` up to where ``param`` is filled in (for values such
    as times that the test does not spell out)."""
    marker = "\x00"
    return t(app, msgid, **{param: marker}, **params).split(marker)[0]


def plain(app, msgid: str, **params) -> str:
    """``msgid`` as plain text (not escaped), to compare with :func:`page_text`."""
    import html

    return html.unescape(t(app, msgid, **params))


def page_text(markup: str) -> str:
    """The page's text, tags removed and white space collapsed."""
    import html
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split()).replace(" :", ":")


# --- lifecycle: clock moves are made by changing the stored window (rules read the clock)


def set_entry(app, entry_id, **fields):
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        for name, value in fields.items():
            setattr(entry, name, value)
        db.session.commit()


def close_window(app, event_id, *, ago=timedelta(minutes=1)):
    with app.app_context():
        event = db.session.get(Event, event_id)
        stage = standing.first_stage(event)
        stage.opens_at = utcnow() - timedelta(days=2)
        stage.closes_at = utcnow() - ago
        for later in event.stages:  # the later stages' windows are set too (a readiness rule)
            if later is not stage and later.opens_at is None:
                later.opens_at, later.closes_at = utcnow(), utcnow() + timedelta(days=30)
        db.session.commit()


@pytest.fixture
def five(app, make_finalist):
    """Five finalists; only the first submitted."""
    entries = [make_finalist() for _ in range(5)]
    set_entry(app, entries[0].entry_id, submission_status="submitted", submitted_at=utcnow())
    set_entry(app, entries[1].entry_id, submission_status="in_progress")
    return entries
