"""Field visits without a signal (a Progressive Web App): the service worker and the
manifest at the root of the site, the offline app shell, and for judges the page that
prepares their phone, the bundle it stores, a fresh session token and the sync of what they
did offline (:mod:`monev.judging.offline`).

The app shell (``/offline``) holds nothing of anybody: the phone fills it from what it stored
(IndexedDB), so the service worker may keep it and serve it with no connection."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    json,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from monev.core import access
from monev.core.caching import build_id, static_url
from monev.core.timeutil import utcnow
from monev.core.views import attempt
from monev.judging import offline, queries
from monev.judging.views.blueprints import judge_bp

offline_bp = Blueprint("offline", __name__)
access.blueprint_roles(offline_bp)  # public: the worker, the manifest, the empty shell

# What the phone keeps to open a visit with no connection (besides the shell itself).
SHELL_STATIC = (
    "vendor/pico-2.1.1/pico.min.css",
    "css/app.css",
    "js/offline.js",
    "js/signature.js",
    "img/favicon.svg",
)
NO_CACHE = "no-cache, max-age=0"
# Where a photo taken offline is sent (monev.judging.views.visits, the photos of a visit).
PHOTO_ENDPOINT = "judge.save_visit_photo"


def shell_urls() -> list[str]:
    return [
        url_for("offline.shell"),
        url_for("offline.manifest"),
        *(static_url(name) for name in SHELL_STATIC),
    ]


@offline_bp.route("/sw.js")
def service_worker():
    """The service worker, from the root so that its scope is the whole site; its cache's
    name changes with every build (templates, code, static files)."""
    source = Path(current_app.static_folder, "js", "sw.js").read_text(encoding="utf-8")
    config = {"version": build_id()[:16], "shell": shell_urls(), "offline": "/offline"}
    body = f"const MONEV_SHELL = {json.dumps(config)};\n{source}"
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = NO_CACHE
    return response


@offline_bp.route("/manifest.webmanifest")
def manifest():
    body = {
        "name": "Monev KIM",
        "short_name": "Monev KIM",
        "description": _("Field visits without a signal"),
        "lang": "id",
        "start_url": "/offline",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1b5e8c",
        "icons": [{"src": static_url("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = Response(json.dumps(body), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = NO_CACHE
    return response


def _url_pattern(endpoint: str, **ids: int) -> str:
    """An endpoint's URL with ``{sheet}`` / ``{criterion}`` where the phone puts its ids
    (empty when the app has no such endpoint)."""
    if endpoint not in current_app.view_functions:
        return ""
    marks = {name: 900000001 + n for n, name in enumerate(ids)}
    url = url_for(endpoint, **marks)
    for name, mark in marks.items():
        url = url.replace(str(mark), "{" + ids[name] + "}")
    return url


def _urls() -> dict:
    return {
        "sync_url": _url_pattern("judge.sync", assignment_id="sheet"),
        "photo_url": _url_pattern(PHOTO_ENDPOINT, assignment_id="sheet", criterion_id="criterion"),
        "confirm_url": _url_pattern("schedule.confirm_visit", visit_id="visit"),
    }


@offline_bp.route("/offline")
def shell():
    """The offline app shell: the visits stored on this phone, or one of them (?sheet=)."""
    response = Response(render_template("judging/offline_shell.html", **_urls()))
    response.headers["Cache-Control"] = NO_CACHE
    return response


@judge_bp.route("/offline")
def offline_prepare():
    """The judge's field visits, and the button that stores them on the phone."""
    return render_template(
        "judging/offline_prepare.html",
        visits=[
            (v, queries.entry_label_for_judges(v.entry, v.stage.event))
            for v in queries.judge_visits(current_user.id)
        ],
        **_urls(),
    )


@judge_bp.route("/offline/bundle")
def offline_bundle():
    return jsonify(offline.bundle(current_user, utcnow()))


@judge_bp.route("/offline/session")
def offline_session():
    """Who is signed in and a fresh token for the sync (the phone's may be days old)."""
    return jsonify({"user": current_user.id, "name": current_user.name, "token": generate_csrf()})


def _refused(error):
    body = {"ok": False, "field": error.field, "message": error.message}
    if isinstance(error, offline.SyncConflict):
        body["conflict"] = {"server": error.server, "version": error.version}
    return jsonify(body), error.status


@judge_bp.route("/sheets/<int:assignment_id>/sync", methods=["POST"])
def sync(assignment_id: int):
    """One save the phone kept offline (a score, a checklist line or the KIM
    representative's confirmation of the visit), as JSON."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify({"ok": False, "field": None, "message": _("Nothing was sent.")}), 400
    try:
        criterion_id = int(data.get("criterion_id"))
    except (TypeError, ValueError):
        criterion_id = 0

    def text(name):
        value = data.get(name)
        return None if value is None else str(value)

    if data.get("kind") == "check":
        result, error = attempt(
            lambda: offline.sync_check(
                assignment_id,
                current_user,
                criterion_id=criterion_id,
                mark=text("mark"),
                note=text("note"),
                client_key=text("client_key"),
                base_mark=text("base_mark"),
                base_note=text("base_note"),
            )
        )
    elif data.get("kind") == "score":
        base = data.get("base_version")
        result, error = attempt(
            lambda: offline.sync_score(
                assignment_id,
                current_user,
                criterion_id=criterion_id,
                value=text("value"),
                comment=text("comment"),
                client_key=text("client_key"),
                base_version=base if isinstance(base, int) else None,
                base_value=text("base_value"),
                base_comment=text("base_comment"),
            )
        )
    elif data.get("kind") == "confirm":
        result, error = attempt(
            lambda: offline.sync_confirm(
                assignment_id,
                current_user,
                name=text("name"),
                signature=text("signature"),
                typed_confirmation=data.get("typed") is True,
                confirmed_at=text("confirmed_at"),
                client_key=text("client_key"),
            )
        )
    else:
        return jsonify({"ok": False, "field": "kind", "message": _("Nothing was sent.")}), 400
    if error is not None:
        return _refused(error)
    return jsonify(
        {"ok": True, "applied": result.applied, "version": result.version, "stored": result.stored}
    ), (201 if result.applied else 200)
