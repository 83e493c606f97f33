"""Blind judging, tested with canaries: other judges' unmistakable scores and comments are
planted, then no response a judge can reach (pages, htmx fragments, exports) may contain
them, nor anything derived from them (averages, totals, counts of finished sheets). The leak
class of pretalx #611 and HotCRP #426 was aggregates, so besides the canary strings every
judge-reachable page is compared before and after planting: it must not change at all."""

from __future__ import annotations

import re

import pytest

from tests.judging_setup import autosave, build, sign_in
from tests.test_access_matrix import EXPECTED, JUDGE

# Other judges' scores on criterion c2 (0–1000, step 0.01) and c1 (1–10, step 0.5).
J2 = {"c1": "9,5", "c2": "987,65", "comment": "KANARI-JURI2-7Q2X tidak boleh bocor"}
J3 = {"c1": "1,5", "c2": "123,45", "comment": "KANARI-JURI3-9Z4W rahasia"}
CANARIES = [
    "KANARI",
    "7Q2X",
    "9Z4W",
    "987,65",
    "987.65",
    "123,45",
    "123.45",
    "555,55",  # mean of c2
    "555.55",
    "96,17",  # J2's weighted total
    "96.17",
    "8,27",  # J3's weighted total
    "8.27",
    "52,22",  # mean of the totals
    "52.22",
]


def _finalise(client, token, assignment, setup, values):
    c1, c2 = setup.criteria
    return client.post(
        f"/judge/sheets/{assignment}/finalise",
        data={
            "csrf_token": token,
            "version": 0,
            "confirm": "y",
            f"value-{c1}": values["c1"],
            f"value-{c2}": values["c2"],
            f"comment-{c1}": values["comment"],
            f"comment-{c2}": values["comment"],
        },
    )


def _judge_urls(app, setup, assignment_ids):
    """Every GET URL a judge may use, with this judge's own objects as arguments."""
    values = {
        "slug": [setup.slug],
        "assignment_id": assignment_ids,
        "criterion_id": [setup.criteria[0]],
        "entry_id": [setup.entries[0]],
        "stage_id": [setup.stage_id],
        "evidence_id": [1],
        "user_id": [setup.judges[0]["id"]],
        "kim_id": [1],
        "code": ["id"],
        "token": ["x"],
        "filename": ["css/app.css"],
        "category_key": ["desa"],
        "version": [1],
    }
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if JUDGE not in EXPECTED.get(rule.endpoint, set()) or "GET" not in rule.methods:
                continue
            if rule.endpoint in {"static", "auth.logout", "ops.readyz"}:  # readyz: latencies
                continue
            if any(arg not in values for arg in rule.arguments):
                continue
            combos = [{}]
            for arg in rule.arguments:
                combos = [dict(c, **{arg: v}) for c in combos for v in values[arg]]
            urls.extend(url_for(rule.endpoint, **c) for c in combos)
    return sorted(set(urls))


def _normalise(body: str) -> str:
    body = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', 'name="csrf_token"', body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', body)
    body = re.sub(r'"token": ?"[^"]+"', '"token": ""', body)  # the offline sync's fresh token
    return re.sub(r"\d{2}:\d{2}:\d{2}(\.\d+)?", "hh:mm:ss", body)


def _capture(client, urls) -> dict[str, tuple[int, str]]:
    out = {}
    for url in urls:
        response = client.get(url)
        if response.mimetype.startswith("text/") or response.mimetype == "application/json":
            body = response.get_data(as_text=True)
        else:
            body = response.get_data().decode("latin-1")
        out[url] = (response.status_code, _normalise(body))
    return out


@pytest.fixture
def planted(app, monkeypatch):
    """Other judges' canary sheets. The paper form's PDF is replaced by the HTML it is
    rendered from (the very text WeasyPrint lays out), so it can be searched."""
    from flask import render_template

    monkeypatch.setattr(
        "monev.pdf.rendering.render_pdf",
        lambda template, context: render_template(template, **context).encode(),
    )
    setup = build(app, n_entries=2, n_judges=3)
    observer = app.test_client()
    token = sign_in(observer, setup.judges[0]["email"])
    own = [setup.assignment(0, 0), setup.assignment(1, 0)]
    urls = _judge_urls(app, setup, own)
    before = _capture(observer, urls)
    for index, values in ((1, J2), (2, J3)):
        other = app.test_client()
        other_token = sign_in(other, setup.judges[index]["email"])
        for entry in (0, 1):
            response = _finalise(other, other_token, setup.assignment(entry, index), setup, values)
            assert response.status_code == 302
    return setup, observer, token, urls, before


def test_judge_pages_do_not_change_when_other_judges_score(app, planted):
    setup, observer, _token, urls, before = planted
    assert len(urls) >= 6, urls  # home, assignments, two sheets, paper forms, schedule …
    after = _capture(observer, urls)
    changed = [url for url in urls if before[url] != after[url]]
    assert changed == []


def test_no_canary_in_any_response_a_judge_can_reach(app, planted):
    setup, observer, token, urls, _before = planted
    bodies = {url: body for url, (_status, body) in _capture(observer, urls).items()}
    # htmx fragments of the judge's own autosave
    c1, c2 = setup.criteria
    a = setup.assignment(0, 0)
    for criterion, value, version in ((c1, "7", 0), (c2, "400", 1), (c2, "bukan angka", 2)):
        response = autosave(observer, token, a, criterion, value, version)
        bodies[f"autosave {criterion} {value}"] = response.get_data(as_text=True)
    # the whole-sheet save and finalise answers
    response = observer.post(
        f"/judge/sheets/{a}/finalise",
        data={
            "csrf_token": token,
            "version": 2,
            "confirm": "y",
            f"value-{c1}": "7",
            f"value-{c2}": "",
        },
    )
    bodies["finalise refused"] = response.get_data(as_text=True)
    response = observer.get(f"/judge/sheets/{a}")
    bodies["sheet after saving"] = response.get_data(as_text=True)
    leaks = [
        (where, canary) for where, body in bodies.items() for canary in CANARIES if canary in body
    ]
    assert leaks == []


def test_canaries_are_really_stored(app, planted):
    """The canaries are where the organiser can see them (so the test above means something)."""
    setup, *_rest = planted
    admin = app.test_client()
    sign_in(admin, setup.admin_email)
    page = admin.get(f"/admin/events/{setup.slug}/judging/changes").get_data(as_text=True)
    assert "987,65" in page and "123,45" in page
    board = admin.get(f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/progress")
    assert board.status_code == 200


def test_judge_cannot_reach_another_judges_sheet_or_the_board(app, planted):
    setup, observer, token, _urls, _before = planted
    other_sheet = setup.assignment(0, 1)
    assert observer.get(f"/judge/sheets/{other_sheet}").status_code == 404
    assert observer.get(f"/judge/sheets/{other_sheet}/paper-form").status_code == 404
    for url in (
        f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/progress",
        f"/admin/events/{setup.slug}/judging/changes",
        f"/admin/events/{setup.slug}/judging/stages/{setup.stage_id}/paper/template.xlsx",
    ):
        assert observer.get(url).status_code == 403
