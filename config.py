"""Settings, read from environment variables.

Every setting is documented in README.md ("Configuration"); the background-job settings
(``HUEY_*``, ``CERTIFICATE_BATCH_*``) are also described beside them below. ``create_app``
picks the class by ``MONEV_ENV`` (``development`` by default, ``production`` or
``testing``); anything passed to ``create_app(overrides)`` wins over the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
# The app's templates, static files, migrations and translations: beside this file in a
# checkout (and an editable install); inside the package when it is installed from a wheel
# (``pip install .``: setup.py copies them into ``monev/bundled`` and compiles the catalogs).
_BUNDLED = BASE_DIR / "monev" / "bundled"
INSTALLED = _BUNDLED.is_dir()
APP_FILES = _BUNDLED if INSTALLED else BASE_DIR


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value is not None else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    ENV_NAME = "development"
    DEBUG = False
    TESTING = False

    # Filled in by create_app from MONEV_SECRET_KEY, or generated into the instance folder.
    SECRET_KEY = env("MONEV_SECRET_KEY") or env("SECRET_KEY")

    # Database: SQLite in the instance folder unless DATABASE_URL is given.
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLITE_BUSY_TIMEOUT_MS = env_int("MONEV_SQLITE_BUSY_TIMEOUT_MS", 15000)

    REDIS_URL = env("REDIS_URL")

    # Background jobs (Huey): a SQLite queue file (default <instance>/huey.db), or Redis when
    # REDIS_URL is set (queue HUEY_NAME); HUEY_IMMEDIATE runs tasks at once, in the app.
    HUEY_SQLITE_PATH = env("MONEV_HUEY_SQLITE_PATH")
    HUEY_NAME = env("MONEV_HUEY_NAME", "monev")
    HUEY_IMMEDIATE = env_bool("MONEV_HUEY_IMMEDIATE", False)
    # Certificate batches: certificates rendered per step, and after how long without a
    # heartbeat a running batch counts as abandoned (its worker died) and is resumed.
    CERTIFICATE_BATCH_CHUNK = env_int("MONEV_CERTIFICATE_BATCH_CHUNK", 100)
    # Worker processes a batch step is rendered in (bench/certificates.py); 1 = in-process.
    CERTIFICATE_PROCESSES = env_int("MONEV_CERTIFICATE_PROCESSES", min(2, os.cpu_count() or 1))
    CERTIFICATE_BATCH_STALE_SECONDS = env_int("MONEV_CERTIFICATE_BATCH_STALE_SECONDS", 120)
    # Workers write a heartbeat this often (alive while the last is younger than 4 of them);
    # a job queued this long while no worker is alive is shown as "no worker is running".
    WORKER_HEARTBEAT_SECONDS = env_int("MONEV_WORKER_HEARTBEAT_SECONDS", 15)
    JOBS_WAIT_SECONDS = env_int("MONEV_JOBS_WAIT_SECONDS", 30)

    # Electronic signatures (TTE; README "Tanda tangan elektronik"). No backend: unsigned.
    # MONEV_SIGNING_BACKEND: pkcs12 (the default when MONEV_SIGNING_PKCS12 is set), pkcs11 or
    # remote (a BSrE-style service; the signer types NIK and passphrase at signing time).
    SIGNING_BACKEND = env("MONEV_SIGNING_BACKEND", "")
    SIGNING_PKCS12 = env("MONEV_SIGNING_PKCS12")
    SIGNING_PKCS12_PASSPHRASE = env("MONEV_SIGNING_PKCS12_PASSPHRASE")
    SIGNING_PKCS11_MODULE = env("MONEV_SIGNING_PKCS11_MODULE")
    SIGNING_PKCS11_TOKEN = env("MONEV_SIGNING_PKCS11_TOKEN")
    SIGNING_PKCS11_KEY = env("MONEV_SIGNING_PKCS11_KEY")
    SIGNING_PKCS11_PIN = env("MONEV_SIGNING_PKCS11_PIN")
    SIGNING_REMOTE_URL = env("MONEV_SIGNING_REMOTE_URL")
    SIGNING_REMOTE_USER = env("MONEV_SIGNING_REMOTE_USER")
    SIGNING_REMOTE_PASSWORD = env("MONEV_SIGNING_REMOTE_PASSWORD")
    SIGNING_REMOTE_CERT = env("MONEV_SIGNING_REMOTE_CERT")  # PEM, to show its subject/expiry
    SIGNING_TSA_URL = env("MONEV_SIGNING_TSA_URL")  # RFC 3161: PAdES B-T instead of B-B
    SIGNING_LOCATION = env("MONEV_SIGNING_LOCATION", "")
    SIGNING_TIMEOUT_SECONDS = env_int("MONEV_SIGNING_TIMEOUT_SECONDS", 30)
    # A PDF uploaded to /verify to check its signature (MB).
    VERIFY_MAX_MB = env_int("MONEV_VERIFY_MAX_MB", 10)

    # Sessions and cookies.
    SESSION_COOKIE_NAME = "monev_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("MONEV_SECURE_COOKIES", False)
    SESSION_LIFETIME_DAYS = env_int("MONEV_SESSION_DAYS", 14)
    WTF_CSRF_TIME_LIMIT = None  # tied to the session; judges keep sheets open for hours

    # Language: Bahasa Indonesia by default, English selectable.
    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = env("MONEV_TIMEZONE", "Asia/Makassar")  # WITA
    LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
    BABEL_TRANSLATION_DIRECTORIES = str(APP_FILES / "translations")

    # Login throttling: failures counted in the database, shared by all workers.
    # Failed sign-ins per account *from one address* (a stranger elsewhere cannot lock the
    # owner out), per address, and per account from all addresses together (a slow,
    # distributed guesser); the owner can always sign in from a link mailed to the account.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("MONEV_LOGIN_MAX_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("MONEV_LOGIN_MAX_PER_ADDRESS", 20)
    LOGIN_MAX_FAILURES_ACCOUNT_TOTAL = env_int("MONEV_LOGIN_MAX_ACCOUNT_TOTAL", 100)
    LOGIN_WINDOW_MINUTES = env_int("MONEV_LOGIN_WINDOW_MINUTES", 15)
    LOGIN_LINK_MINUTES = env_int("MONEV_LOGIN_LINK_MINUTES", 15)

    # Token lifetimes.
    PASSWORD_RESET_HOURS = env_int("MONEV_RESET_HOURS", 2)
    INVITATION_DAYS = env_int("MONEV_INVITATION_DAYS", 14)

    # Outgoing mail: SMTP when MONEV_SMTP_HOST is set, otherwise files in the outbox folder.
    SMTP_HOST = env("MONEV_SMTP_HOST")
    SMTP_PORT = env_int("MONEV_SMTP_PORT", 587)
    SMTP_USER = env("MONEV_SMTP_USER")
    SMTP_PASSWORD = env("MONEV_SMTP_PASSWORD")
    SMTP_STARTTLS = env_bool("MONEV_SMTP_STARTTLS", True)
    MAIL_FROM = env("MONEV_MAIL_FROM", "Monev KIM <noreply@monev.local>")
    OUTBOX_DIR = env("MONEV_OUTBOX_DIR")  # default: <instance>/outbox

    # WhatsApp through an HTTP gateway (monev/notify/channels.py): unset URL = no WhatsApp.
    WHATSAPP_URL = env("MONEV_WHATSAPP_URL")
    WHATSAPP_TOKEN = env("MONEV_WHATSAPP_TOKEN")
    WHATSAPP_AUTH_HEADER = env("MONEV_WHATSAPP_AUTH_HEADER", "Authorization")
    WHATSAPP_AUTH_PREFIX = env("MONEV_WHATSAPP_AUTH_PREFIX", "")
    WHATSAPP_BODY = env("MONEV_WHATSAPP_BODY")  # JSON with {phone} and {message}
    WHATSAPP_FORMAT = env("MONEV_WHATSAPP_FORMAT", "json")  # or "form"

    # Absolute base URL used in e-mails and QR codes (e.g. https://monev.kaltimprov.go.id).
    PUBLIC_BASE_URL = env("MONEV_PUBLIC_URL")

    STORAGE_DIR = env("MONEV_STORAGE_DIR")  # default: <instance>/files
    # Evidence files: "local" (STORAGE_DIR) or "s3" (an S3-compatible bucket).
    STORAGE_BACKEND = env("MONEV_STORAGE_BACKEND", "local")
    S3_ENDPOINT_URL = env("MONEV_S3_ENDPOINT_URL")  # e.g. http://127.0.0.1:8333 (SeaweedFS)
    S3_BUCKET = env("MONEV_S3_BUCKET")
    S3_PREFIX = env("MONEV_S3_PREFIX", "")
    S3_REGION = env("MONEV_S3_REGION", "us-east-1")
    S3_ACCESS_KEY = env("MONEV_S3_ACCESS_KEY")
    S3_SECRET_KEY = env("MONEV_S3_SECRET_KEY")
    STORAGE_SPOOL_DIR = env("MONEV_STORAGE_SPOOL_DIR")  # s3 only; default: the system temp dir
    # The storage janitor removes spool files, unfinished multipart uploads and stored files no
    # row refers to once they are this old (``flask --app monev storage sweep``).
    SWEEP_AGE_HOURS = env_int("MONEV_SWEEP_AGE_HOURS", 24)
    # Upload limits per file, enforced while the file arrives (the body cap follows them).
    MAX_UPLOAD_MB = env_int("MONEV_MAX_UPLOAD_MB", 50)
    MAX_VIDEO_MB = env_int("MONEV_MAX_VIDEO_MB", 500)
    MAX_IMAGE_PIXELS = env_int("MONEV_MAX_IMAGE_PIXELS", 40_000_000)
    # A field visit photo taken farther than this from the KIM's coordinates is flagged.
    VISIT_PHOTO_FAR_M = env_int("MONEV_VISIT_PHOTO_FAR_M", 500)
    # ClamAV daemon: a unix socket path or host:port; unset = no virus scan.
    CLAMD_ADDRESS = env("MONEV_CLAMD_ADDRESS")
    DEMO_PASSWORD = env("MONEV_DEMO_PASSWORD", "monev-demo")

    LOG_LEVEL = env("MONEV_LOG_LEVEL", "INFO")
    # Prometheus scrapes /metrics with "Authorization: Bearer <token>"; unset = no /metrics.
    METRICS_TOKEN = env("MONEV_METRICS_TOKEN")

    # Trust X-Forwarded-For from this many proxies (0 = use the socket address).
    PROXY_COUNT = env_int("MONEV_PROXY_COUNT", 0)

    # The progress board: a poll may get a render of the board up to this many seconds old
    # instead of a new one (monev/judging/renders.py); 0 renders every new version.
    BOARD_REUSE_SECONDS = float(env("MONEV_BOARD_REUSE_SECONDS", "2"))


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = env_bool("FLASK_DEBUG", False)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = env("MONEV_TEST_DATABASE_URL")
    WTF_CSRF_ENABLED = True
    SERVER_NAME = None
    HUEY_IMMEDIATE = env_bool("MONEV_HUEY_IMMEDIATE", True)  # jobs run inside the test
    CERTIFICATE_PROCESSES = 1  # no worker processes unless a test asks for them
    # Nothing is signed unless a test configures a backend (never the developer's own).
    SIGNING_BACKEND = ""
    SIGNING_PKCS12 = None
    SIGNING_TSA_URL = None
    BOARD_REUSE_SECONDS = 0.0  # every poll sees the newest version (a test may set it)
    # A cheap Argon2id (the production parameters take about half a second per hash); one
    # test pins the production parameters.
    ARGON2_PARAMETERS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = env_bool("MONEV_SECURE_COOKIES", True)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
