"""One settings file, every knob from the environment (see the contract's configuration table).

The helpers raise on a bad value so that a typo stops the process at start instead of
misbehaving later.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}")


def env_int(name, default, minimum=0):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_url(name, default, schemes):
    value = os.environ.get(name) or default
    if value and value.split("://", 1)[0] not in schemes:
        raise ImproperlyConfigured(f"{name} must start with one of {', '.join(s + '://' for s in schemes)}: {value!r}")
    return value


def secret_key(data_dir):
    """The key from VIGIL_SECRET_KEY, else one generated on first start and kept in the data dir."""
    if key := os.environ.get("VIGIL_SECRET_KEY"):
        return key
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not end up with two keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def database(url):
    config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0 if config["NAME"] == ":memory:" else 600
        config["OPTIONS"] = {
            # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN,
            # so two writers queue on busy_timeout instead of failing on a lock upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return config


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("VIGIL_DATA_DIR") or "./var").resolve()
DEBUG = env_bool("VIGIL_DEBUG")
SECRET_KEY = secret_key(DATA_DIR)
BASE_URL = env_url("VIGIL_BASE_URL", "http://127.0.0.1:8000", ["http", "https"]).rstrip("/")
SMTP_URL = env_url("VIGIL_SMTP_URL", "", ["smtp", "smtps"])
# How long a worker's claim on a notification lasts before another worker sends it again (the
# worker may have died). Keep it above the channels' 10 s timeout; the kill test shortens it.
SENDING_DEADLINE_SECONDS = env_int("VIGIL_SENDING_DEADLINE_SECONDS", 60, minimum=1)
# Uptime monitors (vigil/monitors): whether checks may reach private, loopback and link-local
# addresses (turn off on hosted installs), how many checks run at once per worker process, and
# how many days of check results are kept.
MONITOR_ALLOW_PRIVATE = env_bool("VIGIL_MONITOR_ALLOW_PRIVATE", True)
MONITOR_CONCURRENCY = env_int("VIGIL_MONITOR_CONCURRENCY", 32, minimum=1)
MONITOR_HISTORY_DAYS = env_int("VIGIL_MONITOR_HISTORY_DAYS", 30, minimum=1)
EMAIL_FROM = os.environ.get("VIGIL_EMAIL_FROM") or f"Vigil <vigil@{BASE_URL.split('://', 1)[1].split('/')[0].split(':')[0]}>"

# The base URL names the host users reach us by; loopback is always allowed for health checks.
ALLOWED_HOSTS = [BASE_URL.split("://", 1)[1].split("/", 1)[0].split(":")[0], "127.0.0.1", "localhost", "[::1]"]
if extra := os.environ.get("VIGIL_ALLOWED_HOSTS"):
    ALLOWED_HOSTS += [h.strip() for h in extra.split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [BASE_URL.split("/", 3)[0] + "//" + BASE_URL.split("/", 3)[2]]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BASE_URL.startswith("https") else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = BASE_URL.startswith("https")

DATABASES = {
    "default": database(os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'vigil.sqlite3'}"),
}
# `make test` runs on SQLite; the same suite runs on PostgreSQL when this is set
# (pytest-django creates and drops test_<name> on that server).
if os.environ.get("PYTEST_VERSION"):
    if os.environ.get("VIGIL_TEST_DATABASE_URL"):
        DATABASES["default"] = database(os.environ["VIGIL_TEST_DATABASE_URL"])
    else:
        # A file, not pytest-django's in-memory default: the tests then run on what users run (WAL).
        # One file per run, so that two runs side by side do not share (and delete) it.
        DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "vigil.accounts",
    "vigil.catalog",
    "vigil.oncall",
    "vigil.incidents",
    "vigil.paging",
    "vigil.alerts",
    "vigil.reviews",
    "vigil.heartbeats",
    "vigil.anomaly",
    "vigil.selfwatch",
    "vigil.comms",
    "vigil.sla",
    "vigil.timelog",
    "vigil.monitors",
    "vigil.statuspage",
    "vigil.logs",
    "vigil.web",
]

MIDDLEWARE = [
    "vigil.alerts.middleware.ingestion_fast_path",  # first: senders' requests skip the rest
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "vigil.web.middleware.content_security_policy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "vigil.accounts.audit.audit_channel",
]

ROOT_URLCONF = "vigil.urls"
WSGI_APPLICATION = "vigil.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incident-list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = 14 * 24 * 3600

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
# Served straight from the apps' static folders by WhiteNoise: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
