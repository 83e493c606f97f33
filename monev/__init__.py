"""Monev: Monitoring dan Evaluasi of Komunitas Informasi Masyarakat (KIM)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import APP_FILES, BASE_DIR, CONFIGS, INSTALLED
from monev import cli, jobs, ops
from monev import models as _schema  # noqa: F401  (the whole schema, for SQLAlchemy and Alembic)
from monev.admin.views import bp as admin_bp
from monev.api.views import bp as api_bp
from monev.audit import services as audit
from monev.audit.views import bp as audit_bp
from monev.auth.services import load_session_user
from monev.auth.views import bp as auth_bp
from monev.certificates.batch_views import bp as certificate_batches_bp
from monev.certificates.cli import register as register_certificates_cli
from monev.certificates.views import bp as certificates_bp
from monev.core import access, caching, errors_views, templating
from monev.core.database import configure_sqlite, reset_write_intent, set_write_intent
from monev.directory.views import bp as directory_bp
from monev.documents.views import bp as documents_bp
from monev.entries import standing
from monev.entries.nominations.views import bp as nominations_bp
from monev.entries.verification.views import bp as verification_bp
from monev.entries.workspace import reminders as _kim_reminders  # noqa: F401 (periodic job)
from monev.entries.workspace.views import bp as workspace_bp
from monev.events.views import bp as events_bp
from monev.extensions import babel, csrf, db, htmx, login_manager, migrate
from monev.judging.views import bp as judging_bp
from monev.judging.views import judge_bp, offline_bp, schedule_bp
from monev.lifecycle.views import bp as lifecycle_bp
from monev.notify.views import bp as notify_bp
from monev.public.views import bp as public_bp
from monev.regions.views import bp as regions_bp
from monev.results.cli import register as register_results_cli
from monev.results.views import bp as results_bp
from monev.results.views import kim_bp as results_kim_bp
from monev.results.views import public_bp as results_public_bp
from monev.rubrics.views import bp as rubrics_bp
from monev.signing import demo as signing_demo
from monev.storage.spool import UploadRequest
from monev.transfer.views import bp as transfer_bp

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(APP_FILES / "templates"),
        static_folder=str(APP_FILES / "static"),
        instance_path=os.environ.get("MONEV_INSTANCE_PATH") or _default_instance(),
    )
    env_name = (overrides or {}).get("ENV_NAME") or os.environ.get("MONEV_ENV", "development")
    if env_name not in CONFIGS:
        raise RuntimeError(f"MONEV_ENV must be one of {sorted(CONFIGS)}, not {env_name!r}")
    app.config.from_object(CONFIGS[env_name])
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    signing_demo.configure(app)
    app.request_class = UploadRequest  # uploads spooled to disk under their size limit
    _fill_defaults(app)
    _check_production(app)

    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=1)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(APP_FILES / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    _init_login(app)
    jobs.init_app(app)  # the background-job queue (Huey) and the ``worker`` command

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    _register_request_hooks(app)
    caching.init_app(app)  # after the hooks: its static-file headers are set first
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_cli(app)

    errors_views.register(app)
    ops.init_app(app)  # health, readiness, System page, doctor, backups, metrics
    return app


def _default_instance() -> str | None:
    """``instance/`` of the checkout; for an installed package Flask's own default,
    ``<venv>/var/monev-instance`` (the same whatever folder the server starts in)."""
    return None if INSTALLED else str(BASE_DIR / "instance")


def _fill_defaults(app: Flask) -> None:
    cfg = app.config
    instance = Path(app.instance_path)
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        cfg["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'monev.db'}"
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://") :]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://") :]
    cfg["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("postgresql"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            **cfg["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    cfg.setdefault("OUTBOX_DIR", None)
    cfg["OUTBOX_DIR"] = cfg["OUTBOX_DIR"] or str(instance / "outbox")
    cfg["STORAGE_DIR"] = cfg.get("STORAGE_DIR") or str(instance / "files")
    cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(days=cfg["SESSION_LIFETIME_DAYS"])
    cfg["SECRET_KEY_FROM_ENV"] = bool(cfg.get("SECRET_KEY"))
    if not cfg.get("SECRET_KEY") and cfg["ENV_NAME"] != "production":
        cfg["SECRET_KEY"] = _instance_secret(instance)


def _instance_secret(instance: Path) -> str:
    """A random key kept in ``instance/secret_key`` so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _check_production(app: Flask) -> None:
    if app.config["ENV_NAME"] != "production":
        return
    key = app.config.get("SECRET_KEY") or ""
    if app.debug or app.config.get("DEBUG"):
        raise RuntimeError("Refusing to start: debug mode is on in production (unset FLASK_DEBUG).")
    if len(key) < 32 or key in {"dev", "changeme", "secret"}:
        raise RuntimeError(
            "Refusing to start: set MONEV_SECRET_KEY to a random value of at least 32 "
            "characters (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )


def _select_locale() -> str:
    from flask import current_app, has_request_context

    languages = app_languages()
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _select_timezone() -> str:
    from flask import current_app

    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def app_languages() -> dict:
    from flask import current_app

    return current_app.config["LANGUAGES"]


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _write_intent():
        # Unsafe requests take SQLite's write lock when their transaction begins.
        g._write_token = set_write_intent(request.method not in SAFE_METHODS)

    app.before_request(access.enforce)
    # Who the audit log names when a service passes no actor: the signed-in user.
    app.extensions[audit.ACTOR_SOURCE] = access.signed_in_user

    @app.after_request
    def _finish(response):
        # One commit per request. Error answers roll back, except where a view asked to keep
        # what it recorded (a failed sign-in is counted even though the answer is an error);
        # a refused action answered with a redirect rolls back too (monev.core.views).
        keep = response.status_code < 400 or g.get("commit_on_error")
        if keep and not g.get("discard_changes"):
            db.session.commit()
        else:
            db.session.rollback()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        if response.mimetype == "text/html":
            response.vary.add("HX-Request")  # a fragment or the full page
        if current_user and current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    @app.teardown_request
    def _end(exc):
        if exc is not None:
            db.session.rollback()
        g.pop("commit_on_error", None)
        g.pop("discard_changes", None)
        token = g.pop("_write_token", None)
        if token is not None:
            reset_write_intent(token)


def _register_blueprints(app: Flask) -> None:
    for bp in (
        public_bp,
        auth_bp,
        admin_bp,
        audit_bp,
        directory_bp,
        regions_bp,
        events_bp,
        lifecycle_bp,
        rubrics_bp,
        nominations_bp,
        workspace_bp,
        verification_bp,
        transfer_bp,
        results_bp,
        results_public_bp,
        results_kim_bp,
        api_bp,
        judging_bp,
        judge_bp,
        schedule_bp,
        offline_bp,
        certificates_bp,
        certificate_batches_bp,
        documents_bp,
        notify_bp,
    ):
        app.register_blueprint(bp)


def _register_template_helpers(app: Flask) -> None:
    templating.register(app)
    app.jinja_env.filters["standing"] = standing.standing_of  # an entry's standing now


def _register_cli(app: Flask) -> None:
    cli.register(app)
    register_results_cli(app)
    register_certificates_cli(app)
