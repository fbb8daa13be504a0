"""Every setting comes from the environment (SUSTAIN_*, DATABASE_URL, REDIS_URL)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("SUSTAIN_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SUSTAIN_SECRET_KEY, or a key generated once and kept in the data directory."""
    if key := os.environ.get("SUSTAIN_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("SUSTAIN_DEBUG")
ALLOWED_HOSTS = _env_list("SUSTAIN_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("SUSTAIN_CSRF_TRUSTED_ORIGINS", "")
BASE_URL = os.environ.get("SUSTAIN_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # its Swagger UI from our static files (otherwise from a CDN), no inline script
    "huey.contrib.djhuey",
    "axes",
    "sustain.core",
    "sustain.accounts",
    "sustain.cmdb",
    "sustain.desk",
    "sustain.sla",
    "sustain.mail",
    "sustain.reports",
    "sustain.notifications",
    "sustain.hooks",
    "sustain.bugs",
    "sustain.releases",
    "sustain.monitoring",
    "sustain.demo",
]

MIDDLEWARE = [
    "sustain.monitoring.middleware.RequestLatencyMiddleware",  # first: times the whole answer
    "sustain.core.client.ForwardedHeadersMiddleware",  # X-Forwarded-* from trusted proxies only
    "django.middleware.security.SecurityMiddleware",
    "sustain.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sustain.core.middleware.RequestIdMiddleware",
    "sustain.core.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sustain.core.middleware.UserTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
    "sustain.core.middleware.IdempotencyMiddleware",
]

ROOT_URLCONF = "sustain.urls"
WSGI_APPLICATION = "sustain.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": [
                "sustain.core.templatetags.sustain_tags",
                "sustain.sla.templatetags.sla_tags",
                "sustain.desk.templatetags.desk_tags",
            ],
        },
    },
]

# SQLite by default: WAL so readers never wait for the writer, IMMEDIATE transactions
# so two writers queue on the busy timeout instead of failing with "database is locked".
SQLITE_PATH = DATA_DIR / "sustain.sqlite3"
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            # Kept open between requests, as on PostgreSQL: opening one and running its
            # PRAGMAs was ~6 % of a web worker's time when opening tickets.
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-64000;"
                    "PRAGMA mmap_size=268435456;"
                    "PRAGMA temp_store=MEMORY;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: five failures for one account from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("SUSTAIN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "sustain.accounts.throttling.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "sustain.accounts.throttling.locked_out"  # our page, saying until when

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "sustain.core.package_static.PackageFileFinder",
]
# Served from the installed package itself (core/package_static.py): plotly.js for the charts.
PACKAGE_STATIC = {"vendor/plotly.min.js": ("plotly", "package_data/plotly.min.js")}
MEDIA_ROOT = DATA_DIR / "attachments"
MEDIA_URL = "/attachments/"

# Attachments: the largest accepted upload and the content types accepted.
ATTACHMENT_MAX_BYTES = int(os.environ.get("SUSTAIN_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Background work: SqliteHuey in the data directory, or RedisHuey when REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "sustain", "url": REDIS_URL, "immediate": False}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "sustain",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": False,
    }
HUEY["consumer"] = {
    "workers": int(os.environ.get("SUSTAIN_WORKER_THREADS", "2")),
    "worker_type": "thread",
}

# Outgoing e-mail: SMTP when SUSTAIN_SMTP_HOST is set, otherwise files in the data directory.
DEFAULT_FROM_EMAIL = os.environ.get("SUSTAIN_FROM_EMAIL", "Sustain <support@sustain.localhost>")
if os.environ.get("SUSTAIN_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["SUSTAIN_SMTP_HOST"]
    EMAIL_PORT = int(os.environ.get("SUSTAIN_SMTP_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("SUSTAIN_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("SUSTAIN_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = _env_bool("SUSTAIN_SMTP_STARTTLS")
    EMAIL_USE_SSL = _env_bool("SUSTAIN_SMTP_SSL")
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "sent-mail"

# Inbound e-mail (sustain mail ingest | serve | fetch). A mail from someone nobody knows, or a
# reply from outside the ticket's organization: "hold" keeps it for an agent to review, "open"
# opens a new ticket (in the sender's organization, or SUSTAIN_MAIL_DEFAULT_ORGANIZATION).
MAIL_UNKNOWN = os.environ.get("SUSTAIN_MAIL_UNKNOWN", "hold").strip().lower()
if MAIL_UNKNOWN not in {"hold", "open"}:
    raise ValueError("SUSTAIN_MAIL_UNKNOWN must be hold or open")
MAIL_DEFAULT_ORGANIZATION = os.environ.get("SUSTAIN_MAIL_DEFAULT_ORGANIZATION", "").strip()
MAIL_MAX_BYTES = int(os.environ.get("SUSTAIN_MAIL_MAX_BYTES", str(40 * 1024 * 1024)))
MAIL_DIR = DATA_DIR / "mail"

# Who a mail is from (mail/authentication.py). Authentication-Results headers count only from
# the receiving server(s) named here (their authserv-id, comma-separated; empty: trust none);
# without them Sustain verifies DKIM itself. A mail with no authentication information at all
# (no signature, no DMARC policy of its domain) is accepted or held; agents must always pass.
MAIL_TRUSTED_AUTHSERV_IDS = [
    a.strip().lower()
    for a in os.environ.get("SUSTAIN_MAIL_TRUSTED_AUTHSERV_ID", "").split(",")
    if a.strip()
]
MAIL_UNAUTHENTICATED = os.environ.get("SUSTAIN_MAIL_UNAUTHENTICATED", "accept").strip().lower()
if MAIL_UNAUTHENTICATED not in {"hold", "accept"}:
    raise ValueError("SUSTAIN_MAIL_UNAUTHENTICATED must be hold or accept")
# Notifications to customers carry a signed reply address (support+r-…@); off when the mail
# server does not deliver sub-addresses to the base mailbox.
MAIL_REPLY_TOKENS = _env_bool("SUSTAIN_MAIL_REPLY_TOKENS", True)
# The TXT lookup for DKIM keys and DMARC policies: a dotted path to `f(name, timeout) -> bytes
# | None`; empty for dnspython (the tests set an offline one).
MAIL_DNS_RESOLVER = os.environ.get("SUSTAIN_MAIL_DNS_RESOLVER", "").strip()

# The outbox: how long a worker holds a message it is delivering before another may take it
# (a worker killed mid-delivery). Keep it well above SUSTAIN_WEBHOOK_TIMEOUT.
OUTBOX_LEASE_SECONDS = int(os.environ.get("SUSTAIN_OUTBOX_LEASE_SECONDS", "300"))
# Webhooks: seconds a receiver has to answer; failures in a row before a subscription is disabled.
WEBHOOK_TIMEOUT = float(os.environ.get("SUSTAIN_WEBHOOK_TIMEOUT", "10"))
WEBHOOK_FAILURE_LIMIT = int(os.environ.get("SUSTAIN_WEBHOOK_FAILURE_LIMIT", "10"))


def _env_networks(name: str) -> tuple[str, ...]:
    import ipaddress

    try:
        return tuple(str(ipaddress.ip_network(n)) for n in _env_list(name, ""))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


# Outbound requests (core.outbound: webhooks, later probes and scrapes) reach public addresses
# only, and these networks an administrator allows on purpose (an on-premises receiver), for
# example "10.20.0.0/16,192.168.5.7/32". Empty by default.
OUTBOUND_ALLOW_NETWORKS = _env_networks("SUSTAIN_OUTBOUND_ALLOW_NETWORKS")
# Deployments: an open incident is resolved when the fix for its bug reaches its environment.
RESOLVE_INCIDENTS_ON_FIX = _env_bool("SUSTAIN_RESOLVE_INCIDENTS_ON_FIX", True)
# Bugs: a regression (a verified or closed bug back again) raises its priority one step.
REGRESSION_RAISES_PRIORITY = _env_bool("SUSTAIN_REGRESSION_RAISES_PRIORITY", True)

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SUSTAIN_LOG_LEVEL", "WARNING")},
}

# --- Security: secrets at rest, HTTPS, Content-Security-Policy, client addresses -------------
# Sealing keys (Fernet): comma-separated, the first seals, every one still opens (so a rotation
# can keep the old key until `sustain secrets rotate` has re-sealed everything). Without them,
# a key file in the data directory (created 0600 on first use). Keep either apart from database
# backups: with the database alone nobody can read the mailbox passwords or webhook secrets.
SEALING_KEYS = _env_list("SUSTAIN_SEALING_KEYS", "")
SEALING_KEY_FILE = Path(os.environ.get("SUSTAIN_SEALING_KEY_FILE", str(DATA_DIR / "sealing_keys")))

# Content-Security-Policy on every answer: sustain.core.csp (scripts from our own files only).

# Behind TLS (SUSTAIN_HTTPS=1): cookies only over HTTPS, and HSTS for SUSTAIN_HSTS_SECONDS.
HTTPS = _env_bool("SUSTAIN_HTTPS")
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SUSTAIN_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SUSTAIN_HSTS_INCLUDE_SUBDOMAINS")
    SECURE_SSL_REDIRECT = _env_bool("SUSTAIN_SSL_REDIRECT")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Reverse proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are
# believed; nobody else's are. Empty: the client address is REMOTE_ADDR.
TRUSTED_PROXIES = _env_list("SUSTAIN_TRUSTED_PROXIES", "")
if TRUSTED_PROXIES:
    # The proxy sets X-Forwarded-Proto (replacing any the client sent); ForwardedHeadersMiddleware
    # drops the header from anyone else, so it tells whether the visitor came over HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
AXES_CLIENT_IP_CALLABLE = "sustain.core.client.client_address"  # login throttle: same address

# Failed bearer tokens: this many from one address (an IPv6 /64) within the window (seconds)
# and its bearer requests get 429 with Retry-After until the window has passed.
TOKEN_FAILURE_LIMIT = int(os.environ.get("SUSTAIN_TOKEN_FAILURE_LIMIT", "20"))
TOKEN_FAILURE_WINDOW = int(os.environ.get("SUSTAIN_TOKEN_FAILURE_WINDOW", "300"))

# Idempotency-Key records of API POSTs are kept this long, then purged by the worker (hourly):
# a retry with the same key within it gets the first answer.
IDEMPOTENCY_RETENTION_HOURS = float(os.environ.get("SUSTAIN_IDEMPOTENCY_RETENTION_HOURS", "24"))

# Configuration documents (cmdb.configs): the largest document kept, and the keys whose values
# are masked for anyone but admins (views, diffs, the API; a case-insensitive regex).
CONFIG_MAX_BYTES = int(os.environ.get("SUSTAIN_CONFIG_MAX_BYTES", str(1024 * 1024)))
CONFIG_SECRET_KEYS = os.environ.get(
    "SUSTAIN_CONFIG_SECRET_KEYS",
    r"pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|auth",
)

# /metrics (monitoring/exposition.py): a bearer token (this one, or any live machine token), or
# a client address inside these networks.
METRICS_TOKEN = os.environ.get("SUSTAIN_METRICS_TOKEN", "")
METRICS_ALLOW = _env_list("SUSTAIN_METRICS_ALLOW", "127.0.0.1/32,::1")

# Metric series (monitoring/series.py): at most this many per organization (a label with
# unbounded values is refused, not stored), and the bounds of one delivery of samples (JSON
# batch or OTLP; the body's size counts after gzip is undone).
MAX_SERIES_PER_ORG = int(os.environ.get("SUSTAIN_MAX_SERIES_PER_ORG", "10000"))
METRICS_MAX_BODY = int(os.environ.get("SUSTAIN_METRICS_MAX_BODY", str(8 * 1024 * 1024)))
METRICS_MAX_SAMPLES = int(os.environ.get("SUSTAIN_METRICS_MAX_SAMPLES", "50000"))
# OTLP batches one process ingests at once; more are answered 429 with Retry-After.
METRICS_CONCURRENCY = int(os.environ.get("SUSTAIN_METRICS_CONCURRENCY", "4"))
# Probes (monitoring.probes): how many run at once in a worker process, how long their results
# are kept, and an extra CA bundle (PEM) HTTPS probes trust besides the system's (an internal CA).
PROBE_CONCURRENCY = int(os.environ.get("SUSTAIN_PROBE_CONCURRENCY", "16"))
PROBE_RESULT_DAYS = int(os.environ.get("SUSTAIN_PROBE_RESULT_DAYS", "35"))
PROBE_CA_FILE = os.environ.get("SUSTAIN_PROBE_CA_FILE", "").strip()
# Scrape jobs (monitoring.scrape_runs): how many run at once in a worker process, and the
# largest answer read (a larger one is refused, and the scrape counts as failed).
SCRAPE_CONCURRENCY = int(os.environ.get("SUSTAIN_SCRAPE_CONCURRENCY", "4"))
SCRAPE_MAX_BYTES = int(os.environ.get("SUSTAIN_SCRAPE_MAX_BYTES", str(16 * 1024 * 1024)))
# Metric rollups (monitoring.rollups): raw samples, 1-minute and 1-hour rollups kept this long.
METRICS_RAW_DAYS = int(os.environ.get("SUSTAIN_METRICS_RAW_DAYS", "7"))
METRICS_MINUTE_DAYS = int(os.environ.get("SUSTAIN_METRICS_MINUTE_DAYS", "35"))
METRICS_HOUR_DAYS = int(os.environ.get("SUSTAIN_METRICS_HOUR_DAYS", "400"))
