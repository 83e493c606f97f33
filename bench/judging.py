"""Judges autosaving against the real server, relative to the same server's trivial route.

50 judges (one score sheet each, 10 criteria) sign in, then autosave for ``--seconds``
exactly as the score sheet's htmx requests do: POST one criterion (value, comment, the sheet
version last acknowledged) with the session cookie and CSRF header, and take the new version
from the answer. No think time: each judge sends its next change as soon as the previous
one is acknowledged (closed loop, the server's capacity). Every change is to a different
value, so every acknowledged save must be exactly one row of the sheet's trail.

Baseline, in the same run and against the same server process: 50 client threads fetching a
trivial templated page (a page extending base.html, anonymous) for ``--trivial-seconds``.

After the run the database is checked: every acknowledged save is in ``score_changes`` with
the version it was acknowledged with (none lost), no row is there that was not acknowledged
(none duplicated), and every sheet's stored scores and version are the last acknowledged.

The server is waitress (``--threads``) in a subprocess on 127.0.0.1; the clients are threads
of this process on the same 2-core machine, so client and server share the CPUs.

Usage:
    .venv/bin/python bench/judging.py [--db sqlite] [--db postgresql://…/monev_bench]
        [--judges 50] [--seconds 60] [--trivial-seconds 15] [--threads 8]
A PostgreSQL database named here is emptied (its public schema is dropped).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from common import ROOT, free_port, pct  # bench/common.py

PASSWORD = "bangku-kayu-ulin-77"  # noqa: S105 - bench accounts in a throw-away database
CRITERIA = 10
STEP = Decimal("0.5")

SERVER = """
import logging, os, sys
sys.path.insert(0, {root!r})
os.environ["MONEV_INSTANCE_PATH"] = {instance!r}
from flask import Blueprint, render_template_string
from waitress import serve
from monev import create_app
from monev.core import access

app = create_app({{"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": {uri!r},
                   "LOGIN_MAX_FAILURES_PER_ADDRESS": 10000}})
bp = Blueprint("bench", __name__)
access.blueprint_roles(bp)

@bp.route("/bench/trivial")
def trivial():
    return render_template_string(
        '{{% extends "base.html" %}}{{% block content %}}<h1>Halo</h1>{{% endblock %}}'
    )

app.register_blueprint(bp)
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
serve(app, host="127.0.0.1", port={port}, threads={threads}, connection_limit=400, _quiet=True)
"""


def make_app(uri: str, instance: Path):
    from monev import create_app

    os.environ["MONEV_INSTANCE_PATH"] = str(instance)
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": uri})


def prepare(app, uri: str, judges: int) -> list[dict]:
    """A migrated database with one judging event: ``judges`` judges, one entry each."""
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from monev.auth.models import User
    from monev.auth.passwords import hash_password
    from monev.core.database import write_intent
    from monev.core.timeutil import utcnow
    from monev.directory.models import Kim
    from monev.entries.models import Entry
    from monev.events.models import Category, Event, Stage
    from monev.extensions import db
    from monev.judging.models import Assignment, EventJudge
    from monev.regions.models import District
    from monev.rubrics.models import Aspect, Criterion

    with app.app_context():
        if uri.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        with write_intent():
            s = db.session
            district = s.scalar(select(District).where(District.code == "64.04"))
            now = utcnow()
            event = Event(
                slug="bench-juri",
                title="Bench juri",
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
                judges_per_entry=1,
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
                    weight=10,
                    min_score=1,
                    max_score=10,
                    step=STEP,
                    descriptors=[],
                    position=i,
                )
                s.add(c)
                criteria.append(c)
            pw = hash_password(PASSWORD)
            out = []
            for j in range(judges):
                kim = Kim(name=f"KIM Bench {j}", district_id=district.id)
                kim.refresh_search_text()
                user = User(
                    email=f"juri{j}@bench.monev.id",
                    name=f"Juri {j}",
                    role="judge",
                    password_hash=pw,
                )
                s.add_all([kim, user])
                s.flush()
                entry = Entry(
                    event_id=event.id,
                    kim_id=kim.id,
                    category_id=category.id,
                    code=f"B-{j:03d}",
                    nomination_status="accepted",
                    submission_status="verified",  # only a verified entry is judged
                )
                s.add(entry)
                s.add(EventJudge(event_id=event.id, user_id=user.id))
                s.flush()
                assignment = Assignment(stage_id=stage.id, entry_id=entry.id, judge_id=user.id)
                s.add(assignment)
                s.flush()
                out.append(
                    {
                        "email": user.email,
                        "assignment": assignment.id,
                        "criteria": [c.id for c in criteria],
                    }
                )
            s.commit()
        db.engine.dispose()
    return out


class Session:
    """One judge's browser: a keep-alive connection, the session cookie, the CSRF token."""

    CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            raise
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data.decode("utf-8", "replace")

    def sign_in(self, email: str) -> str:
        _status, page = self.request("GET", "/login")
        token = self.CSRF.search(page).group(1)
        status, _ = self.request(
            "POST", "/login", urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
        )
        assert status == 302, f"sign-in of {email} answered {status}"
        _status, page = self.request("GET", "/account")
        return self.CSRF.search(page).group(1)


def trivial_rate(port: int, clients: int, seconds: float) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    done = [0] * clients

    def worker(i: int) -> None:
        session = Session(port)
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            status, _ = session.request("GET", "/bench/trivial")
            mine.append(time.perf_counter() - t0)
            assert status == 200, status
            done[i] += 1
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / (time.perf_counter() - started), latencies


def autosave_run(port: int, judges: list[dict], seconds: float, seed: int):
    """Every judge autosaves in a closed loop; returns acknowledged saves and latencies."""
    sessions = []
    for judge in judges:  # sign in first (Argon2), outside the measured window
        session = Session(port)
        sessions.append((session, session.sign_in(judge["email"]), judge))
    acks: list[tuple[int, int, int, Decimal]] = []  # (assignment, version, criterion, value)
    errors: dict[str, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(sessions))
    state_re = re.compile(r'data-version="(\d+)"')
    finish = [0.0]

    def worker(session: Session, token: str, judge: dict, rng: random.Random) -> None:
        mine_acks, mine_lat, mine_err = [], [], {}
        version, current = 0, {}
        criteria = judge["criteria"]
        path = f"/judge/sheets/{judge['assignment']}/scores/"
        barrier.wait()
        stop = finish[0]
        i = 0
        while time.perf_counter() < stop:
            criterion = criteria[i % len(criteria)]
            i += 1
            value = current.get(criterion)
            while value == current.get(criterion):
                value = Decimal(1) + STEP * rng.randrange(19)
            body = urlencode(
                {
                    f"value-{criterion}": str(value).replace(".", ","),
                    f"comment-{criterion}": "",
                    "version": version,
                }
            )
            t0 = time.perf_counter()
            try:
                status, page = session.request(
                    "POST",
                    f"{path}{criterion}",
                    body,
                    {"HX-Request": "true", "X-CSRFToken": token},
                )
            except (http.client.HTTPException, OSError) as exc:
                mine_err[type(exc).__name__] = mine_err.get(type(exc).__name__, 0) + 1
                continue
            mine_lat.append(time.perf_counter() - t0)
            found = state_re.search(page) if status == 200 else None
            if found is None:
                mine_err[str(status)] = mine_err.get(str(status), 0) + 1
                continue
            version = int(found.group(1))
            current[criterion] = value
            mine_acks.append((judge["assignment"], version, criterion, value))
        with lock:
            acks.extend(mine_acks)
            latencies.extend(mine_lat)
            for k, v in mine_err.items():
                errors[k] = errors.get(k, 0) + v

    rng = random.Random(seed)
    pool = [
        threading.Thread(target=worker, args=(s, tok, j, random.Random(rng.random())))
        for s, tok, j in sessions
    ]
    finish[0] = time.perf_counter() + seconds + 0.5
    for t in pool:
        t.start()
    started = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    return acks, latencies, errors, elapsed


def verify(app, acks) -> dict:
    """Compare the acknowledged saves with what the database holds."""
    from sqlalchemy import select

    from monev.extensions import db
    from monev.judging.models import Score, ScoreChange, ScoreSheet

    with app.app_context():
        rows = db.session.execute(
            select(
                ScoreSheet.assignment_id,
                ScoreChange.version,
                ScoreChange.criterion_id,
                ScoreChange.new_value,
            )
            .join(ScoreSheet, ScoreSheet.id == ScoreChange.sheet_id)
            .where(ScoreChange.kind == "score")
        ).all()
        stored = {(a, v, c, Decimal(n)) for a, v, c, n in rows}
        last_value: dict[tuple[int, int], Decimal] = {}
        last_version: dict[int, int] = {}
        for a, v, c, n in sorted(acks, key=lambda x: (x[0], x[1])):
            last_value[(a, c)] = n
            last_version[a] = v
        scores = {
            (a, c): Decimal(v)
            for a, c, v in db.session.execute(
                select(ScoreSheet.assignment_id, Score.criterion_id, Score.value).join(
                    ScoreSheet, ScoreSheet.id == Score.sheet_id
                )
            )
        }
        versions = dict(
            db.session.execute(select(ScoreSheet.assignment_id, ScoreSheet.version)).all()
        )
        db.engine.dispose()
    acked = set(acks)
    return {
        "acknowledged": len(acks),
        "rows": len(rows),
        "lost": len(acked - stored),
        "duplicated": len(rows) - len(stored) + len(stored - acked) + (len(acks) - len(acked)),
        "final_values_match": all(scores.get(k) == v for k, v in last_value.items()),
        "versions_match": all(versions.get(a) == v for a, v in last_version.items()),
    }


def run_one(uri_arg: str, args) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        instance = folder / "instance"
        uri = f"sqlite:///{folder / 'bench.db'}" if uri_arg == "sqlite" else uri_arg
        label = "SQLite" if uri.startswith("sqlite") else "PostgreSQL"
        app = make_app(uri, instance)
        judges = prepare(app, uri, args.judges)
        port = free_port()
        script = SERVER.format(
            root=str(ROOT), instance=str(instance), uri=uri, port=port, threads=args.threads
        )
        server = subprocess.Popen([sys.executable, "-c", script])
        try:
            for _ in range(200):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    time.sleep(0.1)
            trivial_rate(port, 4, 1.0)  # warm up
            trivial, trivial_lat = trivial_rate(port, args.judges, args.trivial_seconds)
            acks, latencies, errors, elapsed = autosave_run(port, judges, args.seconds, args.seed)
        finally:
            server.terminate()
            server.wait(timeout=20)
        check = verify(app, acks)
    saves = len(acks) / elapsed
    lines = [
        f"{label}: {args.judges} judges autosaving for {args.seconds:.0f} s, waitress "
        f"threads={args.threads}",
        f"  trivial route        {trivial:8.1f} req/s   p50 {pct(trivial_lat, 0.5):7.1f} ms"
        f"   p99 {pct(trivial_lat, 0.99):7.1f} ms",
        f"  autosave             {saves:8.1f} saves/s p50 {pct(latencies, 0.5):7.1f} ms"
        f"   p99 {pct(latencies, 0.99):7.1f} ms",
        f"  ratio saves/s to trivial req/s: {saves / trivial:.2f}x",
        f"  acknowledged {check['acknowledged']}  trail rows {check['rows']}  "
        f"lost {check['lost']}  duplicated {check['duplicated']}  "
        f"final values match {check['final_values_match']}  "
        f"versions match {check['versions_match']}  errors {errors or 0}",
    ]
    ok = (
        check["acknowledged"] > 0
        and not check["lost"]
        and not check["duplicated"]
        and check["final_values_match"]
        and check["versions_match"]
        and not errors
    )
    if not ok:
        lines.append("  FAILED: every save must be acknowledged once and kept (exit 1)")
    return "\n".join(lines), ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", action="append", help="sqlite or a postgresql:// URL")
    parser.add_argument("--judges", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--trivial-seconds", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()
    failed = False
    for uri in args.db or ["sqlite"]:
        text, ok = run_one(uri, args)
        failed = failed or not ok
        print(text, flush=True)
        print(flush=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
