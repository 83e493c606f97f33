"""Selection between stages: the rule per category, the provisional list, its confirmation,
what the next stage may assign, and how the results list the entries left out."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select

from monev.audit.models import AuditEntry
from monev.entries.models import Entry
from monev.events.models import Event, Stage, StageSelection
from monev.extensions import db
from monev.judging.models import Assignment, EventJudge, PanelMember, ScoreSheet
from monev.notify.models import Notification
from tests import results_factory
from tests.conftest import count_queries, post, sign_in, t

# Administrasi values per entry (every judge, every criterion): totals 100, 88.9, 77.8,
# 77.8 and 44.4 over Administrasi alone; K-003 and K-004 tie and the tie-break rule
# ("stage:pres") cannot separate them before Presentasi.
ADM = [Decimal(10), Decimal(9), Decimal(8), Decimal(8), Decimal(5)]


@dataclass(frozen=True)
class Built:
    slug: str
    event_id: int
    adm: int
    pres: int
    category: int
    entries: list[int]  # K-001 ... K-005
    judges: list[int]


def _build(app, slug: str = "uji-seleksi", entries: int = 5) -> Built:
    """Judged entries of one category: Administrasi final for all, Presentasi not assigned
    yet; three judges on the event's panel; the event in Judging."""
    judged = results_factory.build(
        app,
        slug=slug,
        entries=entries,
        judges=3,
        status="judging",
        value=lambda n, j, i: ADM[n % len(ADM)] if i < 2 else Decimal(7),
    )
    with app.app_context():
        event = db.session.get(Event, judged.event_id)
        stages = {s.key: s.id for s in event.stages}
        db.session.execute(delete(Assignment).where(Assignment.stage_id == stages["pres"]))
        for n, stage in enumerate(event.stages):
            stage.opens_at = datetime(2024, 6 + n, 1, 0, 0)
            stage.closes_at = datetime(2024, 6 + n, 20, 0, 0)
            for judge_id in judged.judge_ids:
                db.session.add(PanelMember(stage_id=stage.id, judge_id=judge_id))
        for judge_id in judged.judge_ids:
            db.session.add(EventJudge(event_id=event.id, user_id=judge_id))
        category = event.categories[0].id
        db.session.commit()
    return Built(
        judged.slug,
        judged.event_id,
        stages["adm"],
        stages["pres"],
        category,
        judged.entry_ids,
        judged.judge_ids,
    )


@pytest.fixture
def built(app) -> Built:
    return _build(app)


@pytest.fixture
def admin(client, make_user, built):
    sign_in(client, make_user("admin").email)
    return client


def _url(b: Built, tail: str = "") -> str:
    return f"/admin/events/{b.slug}/stages/{b.adm}/selection{tail}"


def _rule(client, b: Built, **fields):
    data = {f"c{b.category}-{k}": v for k, v in fields.items()}
    return post(client, _url(b, f"/{b.category}"), data)


def _standings(app, b: Built) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Entry.standing).where(Entry.event_id == b.event_id).order_by(Entry.code)
            )
        )


def _selection(app, b: Built) -> StageSelection | None:
    with app.app_context():
        row = db.session.scalar(select(StageSelection).where(StageSelection.stage_id == b.adm))
        if row is not None:
            db.session.expunge(row)
        return row


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _confirm(client, b: Built, **fields):
    return post(client, _url(b, "/confirm"), fields)


# --- the rule and the provisional list ----------------------------------------------------


def test_top_n_with_a_tie_at_the_cut_advances_both_and_the_list_says_so(app, admin, built):
    response = _rule(admin, built, kind="top_n", count="3")
    assert response.status_code == 303

    page = _text(admin.get(_url(built)))
    assert "Seri di batas: 4 entri lolos untuk 3 tempat" in page
    assert "Peringkat 3 dari 5, seri di batas: 4 entri lolos untuk 3 tempat." in page
    assert "Peringkat 5 dari 5: di luar 3 teratas." in page
    assert "Peringkat 1 dari 5: masuk 3 teratas." in page
    assert "4 entri akan lolos ke Pres, 1 tidak." in page
    # Provisional: nothing has changed yet.
    assert _standings(app, built) == ["active"] * 5
    assert _selection(app, built).confirmed_at is None
    [logged] = _audit(app, "stage.selection_rule_set")
    assert logged.changes["kind"] == "top_n" and logged.changes["count"] == 3


def test_pass_mark_selects_by_the_total_so_far(app, admin, built):
    assert _rule(admin, built, kind="pass_mark", min_score="60").status_code == 303
    page = _text(admin.get(_url(built)))
    assert "Setiap entri dengan total minimal 60 lolos." in page
    assert "Peringkat 5 dari 5: di bawah nilai batas 60." in page
    assert page.count("mencapai nilai batas 60") == 4


def test_the_ranking_rescales_the_stages_so_far_to_100(app, built):
    """Administrasi weighs 40 %: alone, its totals are on the 0–100 scale (K-001: 100)."""
    from monev.lifecycle import selection

    with app.app_context():
        stage = db.session.get(Stage, built.adm)
        db.session.add(
            StageSelection(stage_id=stage.id, category_id=built.category, kind="top_n", count=2)
        )
        db.session.flush()
        listed = selection.provisional(stage)
        totals = [r.total for r in listed.categories[0].rows]
        db.session.rollback()
    assert totals == [100.0, 88.8889, 77.7778, 77.7778, 44.4444]


def test_a_jury_choice_needs_its_reason_and_bad_input_changes_nothing(app, admin, built):
    chosen = [str(built.entries[0]), str(built.entries[4])]
    refused = _rule(admin, built, kind="jury", chosen=chosen, reason="  ")
    assert refused.status_code == 422
    assert "Catat alasan juri: disimpan bersama keputusannya." in _text(refused)
    assert _selection(app, built) is None

    for fields, message in [
        ({"kind": "top_n", "count": "abc"}, t(app, "Not a valid integer value.")),
        ({"kind": "top_n", "count": "0"}, "bilangan bulat, minimal 1"),
        ({"kind": "pass_mark", "min_score": "150"}, "Nilai batas adalah angka 0 sampai 100."),
        ({"kind": "pass_mark", "min_score": "60.555"}, "paling banyak dua desimal"),
        ({"kind": "jury", "chosen": ["999999"], "reason": "x"}, "Pilih hanya entri kategori"),
        ({"kind": "jury", "chosen": ["abc"], "reason": "x"}, "Pilih hanya entri kategori"),
        ({"kind": "jury", "chosen": chosen, "reason": "x" * 2001}, "2000"),
        ({"kind": "lottery"}, "Pilih cara entri lolos."),
    ]:
        response = _rule(admin, built, **fields)
        assert response.status_code == 422, fields
        assert message in _text(response), fields
    assert _selection(app, built) is None
    assert _audit(app, "stage.selection_rule_set") == []

    accepted = _rule(
        admin, built, kind="jury", chosen=chosen, reason="Inovasi layanan informasi desa."
    )
    assert accepted.status_code == 303
    page = _text(admin.get(_url(built)))
    assert "Juri memilih 2 entri." in page
    assert "Peringkat 5 dari 5: dipilih juri." in page
    assert "Peringkat 2 dari 5: tidak dipilih juri." in page


def test_a_rule_on_the_last_stage_or_of_another_event_is_refused(app, admin, built):
    last = post(
        admin,
        f"/admin/events/{built.slug}/stages/{built.pres}/selection/{built.category}",
        {f"c{built.category}-kind": "top_n", f"c{built.category}-count": "2"},
    )
    assert last.status_code == 409
    assert "Pres adalah tahap terakhir" in _text(last)
    assert post(admin, _url(built, "/999999"), {}).status_code == 404


# --- confirmation -------------------------------------------------------------------------


def test_confirmation_is_refused_without_the_checkbox(app, admin, built):
    _rule(admin, built, kind="top_n", count="3")
    page = _text(admin.get(_url(built, "/confirm")))
    assert "4 entri lolos ke Pres, 1 tidak lolos." in page
    assert "KIM Desa: 4 lolos, 1 tidak lolos. 3 entri teratas lolos." in page

    refused = _confirm(admin, built)
    assert refused.status_code == 422
    assert t(app, "Confirm that you have read what this will do.") in refused.get_data(as_text=True)
    assert _standings(app, built) == ["active"] * 5
    assert _selection(app, built).confirmed_at is None


def test_confirmation_freezes_the_list_and_marks_the_others_not_selected(app, admin, built):
    _rule(admin, built, kind="top_n", count="3")
    confirmed = _confirm(admin, built, confirm="y")
    assert confirmed.status_code == 303, _text(confirmed)[-2000:]

    assert _standings(app, built) == ["active"] * 4 + ["not_selected"]
    row = _selection(app, built)
    assert row.confirmed_at is not None
    assert [d["advances"] for d in row.decisions] == [True, True, True, True, False]
    assert row.decisions[2]["why"] == "tie_at_cut"
    [logged] = _audit(app, "stage.selection_confirmed")
    assert logged.changes["advancing"] == 4 and logged.changes["not_selected"] == 1
    assert logged.changes["not_selected_entries"] == ["K-005"]
    changed = _audit(app, "entry.standing_changed")
    assert [c.changes["standing"] for c in changed] == [["active", "not_selected"]]

    page = _text(admin.get(_url(built)))
    assert "Dikonfirmasi pada" in page
    assert "Seri di batas: 4 entri lolos untuk 3 tempat" in page
    # A second confirmation and a rule change are refused.
    assert _confirm(admin, built, confirm="y").status_code == 409
    again = _rule(admin, built, kind="top_n", count="1")
    assert again.status_code == 409
    assert "sudah dikonfirmasi" in _text(again)


def test_confirmation_waits_for_every_sheet_of_the_stage(app, admin, built):
    _rule(admin, built, kind="top_n", count="3")
    with app.app_context():
        sheet = db.session.scalar(
            select(ScoreSheet)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .where(Assignment.stage_id == built.adm)
            .limit(1)
        )
        sheet.status = "draft"
        db.session.commit()
    page = _text(admin.get(_url(built)))
    assert "1 dari 15 lembar nilai Adm belum final." in page
    refused = _confirm(admin, built, confirm="y")
    assert refused.status_code == 409
    assert "1 dari 15 lembar nilai Adm belum final." in _text(refused)
    assert _standings(app, built) == ["active"] * 5


def test_undo_restores_the_standings_until_a_later_sheet_exists(app, admin, built):
    _rule(admin, built, kind="top_n", count="3")
    _confirm(admin, built, confirm="y")
    no_reason = post(admin, _url(built, "/undo"), {"note": ""})
    assert no_reason.status_code == 422
    assert _standings(app, built)[-1] == "not_selected"

    undone = post(admin, _url(built, "/undo"), {"note": "Salah aturan: seharusnya 4 besar."})
    assert undone.status_code == 303
    assert _standings(app, built) == ["active"] * 5
    assert _selection(app, built).confirmed_at is None
    [logged] = _audit(app, "stage.selection_undone")
    assert logged.changes["restored"] == ["K-005"]

    # Confirmed again, a judge opens a sheet in Presentasi: the selection stays.
    _confirm(admin, built, confirm="y")
    with app.app_context():
        a = Assignment(stage_id=built.pres, entry_id=built.entries[0], judge_id=built.judges[0])
        db.session.add(a)
        db.session.flush()
        db.session.add(ScoreSheet(assignment_id=a.id, status="draft"))
        db.session.commit()
    refused = post(admin, _url(built, "/undo"), {"note": "Coba lagi."})
    assert refused.status_code == 409
    assert "juri sudah mulai menilai" in _text(refused)
    assert _standings(app, built)[-1] == "not_selected"


# --- the next stage -----------------------------------------------------------------------


def _assign(client, b: Built, entry_id: int, judge_id: int):
    return post(
        client,
        f"/admin/events/{b.slug}/judging/stages/{b.pres}/assignments",
        {"entry_id": str(entry_id), "judge_id": str(judge_id)},
    )


def _pres_pairs(app, b: Built) -> set:
    with app.app_context():
        return set(
            db.session.execute(
                select(Assignment.entry_id, Assignment.judge_id).where(
                    Assignment.stage_id == b.pres
                )
            ).all()
        )


def test_the_next_stage_waits_for_the_confirmation(app, admin, built):
    _rule(admin, built, kind="top_n", count="3")
    waiting = _assign(admin, built, built.entries[0], built.judges[0])
    assert waiting.status_code == 409
    assert "Belum ada yang dapat ditugaskan di Pres: seleksi sesudah Adm" in _text(waiting)

    auto_url = f"/admin/events/{built.slug}/judging/stages/{built.pres}/auto"
    assert "Belum ada yang dapat ditugaskan di Pres" in _text(admin.get(auto_url))
    planned = post(admin, auto_url, {"fingerprint": "anything"})
    assert planned.status_code == 409
    assert _pres_pairs(app, built) == set()


def test_after_confirmation_only_advancing_entries_are_assigned(app, admin, built):
    _rule(admin, built, kind="top_n", count="3")
    _confirm(admin, built, confirm="y")
    left_out = built.entries[4]

    forged = _assign(admin, built, left_out, built.judges[0])
    assert forged.status_code == 422  # not among the entries the form offers
    assert (left_out, built.judges[0]) not in _pres_pairs(app, built)
    assert _assign(admin, built, built.entries[0], built.judges[0]).status_code == 302

    auto_url = f"/admin/events/{built.slug}/judging/stages/{built.pres}/auto"
    page = _text(admin.get(auto_url))
    fingerprint = page.split('name="fingerprint" value="')[1].split('"')[0]
    applied = post(admin, auto_url, {"fingerprint": fingerprint})
    assert applied.status_code == 302
    pairs = _pres_pairs(app, built)
    assert {e for e, _j in pairs} == set(built.entries[:4])
    assert len(pairs) == 4 * 3


def test_moving_to_results_waits_for_the_selection_and_the_next_stage(app, admin, built):
    _rule(admin, built, kind="top_n", count="3")
    page = _text(admin.get(f"/admin/events/{built.slug}/phase/results"))
    assert "Seleksi sesudah Adm belum dikonfirmasi" in page
    assert f'href="/admin/events/{built.slug}/stages/{built.adm}/selection"' in page
    refused = post(admin, f"/admin/events/{built.slug}/phase/results", {"confirm": "y"})
    assert refused.status_code == 409

    _confirm(admin, built, confirm="y")
    page = _text(admin.get(f"/admin/events/{built.slug}/phase/results"))
    assert "Seleksi sesudah Adm belum dikonfirmasi" not in page
    assert "Tahap Pres: 4 dari 4 entri belum mendapat 3 juri." in page


# --- results ------------------------------------------------------------------------------


def _judge_presentasi(app, b: Built) -> None:
    """Final Presentasi sheets for the four entries that advanced (value 7 everywhere)."""
    from monev.judging.models import Score
    from monev.rubrics.models import Criterion

    with app.app_context():
        criteria = db.session.scalars(select(Criterion.id).where(Criterion.stage_id == b.pres))
        criteria = list(criteria)
        for entry_id in b.entries[:4]:
            for judge_id in b.judges:
                a = Assignment(stage_id=b.pres, entry_id=entry_id, judge_id=judge_id)
                db.session.add(a)
                db.session.flush()
                sheet = ScoreSheet(assignment_id=a.id, status="final")
                db.session.add(sheet)
                db.session.flush()
                for c in criteria:
                    db.session.add(Score(sheet_id=sheet.id, criterion_id=c, value=Decimal(7)))
        db.session.commit()


def test_results_list_the_entries_left_out_after_the_finalists(app, admin, built):
    _rule(admin, built, kind="top_n", count="3")
    _confirm(admin, built, confirm="y")
    _judge_presentasi(app, built)

    page = _text(admin.get(f"/admin/events/{built.slug}/results/"))
    assert "Tidak lolos ke tahap Pres" in page
    table = page.split('id="category-desa"')[1].split("</table>")[0]
    codes = [line.split("</code>")[0][-5:] for line in table.split("<code>")[1:]]
    assert codes == ["K-001", "K-002", "K-003", "K-004", "K-005"]
    assert table.split("K-005")[1].count("badge-award") == 0

    assert (
        post(admin, f"/admin/events/{built.slug}/phase/results", {"confirm": "y"}).status_code
        == 303
    )
    results_factory.acknowledge_all(app, built.slug)  # publishing needs every check read
    published = post(admin, f"/admin/events/{built.slug}/results/publish", {"confirm": "y"})
    assert published.status_code == 302
    public = _text(app.test_client().get(f"/events/{built.slug}/results"))
    assert "Tidak lolos ke tahap Pres" in public
    api = app.test_client().get(f"/api/v1/events/{built.slug}/results").get_json()
    last = api["categories"][0]["entries"][-1]
    assert (last["code"], last["rank"], last["award"]) == ("K-005", None, None)
    with app.app_context():
        from monev.certificates.recipients import winner_subjects

        winners = winner_subjects(db.session.get(Event, built.event_id))
    assert built.entries[4] not in {w.entry_id for w in winners}
    assert len(winners) == 4


def test_a_snapshot_without_a_selection_keeps_its_format(app, built):
    """Events without a selection publish exactly what they published before."""
    from monev.results.computing import compute
    from monev.results.snapshot import build_snapshot

    with app.app_context():
        snapshot = build_snapshot(compute(db.session.get(Event, built.event_id)))
    rows = snapshot["categories"][0]["entries"]
    assert all("not_selected" not in r for r in rows)
    assert set(rows[0]) == {
        "code",
        "kim",
        "district_code",
        "district",
        "village",
        "rank",
        "shared",
        "award",
        "band",
        "total",
        "incomplete",
        "stages",
    }


def test_the_kim_sees_it_did_not_advance(app, admin, built, make_user):
    with app.app_context():
        kim_ids = [db.session.get(Entry, e).kim_id for e in built.entries]
    kims = [make_user("kim", kim=SimpleNamespace(id=k)) for k in kim_ids]
    _rule(admin, built, kind="top_n", count="3")
    _confirm(admin, built, confirm="y")
    with app.app_context():
        told = dict(
            db.session.execute(select(Notification.user_id, Notification.kind)).tuples().all()
        )
    assert [told.get(k.id) for k in kims] == ["stage_selected"] * 4 + ["stage_not_selected"]
    kim = kims[4]
    client = app.test_client()
    sign_in(client, kim.email)
    home = _text(client.get("/"))
    assert "Tidak lolos ke tahap Pres." in home
    workspace = _text(client.get(f"/entry/{built.slug}"))
    notice = workspace.split('class="notice notice-warn" role="note">')[1].split("</div>")[0]
    assert "Status keikutsertaan Anda: Tidak lolos." in notice
    assert "Tidak lolos ke tahap Pres." in notice
    assert "Nilai dari tahap yang sudah diikuti entri Anda tetap dihitung" in workspace


def test_past_judging_the_selection_no_longer_changes(app, admin, built):
    with app.app_context():
        db.session.get(Event, built.event_id).status = "results"
        db.session.commit()
    refused = _rule(admin, built, kind="top_n", count="3")
    assert refused.status_code == 409
    assert "seleksi antartahap tidak dapat diubah lagi" in _text(refused)
    assert _selection(app, built) is None


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "judge", "kim", None])
def test_only_the_organiser_reaches_the_selection(app, built, make_user, role):
    client = app.test_client()
    if role:
        sign_in(client, make_user(role).email)
    for method, tail in [
        ("get", ""),
        ("post", f"/{built.category}"),
        ("get", "/confirm"),
        ("post", "/confirm"),
        ("post", "/undo"),
    ]:
        url = _url(built, tail)
        response = client.get(url) if method == "get" else post(client, url, {"confirm": "y"})
        if role is None:
            assert response.status_code == 302 and "/login" in response.location, url
        else:
            assert response.status_code == 403, (role, url)
    assert _selection(app, built) is None


def test_the_selection_page_reads_with_a_fixed_number_of_queries(app, client, make_user):
    sign_in(client, make_user("admin").email)
    counts = []
    for slug, n in (("uji-seleksi-kecil", 3), ("uji-seleksi-besar", 9)):
        b = _build(app, slug, n)
        _rule(client, b, kind="top_n", count="2")
        client.get(_url(b))
        with app.app_context(), count_queries(db.engine) as statements:
            assert client.get(_url(b)).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_a_sheet_of_an_entry_left_out_cannot_be_reopened(app, admin, built):
    """Its draft could never be saved again (the entry is no longer judged) and would block
    the results: the sheet stays as it was finalised."""
    from monev.judging.models import ScoreSheet

    _rule(admin, built, kind="top_n", count="3")
    assert _confirm(admin, built, confirm="y").status_code == 303
    with app.app_context():
        sheet_id = db.session.scalar(
            select(ScoreSheet.id)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .where(Assignment.entry_id == built.entries[-1], Assignment.stage_id == built.adm)
            .limit(1)
        )
    url = f"/admin/events/{built.slug}/judging/sheets/{sheet_id}"
    refused = post(admin, url, {"reason": "Salah ketik"})
    assert refused.status_code == 409
    assert "Tidak lolos" in _text(refused)
    with app.app_context():
        assert db.session.get(ScoreSheet, sheet_id).status == "final"
