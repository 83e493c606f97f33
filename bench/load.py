"""Load against the real server: a bounded load generator of its own, mixes of realistic days.

The bench starts the server itself (``flask --app monev serve``, as ``make run`` does: one
waitress process per core; ``--server gunicorn``: ``gunicorn -c gunicorn.conf.py``) on
127.0.0.1 with a fresh instance folder and a generated event, runs one or more *mixes* of
simulated users for ``--seconds``, prints every figure as a ratio to a baseline measured in
the same run, and exits 1 when a target is missed. Clients are threads of this process
(standard library ``http.client``, one keep-alive connection each), so they share the
machine's cores with the server: on the project's 2-core machine that is part of what is
measured.

Mixes (``--mix``, repeatable; a mix is a function of :class:`Run` registered in ``MIXES``):

``results``: results day (:func:`results_mix`): hundreds of anonymous visitors on the public
results page, the API, ``/verify`` and the event page while a few admins work; the crowd and
its targets are ``bench/results_day.py``'s.

``judging``: judging day. ``--judges`` judges (100) each assigned every one of ``--entries``
entries (100; a 10,000-cell progress board), 40 % of the sheets final and 10 % draft at the
start. Each judge autosaves one criterion of one of its open sheets after a think time of
2–6 s (uniform), as the score sheet's htmx request does; ``--admins`` organisers (20) poll
the stage's progress board every 2 s as its htmx polling does (``HX-Request`` and
``If-None-Match`` with the last ETag received). Baseline, in the same run before the mix: one
judge saving alone, back to back, with no other load. Targets: saves/s at least 95 % of the
saves/s the judges offered (each judge's schedule of think times; a judge whose save is
still waiting sends the next one late, and a save not sent before the end is not done), and
the saves' p95 at most 3x the p95 of a save alone. Afterwards every acknowledged save is
checked to be in the sheet's trail (``score_changes``).

Signing in: 120 Argon2 hashes would take minutes on a small machine and measure nothing of
judging, so every user gets a server-side session the way ``tests/conftest.py``'s
``sign_in`` makes one (``monev.auth.services.start_session`` and Flask-Login's session keys in
a cookie signed with the server's secret key); every measured request then goes through the
server's real session and CSRF checks.

Usage::

    .venv/bin/python bench/load.py [--mix judging] [--seconds 60] [--db sqlite]
        [--db postgresql://postgres@127.0.0.1:5432/monev_bench] [--judges 100]
        [--entries 100] [--admins 20] [--server auto|flask|gunicorn] [--threads 8]
        [--base-url http://127.0.0.1:8000 --secret-key KEY --db URL]

``MONEV_BENCH_DATABASE_URL`` adds a PostgreSQL run. A PostgreSQL database named here is
emptied (its public schema is dropped). ``--base-url`` targets a server that is already
running (on this machine only): the bench then prepares the data in the database given
with ``--db`` (the server's own) and signs users in with the server's ``--secret-key``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import ipaddress
import os
import random
import re
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from common import Figure, Series, Server, migrate_empty  # bench/common.py

USER_AGENT = "monev-bench-load/1"
HTTP_TIMEOUT = 120  # seconds a client waits for one answer before counting an error


# --- measuring -----------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its child processes (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")

    def own(p: int) -> tuple[float, int]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0, -1
        # after the command: state ppid ... utime(12) stime(13)
        return (int(fields[11]) + int(fields[12])) / tick, int(fields[1])

    total, _ = own(pid)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != pid:
            seconds, parent = own(int(entry.name))
            if parent == pid:
                total += seconds
    return total


# --- the server ----------------------------------------------------------------------------


def require_loopback(url: str) -> tuple[str, int]:
    """Host and port of ``url``, refusing anything that is not this machine."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):  # a name, not an address
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if parts.scheme != "http" or not loopback:
        raise SystemExit(f"bench/load.py only loads this machine (http://127.0.0.1:…), not {url}")
    return host, parts.port or 80


# --- a browser -----------------------------------------------------------------------------


class Client:
    """One browser: a keep-alive connection to the server, its cookies, its CSRF token."""

    CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

    def __init__(
        self, base_url: str, cookies: dict[str, str] | None = None, *, keepalive: bool = True
    ):
        self.host, self.port = require_loopback(base_url)
        self.keepalive = keepalive
        self.conn = self._connect()
        self.cookies = dict(cookies or {})
        self.csrf = ""

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT)

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if not self.keepalive:
            headers["Connection"] = "close"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed a kept-alive connection that sat idle (gunicorn after its
                # ``keepalive`` seconds) before reading the request: a browser sends it again
                # on a new connection, once.
                self.conn.close()
                self.conn = self._connect()
                if attempt == 2:
                    raise
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = self._connect()
                raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, data

    def fetch_csrf(self, path: str = "/account") -> str:
        status, _headers, page = self.request("GET", path)
        found = self.CSRF.search(page.decode("utf-8", "replace"))
        if status != 200 or not found:
            raise SystemExit(f"GET {path} answered {status} without a CSRF token")
        self.csrf = found.group(1)
        return self.csrf

    def close(self) -> None:
        self.conn.close()


# --- the runner ----------------------------------------------------------------------------


def run_actors(actors: list[Callable[[float], None]], seconds: float, grace: float = 60) -> float:
    """Run every actor in its own thread until ``seconds`` from now (each actor gets the
    ``time.perf_counter()`` deadline and stops sending after it); wait for answers still
    under way at most ``grace`` seconds more. Returns the measured window's length."""
    start = time.perf_counter()
    deadline = start + seconds
    threads = [threading.Thread(target=actor, args=(deadline,), daemon=True) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline + grace - time.perf_counter()))
    late = sum(thread.is_alive() for thread in threads)
    if late:
        print(f"  ({late} clients still waiting for an answer {grace:.0f} s after the end)")
    return seconds


def sleep_until(moment: float, deadline: float) -> bool:
    """Sleep until ``moment``; False (without sleeping past it) when it is after ``deadline``."""
    if moment >= deadline:
        return False
    delay = moment - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
    return True


# --- one run: database, instance, server, signed-in users ------------------------------------


@dataclass
class Run:
    """What a mix gets: the arguments, the database URI, the app (in this process, for
    preparing data and checking it afterwards) and the server to load."""

    args: argparse.Namespace
    uri: str
    label: str
    app: object
    server: Server | None
    base_url: str
    secret_key: str

    def clients(self, emails: list[str]) -> list[Client]:
        """Signed-in browsers for these accounts (see the module's docstring)."""
        from flask import request
        from flask_login.utils import _create_identifier

        from monev.auth import services as auth
        from monev.extensions import db

        app = self.app
        serializer = app.session_interface.get_signing_serializer(app)
        cookie_name = app.config["SESSION_COOKIE_NAME"]
        out = []
        with app.test_request_context(
            environ_base={"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": USER_AGENT}
        ):
            for email in emails:
                user = auth.user_by_email(email)
                token = auth.start_session(user, request.remote_addr, USER_AGENT)
                session = {
                    "_permanent": True,
                    "_user_id": token,
                    "_fresh": True,
                    "_id": _create_identifier(),
                }
                cookies = {cookie_name: serializer.dumps(session)}
                out.append(Client(self.base_url, cookies, keepalive=not self.args.no_keepalive))
            db.session.commit()
        return out


def make_app(uri: str, secret_key: str):
    from monev import create_app

    return create_app(
        {"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": secret_key}
    )


def run_mixes(uri_arg: str, args: argparse.Namespace) -> list[Figure]:
    uri = "sqlite:///{folder}/monev.db" if uri_arg == "sqlite" else uri_arg
    label = "SQLite" if uri.startswith("sqlite") else "PostgreSQL"
    with tempfile.TemporaryDirectory(prefix="monev-load-") as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        uri = uri.format(folder=instance)
        secret_key = args.secret_key or secrets.token_hex(32)
        os.environ["MONEV_INSTANCE_PATH"] = str(instance)
        app = make_app(uri, secret_key)
        env = {
            **os.environ,
            "MONEV_ENV": "development",
            "MONEV_INSTANCE_PATH": str(instance),
            "MONEV_SECRET_KEY": secret_key,
            "DATABASE_URL": uri,
            "FLASK_DEBUG": "0",
            "MONEV_WEB_THREADS": str(args.threads),
        }
        server = None
        if args.base_url:
            base_url = args.base_url.rstrip("/")
            require_loopback(base_url)
        else:
            migrate_empty(app, uri, env)
            if args.workers:
                env["MONEV_WEB_WORKERS"] = str(args.workers)
            server = Server(args.server, env, threads=args.threads, workers=args.workers)
            base_url = server.base_url
        run = Run(args, uri, label, app, server, base_url, secret_key)
        figures: list[Figure] = []
        try:
            # The results mix loads the demo, which wants a database without other events.
            for name in sorted(set(args.mix or ["judging"]), key=lambda m: m != "results"):
                figures.extend(MIXES[name](run))
        finally:
            if server is not None:
                server.stop()
            with app.app_context():
                from monev.extensions import db

                db.engine.dispose()
    return figures


# --- the judging-day mix -----------------------------------------------------------------------

PASSWORD_HASH = "!"  # noqa: S105 - nobody signs in with a password in this bench
CRITERIA = 10
STEP = Decimal("0.5")
THINK = (2.0, 6.0)  # a judge's think time between two saves, seconds (uniform)
POLL = 2.0  # the board's polling period for the admins' clients, seconds


@dataclass
class JudgingEvent:
    slug: str
    stage_id: int
    criteria: list[int]
    judges: list[str]  # e-mail addresses
    admins: list[str]
    # judge e-mail -> [(assignment id, sheet version, {criterion: value})] of open sheets
    open_sheets: dict[str, list[list]]


def prepare_judging(app, judges: int, entries: int, admins: int, seed: int) -> JudgingEvent:
    """One event in its judging phase: ``judges`` judges each assigned every one of
    ``entries`` entries in one stage of 10 criteria; 40 % of the sheets final and 10 % draft
    (half their criteria scored); ``admins`` organisers. Bulk inserts, one transaction."""
    from sqlalchemy import insert, select

    from monev.auth.models import User
    from monev.core.database import write_intent
    from monev.core.timeutil import utcnow
    from monev.directory.models import Kim
    from monev.entries.models import Entry
    from monev.events.models import Category, Event, Stage
    from monev.extensions import db
    from monev.judging.models import Assignment, EventJudge, Score, ScoreChange, ScoreSheet
    from monev.regions.models import District
    from monev.rubrics.models import Aspect, Criterion

    rng = random.Random(seed)
    with app.app_context(), write_intent():
        s = db.session
        districts = list(s.scalars(select(District).order_by(District.code)))
        now = utcnow()
        event = Event(
            slug="hari-penjurian",
            title="Monev KIM Hari Penjurian",
            year=2026,
            organiser="Bench",
            status="judging",
            tie_breaks=[],
        )
        s.add(event)
        s.flush()
        category = Category(event_id=event.id, key="desa", name="KIM Desa", score_bands=[])
        stage = Stage(
            event_id=event.id,
            key="pres",
            name="Presentasi",
            weight=100,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=2),
            judges_per_entry=judges,
        )
        s.add_all([category, stage])
        s.flush()
        aspect = Aspect(stage_id=stage.id, name="Semua")
        s.add(aspect)
        s.flush()
        criteria = []
        for i in range(CRITERIA):
            c = Criterion(
                event_id=event.id,
                stage_id=stage.id,
                aspect_id=aspect.id,
                key=f"c{i}",
                name=f"Kriteria {i}",
                weight=100 // CRITERIA,
                min_score=1,
                max_score=10,
                step=STEP,
                descriptors=[],
                position=i,
            )
            s.add(c)
            criteria.append(c)
        s.flush()
        criterion_ids = [c.id for c in criteria]

        kims = []
        for e in range(entries):
            kim = Kim(name=f"KIM Bench {e:03d}", district_id=districts[e % len(districts)].id)
            kim.refresh_search_text()
            kims.append(kim)
        s.add_all(kims)
        s.flush()
        s.execute(
            insert(Entry),
            [
                {
                    "event_id": event.id,
                    "kim_id": kim.id,
                    "category_id": category.id,
                    "code": f"B-{e:03d}",
                    "nomination_status": "accepted",
                    "submission_status": "verified",
                }
                for e, kim in enumerate(kims)
            ],
        )
        entry_ids = list(
            s.scalars(select(Entry.id).where(Entry.event_id == event.id).order_by(Entry.code))
        )
        judge_emails = [f"juri{j:03d}@bench.monev.id" for j in range(judges)]
        admin_emails = [f"panitia{a:02d}@bench.monev.id" for a in range(admins)]
        s.execute(
            insert(User),
            [
                {"email": m, "name": f"Juri {j:03d}", "role": "judge", "password_hash": "!"}
                for j, m in enumerate(judge_emails)
            ]
            + [
                {"email": m, "name": f"Panitia {a:02d}", "role": "admin", "password_hash": "!"}
                for a, m in enumerate(admin_emails)
            ],
        )
        judge_ids = dict(
            s.execute(select(User.email, User.id).where(User.email.in_(judge_emails))).all()
        )
        s.execute(
            insert(EventJudge),
            [{"event_id": event.id, "user_id": judge_ids[m]} for m in judge_emails],
        )
        s.execute(
            insert(Assignment),
            [
                {"stage_id": stage.id, "entry_id": e, "judge_id": judge_ids[m], "created_at": now}
                for m in judge_emails
                for e in entry_ids
            ],
        )
        rows = s.execute(
            select(Assignment.id, Assignment.judge_id).where(Assignment.stage_id == stage.id)
        ).all()
        by_judge = {v: k for k, v in judge_ids.items()}
        open_sheets: dict[str, list[list]] = {m: [] for m in judge_emails}
        sheets, plans = [], []
        for assignment_id, judge_id in rows:
            roll = rng.random()
            if roll < 0.4:
                state, scored = "final", criterion_ids
            elif roll < 0.5:
                state, scored = "draft", criterion_ids[: CRITERIA // 2]
            else:
                open_sheets[by_judge[judge_id]].append([assignment_id, 0, {}])
                continue
            version = len(scored) + (1 if state == "final" else 0)
            sheets.append(
                {
                    "assignment_id": assignment_id,
                    "status": state,
                    "version": version,
                    "source": "online",
                    "finalised_at": now if state == "final" else None,
                    "updated_at": now,
                }
            )
            values = {c: STEP * rng.randrange(2, 19) for c in scored}
            plans.append((assignment_id, judge_id, state, values))
            if state == "draft":
                open_sheets[by_judge[judge_id]].append([assignment_id, version, dict(values)])
        s.execute(insert(ScoreSheet), sheets)
        sheet_ids = dict(
            s.execute(
                select(ScoreSheet.assignment_id, ScoreSheet.id)
                .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
                .where(Assignment.stage_id == stage.id)
            ).all()
        )
        scores, changes = [], []
        for assignment_id, judge_id, state, values in plans:
            sheet_id = sheet_ids[assignment_id]
            for v, (c, value) in enumerate(values.items(), start=1):
                scores.append(
                    {"sheet_id": sheet_id, "criterion_id": c, "value": value, "updated_at": now}
                )
                changes.append(
                    {
                        "sheet_id": sheet_id,
                        "version": v,
                        "kind": "score",
                        "criterion_id": c,
                        "new_value": value,
                        "source": "online",
                        "actor_id": judge_id,
                        "created_at": now,
                    }
                )
            if state == "final":
                changes.append(
                    {
                        "sheet_id": sheet_id,
                        "version": len(values) + 1,
                        "kind": "final",
                        "source": "online",
                        "actor_id": judge_id,
                        "created_at": now,
                    }
                )
        s.execute(insert(Score), scores)
        s.execute(insert(ScoreChange), changes)
        s.commit()
        result = JudgingEvent(
            event.slug, stage.id, criterion_ids, judge_emails, admin_emails, open_sheets
        )
        db.engine.dispose()
    return result


def _save_body(sheet: list, rng: random.Random, criteria: list[int]) -> tuple[int, str, Decimal]:
    _assignment, version, values = sheet
    criterion = rng.choice(criteria)
    value = values.get(criterion)
    while value == values.get(criterion):
        value = Decimal(1) + STEP * rng.randrange(19)
    body = urlencode(
        {
            f"value-{criterion}": str(value).replace(".", ","),
            f"comment-{criterion}": "",
            "version": version,
        }
    )
    return criterion, body, value


VERSION = re.compile(rb'data-version="(\d+)"')


def _save(client: Client, sheet: list, criterion: int, body: str, value: Decimal, series: Series):
    """One autosave as the score sheet sends it; on success the sheet's version and value
    are taken from the answer. Returns the acknowledged (assignment, version) or None."""
    t0 = time.perf_counter()
    try:
        status, _headers, page = client.request(
            "POST",
            f"/judge/sheets/{sheet[0]}/scores/{criterion}",
            body,
            {"HX-Request": "true", "X-CSRFToken": client.csrf},
        )
    except (http.client.HTTPException, OSError) as exc:
        series.add(None, type(exc).__name__)
        return None
    elapsed = time.perf_counter() - t0
    found = VERSION.search(page) if status == 200 else None
    series.add(elapsed, status if found or status != 200 else "200 without version", len(page))
    if found is None:
        return None
    sheet[1] = int(found.group(1))
    sheet[2][criterion] = value
    return sheet[0], sheet[1]


def judging_day(run: Run) -> list[Figure]:
    args = run.args
    started = time.perf_counter()
    plan = prepare_judging(run.app, args.judges, args.entries, args.admins, args.seed)
    prepared = time.perf_counter() - started
    if run.server is not None:
        run.server.start()
    judges = run.clients(plan.judges)
    admins = run.clients(plan.admins)
    for client in judges:
        client.fetch_csrf()
    board = f"/admin/events/{plan.slug}/judging/stages/{plan.stage_id}/progress"
    where = run.server.describe() if run.server else run.base_url
    if args.no_keepalive:
        where += ", a new connection per request"
    print(
        f"{run.label}: judging day, {args.judges} judges x {args.entries} entries "
        f"({args.judges * args.entries:,} sheets), {args.admins} admins polling the board "
        f"every {POLL:.0f} s, {args.seconds:.0f} s; {where}; data prepared in {prepared:.1f} s",
        flush=True,
    )

    # Warm-up (imports, caches, connection pools), not measured.
    rng = random.Random(args.seed)
    warm = Series("warm-up")
    for client, email in zip(judges[:5], plan.judges[:5], strict=True):
        sheet = plan.open_sheets[email][0]
        criterion, body, value = _save_body(sheet, rng, plan.criteria)
        _save(client, sheet, criterion, body, value, warm)
    for client in admins[:2]:
        client.request("GET", board, headers={"HX-Request": "true"})

    # Baseline: one judge saving alone, back to back, nothing else running.
    alone = Series("save alone")
    alone_client, alone_email = judges[-1], plan.judges[-1]
    stop = time.perf_counter() + args.alone_seconds
    while time.perf_counter() < stop or alone.count < 20:
        sheet = rng.choice(plan.open_sheets[alone_email])
        criterion, body, value = _save_body(sheet, rng, plan.criteria)
        _save(alone_client, sheet, criterion, body, value, alone)
    render = Series("board render")
    for _ in range(3):
        t0 = time.perf_counter()
        status, _h, page = admins[0].request("GET", board, headers={"HX-Request": "true"})
        render.add(time.perf_counter() - t0, status, len(page))

    # The mix.
    saves = Series("saves")
    polls = Series("board polls")
    acknowledged: list[tuple[int, int]] = []
    offered = [0] * len(judges)
    ack_lock = threading.Lock()

    def judge_actor(index: int, client: Client, email: str, seed: int):
        own = plan.open_sheets[email]
        r = random.Random(seed)

        def act(deadline: float) -> None:
            mine = []
            # The judge's schedule does not depend on the server: a save whose time came
            # while the previous one was still waiting is sent late, and one whose time
            # came before the end but could not be sent before it is offered, not done.
            due = time.perf_counter() + r.uniform(*THINK)
            while due < deadline:
                offered[index] += 1
                if sleep_until(due, deadline) and time.perf_counter() < deadline:
                    sheet = r.choice(own)
                    criterion, body, value = _save_body(sheet, r, plan.criteria)
                    ack = _save(client, sheet, criterion, body, value, saves)
                    if ack is not None:
                        mine.append(ack)
                due += r.uniform(*THINK)
            with ack_lock:
                acknowledged.extend(mine)

        return act

    def admin_actor(client: Client, offset: float):
        def act(deadline: float) -> None:
            etag = None
            due = time.perf_counter() + offset
            while sleep_until(due, deadline):
                headers = {"HX-Request": "true", "HX-Target": "board"}
                if etag:
                    headers["If-None-Match"] = etag
                t0 = time.perf_counter()
                try:
                    status, response_headers, page = client.request("GET", board, None, headers)
                except (http.client.HTTPException, OSError) as exc:
                    polls.add(None, type(exc).__name__)
                else:
                    polls.add(time.perf_counter() - t0, status, len(page))
                    etag = response_headers.get("ETag") or etag
                due = max(due + POLL, time.perf_counter())

        return act

    seeds = random.Random(args.seed + 1)
    actors = [
        judge_actor(i, client, email, seeds.random())
        for i, (client, email) in enumerate(zip(judges, plan.judges, strict=True))
    ] + [admin_actor(client, seeds.uniform(0, POLL)) for client in admins]
    server_pid = run.server.process.pid if run.server else None
    cpu0 = process_cpu_seconds(server_pid) if server_pid else float("nan")
    client0 = time.process_time()
    window = run_actors(actors, args.seconds)
    cpu = (
        (process_cpu_seconds(run.server.process.pid) - cpu0) / window
        if run.server
        else float("nan")
    )
    client_cpu = (time.process_time() - client0) / window
    for client in judges + admins:
        client.close()

    with ack_lock:  # before reading the trail: a client still running may add to it later
        acked = set(acknowledged)
    trail = _trail_rows(run.app, plan.stage_id)
    missing = len(acked - trail)
    done = len(acked)
    offered_total = sum(offered)
    print(
        f"  save alone: {alone.count} saves, p50 {alone.pct(0.5):.1f} ms, "
        f"p95 {alone.pct(0.95):.1f} ms; one board render (first poll, no ETag): "
        f"p50 {render.pct(0.5):.1f} ms, {render.body_bytes / max(render.count, 1) / 1024:.0f} KiB"
    )
    print(
        f"  mix: offered {offered_total} saves ({offered_total / window:.1f}/s), acknowledged "
        f"{done}, p50 {saves.pct(0.5):.1f} ms, p95 {saves.pct(0.95):.1f} ms, "
        f"p99 {saves.pct(0.99):.1f} ms, answers {dict(saves.statuses)}"
    )
    print(
        f"  board polls: {polls.count} ({polls.count / window:.1f}/s), answers "
        f"{dict(polls.statuses)}, p50 {polls.pct(0.5):.1f} ms, p95 {polls.pct(0.95):.1f} ms, "
        f"{polls.body_bytes / window / 1024:.0f} KiB/s sent"
    )
    print(
        f"  server CPU {cpu * 100:.0f} % of one core, this bench's clients "
        f"{client_cpu * 100:.0f} %; load average {_loadavg()}; acknowledged saves missing "
        f"from the trail: {missing}"
    )
    figures = [
        Figure(
            "saves/s to offered saves/s",
            done / window,
            offered_total / window,
            "/s",
            minimum_ratio=0.95,
        ),
        Figure("saves' p95 to a save alone's p95", saves.pct(0.95), alone.pct(0.95), "ms", None, 3),
        Figure("saves' p50 to a save alone's p50", saves.pct(0.5), alone.pct(0.5), "ms"),
        Figure("board poll p95 to one render", polls.pct(0.95), render.pct(0.5), "ms"),
    ]
    for figure in figures:
        print(figure.line())
    if missing:
        figures.append(Figure("acknowledged saves lost", missing, 1, "", maximum_ratio=0))
    return figures


def _loadavg() -> str:
    """The machine's load average (1, 5, 15 min): other work shares its cores."""
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def _trail_rows(app, stage_id: int) -> set[tuple[int, int]]:
    """(assignment, version) of every score change of the stage's sheets."""
    from sqlalchemy import select

    from monev.extensions import db
    from monev.judging.models import Assignment, ScoreChange, ScoreSheet

    with app.app_context():
        rows = db.session.execute(
            select(ScoreSheet.assignment_id, ScoreChange.version)
            .join(ScoreSheet, ScoreSheet.id == ScoreChange.sheet_id)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .where(Assignment.stage_id == stage_id)
        ).all()
        db.session.remove()
    return {(a, v) for a, v in rows}


# --- the results-day mix -------------------------------------------------------------------

ADMIN_THINK = (2.0, 6.0)  # an organiser's think time between two pages on results day, seconds


def _results_day_module():
    """``bench/results_day.py``: its crowd, URLs, targets and demo loading are this mix's."""
    import results_day

    return results_day


def results_mix(run: Run) -> list[Figure]:
    """Results day: hundreds of anonymous visitors (``--connections`` keep-alive connections,
    no cookies) on the published results page, the API, ``/verify/<code>`` and the event
    page, one URL at a time for ``--url-seconds`` each, against the templated 404 page as
    baseline (``bench/results_day.py``'s crowd and targets: at least 50 % of the 404 page's
    requests/s, p99 within 5x p50), while ``--results-admins`` organisers work on the admin
    results page and their home page with a think time of 2–6 s. Every admin answer must be
    a 200."""
    from sqlalchemy import insert

    from monev.auth.models import User
    from monev.core.database import write_intent
    from monev.extensions import db

    rd = _results_day_module()
    args = run.args
    started = time.perf_counter()
    code = rd.load_demo(run.app)
    emails = [f"panitia-hasil{a:02d}@bench.monev.id" for a in range(args.results_admins)]
    with run.app.app_context(), write_intent():
        db.session.execute(
            insert(User),
            [
                {"email": m, "name": f"Panitia {a:02d}", "role": "admin", "password_hash": "!"}
                for a, m in enumerate(emails)
            ],
        )
        db.session.commit()
        db.engine.dispose()
    prepared = time.perf_counter() - started
    if run.server is not None:
        run.server.start()
    admins = run.clients(emails)
    port = urlsplit(run.base_url).port or 80
    where = run.server.describe() if run.server else run.base_url
    print(
        f"{run.label}: results day, {args.connections} keep-alive connections per URL for "
        f"{args.url_seconds:.0f} s each, {args.results_admins} admins working; {where}; demo "
        f"loaded in {prepared:.1f} s",
        flush=True,
    )
    # The admin's home ("/" redirects there) and the event's admin results page.
    _status, headers, _page = admins[0].request("GET", "/")
    home = urlsplit(headers.get("Location") or "/").path
    pages = [f"/admin/events/{rd.SLUG}/results/", home]
    for path in pages:  # warm-up, not measured: the results computed once
        admins[0].request("GET", path)
    work = Series("admin pages")
    stop = threading.Event()

    def admin(client: Client, seed: float):
        r = random.Random(seed)

        def act() -> None:
            while not stop.wait(r.uniform(*ADMIN_THINK)):
                path = r.choice(pages)
                t0 = time.perf_counter()
                try:
                    status, _h, page = client.request("GET", path)
                except (http.client.HTTPException, OSError) as exc:
                    work.add(None, type(exc).__name__)
                else:
                    work.add(time.perf_counter() - t0, status, len(page))

        return act

    seeds = random.Random(args.seed + 2)
    threads = [threading.Thread(target=admin(c, seeds.random()), daemon=True) for c in admins]
    for thread in threads:
        thread.start()
    try:
        figures = rd.results_day(port, code, args.connections, args.url_seconds, run.label)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=HTTP_TIMEOUT)
        for client in admins:
            client.close()
    print(
        f"  admins meanwhile: {work.count} pages, answers {dict(work.statuses)}, "
        f"p50 {work.pct(0.5):.1f} ms, p95 {work.pct(0.95):.1f} ms"
    )
    wrong = sum(n for status, n in work.statuses.items() if status != 200)
    if wrong or not work.count:
        figures.append(Figure("admin pages not answered 200", wrong or 1, 1, "", maximum_ratio=0))
    return figures


MIXES: dict[str, Callable[[Run], list[Figure]]] = {"judging": judging_day, "results": results_mix}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mix", action="append", choices=sorted(MIXES))
    parser.add_argument(
        "--db",
        action="append",
        help="sqlite (a file in the fresh instance folder) or a postgresql:// URL",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each mix")
    parser.add_argument("--alone-seconds", type=float, default=5.0)
    parser.add_argument("--judges", type=int, default=100)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--admins", type=int, default=20, help="judging: admins polling")
    parser.add_argument(
        "--connections", type=int, default=200, help="results: anonymous keep-alive visitors"
    )
    parser.add_argument("--url-seconds", type=float, default=10.0, help="results: per URL")
    parser.add_argument(
        "--results-admins", type=int, default=5, help="results: admins working meanwhile"
    )
    parser.add_argument("--server", choices=("auto", "flask", "gunicorn"), default="auto")
    parser.add_argument("--threads", type=int, default=8, help="server threads (per process)")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn processes (0: its own)")
    parser.add_argument("--base-url", help="load a server already running on this machine")
    parser.add_argument("--secret-key", help="that server's secret key (with --base-url)")
    parser.add_argument(
        "--no-keepalive",
        action="store_true",
        help="a new connection per request (browsers keep theirs open: the default)",
    )
    parser.add_argument("--seed", type=int, default=20261214)
    args = parser.parse_args()
    dbs = args.db or ["sqlite"]
    if os.environ.get("MONEV_BENCH_DATABASE_URL") and not args.db:
        dbs.append(os.environ["MONEV_BENCH_DATABASE_URL"])
    if args.base_url and (len(dbs) != 1 or dbs[0] == "sqlite" or not args.secret_key):
        raise SystemExit("--base-url needs the server's database (--db URL) and --secret-key")
    missed = []
    for uri in dbs:
        figures = run_mixes(uri, args)
        missed.extend(f for f in figures if f.missed)
        print(flush=True)
    if missed:
        print("targets missed: " + "; ".join(f.label for f in missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
