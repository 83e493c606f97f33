"""Running Monev in production: start-up and on-demand checks (``doctor``), health and
readiness, the System page, the storage janitor, backups, metrics and request ids.

``init_app`` wires it into the app: the blueprint, the commands, and the 503 answer for a
file storage that cannot be reached.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _

from monev.core.errors_views import render_error
from monev.ops import cli, logs, metrics, views
from monev.storage import StorageUnavailable


def init_app(app: Flask) -> None:
    logs.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(views.bp)
    cli.register(app)

    @app.errorhandler(StorageUnavailable)
    def _storage_unavailable(error: StorageUnavailable):
        app.logger.error("File storage unavailable: %s", error)
        return render_error(
            503,
            _("File storage is temporarily unavailable. Please try again in a few minutes."),
        )
