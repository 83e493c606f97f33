"""Large events: the admin's results are computed once per score version and kept (not on
every view), and each category's tables are shown a page at a time."""

from __future__ import annotations

import re

from monev.events.models import Event
from monev.extensions import db
from monev.results import pages
from monev.results.computing import cache
from tests import results_factory
from tests.conftest import count_queries
from tests.test_results import ADMIN_URL, admin_page, set_score


def _view(app, client, slug: str) -> tuple[str, list[str], int]:
    """The admin results page, the statements it ran and how many times it computed."""
    before = cache.computed
    with app.app_context(), count_queries(db.engine) as statements:
        html = admin_page(client, slug)
    return html, list(statements), cache.computed - before


def _total_of(html: str, code: str) -> str:
    """The total shown in the ranking for the entry ``code``."""
    row = re.search(rf"<code>{code}</code>.*?<strong>([^<]+)</strong>", html, re.S)
    assert row, code
    return row.group(1)


def test_the_admin_results_are_computed_once_per_score_version(app, client, login_as):
    ev = results_factory.build(app, entries=4, judges=3)
    login_as("admin")

    first, first_statements, computed = _view(app, client, ev.slug)
    assert computed == 1
    assert any("FROM scores" in s for s in first_statements)

    second, statements, computed = _view(app, client, ev.slug)
    assert computed == 0  # the same scores: nothing recomputed …
    assert not any("FROM scores" in s for s in statements)  # … nor read
    assert not any("FROM score_sheets" in s for s in statements)
    assert len(statements) < len(first_statements)
    assert _total_of(second, "K-004") == _total_of(first, "K-004")

    # A score changed (every service that writes a sheet bumps the judging version).
    set_score(app, ev.event_id, "K-004", "p1", "10")
    third, statements, computed = _view(app, client, ev.slug)
    assert computed == 1
    assert any("FROM scores" in s for s in statements)
    assert float(_total_of(third, "K-004").replace(",", ".")) > float(
        _total_of(first, "K-004").replace(",", ".")
    )
    assert _view(app, client, ev.slug)[2] == 0


def test_a_change_of_the_rules_recomputes_without_a_new_score(app, client, login_as):
    ev = results_factory.build(app, entries=4, judges=3)
    login_as("admin")
    assert _view(app, client, ev.slug)[2] == 1
    with app.app_context():
        db.session.get(Event, ev.event_id).aggregation = "median"
        db.session.commit()
    assert _view(app, client, ev.slug)[2] == 1


def test_the_export_and_the_entry_page_reuse_the_computed_results(app, client, login_as):
    ev = results_factory.build(app, entries=3, judges=3)
    login_as("admin")
    assert _view(app, client, ev.slug)[2] == 1
    before = cache.computed
    for path in ("recap.xlsx", "scores.csv", f"entries/{ev.entry_ids[0]}"):
        assert client.get(ADMIN_URL.format(slug=ev.slug) + path).status_code == 200
    assert cache.computed == before


def _codes(html: str, category: str) -> list[str]:
    article = html[html.index(f'<article id="category-{category}"') :]
    article = article[: article.index("</article>")]
    ranking = article[: article.index("</table>")]
    return re.findall(r"<code>(K-\d+)</code>", ranking)


def test_large_categories_show_their_ranking_a_page_at_a_time(app, client, login_as, monkeypatch):
    monkeypatch.setattr(pages, "PAGE_SIZE", 3)
    ev = results_factory.build(app, entries=7, judges=2)
    login_as("admin")

    html = admin_page(client, ev.slug)
    page_one = _codes(html, "desa")
    assert len(page_one) == 3
    assert "Halaman 1 dari 3" in html
    assert "baris 1–3 dari 7" in html
    assert f'href="/admin/events/{ev.slug}/results/?page-desa=2#category-desa"' in html

    page_two = client.get(ADMIN_URL.format(slug=ev.slug) + "?page-desa=2").get_data(as_text=True)
    assert "baris 4–6 dari 7" in page_two
    last = client.get(ADMIN_URL.format(slug=ev.slug) + "?page-desa=3").get_data(as_text=True)
    assert "baris 7–7 dari 7" in last
    shown = page_one + _codes(page_two, "desa") + _codes(last, "desa")
    assert sorted(shown) == [f"K-{n:03d}" for n in range(1, 8)]  # each entry once
    # A page past the end shows the last; nonsense is the first.
    assert _codes(
        client.get(ADMIN_URL.format(slug=ev.slug) + "?page-desa=99").get_data(as_text=True), "desa"
    ) == _codes(last, "desa")
    odd = client.get(ADMIN_URL.format(slug=ev.slug) + "?page-desa=x%00").get_data(as_text=True)
    assert _codes(odd, "desa") == page_one
