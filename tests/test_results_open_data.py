"""Open data: the API's answers validate against its own OpenAPI document, and the Excel
recap and the CSV of raw scores are enough to recompute every published figure."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openpyxl import load_workbook
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from monev.scoring import (
    CategoryDef,
    CriterionDef,
    EntryDef,
    EventDef,
    SheetInput,
    StageDef,
    compute_fairness,
    compute_results,
    prepare,
)
from tests import results_factory
from tests.conftest import post

DOC_URI = "urn:monev:openapi"


@pytest.fixture
def published(app, client, login_as):
    """A published event of 7 entries in two categories, judged by 3 judges."""
    ev = results_factory.build(app, entries=7, judges=3, categories=2)
    login_as("admin")
    url = f"/admin/events/{ev.slug}/results/"
    results_factory.acknowledge_all(app, ev.slug)
    assert post(client, url + "publish", {"reason": "", "confirm": "y"}).status_code == 302
    return ev


def validator_for(document: dict, schema_name: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=FormatChecker(),
    )


def response_schema(document: dict, path: str, status: str, content_type: str) -> str:
    """The schema the document gives the answer of this status and content type."""
    content = document["paths"][path]["get"]["responses"][status]["content"]
    return content[content_type]["schema"]["$ref"].rsplit("/", 1)[1]


def test_api_answers_validate_against_the_openapi_document(app, published):
    visitor = app.test_client()
    document = visitor.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    Draft202012Validator.check_schema(document["components"]["schemas"]["Results"])

    answers = {
        ("/events", "200"): visitor.get("/api/v1/events"),
        ("/events/{slug}/results", "200"): visitor.get(f"/api/v1/events/{published.slug}/results"),
        ("/events/{slug}/results", "404"): visitor.get("/api/v1/events/tidak-ada/results"),
    }
    for (path, status), response in answers.items():
        assert str(response.status_code) == status
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        schema = response_schema(document, path, status, response.mimetype)
        validator = validator_for(document, schema)
        errors = [e.message for e in validator.iter_errors(response.get_json())]
        assert errors == [], (path, errors)

    results = answers[("/events/{slug}/results", "200")].get_json()
    assert [c["key"] for c in results["categories"]] == ["desa", "kelurahan"]
    assert sum(len(c["entries"]) for c in results["categories"]) == 7
    for stage in results["stages"]:
        assert set(stage["agreement"]) == {
            "icc1",
            "icc2",
            "icc3",
            "icc1k",
            "icc2k",
            "icc3k",
            "krippendorff_alpha",
        }
    # A schema violation is caught: the validator is not vacuous.
    broken = dict(results, categories=[{"key": "x"}])
    validator = validator_for(document, "Results")
    assert list(validator.iter_errors(broken))


def test_agreement_of_incomplete_panels_is_alpha_only(app, client, login_as):
    """The demo's rotating panels: ICCs are null, Krippendorff's alpha is a number."""
    from monev.core.database import write_intent
    from monev.demo import loader

    with app.app_context():
        with write_intent():
            loader.load(app.config["DEMO_PASSWORD"])
        from monev.extensions import db

        db.session.commit()
    results = client.get("/api/v1/events/monev-kim-kaltim-2024/results").get_json()
    for stage in results["stages"]:
        agreement = stage["agreement"]
        assert {k: v for k, v in agreement.items() if k != "krippendorff_alpha"} == dict.fromkeys(
            ["icc1", "icc2", "icc3", "icc1k", "icc2k", "icc3k"]
        )
        assert 0 < agreement["krippendorff_alpha"] <= 1


# --- exports ------------------------------------------------------------------------------


def _event_def(rubric_rows, method) -> EventDef:
    stages: dict[str, list] = defaultdict(list)
    weights = {}
    for stage, stage_weight, aspect, key, _name, weight, lo, hi in rubric_rows:
        weights[stage] = stage_weight
        stages[stage].append(CriterionDef(key, aspect, weight, lo, hi))
    return EventDef(
        [StageDef(key, weights[key], criteria) for key, criteria in stages.items()],
        aggregation=method["aggregation"],
        normalize_judges=bool(method["normalize_judges"]),
        tie_breaks=(method["tie_breaks"] or "").split(),
        categories=[CategoryDef(key) for key in method["categories"].split()],
    )


def test_excel_recap_recomputes_every_published_total_and_rank(app, client, published):
    response = client.get(f"/admin/events/{published.slug}/results/recap.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    wb = load_workbook(io.BytesIO(response.data), read_only=True)
    assert wb.sheetnames == ["Rekap", "Adm", "Pres", "Rubrik", "Metode"]
    method = {k: v for k, v in wb["Metode"].iter_rows(values_only=True)}
    rubric = list(wb["Rubrik"].iter_rows(min_row=2, values_only=True))
    event = _event_def(rubric, method)
    recap = list(wb["Rekap"].iter_rows(min_row=2, values_only=True))
    entries = [EntryDef(code, category) for category, _r, code, *_rest in recap]
    sheets = []
    for stage in event.stages:
        ws = wb[str(stage.key).title()]
        header = next(ws.iter_rows(max_row=1, values_only=True))
        keys = header[5:-1]
        assert keys == tuple(c.key for c in stage.criteria)
        for code, _kim, _cat, judge_id, _judge, *values in ws.iter_rows(
            min_row=2, values_only=True
        ):
            scores = dict(zip(keys, values[:-1], strict=True))
            sheets.append(SheetInput(code, judge_id, stage.key, True, scores))

    results = compute_results(prepare(event, entries, sheets))

    api = client.get(f"/api/v1/events/{published.slug}/results").get_json()
    published_rows = {e["code"]: e for c in api["categories"] for e in c["entries"]}
    n_stages = len(event.stages)
    for _category, rank, code, _kim, _district, *rest in recap:
        stage_scores, total, award = rest[:n_stages], rest[n_stages], rest[n_stages + 1]
        row = results.row(code)
        assert (row.rank, row.award) == (rank, award)
        assert round(row.total, 4) == total == published_rows[code]["total"]
        assert published_rows[code]["rank"] == rank
        for stage, value in zip(event.stages, stage_scores, strict=True):
            assert round(row.stages[stage.key].score, 4) == value
            assert published_rows[code]["stage_totals"][stage.key] == value
    assert method["digest"] == api["digest"]


def test_csv_of_raw_scores_recomputes_the_digest_totals_and_agreement(app, client, published):
    response = client.get(f"/admin/events/{published.slug}/results/scores.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 7 * 3 * 4  # entries × judges × criteria (2 per stage, 2 stages)
    api = app.test_client().get(f"/api/v1/events/{published.slug}/results").get_json()

    lines = sorted(
        f"{r['stage']}\t{r['entry_code']}\t{r['judge_id']}\t{r['criterion']}\t{r['value']}"
        for r in rows
    )
    digest = hashlib.sha256("".join(line + "\n" for line in lines).encode()).hexdigest()
    assert digest == api["digest"]

    criteria: dict[str, dict] = defaultdict(dict)
    stage_weights = {}
    for r in rows:
        stage_weights[r["stage"]] = float(r["stage_weight"])
        criteria[r["stage"]][r["criterion"]] = CriterionDef(
            r["criterion"],
            r["aspect"],
            float(r["criterion_weight"]),
            float(r["min"]),
            float(r["max"]),
        )
    event = EventDef(
        [StageDef(k, stage_weights[k], list(c.values())) for k, c in criteria.items()],
        aggregation=api["method"]["aggregation"],
        normalize_judges=api["method"]["normalize_judges"],
        tie_breaks=api["method"]["tie_breaks"],
        categories=[CategoryDef(c["key"]) for c in api["categories"]],
    )
    entries = {r["entry_code"]: EntryDef(r["entry_code"], r["category"]) for r in rows}
    values: dict[tuple, dict] = defaultdict(dict)
    for r in rows:
        values[(r["entry_code"], int(r["judge_id"]), r["stage"])][r["criterion"]] = float(
            r["value"]
        )
    sheets = [SheetInput(e, j, s, True, v) for (e, j, s), v in values.items()]
    prepared = prepare(event, entries.values(), sheets)
    results = compute_results(prepared)
    fairness = compute_fairness(prepared)

    for category in api["categories"]:
        for e in category["entries"]:
            row = results.row(e["code"])
            assert (row.rank, row.award, round(row.total, 4)) == (e["rank"], e["award"], e["total"])
    for stage in api["stages"]:
        alpha = fairness.stages[stage["key"]].alpha
        assert round(alpha, 4) == stage["agreement"]["krippendorff_alpha"]
        icc = fairness.stages[stage["key"]].icc
        assert round(icc["ICC(2,k)"], 4) == stage["agreement"]["icc2k"]
