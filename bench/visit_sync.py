"""Sync of a field visit's photos from a phone that worked offline, over a slow connection.

A fresh instance (SQLite, local storage) gets the demo data, with 2024's Presentasi put back
in judging as a field visit of KIM Teluk Pandan by the demo's first judge; the app is served
by waitress (``flask serve``) in its own process. Chromium (Playwright, /usr/bin/chromium)
plays the judge's phone: it prepares the visit online, goes offline, takes N photos of S MB
each (distinct JPEGs of noise), which the phone keeps in IndexedDB; then the connection comes
back throttled (Chrome DevTools Protocol ``Network.emulateNetworkConditions``, upload and
download at K kbit/s, 100 ms latency) and the judge taps "Kirim sekarang". Measured: the
time until every photo is acknowledged, against a plain upload of the same bytes (the same
files posted one after another with ``fetch``, no queue, under the same throttle), and the
phone-side storage used while the photos wait (``navigator.storage.estimate()`` and the
app's own count). The queue is then synced a second time (as if every answer had been
lost): the server must acknowledge every photo without storing it again.

Exits 1 when a photo is lost or stored twice; skips (exit 0, a message) without Chromium.

    .venv/bin/python bench/visit_sync.py [--photos 20] [--mb 3] [--kbps 400]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CHROMIUM = Path("/usr/bin/chromium")
JUDGE = "juri1@demo.monev.id"
PASSWORD = "monev-bench"  # noqa: S105 - a throwaway demo instance

SETUP = """
from datetime import timedelta
from sqlalchemy import select
from monev import create_app
from monev.auth.models import User
from monev.core.database import write_intent
from monev.core.timeutil import utcnow
from monev.demo import loader
from monev.entries.models import Entry
from monev.events.models import Event, Stage
from monev.extensions import db
from monev.judging.models import Assignment, Visit

app = create_app()
with app.app_context(), write_intent():
    loader.load({password!r})
    now = utcnow()
    event = db.session.scalar(select(Event).where(Event.slug == "monev-kim-kaltim-2024"))
    stage = db.session.scalar(
        select(Stage).where(Stage.event_id == event.id, Stage.key == "presentasi")
    )
    stage.opens_at, stage.closes_at = now - timedelta(days=1), now + timedelta(days=3)
    stage.kind, event.status = "visit", "judging"
    judge = db.session.scalar(select(User).where(User.email == {judge!r}))
    kim = db.session.scalar(select(User).where(User.email == "kim.telukpandan@demo.monev.id"))
    entry = db.session.scalar(
        select(Entry).where(Entry.event_id == event.id, Entry.kim_id == kim.kim_id)
    )
    entry.standing, entry.standing_reason, entry.standing_stage_id = "active", None, None
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.stage_id == stage.id,
            Assignment.entry_id == entry.id,
            Assignment.judge_id == judge.id,
        )
    )
    if assignment is None:
        assignment = Assignment(stage_id=stage.id, entry_id=entry.id, judge_id=judge.id)
        db.session.add(assignment)
        db.session.flush()
    elif assignment.sheet is not None:
        assignment.sheet.status = "draft"
    db.session.add(
        Visit(stage_id=stage.id, entry_id=entry.id, starts_at=now + timedelta(hours=1),
              address="Jl. Poros Teluk Pandan RT 05, Kutai Timur",
              latitude=0.4131, longitude=117.4752)
    )
    db.session.commit()
    print(assignment.id)
"""

COUNT = """
from sqlalchemy import func, select
from monev import create_app
from monev.extensions import db
from monev.judging.models import ScoreSheet, VisitPhoto

app = create_app()
with app.app_context():
    rows = db.session.execute(
        select(VisitPhoto.client_key, VisitPhoto.criterion_id)
        .join(ScoreSheet, ScoreSheet.id == VisitPhoto.sheet_id)
        .where(ScoreSheet.assignment_id == {sheet})
    ).all()
    keys = [k for k, c in rows if c == {criterion}]
    print(len(keys), len(set(keys)))
"""

# A copy of the phone's queue (photos included) in a database of its own, put back after the
# sync with every item waiting and tried: as if no answer had come.
COPY_QUEUE = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open("monev-offline", 1);
    open.onsuccess = () => {
        const all = open.result.transaction(["queue"]).objectStore("queue").getAll();
        all.onsuccess = () => {
            const copy = indexedDB.open("monev-bench-copy", 1);
            copy.onupgradeneeded = () => copy.result.createObjectStore("items");
            copy.onsuccess = () => {
                const t = copy.result.transaction(["items"], "readwrite");
                t.objectStore("items").put(all.result, "queue");
                t.oncomplete = () => resolve(all.result.length);
                t.onerror = () => reject(t.error);
            };
        };
        all.onerror = () => reject(all.error);
    };
})"""

PUT_BACK_QUEUE = """() => new Promise((resolve, reject) => {
    const copy = indexedDB.open("monev-bench-copy", 1);
    copy.onsuccess = () => {
        const get = copy.result.transaction(["items"]).objectStore("items").get("queue");
        get.onsuccess = () => {
            const open = indexedDB.open("monev-offline", 1);
            open.onsuccess = () => {
                const t = open.result.transaction(["queue"], "readwrite");
                const store = t.objectStore("queue");
                get.result.forEach((i) => { i.tried = true; i.state = "kept"; store.put(i); });
                t.oncomplete = () => resolve();
                t.onerror = () => reject(t.error);
            };
        };
    };
})"""

PLAIN_UPLOAD = """async ({files, url}) => {
    const session = await (await fetch("/judge/offline/session")).json();
    const started = performance.now();
    for (const [n, file] of files.entries()) {
        const body = new FormData();
        body.append("photo", file, file.name);
        body.append("taken_at", new Date(Date.now() - 60000).toISOString());
        body.append("client_key", "plain-upload-" + n + "-" + Date.now());
        const answer = await fetch(url, {method: "POST", body,
            headers: {"X-CSRFToken": session.token, "Accept": "application/json"}});
        if (!answer.ok) { throw new Error("plain upload refused: " + answer.status); }
    }
    return (performance.now() - started) / 1000;
}"""


NO_THROTTLE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def noise_jpeg(n: int, megabytes: float) -> dict:
    """A JPEG of random noise of about ``megabytes`` (noise does not compress)."""
    from PIL import Image

    rng = random.Random(n)
    side = max(64, int((megabytes * 1024 * 1024 / 0.9) ** 0.5))  # about 0.9 B/px at q=90
    width, height = side * 4 // 3, side * 3 // 4
    pixels = rng.randbytes(width * height * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(buffer, "JPEG", quality=90)
    return {"name": f"foto-{n:02d}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def count_photos(env: dict, sheet: int, criterion: int) -> tuple[int, int]:
    out = subprocess.run(
        [PYTHON, "-c", COUNT.format(sheet=sheet, criterion=criterion)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[-2]), int(out[-1])


def throttle(page, kbps: int):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    rate = kbps * 1000 / 8  # bytes per second
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 100, "downloadThroughput": rate, "uploadThroughput": rate},
    )
    return cdp


def run(args, sync_playwright) -> int:
    with tempfile.TemporaryDirectory(prefix="monev-bench-") as tmp:
        folder = Path(tmp)
        # files, not buffers: Playwright passes at most 50 MB of buffers at once
        photos = []
        for n in range(args.photos):
            photo = noise_jpeg(n, args.mb)
            path = folder / photo["name"]
            path.write_bytes(photo["buffer"])
            photos.append(path)
        total = sum(p.stat().st_size for p in photos)
        env = {
            **os.environ,
            "MONEV_ENV": "development",
            "MONEV_INSTANCE_PATH": str(folder),
            "MONEV_DEMO_PASSWORD": PASSWORD,
            "FLASK_DEBUG": "0",
        }
        env.pop("DATABASE_URL", None)
        flask = [PYTHON, "-m", "flask", "--app", "monev"]
        subprocess.run(
            [*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        setup = subprocess.run(
            [PYTHON, "-c", SETUP.format(password=PASSWORD, judge=JUDGE)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        sheet = int(setup.stdout.strip().splitlines()[-1])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [*flask, "serve", "--port", str(port), "--threads", "4"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.2)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
                )
                context = browser.new_context(
                    base_url=base,
                    viewport={"width": 390, "height": 844},
                    locale="id-ID",
                    timezone_id="Asia/Makassar",
                    geolocation={"latitude": 0.4140, "longitude": 117.4760, "accuracy": 12},
                    permissions=["geolocation"],
                    bypass_csp=True,  # Playwright's waits evaluate strings
                )
                context.set_default_timeout(60_000)
                page = context.new_page()
                page.goto("/login")
                page.fill("input[name=email]", JUDGE)
                page.fill("input[name=password]", PASSWORD)
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                page.goto("/judge/offline")
                page.click("#offline-prepare")
                page.wait_for_selector("#offline-stored.notice-ok")
                page.goto(f"/offline?sheet={sheet}")
                page.wait_for_function("navigator.serviceWorker.controller !== null")
                inputs = page.locator("input[data-photo-input]")
                first = int(inputs.nth(0).get_attribute("data-photo-input"))
                second = int(inputs.nth(1).get_attribute("data-photo-input"))

                # the plain upload of the same bytes, throttled the same way
                page.evaluate(
                    "() => { const i = document.createElement('input'); i.type = 'file';"
                    " i.multiple = true; i.id = 'bench-files'; i.hidden = true;"
                    " document.body.append(i); }"
                )
                page.set_input_files("#bench-files", photos)
                cdp = throttle(page, args.kbps)
                plain = page.evaluate(
                    "(url) => window.__plain = "
                    + f"({PLAIN_UPLOAD})"
                    + "({files: [...document.getElementById('bench-files').files], url})",
                    f"/judge/sheets/{sheet}/visit/{second}/photos",
                )
                cdp.send("Network.emulateNetworkConditions", NO_THROTTLE)
                cdp.detach()
                page.reload()
                page.wait_for_selector("#offline-send")

                # offline: the photos are taken and kept on the phone
                context.set_offline(True)
                for n, photo in enumerate(photos, start=1):
                    page.set_input_files(f"#photo-{first}", photo)
                    page.wait_for_function(
                        f"document.querySelectorAll('#criterion-{first} .offline-photo')"
                        f".length === {n}"
                    )
                estimate = page.evaluate(
                    "async () => navigator.storage && navigator.storage.estimate ?"
                    " (await navigator.storage.estimate()).usage : null"
                )
                page.reload()
                page.wait_for_selector(".offline-status[data-state=offline]")
                stored_line = page.locator(".offline-status p").inner_text()
                page.goto("/offline")
                stored_text = page.locator("#offline-stored").inner_text()
                page.goto(f"/offline?sheet={sheet}")
                page.wait_for_selector("#offline-send")
                page.evaluate(COPY_QUEUE)
                page.close()

                # back in signal, throttled: the judge opens the visit, which sends the queue
                context.set_offline(False)
                page = context.new_page()
                cdp = throttle(page, args.kbps)
                started = time.perf_counter()
                page.goto(f"/offline?sheet={sheet}")
                page.wait_for_function(
                    "document.querySelector('.offline-status')?.dataset.state === 'sent'",
                    timeout=0,
                )
                synced = time.perf_counter() - started
                after_sync = count_photos(env, sheet, first)
                page.goto("/offline")
                after_text = page.locator("#offline-stored").inner_text()
                page.goto(f"/offline?sheet={sheet}")
                page.wait_for_selector("#offline-send")

                # the same queue again, as if every answer had been lost
                cdp.send("Network.emulateNetworkConditions", NO_THROTTLE)
                page.evaluate(PUT_BACK_QUEUE)
                page.click("#offline-send")
                page.wait_for_function(
                    "document.querySelector('.offline-status')?.dataset.state === 'sent'"
                )
                after_repeat = count_photos(env, sheet, first)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)

    mb = total / 1024 / 1024
    print(
        f"visit sync: {args.photos} photos, {mb:.1f} MB in all, "
        f"at {args.kbps} kbit/s up and down, 100 ms latency (CDP), waitress, SQLite"
    )
    print(f"phone while offline: {stored_line.splitlines()[0]}")
    print(f"phone storage: {stored_text}")
    if estimate is not None:
        print(
            f"navigator.storage.estimate() usage with the photos waiting: "
            f"{estimate / 1024 / 1024:.1f} MB (IndexedDB and the shell's cache)"
        )
    print(f"phone storage after the sync (photos sent are dropped): {after_text}")
    print(
        f"sync: {synced:.1f} s; plain upload of the same bytes: {plain:.1f} s; "
        f"sync / plain: {synced / plain:.2f}x"
    )
    ideal = total * 8 / (args.kbps * 1000)
    print(f"the bytes alone at {args.kbps} kbit/s: {ideal:.1f} s")
    stored, distinct = after_sync
    print(f"photos on the server after the sync: {stored} ({distinct} keys)")
    print(f"after the same queue synced again: {after_repeat[0]} ({after_repeat[1]} keys)")
    ok = after_sync == (args.photos, args.photos) and after_repeat == after_sync
    print("every photo exactly once: " + ("OK" if ok else "LOST OR DUPLICATED"))
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=20, help="photos taken offline")
    parser.add_argument("--mb", type=float, default=3.0, help="size of each photo in MB")
    parser.add_argument("--kbps", type=int, default=400, help="connection speed in kbit/s")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"visit_sync: skipped, Chromium not found at {CHROMIUM}")
        sys.exit(0)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("visit_sync: skipped, Playwright is not installed (make install-dev)")
        sys.exit(0)
    sys.exit(run(args, sync_playwright))


if __name__ == "__main__":
    main()
