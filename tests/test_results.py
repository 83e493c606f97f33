"""Results: the admin page (ranking, breakdowns, fairness), the entry drill-down, the CLI,
publication as frozen versions with corrections, and the public page from the snapshot."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from monev.events.models import Event
from monev.extensions import db
from monev.judging import versions
from monev.judging.models import Assignment, Score, ScoreSheet
from monev.results.computing import cache as results_cache
from monev.results.models import PublishedResult
from monev.rubrics.models import Criterion
from tests import results_factory
from tests.conftest import count_queries, login, post, t

ADMIN_URL = "/admin/events/{slug}/results/"
PUBLIC_URL = "/events/{slug}/results"


def admin_page(client, slug: str) -> str:
    response = client.get(ADMIN_URL.format(slug=slug))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def main_of(response) -> str:
    """The page's <main> (what a visitor reads; outside it are per-request CSRF tokens)."""
    html = response.get_data(as_text=True)
    return html[html.index("<main") : html.index("</main>")]


def publish(client, slug: str, reason: str = ""):
    """Publish through the confirmation step, every fairness check acknowledged first."""
    results_factory.acknowledge_all(client.application, slug)
    url = ADMIN_URL.format(slug=slug)
    return post(client, url + "publish", {"reason": reason, "confirm": "y"})


def set_score(app, event_id: int, entry_code: str, criterion: str, value: str) -> None:
    """Change one score of every judge of an entry, as a reopened-and-fixed sheet would."""
    from monev.entries.models import Entry

    with app.app_context():
        sheet_ids = (
            select(ScoreSheet.id)
            .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
            .join(Entry, Entry.id == Assignment.entry_id)
            .where(Entry.event_id == event_id, Entry.code == entry_code)
        )
        criterion_id = db.session.scalar(
            select(Criterion.id).where(Criterion.event_id == event_id, Criterion.key == criterion)
        )
        db.session.execute(
            update(Score)
            .where(Score.sheet_id.in_(sheet_ids), Score.criterion_id == criterion_id)
            .values(value=Decimal(value))
        )
        versions.bump(event_id)  # as every service that writes a sheet does
        db.session.commit()


# --- the admin page -----------------------------------------------------------------------


def test_admin_sees_ranking_breakdown_judges_and_fairness(app, client, login_as):
    ev = results_factory.build(app, entries=4, judges=3, comment="Bukti lengkap.")
    login_as("admin")

    page = admin_page(client, ev.slug)

    for n in range(1, 5):
        assert f"KIM Hasil {ev.slug} {n}" in page
    assert "Juri Uji 0" in page and "Juri Uji 2" in page  # judges' sheet totals
    assert "Aspek pres" in page  # per-aspect breakdown
    assert 'id="fairness"' in page and "ICC(2,1)" in page
    assert page.count('<svg class="chart"') == 1 + 2  # one spread chart, a histogram per stage
    assert "style=" not in page  # the CSP forbids inline style attributes
    assert t(app, "Not published: only organisers can see these results.") in page


def test_every_entry_scored_by_one_full_panel_gets_all_six_iccs(app):
    from monev.events import queries as event_queries
    from monev.results import services

    ev = results_factory.build(app, entries=5, judges=3)
    with app.app_context():
        computed = services.compute(event_queries.get_by_slug(ev.slug))
        snapshot = services.build_snapshot(computed)
    for stage in snapshot["stages"]:
        agreement = stage["agreement"]
        assert sorted(agreement) == sorted(
            ["icc1", "icc2", "icc3", "icc1k", "icc2k", "icc3k", "krippendorff_alpha"]
        )
        assert all(isinstance(v, float) for v in agreement.values()), agreement


def test_results_page_query_count_does_not_grow_with_entries(app, client, login_as):
    small = results_factory.build(app, slug="uji-satu", entries=1, judges=2)
    large = results_factory.build(app, slug="uji-banyak", entries=9, judges=4, categories=2)
    login_as("admin")
    admin_page(client, small.slug)  # warm up: session, user

    counts = {}
    for ev in (small, large):
        results_cache.clear()  # the page computes (a second view would read the cache)
        with app.app_context(), count_queries(db.engine) as statements:
            admin_page(client, ev.slug)
        counts[ev.slug] = len(statements)

    assert counts["uji-satu"] == counts["uji-banyak"], counts
    for path in ("entries/{entry}", "recap.xlsx", "scores.csv"):
        per_event = []
        for ev in (small, large):
            url = ADMIN_URL.format(slug=ev.slug) + path.format(entry=ev.entry_ids[0])
            results_cache.clear()
            with app.app_context(), count_queries(db.engine) as statements:
                assert client.get(url).status_code == 200
            per_event.append(len(statements))
        assert per_event[0] == per_event[1], (path, per_event)


def test_entry_drill_down_shows_every_judge_sheet_with_comments(app, client, login_as):
    ev = results_factory.build(app, entries=2, judges=3, comment="Perlu bukti foto.")
    login_as("admin")

    page = client.get(ADMIN_URL.format(slug=ev.slug) + f"entries/{ev.entry_ids[0]}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("Perlu bukti foto.") == 3 * 4  # 3 judges × 4 criteria
    assert all(f"Juri Uji {j}" in html for j in range(3))
    other_event = results_factory.build(app, slug="uji-lain", entries=1)
    url = ADMIN_URL.format(slug=ev.slug) + f"entries/{other_event.entry_ids[0]}"
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("role", ["judge", "operator", "kim"])
def test_only_admins_see_unpublished_results(app, client, login_as, role):
    ev = results_factory.build(app, entries=2)
    login_as(role)

    assert client.get(ADMIN_URL.format(slug=ev.slug)).status_code == 403
    assert client.get(ADMIN_URL.format(slug=ev.slug) + "scores.csv").status_code == 403
    assert client.get(PUBLIC_URL.format(slug=ev.slug)).status_code == 404
    assert client.get(f"/api/v1/events/{ev.slug}/results").status_code == 404


def test_anonymous_visitors_do_not_see_unpublished_results(app, client):
    ev = results_factory.build(app, entries=2)

    assert client.get(ADMIN_URL.format(slug=ev.slug)).headers["Location"].startswith("/login")
    assert client.get(PUBLIC_URL.format(slug=ev.slug)).status_code == 404
    assert client.get("/api/v1/events").get_json() == {"events": []}


def test_unscorable_event_explains_why(app, client, login_as):
    login_as("admin")
    with app.app_context():
        db.session.add(
            Event(slug="kosong", title="Kosong", year=2025, organiser="X", status="judging")
        )
        db.session.commit()

    page = admin_page(client, "kosong")

    assert t(app, "The event has no stages yet.") in page


# --- publication --------------------------------------------------------------------------


def test_publish_freezes_results_and_later_score_changes_do_not_alter_them(app, client, login_as):
    ev = results_factory.build(app, entries=4, judges=3)
    login_as("admin")
    response = publish(client, ev.slug)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Event, ev.event_id).status == "published"
    visitor = app.test_client()
    public = main_of(visitor.get(PUBLIC_URL.format(slug=ev.slug)))
    api = visitor.get(f"/api/v1/events/{ev.slug}/results").get_json()
    entry = next(e for e in api["categories"][0]["entries"] if e["code"] == "K-004")

    set_score(app, ev.event_id, "K-004", "p1", "10")  # after publication

    assert main_of(visitor.get(PUBLIC_URL.format(slug=ev.slug))) == public
    assert visitor.get(f"/api/v1/events/{ev.slug}/results").get_json() == api
    page = admin_page(client, ev.slug)
    assert t(app, "The live results differ from the published version %(v)d:", v=1) in page
    # A correction needs a reason …
    refused = publish(client, ev.slug)
    assert refused.status_code == 422
    assert t(
        app, "A correction (ralat) needs a reason: say what was wrong and what changed."
    ) in refused.get_data(as_text=True)
    # … and keeps the first version.
    assert publish(client, ev.slug, "Salah input nilai K-004 kriteria p1.").status_code == 302
    corrected = client.get(f"/api/v1/events/{ev.slug}/results").get_json()
    assert corrected["version"] == 2
    assert corrected["reason"] == "Salah input nilai K-004 kriteria p1."
    assert corrected["digest"] != api["digest"]
    new_entry = next(e for e in corrected["categories"][0]["entries"] if e["code"] == "K-004")
    assert new_entry["total"] > entry["total"]
    assert [v["version"] for v in corrected["versions"]] == [2, 1]
    old = client.get(f"/api/v1/events/{ev.slug}/results?version=1").get_json()
    assert old["categories"] == api["categories"]
    public_v2 = client.get(PUBLIC_URL.format(slug=ev.slug)).get_data(as_text=True)
    assert "Salah input nilai K-004 kriteria p1." in public_v2
    assert t(app, "Correction (ralat)") in public_v2
    v1 = client.get(PUBLIC_URL.format(slug=ev.slug) + "/versions/1").get_data(as_text=True)
    assert t(app, "This is an earlier version, replaced by version %(v)d.", v=2) in v1
    # Publishing the same results again is refused.
    again = publish(client, ev.slug, "Sekali lagi.")
    assert again.status_code == 409
    with app.app_context():
        actions = list(db.session.scalars(text("SELECT action FROM audit_log ORDER BY seq")).all())
    assert actions.count("results.published") == 2
    assert "event.status_changed" in actions


def test_published_versions_cannot_be_changed_in_the_database(app, client, login_as):
    ev = results_factory.build(app, entries=2)
    login_as("admin")
    publish(client, ev.slug)

    with app.app_context():
        with pytest.raises(Exception, match="never changed"):
            db.session.execute(update(PublishedResult).values(reason="diubah diam-diam"))
            db.session.flush()
        db.session.rollback()
        with pytest.raises(Exception, match="never changed"):
            db.session.execute(text("DELETE FROM published_results"))
        db.session.rollback()


def test_publishing_waits_for_every_sheet_to_be_final(app, client, login_as):
    ev = results_factory.build(app, entries=2, judges=2)
    with app.app_context():
        sheet = db.session.scalars(select(ScoreSheet).limit(1)).one()
        sheet.status = "draft"
        db.session.commit()
    login_as("admin")

    response = publish(client, ev.slug)

    assert response.status_code == 409
    assert t(
        app, "Judging is not finished: %(n)d assigned score sheets are not final.", n=1
    ) in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(PublishedResult.id)) is None


def test_results_are_published_only_from_the_results_phase(app, client, login_as):
    ev = results_factory.build(app, entries=2, status="judging")
    login_as("admin")

    response = publish(client, ev.slug)

    assert response.status_code == 409
    assert client.get(PUBLIC_URL.format(slug=ev.slug)).status_code == 404


def test_public_page_filters_by_district_and_category(app, client, login_as):
    ev = results_factory.build(app, entries=6, judges=2, categories=2)
    login_as("admin")
    publish(client, ev.slug)
    client.post("/logout", data={"csrf_token": ""})
    anonymous = app.test_client()

    everything = anonymous.get(PUBLIC_URL.format(slug=ev.slug)).get_data(as_text=True)
    kutim = anonymous.get(PUBLIC_URL.format(slug=ev.slug) + "?district=64.04")
    desa = anonymous.get(PUBLIC_URL.format(slug=ev.slug) + "/desa").get_data(as_text=True)

    assert all(f"KIM Hasil {ev.slug} {n}</td>" in everything for n in range(1, 7))
    kutim_html = kutim.get_data(as_text=True)
    # Entries 1 and 4 are in Kutai Timur (64.04); the others are not listed in the table.
    rows = [f"KIM Hasil {ev.slug} {n}</td>" for n in range(1, 7)]
    assert [r in kutim_html for r in rows] == [True, False, False, True, False, False]
    assert "KIM Desa" in desa and '<h2 id="cat-kelurahan"' not in desa
    assert anonymous.get(PUBLIC_URL.format(slug=ev.slug) + "/tidak-ada").status_code == 404
    assert anonymous.get(PUBLIC_URL.format(slug=ev.slug) + "/versions/9").status_code == 404


# --- command line -------------------------------------------------------------------------


def test_cli_prints_live_results_and_publishes(app, runner):
    ev = results_factory.build(app, entries=3, judges=2)

    table = runner.invoke(args=["results", ev.slug])
    as_json = runner.invoke(args=["results", ev.slug, "--json"])

    assert table.exit_code == 0, table.output
    assert "K-001" in table.output and "krippendorff_alpha" in table.output
    assert as_json.exit_code == 0, as_json.output
    live = json.loads(as_json.output)
    assert live["published"] is False and live["version"] is None

    unread = runner.invoke(args=["publish", ev.slug])
    assert unread.exit_code == 1  # the fairness checks are not acknowledged yet
    assert "belum ditinjau" in unread.output
    published = runner.invoke(args=["publish", ev.slug, "--acknowledge", "Ditinjau di rapat."])
    assert published.exit_code == 0, published.output
    assert "version 1" in published.output
    client = app.test_client()
    api = client.get(f"/api/v1/events/{ev.slug}/results").get_json()
    assert api["categories"] == live["categories"]
    assert api["stages"] == live["stages"]
    assert api["digest"] == live["digest"]

    again = runner.invoke(args=["publish", ev.slug])
    assert again.exit_code == 1  # a correction needs --reason
    assert runner.invoke(args=["results", "tidak-ada"]).exit_code != 0


def test_demo_results_are_published(app, runner, client):
    assert runner.invoke(args=["demo"]).exit_code == 0
    api = client.get("/api/v1/events").get_json()
    assert [e["slug"] for e in api["events"]] == ["monev-kim-kaltim-2024"]
    page = client.get(PUBLIC_URL.format(slug="monev-kim-kaltim-2024"))
    assert page.status_code == 200
    assert "KIM Teluk Pandan" in page.get_data(as_text=True)
    login(client, "admin@demo.monev.id", app.config["DEMO_PASSWORD"])
    assert "KIM Teluk Pandan" in admin_page(client, "monev-kim-kaltim-2024")


def test_public_page_query_count_does_not_grow_with_entries(app, client, login_as):
    small = results_factory.build(app, slug="uji-kecil", entries=2, judges=2)
    large = results_factory.build(app, slug="uji-besar", entries=12, judges=3, categories=2)
    login_as("admin")
    for ev in (small, large):
        publish(client, ev.slug)
    visitor = app.test_client()

    counts = []
    for ev in (small, large):
        for query in ("", "?district=64.04", "?district=bukan-kode"):
            url = PUBLIC_URL.format(slug=ev.slug) + query
            visitor.get(url)  # the first visit reads the snapshot
            with app.app_context(), count_queries(db.engine) as statements:
                assert visitor.get(url).status_code == 200
            counts.append(len(statements))

    assert len(set(counts)) == 1, counts
    assert counts[0] <= 3, counts


# --- the fairness panel in plain words -----------------------------------------------------


def test_numbers_never_read_minus_zero(app):
    from monev.core.templating import number

    assert number(-0.0) == "0"
    assert number(Decimal("-0.00")) == "0"
    assert number(round(-0.04, 1)) == "0"
    assert number(Decimal("-1.50")) == "-1,5"
    with app.test_request_context():
        from flask import render_template_string

        signed = render_template_string(
            '{% from "results/_macros.html" import signed %}'
            "{{ signed(-0.04) }}|{{ signed(0.04) }}|{{ signed(2.46) }}|{{ signed(-1.26) }}"
        )
    assert signed == "0|0|+2,5|−1,3"


def test_a_negative_agreement_is_explained_not_shown_bare(app, client, login_as):
    """Two judges who order four entries exactly the other way round: alpha is below 0. The
    panel says what that means in words; leniency 0 reads "0", never "+0" or "-0"."""

    def opposite(entry: int, judge: int, criterion: int) -> Decimal:
        return Decimal(1 + entry * 3) if judge == 0 else Decimal(10 - entry * 3)

    ev = results_factory.build(app, entries=4, judges=2, value=opposite)
    login_as("admin")
    page = admin_page(client, ev.slug)
    fairness = page[
        page.index('id="fairness"') : page.index("</article>", page.index('id="fairness"'))
    ]
    assert (
        t(
            app,
            "Did the judges score alike? These figures answer it before the results are published.",
        )
        in fairness
    )
    words = t(
        app,
        "below chance: the judges agree less than if they had scored at random; usually too "
        "few entries, or scores too close together to tell the entries apart",
    )
    assert words in fairness
    assert t(app, "below 0: less agreement than chance") in fairness  # beside each negative ICC
    assert "di bawah 0): juri mengurutkan entri secara berbeda" in fairness  # the guidance
    for bare in (">-0<", ">−0<", ">+0<", ">-0,0<"):
        assert bare not in fairness
    assert '<td class="num">0</td>' in fairness  # leniency 0, as it is
