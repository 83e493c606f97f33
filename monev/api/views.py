"""Open-data API, read-only JSON (``/api/v1``), described by ``/api/v1/openapi.json``.

Serves published snapshots only: nothing here computes results or reads scores.

Every answer is the same for everybody: ``Cache-Control: public`` with an ETag from the
published versions (a ralat changes it), ``304`` to a matching ``If-None-Match``. Every error
under ``/api/`` (a bad parameter, an unknown URL, a method other than GET, a failure) is a
problem details document (RFC 9457, ``application/problem+json``) with one of the codes the
OpenAPI document lists; a 405 names the allowed methods in ``Allow``.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, json, jsonify, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from monev.api.openapi import MAX_VERSION, PROBLEM_CODES, document
from monev.core import access, caching
from monev.core.errors_views import answer_errors_under
from monev.results import queries as results_queries
from monev.results.services import iso_time, open_data

bp = Blueprint("api", __name__, url_prefix="/api/v1")
access.blueprint_roles(bp)  # public

PROBLEM_JSON = "application/problem+json"
_DIGITS = re.compile(r"[0-9]{1,12}", re.ASCII)


class Problem(HTTPException):
    """An API refusal with its problem code and detail."""

    def __init__(self, status: int, detail: str, *, code: str | None = None):
        super().__init__(detail)
        self.code = status
        self.problem_code = code or PROBLEM_CODES.get(status, "bad_request")
        self.detail = detail


def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response


def problem(status: int, error=None) -> Response:
    """The problem details document of an error (RFC 9457)."""
    if isinstance(error, Problem):
        code, detail = error.problem_code, error.detail
    else:
        code = PROBLEM_CODES.get(status) or ("server_error" if status >= 500 else "bad_request")
        detail = _detail(status, error)
    body = {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    response.headers["Cache-Control"] = "no-store" if status >= 500 else "public, max-age=60"
    return _cors(response)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _detail(status: int, error) -> str:
    if status == 404:
        return "No such resource in this API."
    if status == 405:
        return "This API is read-only: use GET."
    if status >= 500:
        return "An unexpected error occurred."
    description = getattr(error, "description", None)
    return str(description) if description else _title(status)


@bp.record_once
def _answer_errors(state) -> None:
    answer_errors_under(state.app, "/api/", problem)  # any version, any URL under it


@bp.after_request
def _open(response):
    if request.method == "OPTIONS" and response.status_code == 200 and not response.data:
        response.status_code = 204  # the methods in Allow, no body (and so no type)
        response.headers.pop("Content-Type", None)
    return _cors(response)


def _version_parameter() -> int | None:
    """``?version=``: an integer from 1 to ``MAX_VERSION`` in ASCII digits, given once;
    anything else (``4.7e-308``, ``1.0``, ``+1``, ``١``) is a 400."""
    values = request.args.getlist("version")
    if not values:
        return None
    if len(values) > 1:
        raise Problem(400, "Give the version parameter once.", code="invalid_parameter")
    value = values[0]
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= MAX_VERSION:
        raise Problem(
            400,
            f"version must be an integer from 1 to {MAX_VERSION}, in digits (e.g. 2).",
            code="invalid_parameter",
        )
    return int(value)


@bp.route("/openapi.json")
def openapi():
    prefix = url_for("api.events")[: -len("/events")]
    return caching.conditional((), lambda: jsonify(document(prefix)), data=True)


@bp.route("/events")
def events():
    published = results_queries.published_events()

    def render():
        return jsonify(
            {
                "events": [
                    {
                        "slug": event.slug,
                        "title": event.title,
                        "year": event.year,
                        "organiser": event.organiser,
                        "version": version.version,
                        "published_at": iso_time(version.created_at),
                        "links": {
                            "results": url_for("api.event_results", slug=event.slug),
                            "page": url_for("results_public.public_index", slug=event.slug),
                        },
                    }
                    for event, version in published
                ]
            }
        )

    state = [(e.id, e.slug, e.updated_at, v.id, v.version) for e, v in published]
    return caching.conditional(state, render, data=True)


@bp.route("/events/<slug>/results")
def event_results(slug: str):
    wanted = _version_parameter()
    event = results_queries.event_by_slug(slug)
    history = results_queries.version_list(event.id) if event else []
    if not history:
        raise Problem(404, "No published results for this event.", code="not_found")
    number = history[0].version if wanted is None else wanted
    shown = next((v for v in history if v.version == number), None)
    if shown is None:
        raise Problem(404, "No such version.", code="not_found")

    def render():
        return jsonify(open_data(shown.snapshot, shown, history))

    state = [(v.id, v.digest) for v in history]
    return caching.conditional((shown.id, state), render, data=True)
