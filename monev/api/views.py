"""Open-data API, read-only JSON (``/api/v1``), described by ``/api/v1/openapi.json``.

Serves published snapshots only: nothing here computes results or reads scores.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from monev.api.openapi import document
from monev.core import access
from monev.events import queries as event_queries
from monev.results import queries as results_queries
from monev.results.services import iso_time, open_data

bp = Blueprint("api", __name__, url_prefix="/api/v1")
access.blueprint_roles(bp)  # public


@bp.after_request
def _open(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.setdefault("Cache-Control", "public, max-age=60")
    return response


def _not_found(message: str):
    return jsonify({"error": "not_found", "message": message}), 404


@bp.route("/openapi.json")
def openapi():
    return jsonify(document(url_for("api.events")[: -len("/events")]))


@bp.route("/events")
def events():
    return jsonify(
        {
            "events": [
                {
                    "slug": event.slug,
                    "title": event.title,
                    "year": event.year,
                    "organiser": event.organiser,
                    "version": published.version,
                    "published_at": iso_time(published.created_at),
                    "links": {
                        "results": url_for("api.event_results", slug=event.slug),
                        "page": url_for("results_public.public_index", slug=event.slug),
                    },
                }
                for event, published in results_queries.published_events()
            ]
        }
    )


@bp.route("/events/<slug>/results")
def event_results(slug: str):
    event = event_queries.get_by_slug(slug)
    history = results_queries.version_list(event.id) if event else []
    if not history:
        return _not_found("No published results for this event.")
    wanted = request.args.get("version", type=int) or history[0].version
    shown = next((v for v in history if v.version == wanted), None)
    if shown is None:
        return _not_found("No such version.")
    return jsonify(open_data(shown.snapshot, shown, history))
