"""The OpenAPI 3.1 description of the open-data API, served at ``/api/v1/openapi.json``.

The schemas are JSON Schema 2020-12 (as OpenAPI 3.1 uses it); the tests validate every
API answer against them.
"""

from __future__ import annotations

NUMBER_OR_NULL = {"type": ["number", "null"]}
STRING_OR_NULL = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    },
    "EventRef": {
        "type": "object",
        "required": ["slug", "title", "year", "organiser"],
        "additionalProperties": False,
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "year": {"type": "integer"},
            "organiser": {"type": "string"},
        },
    },
    "EventSummary": {
        "type": "object",
        "required": ["slug", "title", "year", "organiser", "version", "published_at", "links"],
        "additionalProperties": False,
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "year": {"type": "integer"},
            "organiser": {"type": "string"},
            "version": {"type": "integer", "minimum": 1},
            "published_at": {"type": "string", "format": "date-time"},
            "links": {
                "type": "object",
                "required": ["results", "page"],
                "properties": {"results": {"type": "string"}, "page": {"type": "string"}},
            },
        },
    },
    "EventList": {
        "type": "object",
        "required": ["events"],
        "additionalProperties": False,
        "properties": {"events": {"type": "array", "items": _ref("EventSummary")}},
    },
    "Agreement": {
        "description": (
            "Inter-rater agreement of a stage's sheet totals. icc1…icc3k are the Shrout & "
            "Fleiss (1979) forms ICC(1,1), ICC(2,1), ICC(3,1), ICC(1,k), ICC(2,k), ICC(3,k): "
            "null unless every entry of the stage was scored by the same full panel of at "
            "least two judges. krippendorff_alpha is the interval-metric alpha over all final "
            "sheets (null when fewer than two sheets share an entry or nothing varies)."
        ),
        "type": "object",
        "required": ["icc1", "icc2", "icc3", "icc1k", "icc2k", "icc3k", "krippendorff_alpha"],
        "additionalProperties": False,
        "properties": {
            key: NUMBER_OR_NULL
            for key in ("icc1", "icc2", "icc3", "icc1k", "icc2k", "icc3k", "krippendorff_alpha")
        },
    },
    "Stage": {
        "type": "object",
        "required": ["key", "name", "weight", "agreement"],
        "additionalProperties": False,
        "properties": {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "weight": {"type": "number", "description": "Percent of the final total."},
            "agreement": _ref("Agreement"),
        },
    },
    "Entry": {
        "type": "object",
        "required": [
            "rank",
            "shared",
            "award",
            "band",
            "code",
            "kim",
            "district_code",
            "district",
            "total",
            "incomplete",
            "stage_totals",
        ],
        "additionalProperties": False,
        "properties": {
            "rank": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "Competition ranking (1, 1, 3); null for incomplete entries.",
            },
            "shared": {"type": "boolean"},
            "award": STRING_OR_NULL,
            "band": STRING_OR_NULL,
            "code": {"type": "string", "description": "The entry's code (e.g. K-001)."},
            "kim": {"type": "string"},
            "district_code": {"type": "string", "description": "Kemendagri code, e.g. 64.04"},
            "district": {"type": "string"},
            "total": {
                **NUMBER_OR_NULL,
                "description": "Σ stage weight × stage score / 100, 0–100, 4 decimals.",
            },
            "incomplete": {"type": "boolean"},
            "stage_totals": {
                "type": "object",
                "description": "Stage key → the entry's stage score (0–100) or null.",
                "additionalProperties": NUMBER_OR_NULL,
            },
        },
    },
    "Category": {
        "type": "object",
        "required": ["key", "name", "entries"],
        "additionalProperties": False,
        "properties": {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "entries": {"type": "array", "items": _ref("Entry")},
        },
    },
    "SpecialAward": {
        "description": "A special award (penghargaan khusus) with the jury's justification.",
        "type": "object",
        "required": ["title", "code", "kim", "district", "category", "justification"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string"},
            "code": {"type": "string"},
            "kim": {"type": "string"},
            "district": {"type": "string"},
            "category": {"type": "string", "description": "The entry's category key."},
            "justification": {"type": "string"},
        },
    },
    "Version": {
        "type": "object",
        "required": ["version", "published_at", "reason", "digest"],
        "additionalProperties": False,
        "properties": {
            "version": {"type": "integer", "minimum": 1},
            "published_at": {"type": "string", "format": "date-time"},
            "reason": STRING_OR_NULL,
            "digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
    "Results": {
        "type": "object",
        "required": [
            "event",
            "published",
            "version",
            "published_at",
            "reason",
            "digest",
            "scores",
            "method",
            "stages",
            "categories",
            "special_awards",
            "versions",
        ],
        "additionalProperties": False,
        "properties": {
            "event": _ref("EventRef"),
            "published": {"type": "boolean"},
            "version": {"type": ["integer", "null"], "minimum": 1},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
            "reason": {
                **STRING_OR_NULL,
                "description": "Why this version was published (required for a correction).",
            },
            "digest": {
                "type": "string",
                "pattern": "^[0-9a-f]{64}$",
                "description": (
                    "SHA-256 of one line per score on a final sheet, "
                    "'stage<TAB>entry code<TAB>judge id<TAB>criterion<TAB>value' (value with "
                    "two decimals), sorted, each ended by a newline."
                ),
            },
            "scores": {"type": "integer", "minimum": 0},
            "method": {
                "type": "object",
                "required": ["aggregation", "normalize_judges", "tie_breaks", "compare_decimals"],
                "additionalProperties": False,
                "properties": {
                    "aggregation": {"enum": ["mean", "median", "trimmed"]},
                    "normalize_judges": {"type": "boolean"},
                    "tie_breaks": {"type": "array", "items": {"type": "string"}},
                    "compare_decimals": {"type": "integer"},
                },
            },
            "stages": {"type": "array", "items": _ref("Stage")},
            "categories": {"type": "array", "items": _ref("Category")},
            "special_awards": {"type": "array", "items": _ref("SpecialAward")},
            "versions": {"type": "array", "items": _ref("Version")},
        },
    },
}


def _json(schema: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
    }


def document(server_url: str = "/api/v1") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Monev KIM open data",
            "version": "1.0.0",
            "description": (
                "Read-only published results of Monev KIM competitions: per category the "
                "ranked entries with awards, totals and stage totals, and per stage the "
                "judges' agreement. Only published versions are served; a correction "
                "(ralat) is a new version and the earlier ones stay listed."
            ),
            "license": {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/events": {
                "get": {
                    "operationId": "listEvents",
                    "summary": "Events with published results",
                    "responses": {"200": _json("EventList", "Events, newest first.")},
                }
            },
            "/events/{slug}/results": {
                "get": {
                    "operationId": "getResults",
                    "summary": "The latest published results of an event",
                    "parameters": [
                        {
                            "name": "slug",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "version",
                            "in": "query",
                            "required": False,
                            "description": "An earlier published version (default: latest).",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                    ],
                    "responses": {
                        "200": _json("Results", "The published results."),
                        "404": _json("Error", "No such event, or nothing published."),
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
