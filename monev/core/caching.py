"""HTTP caching of what anybody may read: published results, the open-data API, certificate
verification, public event pages and static files.

Who may share an answer
    A visitor who is not signed in, has chosen no language and has no message waiting sees
    exactly what every other such visitor sees: the answer is ``Cache-Control: public`` and
    carries no ``Vary: Cookie`` (a caching proxy must not store answers to requests that
    carry the session cookie: see the README's nginx example). A visitor with a language
    chosen gets the same page in that language, ``private, no-cache``. A signed-in user's page
    names them: ``private, no-store``, never an ETag. The JSON API names nobody and is public
    for all.

ETags
    Built from what the page shows (the published version's id and digest, the certificate's
    state, …), the build of the app (:func:`build_id`: templates, code, translations, static
    files), the URL and the language; a request whose ``If-None-Match`` matches is answered
    ``304`` before anything is rendered. A page of the same ETag is rendered once per process
    and kept (:class:`ByteLRU`, bounded in bytes), so results day costs a query or two per
    request, not a render.

Static files
    :func:`static_url` adds ``?v=<hash of the file>``; such a URL is ``immutable`` for a year
    (a new file is a new URL). Without the current hash, a static file is revalidated.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

from flask import Flask, Response, current_app, g, make_response, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from monev.core.access import signed_in_user

HTML_SHARED = "public, max-age=0, s-maxage=60"
"""A public page: a proxy may serve it for 60 s; a browser revalidates each time (a cheap
304), so a visitor who signs in or picks a language sees the change at once."""
DATA_SHARED = "public, max-age=60, stale-while-revalidate=60"
"""Open data: the same for everybody, whoever asks, in any language."""
PERSONAL_REVALIDATE = "private, no-cache"
PERSONAL = "private, no-store"
STATIC_IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_REVALIDATE = "public, no-cache"

BODY_CACHE_BYTES = 64 * 1024 * 1024
EXTENSION = "monev_caching"


# --- the build ----------------------------------------------------------------------------


def _digest_files(root: Path, pattern: str = "*") -> str:
    """A digest of the files under ``root`` matching ``pattern``, names and contents."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob(pattern) if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _static_hashes(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): _file_hash(path)
        for path in folder.rglob("*")
        if path.is_file()
    }


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class ByteLRU:
    """A thread-safe least-recently-used map bounded by the total size of its values."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.size = max_bytes, 0
        self.items: OrderedDict[str, tuple[bytes, int, str]] = OrderedDict()
        self.lock = Lock()

    def get(self, key: str):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: str, value: tuple[bytes, int, str]) -> None:
        size = len(value[0])
        if size > self.max_bytes // 8:
            return  # one huge page must not flush everything else
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= len(old[0])
            self.items[key] = value
            self.size += size
            while self.size > self.max_bytes:
                _key, dropped = self.items.popitem(last=False)
                self.size -= len(dropped[0])

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


@dataclass
class _State:
    build: str
    static: dict[str, str]
    static_folder: Path | None
    bodies: ByteLRU = field(default_factory=lambda: ByteLRU(BODY_CACHE_BYTES))


def _state(app: Flask | None = None) -> _State:
    return (app or current_app).extensions[EXTENSION]


def build_id() -> str:
    """A digest of everything that shapes a page: templates, code, translations and static
    files. Computed once at start (every worker of a deployment agrees on it); a new release
    gives every page a new ETag."""
    return _state().build


def static_url(filename: str) -> str:
    """The URL of a static file with its content hash (``?v=…``): cached for a year."""
    state = _state()
    version = state.static.get(filename)
    if version is None or current_app.debug:
        path = (state.static_folder / filename) if state.static_folder else None
        if path is not None and path.is_file():
            version = state.static[filename] = _file_hash(path)
    if version is None:
        return url_for("static", filename=filename)
    return url_for("static", filename=filename, v=version)


# --- who is asking ------------------------------------------------------------------------


def _personal() -> bool:
    """Does this visitor's page show something of their own (their name, a message)?"""
    return signed_in_user() is not None or "_flashes" in session


def _shared() -> bool:
    """Would every visitor without a session see this very answer? (No language chosen.)"""
    return "lang" not in session


def etag_of(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\x1f")
    return h.hexdigest()[:32]


def _not_modified(etag: str, cache_control: str, mimetype: str) -> Response:
    # no body; the type only keeps the headers the full answer would have (Vary)
    return _finish(Response(status=304, mimetype=mimetype), etag, cache_control)


def _finish(response: Response, etag: str | None, cache_control: str) -> Response:
    if session.modified:
        # the answer sets a cookie (Flask-Login marked an old session): not for sharing
        cache_control = PERSONAL if etag is None else PERSONAL_REVALIDATE
    if etag is not None and response.status_code in (200, 304):
        response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    return response


def conditional(
    parts: Iterable | None,
    render: Callable[[], ResponseReturnValue],
    *,
    data: bool = False,
) -> Response:
    """Answer a public GET from its version (``parts``: what the page shows, cheap to read),
    with 304 to a matching ``If-None-Match`` and the rendered page kept per version.

    ``data=True``: JSON that names nobody (the API), public for everyone. Otherwise an HTML
    page with the visitor's header: public for anonymous visitors (see the module's notes),
    rendered afresh and ``private, no-store`` for a signed-in user.

    ``parts=None``: no cheap version exists (the page reads many tables and the clock), so the
    ETag is the digest of the rendered page: a 304 still saves the transfer.
    """
    if not data and _personal():
        response = make_response(render())
        return _finish(response, None, PERSONAL)
    if data:
        cache_control, locale, mimetype = DATA_SHARED, None, "application/json"
    else:
        cache_control = HTML_SHARED if _shared() else PERSONAL_REVALIDATE
        locale, mimetype = str(get_locale()), "text/html"

    if parts is None or current_app.debug:  # in debug, templates change under a running app
        response = make_response(render())
        if _rendered_for_one_session():
            return _finish(response, None, PERSONAL)
        etag = None
        if response.status_code == 200 and not response.is_streamed:
            etag = etag_of(build_id(), locale, response.get_data())
            if request.if_none_match.contains_weak(etag):
                return _not_modified(etag, cache_control, mimetype)
        return _finish(response, etag, cache_control)

    htmx = bool(request.headers.get("HX-Request"))
    etag = etag_of(build_id(), locale, request.url, htmx, *parts)
    if request.if_none_match.contains_weak(etag):
        return _not_modified(etag, cache_control, mimetype)
    bodies = _state().bodies
    found = bodies.get(etag)
    if found is not None:
        body, status, mimetype = found
        return _finish(Response(body, status=status, mimetype=mimetype), etag, cache_control)
    response = make_response(render())
    if _rendered_for_one_session():
        return _finish(response, None, PERSONAL)
    if not response.is_streamed and response.status_code == 200:
        bodies.put(etag, (response.get_data(), response.status_code, response.mimetype))
    return _finish(response, etag, cache_control)


def _rendered_for_one_session() -> bool:
    """Did rendering put something of this session into the page (a form's CSRF token)?"""
    field_name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return field_name in g


# --- the session cookie -------------------------------------------------------------------


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, which leaves an answer marked public alone: no
    ``Vary: Cookie`` and no refreshed cookie. A public answer is, by :func:`conditional`,
    what every visitor without a session sees, and one that changes the session is never
    marked public. (Flask adds ``Vary: Cookie`` whenever the session was read, as every
    request does to learn who is signed in, and sends a signed-in user's cookie again with
    every answer; a shared cache must not keep either.)"""

    def save_session(self, app, session, response) -> None:
        if _public(response) and not session.modified:
            return
        super().save_session(app, session, response)


def _public(response: Response) -> bool:
    return "public" in (response.headers.get("Cache-Control") or "")


# --- static files -------------------------------------------------------------------------


def _cache_static(response: Response) -> Response:
    if request.endpoint != "static" or response.status_code not in (200, 206, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    version = request.args.get("v")
    if version and version == _state().static.get(filename):
        response.headers["Cache-Control"] = STATIC_IMMUTABLE
    else:
        response.headers["Cache-Control"] = STATIC_REVALIDATE
    return response


def init_app(app: Flask) -> None:
    """Compute the build's digest and the static files' hashes, install the session
    interface, the static files' caching and the ``static_url`` template global."""
    static_folder = Path(app.static_folder) if app.static_folder else None
    static = _static_hashes(static_folder) if static_folder else {}
    translations = app.config.get("BABEL_TRANSLATION_DIRECTORIES") or "translations"
    build = etag_of(
        _digest_files(Path(app.root_path), "*.py"),
        _digest_files(Path(app.root_path).parent / (app.template_folder or "templates")),
        *(_digest_files(Path(app.root_path).parent / d, "*.mo") for d in translations.split(";")),
        sorted(static.items()),
    )
    app.extensions[EXTENSION] = _State(build=build, static=static, static_folder=static_folder)
    app.session_interface = SessionInterface()
    app.after_request(_cache_static)
    app.jinja_env.globals["static_url"] = static_url
