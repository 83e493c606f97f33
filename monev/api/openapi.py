"""The OpenAPI 3.1 description of the open-data API, served at ``/api/v1/openapi.json``.

The schemas are JSON Schema 2020-12 (as OpenAPI 3.1 uses it); the tests validate every
API answer against them.
"""

from __future__ import annotations

NUMBER_OR_NULL = {"type": ["number", "null"]}
STRING_OR_NULL = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


MAX_VERSION = 2**31 - 1
"""The largest ``?version=`` accepted (larger: 400)."""

PROBLEM_CODES = {
    400: "invalid_parameter",
    404: "not_found",
    405: "method_not_allowed",
    500: "server_error",
}
"""The ``code`` of a problem by its status; any other 4xx is ``bad_request``."""

SCHEMAS: dict = {
    "Problem": {
        "description": (
            "Problem details (RFC 9457). `code` says which problem: `invalid_parameter` (400, "
            "a query parameter out of its schema), `not_found` (404: no such event, version "
            "or URL), `method_not_allowed` (405, with an `Allow` header: the API is "
            "read-only), `bad_request` (another 4xx), `server_error` (5xx)."
        ),
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference", "const": "about:blank"},
            "title": {"type": "string", "description": "The HTTP status phrase."},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "What went wrong, in English."},
            "code": {
                "enum": [
                    "invalid_parameter",
                    "not_found",
                    "method_not_allowed",
                    "bad_request",
                    "server_error",
                ]
            },
        },
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


def _json(schema: str, description: str, *, links: dict | None = None) -> dict:
    answer = {
        "description": description,
        "headers": {
            "ETag": {"$ref": "#/components/headers/ETag"},
            "Cache-Control": {"$ref": "#/components/headers/Cache-Control"},
        },
        "content": {"application/json": {"schema": _ref(schema)}},
    }
    if links:
        answer["links"] = links
    return answer


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


NOT_MODIFIED = {
    "description": (
        "Not modified: the `If-None-Match` ETag is still current (no body). A new published "
        "version (a ralat) changes the ETag."
    ),
    "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
}

IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of an earlier answer: 304 while it is current.",
    "schema": {"type": "string"},
}

HEADERS = {
    "ETag": {
        "description": "The version of the answer; send it back in `If-None-Match`.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "Public: any cache may keep the answer for 60 s.",
        "schema": {"type": "string"},
    },
}


def document(server_url: str = "/api/v1") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Monev KIM open data",
            "version": "1.1.0",
            "description": (
                "Read-only published results of Monev KIM competitions: per category the "
                "ranked entries with awards, totals and stage totals, and per stage the "
                "judges' agreement. Only published versions are served; a correction "
                "(ralat) is a new version and the earlier ones stay listed.\n\n"
                "Every answer is public and cacheable (`Cache-Control: public, max-age=60`) "
                "with an `ETag`; send it back in `If-None-Match` for a `304`. Errors are "
                "problem details (RFC 9457, `application/problem+json`, see the `Problem` "
                "schema). The API is read-only: any method but GET, HEAD and OPTIONS is "
                "answered `405` with an `Allow` header and a problem document."
            ),
            "license": {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/events": {
                "get": {
                    "operationId": "listEvents",
                    "summary": "Events with published results",
                    "parameters": [IF_NONE_MATCH],
                    "responses": {
                        "200": _json(
                            "EventList",
                            "Events, newest first.",
                            links={
                                "EventResults": {
                                    "operationId": "getResults",
                                    "description": "The results of the first event listed.",
                                    "parameters": {"slug": "$response.body#/events/0/slug"},
                                }
                            },
                        ),
                        "304": NOT_MODIFIED,
                        "500": _problem("An unexpected error."),
                    },
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
                            "description": (
                                "An earlier published version (default: latest): a positive "
                                "integer in digits, given once; anything else is a 400."
                            ),
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION},
                        },
                        IF_NONE_MATCH,
                    ],
                    "responses": {
                        "200": _json(
                            "Results",
                            "The published results.",
                            links={
                                "ListedVersion": {
                                    "operationId": "getResults",
                                    "description": "The version listed first (the latest).",
                                    "parameters": {
                                        "slug": "$request.path.slug",
                                        "version": "$response.body#/versions/0/version",
                                    },
                                }
                            },
                        ),
                        "304": NOT_MODIFIED,
                        "400": _problem("The version parameter is not a positive integer."),
                        "404": _problem("No such event, nothing published, or no such version."),
                        "500": _problem("An unexpected error."),
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS, "headers": HEADERS},
    }
