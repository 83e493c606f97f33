"""Friendly error pages (full page, or a small fragment for htmx requests)."""

from __future__ import annotations

from flask import Flask, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from monev.extensions import db, htmx


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Please try again.")),
        403: (
            _("Access denied"),
            _("Your account does not have access to this page."),
        ),
        404: (
            _("Page not found"),
            _("The page you are looking for does not exist or has been moved."),
        ),
        405: (_("Not allowed"), _("This action is not available here.")),
        410: (_("Link expired"), _("This link is no longer valid.")),
        413: (
            _("File too large"),
            _("The data you sent is larger than allowed. Choose a smaller file."),
        ),
        429: (_("Too many attempts"), _("Please wait a moment before trying again.")),
        503: (
            _("Temporarily unavailable"),
            _("This service is temporarily unavailable. Please try again in a few minutes."),
        ),
        500: (
            _("Something went wrong"),
            _("An unexpected error occurred. Nothing was saved. Please try again."),
        ),
    }


def render_error(status: int, message: str | None = None):
    title, text = _titles().get(status, _titles()[400 if status < 500 else 500])
    template = "errors/_error.html" if htmx else "errors/error.html"
    return render_template(template, status=status, title=title, text=message or text), status


ERROR_ANSWERS = "monev_error_answers"


def answer_errors_under(app: Flask, prefix: str, answer) -> None:
    """Errors of requests whose path starts with ``prefix`` (a route's or a URL that matched
    none) are answered by ``answer(status, error)`` instead of an HTML page: the JSON API
    answers problem details."""
    app.extensions.setdefault(ERROR_ANSWERS, []).append((prefix, answer))


def _other_answer(app: Flask, status: int, error):
    for prefix, answer in app.extensions.get(ERROR_ANSWERS, ()):
        if request.path.startswith(prefix):
            return answer(status, error)
    return None


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        other = _other_answer(app, 400, error)
        if other is not None:
            return other
        if app.config.get("SESSION_COOKIE_SECURE") and not request.is_secure:
            # The browser never kept the session cookie (sent for HTTPS only), so no form
            # can carry a valid token: say so instead of "your form expired".
            return render_error(
                400,
                _(
                    "This server only works over HTTPS: its cookies are sent for HTTPS only "
                    "(MONEV_SECURE_COOKIES is on), so signing in over plain HTTP cannot work. "
                    "Open the address with https://, or, on a trusted internal network "
                    "without HTTPS, set MONEV_SECURE_COOKIES=false. Behind a proxy that "
                    "terminates HTTPS, set MONEV_PROXY_COUNT so the app sees it."
                ),
            )
        return render_error(
            400,
            _(
                "Your form has expired or was sent without its security token. Reload the "
                "page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        other = _other_answer(app, error.code, error)
        if other is not None:
            return other
        body, status = render_error(error.code)
        response = make_response(body, status)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110: required
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _other_answer(app, 500, None) or render_error(500)
