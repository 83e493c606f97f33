"""What ``flask --app monev doctor`` checks, one line each: OK with what was found, or FAIL
with what to do. Web servers run the same checks when they start and log them.

Each check is a function of the app's config (called inside an app context) that returns a
:class:`Result`; an exception inside a check is its failure, never the doctor's.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import text

from monev import jobs
from monev.extensions import db
from monev.storage import StorageError, get_storage

log = logging.getLogger("monev.doctor")
MAX_CLOCK_SKEW_SECONDS = 30
FONTS = (
    "noto-sans-latin-400-normal.ttf",
    "noto-sans-latin-700-normal.ttf",
    "noto-sans-latin-400-italic.ttf",
)


@dataclass
class Result:
    name: str
    ok: bool
    detail: str  # OK: what was found; FAIL: what is wrong and what to do

    def line(self) -> str:
        return f"{'OK  ' if self.ok else 'FAIL'}  {self.name:<9} {self.detail}"


def _ok(name: str, detail: str) -> Result:
    return Result(name, True, detail)


def _fail(name: str, detail: str) -> Result:
    return Result(name, False, detail)


def _production(config) -> bool:
    return config.get("ENV_NAME") == "production"


# --- the checks ------------------------------------------------------------------------------


def check_database(config, fix: bool) -> Result:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = db.engine.url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:
        return _fail(
            "database",
            f"cannot connect to {url}: {_first_line(exc)}. Check DATABASE_URL and that the "
            "database server is running.",
        )
    migrations = current_app.extensions["migrate"].directory
    script = ScriptDirectory(migrations)
    heads = set(script.get_heads())
    if current != heads:
        have = ", ".join(sorted(current)) or "empty"
        return _fail(
            "database",
            f"{url} is at revision {have}, this release needs {', '.join(sorted(heads))}: "
            "run `flask --app monev db upgrade`.",
        )
    return _ok("database", f"{url}, migrated to the head ({', '.join(sorted(heads))})")


def check_storage(config, fix: bool) -> Result:
    try:
        storage = get_storage()
        found = storage.check(fix=fix)
    except (StorageError, RuntimeError, OSError) as exc:
        what = "MONEV_S3_*" if config.get("STORAGE_BACKEND") == "s3" else "MONEV_STORAGE_DIR"
        return _fail("storage", f"{_first_line(exc)} (settings: {what})")
    return _ok("storage", f"{found}: writable")


def check_queue(config, fix: bool) -> Result:
    where = jobs.queue_where(config)
    if jobs.huey.immediate:
        return _ok("queue", "MONEV_HUEY_IMMEDIATE: jobs run inside the web request, no worker")
    try:
        depth = jobs.queue_depth()
    except Exception as exc:
        setting = "REDIS_URL" if config.get("REDIS_URL") else "MONEV_HUEY_SQLITE_PATH"
        return _fail(
            "queue",
            f"cannot reach the job queue at {where}: {_first_line(exc)}. Check {setting} "
            "and that Redis is running.",
        )
    if not config.get("REDIS_URL") and _production(config):
        return _ok(
            "queue",
            f"{where} ({depth} waiting); a SQLite queue serves workers on this machine "
            "only: set REDIS_URL for several machines",
        )
    return _ok("queue", f"{where} reachable, {depth} job(s) waiting")


def check_secret_key(config, fix: bool) -> Result:
    key = config.get("SECRET_KEY") or ""
    from_env = bool(config.get("SECRET_KEY_FROM_ENV"))
    if len(key) < 32:
        return _fail(
            "secret",
            "MONEV_SECRET_KEY is shorter than 32 characters: set it to "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`",
        )
    if not from_env and _production(config):
        return _fail("secret", "set MONEV_SECRET_KEY (the same value on every web server)")
    if not from_env:
        return _ok("secret", "generated into the instance folder (one machine only)")
    return _ok("secret", "MONEV_SECRET_KEY set")


def check_public_url(config, fix: bool) -> Result:
    url = config.get("PUBLIC_BASE_URL")
    if not url:
        if _production(config):
            return _fail(
                "url",
                "set MONEV_PUBLIC_URL to the address people open (https://…): links in "
                "e-mails and the QR codes on certificates are made from it",
            )
        return _ok("url", "MONEV_PUBLIC_URL unset: links use the address of each request")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _fail("url", f"MONEV_PUBLIC_URL={url!r} is not an http(s) address")
    if parts.scheme == "http" and config.get("SESSION_COOKIE_SECURE"):
        return _fail(
            "url",
            f"MONEV_PUBLIC_URL={url} is plain HTTP but cookies are HTTPS-only "
            "(MONEV_SECURE_COOKIES): nobody could sign in; use https://",
        )
    return _ok("url", url)


def check_fonts(config, fix: bool) -> Result:
    from monev.pdf.rendering import html_to_pdf

    folder = Path(current_app.static_folder) / "fonts" / "noto-sans"
    missing = [name for name in FONTS if not (folder / name).is_file()]
    if missing:
        return _fail("fonts", f"missing in {folder}: {', '.join(missing)} (reinstall Monev)")
    html = (
        '<style>@font-face { font-family: "MonevDoctor"; src: url("monev-asset:fonts/'
        f'noto-sans/{FONTS[0]}"); }} body {{ font-family: "MonevDoctor"; }}</style><p>Uji</p>'
    )
    try:
        embedded = _embedded_fonts(html_to_pdf(html))
    except Exception as exc:
        return _fail("fonts", f"WeasyPrint cannot render a PDF: {_first_line(exc)}")
    if not any(name.endswith("MonevDoctor") for name in embedded):
        return _fail(
            "fonts",
            f"the bundled Noto Sans was not embedded (found {sorted(embedded)}): check that "
            "WeasyPrint's libraries (Pango, HarfBuzz) are installed",
        )
    return _ok("fonts", f"Noto Sans in {folder}, PDFs render")


def _embedded_fonts(pdf: bytes) -> set[str]:
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        return {
            str(font.get("/BaseFont", ""))
            for page in document.pages
            for font in page.Resources.get("/Font", {}).values()
        }


def check_mail(config, fix: bool) -> Result:
    host = config.get("SMTP_HOST")
    if not host:
        outbox = config.get("OUTBOX_DIR")
        if _production(config):
            return _fail(
                "mail",
                f"no MONEV_SMTP_HOST: mail is only written to {outbox}, nobody receives "
                "invitations or sign-in links",
            )
        return _ok("mail", f"no SMTP server: mail is written to {outbox}")
    port = config.get("SMTP_PORT") or 587
    try:
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.ehlo()
            if config.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
    except Exception as exc:
        return _fail(
            "mail",
            f"cannot use the SMTP server {host}:{port}: {_first_line(exc)} "
            "(MONEV_SMTP_HOST, _PORT, _USER, _PASSWORD, _STARTTLS)",
        )
    return _ok("mail", f"SMTP {host}:{port} accepts us")


def check_signing(config, fix: bool) -> Result:
    """Electronic signatures (TTE): unset is fine (nothing is signed); configured, the key and
    certificate must load and the certificate must not have expired."""
    from monev.signing import trust

    status = trust.status(config)
    if not status.backend:
        return _ok("signing", "no signing configured: documents are not signed electronically")
    if status.error:
        return _fail("signing", f"{status.backend}: {status.error} (MONEV_SIGNING_*)")
    if status.cert is None:
        return _ok("signing", f"{status.backend}: the signatory's certificate is not known here")
    if status.expired:
        return _fail(
            "signing", f"the signing certificate ({status.cert.subject}) has expired: renew it"
        )
    soon = " — renew it soon" if status.expiring else ""
    return _ok(
        "signing",
        f"{status.backend}: {status.cert.subject}, {status.days_left} days left{soon}",
    )


def check_clock(config, fix: bool) -> Result:
    name = config.get("BABEL_DEFAULT_TIMEZONE") or ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return _fail("clock", f"MONEV_TIMEZONE={name!r} is not a time zone (e.g. Asia/Makassar)")
    skews = []
    try:
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                theirs = conn.scalar(text("SELECT now()"))
            skews.append(("database", _skew(theirs)))
        if config.get("REDIS_URL") and not jobs.huey.immediate:
            seconds, micros = jobs.huey.storage.conn.time()
            skews.append(("Redis", _skew(datetime.fromtimestamp(seconds + micros / 1e6, UTC))))
    except Exception as exc:
        log.debug("clock comparison skipped: %s", exc)
    wrong = [
        f"{where} {skew:+.0f} s" for where, skew in skews if abs(skew) > MAX_CLOCK_SKEW_SECONDS
    ]
    if wrong:
        return _fail(
            "clock",
            f"this machine's clock differs from {', '.join(wrong)}: run NTP "
            "(e.g. systemd-timesyncd) on every server",
        )
    compared = ", ".join(f"{where} {skew:+.1f} s" for where, skew in skews)
    now = datetime.now(ZoneInfo(name)).strftime("%Y-%m-%d %H:%M %Z")
    return _ok("clock", f"{now} ({name})" + (f"; compared with {compared}" if compared else ""))


def _skew(theirs: datetime) -> float:
    if theirs.tzinfo is None:
        theirs = theirs.replace(tzinfo=UTC)
    return (theirs - datetime.now(UTC)).total_seconds()


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip() or type(exc).__name__
    return text_.splitlines()[0][:300]


CHECKS: list[Callable] = [
    check_database,
    check_storage,
    check_queue,
    check_secret_key,
    check_public_url,
    check_fonts,
    check_mail,
    check_signing,
    check_clock,
]


def run(fix: bool = False) -> list[Result]:
    """Every check, in order (inside an app context)."""
    config = current_app.config
    results = []
    for check in CHECKS:
        started = time.monotonic()
        try:
            result = check(config, fix)
        except Exception as exc:  # a check that breaks is a failed check
            name = check.__name__.removeprefix("check_")
            result = _fail(name, f"the check itself failed: {_first_line(exc)}")
        log.debug("%s took %.0f ms", check.__name__, (time.monotonic() - started) * 1000)
        results.append(result)
    return results


def log_startup(app) -> list[Result]:
    """Run the checks when a web server starts and log them (never stops the start)."""
    with app.app_context():
        try:
            results = run()
        except Exception:
            log.exception("The start-up checks could not run")
            return []
        finally:
            db.session.remove()
            db.engine.dispose()  # a gunicorn master forks its workers after this
    for result in results:
        (log.info if result.ok else log.warning)("doctor: %s", result.line())
    failed = [r.name for r in results if not r.ok]
    if failed:
        log.warning(
            "doctor: %d check(s) failed (%s): run `flask --app monev doctor`",
            len(failed),
            ", ".join(failed),
        )
    return results
