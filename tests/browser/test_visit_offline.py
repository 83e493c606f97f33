"""Field visits without a signal, in Chromium: the judge prepares the phone online, then with
the connection cut (``context.set_offline``) reloads the visit (served by the service
worker), scores, writes notes and fills the checklist, closes and reopens the page; online
again, every value arrives exactly once, and a second sync of the same queue adds nothing.
A change made online meanwhile is shown as a conflict with both values. At phone width
nothing scrolls sideways and axe finds nothing serious. Screenshots:
test-artifacts/screenshots/offline-*."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from monev.core.timeutil import utcnow
from monev.extensions import db
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_roles import assert_accessible, sign_in
from tests.browser.test_visits import _a_visit
from tests.test_access_matrix import JUDGE, KIM
from tests.test_home_crawl import ACCOUNTS

pytestmark = pytest.mark.browser

KAMPUNG = {"latitude": 0.4140, "longitude": 117.4760, "accuracy": 12}


def _jpeg(colour: str, size=(640, 480)) -> dict:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=85)
    return {"name": f"{colour}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def _photos(app, sheet_id):
    from monev.judging.models import ScoreSheet, VisitPhoto

    with app.app_context():
        return list(
            db.session.execute(
                select(
                    VisitPhoto.criterion_id,
                    VisitPhoto.taken_at,
                    VisitPhoto.latitude,
                    VisitPhoto.longitude,
                    VisitPhoto.accuracy_m,
                    VisitPhoto.distance_m,
                )
                .join(ScoreSheet, ScoreSheet.id == VisitPhoto.sheet_id)
                .where(ScoreSheet.assignment_id == sheet_id)
                .order_by(VisitPhoto.id)
            ).all()
        )


def _sheet_id(urls) -> int:
    return int(urls["sheet"].rsplit("/", 1)[1])


def _criteria(app, sheet_id):
    from monev.judging.models import Assignment
    from monev.judging.queries import stage_criteria

    with app.app_context():
        stage_id = db.session.get(Assignment, sheet_id).stage_id
        return [c.id for a in stage_criteria(stage_id) for c in a.criteria]


def _stored(app, sheet_id):
    from monev.judging.models import Score, ScoreSheet, SyncKey, VisitCheck

    with app.app_context():
        sheet = db.session.scalar(select(ScoreSheet).where(ScoreSheet.assignment_id == sheet_id))
        scores = {
            s.criterion_id: (s.value, s.comment)
            for s in db.session.scalars(select(Score).where(Score.sheet_id == sheet.id))
        }
        checks = {
            c.criterion_id: (c.mark, c.note)
            for c in db.session.scalars(select(VisitCheck).where(VisitCheck.sheet_id == sheet.id))
        }
        keys = db.session.scalar(
            select(func.count()).select_from(SyncKey).where(SyncKey.sheet_id == sheet.id)
        )
        return sheet.version, scores, checks, keys


def _queue(page) -> list[dict]:
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("monev-offline", 1);
            open.onsuccess = () => {
                const t = open.result.transaction(["queue"], "readonly");
                const all = t.objectStore("queue").getAll();
                all.onsuccess = () => resolve(all.result.map((i) => ({
                    seq: i.seq, kind: i.kind, criterion: i.criterion, state: i.state,
                    key: i.key, data: i.data, message: i.message || ""})));
                all.onerror = () => reject(all.error);
            };
            open.onerror = () => reject(open.error);
        })"""
    )


def _copy_queue(page) -> None:
    """Keep a copy of the queue as it is (photos included) in the page's memory."""
    page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("monev-offline", 1);
            open.onsuccess = () => {
                const all = open.result.transaction(["queue"]).objectStore("queue").getAll();
                all.onsuccess = () => { window.__queueCopy = all.result; resolve(); };
                all.onerror = () => reject(all.error);
            };
        })"""
    )


def _put_back_queue(page) -> None:
    """The copied queue back, every item waiting and tried: as if no answer had come."""
    page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("monev-offline", 1);
            open.onsuccess = () => {
                const t = open.result.transaction(["queue"], "readwrite");
                const store = t.objectStore("queue");
                window.__queueCopy.forEach((i) => { i.tried = true; store.put(i); });
                t.oncomplete = () => resolve();
                t.onerror = () => reject(t.error);
            };
        })"""
    )


# juri1's visits on the phone: the demo's three of Anugerah KIM Inovatif 2025 (monev.demo.award,
# one of them today) and the one each test plans with _a_visit.
STORED_VISITS = 4


def _prepare(page, viewport) -> None:
    page.goto("/judge/offline")
    page.get_by_role("button", name="Siapkan untuk luring").click()
    expect(page.locator("#offline-stored")).to_contain_text("Siap:", timeout=15_000)
    expect(page.locator("#offline-stored")).to_contain_text(
        re.compile(
            rf"Tersimpan di ponsel: {STORED_VISITS} kunjungan, \d+ KB, disiapkan \d+ \w+ \d{{4}}, "
            r"\d\d\.\d\d WITA"
        )
    )
    page.wait_for_function("navigator.serviceWorker.controller !== null || true")


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map((e) => e.tagName + "." + e.className + "#" + e.id)"""
    )
    assert width <= page.evaluate("window.innerWidth"), f"{page.url}: {width}px {wide}"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_visit_scored_offline_arrives_once(
    app, field_phone, demo_password, screenshots, viewport
):
    urls = _a_visit(app)
    sheet = _sheet_id(urls)
    _visit_under_way(app, urls)
    c1, c2 = _criteria(app, sheet)[:2]
    context = field_phone(KAMPUNG, viewport)
    shot = f"offline-{viewport['width']}"
    try:
        page = context.new_page()
        sign_in(page, ACCOUNTS[JUDGE], demo_password)
        _prepare(page, viewport)
        _fits(page)
        assert_accessible(page)
        page.screenshot(path=screenshots / f"{shot}-prepare.png", full_page=True)
        page.goto(f"/offline?sheet={sheet}")
        expect(page.locator("#offline-send")).to_be_visible()
        page.wait_for_function("navigator.serviceWorker.controller !== null")

        # no signal, and the page reloaded: the visit opens from the service worker
        context.set_offline(True)
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Kunjungan lapangan")
        expect(page.locator(".offline-status")).to_contain_text("Tanpa sinyal")
        page.fill(f"#value-{c1}", "8")
        page.fill(f"#comment-{c1}", "Papan informasi desa diperbarui tiap pekan.")
        page.locator(f"input[name=mark-{c1}][value=partly]").check()
        page.fill(f"#note-{c1}", "Arsip kegiatan ada, belum lengkap.")
        page.fill(f"#value-{c2}", "7")
        page.locator(f"#value-{c2}").blur()
        before = utcnow().replace(microsecond=0)
        for n, colour in enumerate(("green", "navy"), start=1):
            page.set_input_files(f"#photo-{c1}", _jpeg(colour))
            expect(page.locator(f"#criterion-{c1} .offline-photo")).to_have_count(n)
        expect(page.locator(f"#criterion-{c1} .offline-photo").first).to_contain_text(
            "di 0.414000, 117.476000 (± 12 m)"
        )
        expect(page.locator(f"#state-score-{c1}")).to_have_text("tersimpan di ponsel")
        expect(page.locator(f"#state-check-{c1}")).to_have_text("tersimpan di ponsel")
        expect(page.locator(f"#state-score-{c2}")).to_have_text("tersimpan di ponsel")
        _fits(page)
        assert_accessible(page)
        page.screenshot(path=screenshots / f"{shot}-visit-offline.png", full_page=True)

        # another page with no signal: never a stale copy, the shell says it needs a signal
        page.goto("/judge/")
        expect(page.locator(".notice-warn").first).to_contain_text("Halaman ini memerlukan sinyal")
        expect(page.get_by_role("link", name=re.compile("K-001"))).to_have_count(2)
        _fits(page)
        assert_accessible(page)
        page.screenshot(path=screenshots / f"{shot}-list-offline.png", full_page=True)

        # the page closed and opened again, still offline: everything is there
        page.close()
        page = context.new_page()
        page.goto(f"/offline?sheet={sheet}")
        expect(page.locator(f"#value-{c1}")).to_have_value("8")
        expect(page.locator(f"#comment-{c1}")).to_have_value(
            "Papan informasi desa diperbarui tiap pekan."
        )
        expect(page.locator(f"input[name=mark-{c1}][value=partly]")).to_be_checked()
        expect(page.locator(".offline-status")).to_contain_text("Menunggu dikirim: 5.")
        expect(page.locator(f"#criterion-{c1} .offline-photo img")).to_have_count(2)
        assert [i["state"] for i in _queue(page)] == ["kept"] * 5

        # the KIM's representative confirms on the phone, still without a signal
        given = utcnow().replace(microsecond=0)
        _confirm_offline(page, keyboard=viewport == PHONE)
        expect(page.locator("#offline-confirm")).to_contain_text(
            "Dikonfirmasi di ponsel ini oleh Siti Aminah"
        )
        expect(page.locator("#state-confirm")).to_have_text("tersimpan di ponsel")
        expect(page.locator(".offline-status")).to_contain_text("Menunggu dikirim: 6.")
        _fits(page)
        assert_accessible(page)
        page.screenshot(path=screenshots / f"{shot}-confirm-kept.png", full_page=True)
        page.reload()  # kept on the phone, not only on the screen
        expect(page.locator("#state-confirm")).to_have_text("tersimpan di ponsel")
        assert [i["state"] for i in _queue(page)] == ["kept"] * 6

        # online again: each item sent and acknowledged
        _copy_queue(page)
        context.set_offline(False)
        page.get_by_role("button", name="Kirim sekarang").click()
        expect(page.locator(".offline-status")).to_contain_text(
            "Semua sudah terkirim.", timeout=20_000
        )
        expect(page.locator(f"#state-score-{c1}")).to_have_text("terkirim", timeout=20_000)
        expect(page.locator("#state-confirm")).to_have_text("terkirim")
        page.screenshot(path=screenshots / f"{shot}-visit-sent.png", full_page=True)
        confirmed = _confirmed(app, urls)
        assert confirmed[0] == "Siti Aminah" and confirmed[1] == (viewport != PHONE)
        assert given - timedelta(seconds=2) <= confirmed[2] <= utcnow()
        assert confirmed[3] == 1  # one confirmation recorded
        version, scores, checks, keys = _stored(app, sheet)
        assert {c: (str(v), comment) for c, (v, comment) in scores.items() if c in (c1, c2)} == {
            c1: ("8.00", "Papan informasi desa diperbarui tiap pekan."),
            c2: ("7.00", None),
        }
        assert checks[c1] == ("partly", "Arsip kegiatan ada, belum lengkap.")
        assert keys == 3
        photos = _photos(app, sheet)
        assert len(photos) == 2 and {p[0] for p in photos} == {c1}
        for _c, taken, lat, lon, accuracy, distance in photos:
            assert before - timedelta(seconds=2) <= taken <= utcnow()
            assert (str(lat), str(lon), accuracy) == ("0.414000", "117.476000", 12)
            assert 100 <= distance <= 150  # about 130 m from the visit's point
        expect(page.locator(f"#criterion-{c1} .offline-photo").first).to_contain_text(
            "dari lokasi KIM"
        )
        expect(page.locator(f"#criterion-{c1} .offline-photos > p").first).to_contain_text(
            "2 foto terkirim"
        )
        # online, the other pages come from the network again
        assert page.request.get("/judge/").ok
        # the same queue synced a second time: acknowledged, nothing twice
        _put_back_queue(page)
        page.get_by_role("button", name="Kirim sekarang").click()
        expect(page.locator(".offline-status")).to_contain_text(
            "Semua sudah terkirim.", timeout=20_000
        )
        assert _stored(app, sheet) == (version, scores, checks, keys)
        assert _photos(app, sheet) == photos
        assert _confirmed(app, urls) == confirmed
    finally:
        context.close()


def test_the_confirmation_page_opens_offline_and_a_refusal_is_shown(
    app, field_phone, demo_password, screenshots
):
    """With no signal the online confirmation page opens the stored visit at its
    confirmation; the co-judge confirmed first (online): the phone shows the server's
    refusal in Indonesian and nothing is stored twice."""
    urls = _a_visit(app)
    sheet = _sheet_id(urls)
    _visit_under_way(app, urls)
    context = field_phone(KAMPUNG)
    try:
        page = context.new_page()
        sign_in(page, ACCOUNTS[JUDGE], demo_password)
        _prepare(page, PHONE)
        page.goto(f"/offline?sheet={sheet}")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        context.set_offline(True)
        page.goto(urls["visit"] + "/confirm")
        expect(page.locator("#confirm-title")).to_be_focused()
        expect(page.locator(".notice-warn")).to_have_count(0)  # not "needs a signal"
        _confirm_offline(page, keyboard=True)
        expect(page.locator("#state-confirm")).to_have_text("tersimpan di ponsel")
        _confirm_online_meanwhile(app, urls)
        context.set_offline(False)
        page.get_by_role("button", name="Kirim sekarang").click()
        expect(page.locator("#offline-confirm .notice-bad")).to_have_text(
            "ditolak: Perwakilan KIM sudah mengonfirmasi visitasi ini.", timeout=20_000
        )
        expect(page.locator("#confirm-name")).to_have_value("Siti Aminah")
        _fits(page)
        assert_accessible(page)
        page.screenshot(path=screenshots / "offline-390-confirm-refused.png", full_page=True)
        name, _drawn, _when, recorded = _confirmed(app, urls)
        assert (name, recorded) == ("Budi Santoso", 0)  # the phone's was not stored
        # the KIM's home now says the visit took place and offers its Berita Acara
        kim = field_phone(KAMPUNG).new_page()
        sign_in(kim, ACCOUNTS[KIM], demo_password)
        kim.goto("/")
        task = kim.locator("article.task").filter(has_text="Visitasi lapangan sudah dilaksanakan")
        expect(task).to_contain_text("Budi Santoso")
        link = task.get_by_role("button", name="Unduh Berita Acara visitasi (PDF)")
        expect(link).to_have_attribute("href", urls["visit"] + "/berita-acara.pdf")
        _fits(kim)
        assert_accessible(kim)
        kim.screenshot(path=screenshots / "offline-390-kim-home-confirmed.png", full_page=True)
    finally:
        context.close()


def _confirm_online_meanwhile(app, urls) -> None:
    from monev.auth.models import User
    from monev.judging.models import Visit

    with app.app_context():
        visit = db.session.get(Visit, int(urls["visit"].rsplit("/", 1)[1]))
        judge = db.session.scalar(select(User).where(User.email == ACCOUNTS[JUDGE]))
        visit.representative_name = "Budi Santoso"
        visit.confirmed_at = visit.confirm_received_at = utcnow()
        visit.confirmed_by_id = judge.id
        db.session.commit()


def _visit_under_way(app, urls) -> None:
    """The planned visit started half an hour ago: its representative may confirm it."""
    from monev.judging.models import Visit

    with app.app_context():
        visit = db.session.get(Visit, int(urls["visit"].rsplit("/", 1)[1]))
        visit.starts_at = utcnow() - timedelta(minutes=30)
        db.session.commit()


def _confirmed(app, urls):
    """(name, drawn?, when, how many confirmations were recorded) of the planned visit."""
    from monev.audit.models import AuditEntry
    from monev.judging.models import Visit

    with app.app_context():
        visit = db.session.get(Visit, int(urls["visit"].rsplit("/", 1)[1]))
        recorded = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "visit.confirmed", AuditEntry.object_id == str(visit.id))
        )
        return (
            visit.representative_name,
            visit.representative_signature_key is not None,
            visit.confirmed_at,
            recorded,
        )


def _confirm_offline(page, *, keyboard: bool) -> None:
    """The representative's confirmation on the offline visit: by keyboard with the typed
    name (the phone), or with a signature drawn with the mouse (the desktop)."""
    confirm = page.locator("#offline-confirm")
    confirm.scroll_into_view_if_needed()
    # nothing typed: refused on the phone, with the online page's message
    confirm.get_by_role("button", name="Konfirmasi visitasi").click()
    expect(page.locator("#confirm-error")).to_have_text("Isi nama lengkap perwakilan.")
    expect(page.locator("#confirm-name")).to_be_focused()
    page.keyboard.type("Siti Aminah")
    if keyboard:
        page.keyboard.press("Tab")
        expect(confirm.get_by_role("button", name="Hapus tanda tangan")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.locator("#confirm-typed")).to_be_focused()
        page.keyboard.press("Space")
        expect(page.locator("#confirm-typed")).to_be_checked()
        page.keyboard.press("Tab")
        expect(page.locator("#confirm-submit")).to_be_focused()
        page.keyboard.press("Enter")
    else:
        confirm.get_by_role("button", name="Konfirmasi visitasi").click()
        expect(page.locator("#confirm-error")).to_contain_text("tanda tangan")
        box = confirm.locator("canvas").bounding_box()
        page.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.7)
        page.mouse.down()
        for step in range(1, 8):
            page.mouse.move(
                box["x"] + 30 + step * box["width"] / 9,
                box["y"] + box["height"] * (0.3 if step % 2 else 0.7),
            )
        page.mouse.up()
        confirm.get_by_role("button", name="Konfirmasi visitasi").click()


def test_a_change_made_online_meanwhile_is_shown_as_a_conflict(
    app, browser, live_server, demo_password, screenshots
):
    urls = _a_visit(app)
    sheet = _sheet_id(urls)
    c1 = _criteria(app, sheet)[0]
    context = browser.new_context(base_url=live_server, viewport=PHONE, locale="id-ID")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, ACCOUNTS[JUDGE], demo_password)
        _prepare(page, PHONE)
        page.goto(f"/offline?sheet={sheet}")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        context.set_offline(True)
        page.fill(f"#value-{c1}", "9")
        page.locator(f"#value-{c1}").blur()
        expect(page.locator(f"#state-score-{c1}")).to_have_text("tersimpan di ponsel")
        # meanwhile the same judge scores the same criterion online, on a laptop
        laptop = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="id-ID")
        try:
            online = laptop.new_page()
            sign_in(online, ACCOUNTS[JUDGE], demo_password)
            online.goto(urls["sheet"])
            online.fill(f"#value-{c1}", "4")
            expect(online.locator(f"#state-{c1}")).to_contain_text("Tersimpan")
        finally:
            laptop.close()
        context.set_offline(False)
        page.get_by_role("button", name="Kirim sekarang").click()
        expect(page.locator(f"#state-score-{c1}")).to_have_text("konflik")
        conflict = page.locator(".offline-conflict")
        expect(conflict).to_contain_text("Di server: 4")
        expect(conflict).to_contain_text("Di ponsel ini: 9")
        expect(page.locator(".offline-status")).to_contain_text(
            "Menunggu pilihan atau perbaikan Anda: 1."
        )
        assert _stored(app, sheet)[1][c1][0] == 4  # never overwritten silently
        assert_accessible(page)
        page.screenshot(path=screenshots / "offline-390-conflict.png", full_page=True)
        page.get_by_role("button", name="Pakai milik saya").click()
        expect(page.locator(f"#state-score-{c1}")).to_have_text("terkirim", timeout=20_000)
        assert _stored(app, sheet)[1][c1][0] == 9
    finally:
        context.close()


def _tamper(page, **data) -> None:
    """Change the stamp of every photo waiting on the phone (a wrong clock, a forged place)."""
    page.evaluate(
        """(data) => new Promise((resolve, reject) => {
            const open = indexedDB.open("monev-offline", 1);
            open.onsuccess = () => {
                const t = open.result.transaction(["queue"], "readwrite");
                const store = t.objectStore("queue");
                const all = store.getAll();
                all.onsuccess = () => all.result.forEach((i) => {
                    if (i.kind === "photo" && i.state === "kept") {
                        Object.assign(i.data, data); store.put(i);
                    }
                });
                t.oncomplete = () => resolve();
                t.onerror = () => reject(t.error);
            };
        })""",
        data,
    )


@pytest.mark.parametrize(
    ("stamp", "message"),
    [
        ({"taken_at": "2099-01-01T10:00:00+08:00"}, "di masa depan"),
        ({"latitude": "95.000000"}, "Lintang"),
    ],
    ids=["future", "out-of-range"],
)
def test_a_tampered_stamp_is_refused_and_kept_on_the_phone(
    app, field_phone, demo_password, stamp, message
):
    urls = _a_visit(app)
    sheet = _sheet_id(urls)
    c1 = _criteria(app, sheet)[0]
    context = field_phone(KAMPUNG)
    try:
        page = context.new_page()
        sign_in(page, ACCOUNTS[JUDGE], demo_password)
        _prepare(page, PHONE)
        page.goto(f"/offline?sheet={sheet}")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        context.set_offline(True)
        page.set_input_files(f"#photo-{c1}", [_jpeg("olive")])
        expect(page.locator(f"#criterion-{c1} .offline-photo")).to_have_count(1)
        _tamper(page, **stamp)
        context.set_offline(False)
        page.get_by_role("button", name="Kirim sekarang").click()
        state = page.locator(f"#criterion-{c1} .offline-photo .offline-state")
        expect(state).to_contain_text("ditolak: ")
        expect(state).to_contain_text(message)
        assert [(i["kind"], i["state"]) for i in _queue(page)] == [("photo", "refused")]
        assert _photos(app, sheet) == []
        # still on the phone after a reload, with its message, until the judge removes it
        page.reload()
        expect(page.locator(f"#criterion-{c1} .offline-photo .offline-state")).to_contain_text(
            message
        )
        assert_accessible(page)
        page.get_by_role("button", name="Hapus dari ponsel ini").click()
        expect(page.get_by_role("alert")).to_contain_text("hilang untuk selamanya")
        page.get_by_role("button", name="Batal").click()
        expect(page.locator(f"#criterion-{c1} .offline-photo")).to_have_count(1)
        page.get_by_role("button", name="Hapus dari ponsel ini").click()
        page.get_by_role("button", name="Hapus foto untuk selamanya").click()
        expect(page.locator(f"#criterion-{c1} .offline-photo")).to_have_count(0)
    finally:
        context.close()


def test_signed_out_the_phone_says_so_and_keeps_the_queue(app, browser, live_server, demo_password):
    urls = _a_visit(app)
    sheet = _sheet_id(urls)
    c1 = _criteria(app, sheet)[0]
    context = browser.new_context(base_url=live_server, viewport=PHONE, locale="id-ID")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, ACCOUNTS[JUDGE], demo_password)
        _prepare(page, PHONE)
        page.goto(f"/offline?sheet={sheet}")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        context.set_offline(True)
        page.fill(f"#value-{c1}", "6")
        page.locator(f"#value-{c1}").blur()
        expect(page.locator(f"#state-score-{c1}")).to_have_text("tersimpan di ponsel")
        context.clear_cookies()  # the session ended meanwhile
        context.set_offline(False)
        page.get_by_role("button", name="Kirim sekarang").click()
        expect(page.locator(".offline-status")).to_contain_text("Anda sudah keluar")
        assert [i["state"] for i in _queue(page)] == ["kept"]
        # signed in again: sent
        other = context.new_page()
        sign_in(other, ACCOUNTS[JUDGE], demo_password)
        other.close()
        page.get_by_role("button", name="Kirim sekarang").click()
        expect(page.locator(f"#state-score-{c1}")).to_have_text("terkirim", timeout=20_000)
        assert _stored(app, sheet)[1][c1][0] == 6
    finally:
        context.close()


def test_a_shared_phone_removes_the_stored_visits_asking_once_more(
    app, browser, live_server, demo_password, screenshots
):
    _a_visit(app)
    context = browser.new_context(base_url=live_server, viewport=PHONE, locale="id-ID")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, ACCOUNTS[JUDGE], demo_password)
        _prepare(page, PHONE)
        remove = page.get_by_role("button", name="Hapus kunjungan yang tersimpan dari ponsel ini")
        remove.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("akan dihapus dari ponsel ini")
        page.get_by_role("button", name="Batal").click()  # nothing removed
        expect(remove).to_be_focused()
        page.reload()
        expect(page.locator("#offline-stored")).to_contain_text("Tersimpan di ponsel")

        # one change not sent yet: the question says it is lost with the visits
        page.evaluate(
            """() => new Promise((resolve, reject) => {
                const open = indexedDB.open("monev-offline", 1);
                open.onsuccess = () => {
                    const t = open.result.transaction(["queue"], "readwrite");
                    t.objectStore("queue").add({kind: "score", state: "kept", key: "k-unsent-1"});
                    t.oncomplete = () => resolve();
                    t.onerror = () => reject(t.error);
                };
            })"""
        )
        remove.click()
        expect(page.get_by_role("alert")).to_contain_text(
            "1 perubahan di ponsel ini belum terkirim"
        )
        assert_accessible(page)
        _fits(page)
        page.screenshot(path=screenshots / "offline-clear-phone.png", full_page=True)
        page.get_by_role("button", name="Hapus dari ponsel ini untuk selamanya").click()
        expect(page.locator("#offline-stored")).to_contain_text("Tidak ada lagi data kunjungan")
        assert _queue(page) == []
        page.reload()
        expect(page.locator("#offline-stored")).to_contain_text("Belum ada yang tersimpan")
        page.goto("/offline")
        expect(page.locator("#offline-app")).to_contain_text("Belum ada yang tersimpan")
    finally:
        context.close()
