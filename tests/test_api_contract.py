"""The open-data API keeps its contract: every error is a problem details document (RFC
9457) with a documented code, parameters are parsed strictly, a 405 names the allowed
methods, and every status and content type it answers is in ``/api/v1/openapi.json``.

``test_schemathesis_finds_nothing`` runs schemathesis (examples, coverage with unexpected
methods and duplicate parameters, fuzzing, and the stateful phase along the document's links)
against the app in-process, seeded and bounded: a few hundred cases in seconds.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import schemathesis
from jsonschema import Draft202012Validator
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from tests import results_factory
from tests.conftest import sign_in
from tests.test_results import publish, set_score
from tests.test_results_open_data import validator_for

SEED = 20260514


@pytest.fixture
def corrected(app, client, make_user):
    """A published event with a ralat (versions 1 and 2), beside one not published."""
    results_factory.build(app, slug="belum-terbit", entries=2, judges=2)
    ev = results_factory.build(app, entries=4, judges=3)
    admin = make_user("admin")
    sign_in(client, admin.email)
    assert publish(client, ev.slug).status_code == 302
    set_score(app, ev.event_id, "K-001", "a1", "9")
    assert publish(client, ev.slug, "Ralat nilai K-001.").status_code == 302
    return ev


def documented(document: dict, path: str, status: int) -> set[str]:
    """The content types the document gives ``path``'s GET answer of ``status``."""
    answer = document["paths"][path]["get"]["responses"][str(status)]
    return set(answer.get("content", {}))


def assert_problem(response, status: int, code: str, document: dict) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert list(validator_for(document, "Problem").iter_errors(body)) == []
    assert (body["status"], body["code"], body["type"]) == (status, code, "about:blank")
    return body


@pytest.mark.parametrize(
    "query",
    [
        "version=4.7e-308",
        "version=0",
        "version=-1",
        "version=1.0",
        "version=abc",
        "version=",
        "version=%201",
        "version=%D9%A1",  # an Arabic-Indic digit one: digits means 0-9
        "version=2147483648",
        "version=99999999999999999999999999999",
        "version=1&version=2",
    ],
)
def test_a_malformed_version_is_a_400_problem(app, corrected, query):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    response = app.test_client().get(f"/api/v1/events/{corrected.slug}/results?{query}")
    body = assert_problem(response, 400, "invalid_parameter", document)
    assert "version" in body["detail"]
    assert documented(document, "/events/{slug}/results", 400) == {"application/problem+json"}


def test_versions_in_digits_are_served(app, corrected):
    visitor = app.test_client()
    url = f"/api/v1/events/{corrected.slug}/results"
    assert visitor.get(url).get_json()["version"] == 2
    assert visitor.get(url + "?version=1").get_json()["version"] == 1
    assert visitor.get(url + "?version=01").get_json()["version"] == 1
    document = visitor.get("/api/v1/openapi.json").get_json()
    assert_problem(visitor.get(url + "?version=3"), 404, "not_found", document)
    assert_problem(visitor.get(url + "?version=2147483647"), 404, "not_found", document)


def test_not_found_is_a_problem_everywhere_under_the_api(app, corrected):
    visitor = app.test_client()
    document = visitor.get("/api/v1/openapi.json").get_json()
    for url in (
        "/api/v1/events/tidak-ada/results",
        "/api/v1/events/belum-terbit/results",
        "/api/v1/events/a/b/results",
        "/api/v1/tidak-ada",
        "/api/v1",
        "/api/v2/events",
    ):
        assert_problem(visitor.get(url), 404, "not_found", document)
    assert documented(document, "/events/{slug}/results", 404) == {"application/problem+json"}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE"])
def test_other_methods_are_a_405_problem_with_allow(app, corrected, method):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for url in ("/api/v1/events", f"/api/v1/events/{corrected.slug}/results"):
        response = app.test_client().open(url, method=method)
        assert_problem(response, 405, "method_not_allowed", document)
        assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_a_failure_is_a_500_problem(app, corrected, monkeypatch):
    from monev.api import views

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(views, "open_data", broken)
    visitor = app.test_client()
    document = visitor.get("/api/v1/openapi.json").get_json()
    response = visitor.get(f"/api/v1/events/{corrected.slug}/results?version=1")
    body = assert_problem(response, 500, "server_error", document)
    assert "disk" not in body["detail"]
    assert response.headers["Cache-Control"] == "no-store"


def test_every_documented_answer_names_its_content_type(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for status, answer in operations["get"]["responses"].items():
            if status == "304":
                assert "content" not in answer  # no body
                continue
            expected = {"application/json"} if status == "200" else {"application/problem+json"}
            assert set(answer["content"]) == expected, (path, status)
    Draft202012Validator.check_schema(document["components"]["schemas"]["Problem"])


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},
            "generation": {"max-examples": 60, "database": "none", "deterministic": True},
            "phases": {
                "coverage": {"generate-duplicate-query-parameters": True},
                "stateful": {"max-steps": 10, "generation": {"max-examples": 20}},
            },
        }
    )


def test_schemathesis_finds_nothing(app, corrected):
    """No 5xx, and every answer conforms: documented status, content type and schema; a
    schema-valid request accepted, an invalid one refused; 405 with ``Allow``."""
    started = time.monotonic()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=_config())
    failures: list[str] = []
    cases: Counter = Counter()
    answers: Counter = Counter()
    phases_run: dict[str, str] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseFinished):
            phases_run[event.phase.name.value] = event.status.value
        elif isinstance(event, events.ScenarioFinished):
            cases[event.phase.value] += len(event.recorder.cases)
            for interaction in event.recorder.interactions.values():
                answer = interaction.response
                if answer is not None:
                    kind = (answer.headers.get("content-type") or [None])[0]
                    answers[(answer.status_code, kind)] += 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE:
                        failures.append(f"{event.phase.value} {check.name}: {check.failure_info}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"error: {event}")
    elapsed = time.monotonic() - started

    assert failures == [], "\n".join(sorted(set(failures))[:20])
    assert {"coverage", "fuzzing", "stateful"} <= {p for p, s in phases_run.items() if s}
    assert phases_run["stateful"] == "success", phases_run
    assert sum(cases.values()) >= 200, cases
    assert cases["stateful"] > 0 and cases["coverage"] > 0, cases
    assert not [status for status, _type in answers if status >= 500], answers
    assert {200, 304, 400, 404, 405} <= {status for status, _type in answers}, answers
    assert {kind for _status, kind in answers} == {
        "application/json",
        "application/problem+json",
        None,  # 304 and OPTIONS (204): no body
    }, answers
    assert elapsed < 60, elapsed
