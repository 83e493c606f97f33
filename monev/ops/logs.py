"""Log lines that say which request they belong to.

Every request gets an id: the ``X-Request-ID`` its proxy sent (nginx: ``$request_id``) when
it looks like one, else a new random one. It is sent back in the ``X-Request-ID`` header
(gunicorn's access log prints it) and every log record made while the request runs carries
it as ``request_id`` ("-" outside a request), whatever logger made it. Outside tests, when
nothing else configured logging, lines go to stderr as
``2026-12-06 10:00:00,123 WARNING [3f2a…] monev.x: message`` (Monev's loggers from
``MONEV_LOG_LEVEL``, default INFO; other libraries from WARNING).
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from flask import Flask, g, request

HEADER = "X-Request-ID"
FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_current: ContextVar[str] = ContextVar("monev_request_id", default="-")
_installed = False


def current_request_id() -> str:
    return _current.get()


def _install_record_factory() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def init_app(app: Flask) -> None:
    _install_record_factory()
    root = logging.getLogger()
    if not app.testing and not root.handlers:
        # Other libraries say only warnings; Monev's own loggers say what LOG_LEVEL asks.
        logging.basicConfig(level=logging.WARNING, format=FORMAT)
        logging.getLogger("monev").setLevel((app.config.get("LOG_LEVEL") or "INFO").upper())
    if root.handlers:
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)  # the root handler prints it, with the id

    @app.before_request
    def _request_id():
        given = request.headers.get(HEADER, "")
        rid = given if _VALID.match(given) else uuid.uuid4().hex
        g._request_id_token = _current.set(rid)
        g.request_id = rid

    @app.after_request
    def _send_request_id(response):
        rid = g.get("request_id")
        if rid:
            response.headers[HEADER] = rid
        return response

    @app.teardown_request
    def _forget_request_id(_exc):
        token = g.pop("_request_id_token", None)
        if token is not None:
            _current.reset(token)
