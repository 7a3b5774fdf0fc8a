"""Promise Desk settings: one module, every deployment difference read from the environment.

With nothing set, the project runs on embedded defaults (SQLite file, a Celery broker on the
filesystem, local-memory cache, console email) so ``make run`` needs no server. Production
(``ENVIRONMENT=production``) refuses to start with DEBUG on or an insecure SECRET_KEY.
Every variable is documented in ``.env.example``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import Env

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime state for the embedded defaults: SQLite file, broker folder, uploads, beat schedule.
DATA_DIR = Path(env.string("DATA_DIR", str(BASE_DIR / "var"))).resolve()

ENVIRONMENT = env.choice("ENVIRONMENT", "development", {"development", "test", "production"})
IS_PRODUCTION = ENVIRONMENT == "production"

_INSECURE_KEY = "django-insecure-promise-desk-development-key-never-use-in-production"
SECRET_KEY = env.string("SECRET_KEY", _INSECURE_KEY)
DEBUG = env.boolean("DEBUG", default=ENVIRONMENT == "development")
ALLOWED_HOSTS = env.comma_list(
    "ALLOWED_HOSTS", [] if IS_PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.comma_list("CSRF_TRUSTED_ORIGINS", [])

if IS_PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when ENVIRONMENT=production.")
    if (
        SECRET_KEY == _INSECURE_KEY
        or SECRET_KEY.startswith("django-insecure")
        or len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
    ):
        raise ImproperlyConfigured(
            "SECRET_KEY is insecure for ENVIRONMENT=production: set at least 50 random characters, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names when ENVIRONMENT=production.")
    if not env.is_set("SITE_URL"):
        raise ImproperlyConfigured("SITE_URL must be set when ENVIRONMENT=production: links in emails use it.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "csp",
    "axes",
    "customers",
    "tickets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "helpdesk.middleware.ViewerTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A NUL in the path or query string refused (404, 400), with the headers above and before any view.
    "helpdesk.input.RefuseNulMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

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
                "tickets.context_processors.desk",
            ],
        },
    },
    {
        # Email subjects and plain-text bodies (tickets.emails asks for it by name): not HTML, so nothing is
        # HTML-escaped. It sees only templates/, which the engine above searches first, so a template looked
        # up without naming an engine is always rendered escaped.
        "NAME": "email_text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"autoescape": False},
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'promisedesk.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside one writer, IMMEDIATE
    # transactions take the write lock up front instead of failing half-way with "locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    # A server that does not answer at all (a host gone, a network cut) fails a new connection within this many
    # seconds: the request is a 503 (helpdesk.api.errors.server_error), not a wait until gunicorn kills the
    # worker. A connect_timeout in DATABASE_URL's query string wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # Behind a pooler in transaction mode (PgBouncer's), a server connection is ours for one transaction only:
    # each request opens and closes its connection at the pooler, and a long read goes in chunks of ordinary
    # queries, not through a server-side cursor, which outlives its transaction.
    if env.boolean("DATABASE_TRANSACTION_POOLER", False):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env.url("REDIS_URL", "", schemes={"redis", "rediss"}) if env.is_set("REDIS_URL") else ""
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # The cache holds only the rate limits, each with its rule for when Redis cannot count (pause the
            # form, or let a status link through: helpdesk/ratelimit.py). A Redis that hangs must not hold a
            # request for longer than this before that rule applies.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Auth -----------------------------------------------------------------------------------
# Django's sessions in the database; a cookie that could not be a session key is no session (helpdesk/sessions.py).
SESSION_ENGINE = "helpdesk.sessions"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk:queue"
LOGOUT_REDIRECT_URL = "login"
# Sign-in (the desk's and the admin's) is locked for a username from an address after repeated failures,
# until the cool-off ends (django-axes; the failures are rows in its tables). Per username *and* address, so
# nobody can lock a colleague out from elsewhere; a correct sign-in clears the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.integer("SIGN_IN_FAILURE_LIMIT", 5, min_value=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("SIGN_IN_COOLOFF_MINUTES", 15, min_value=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "helpdesk.clients.sign_in_address"
AXES_LOCKOUT_CALLABLE = "helpdesk.clients.locked_out"

# --- Time and language ----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
# Uploads (customer attachments) live outside the web root and are served only through views
# that check permission; there is deliberately no MEDIA_URL route.
MEDIA_ROOT = Path(env.string("MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.string("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.string("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 25, min_value=1, max_value=65535)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.boolean("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set at most one of them.")
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 10, min_value=1)
EMAIL_FILE_PATH = env.string("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "Promise Desk <support@promisedesk.localhost>")
SERVER_EMAIL = env.string("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Absolute address of the site, for links in emails (the status link).
SITE_URL = env.url("SITE_URL", "http://127.0.0.1:8000", schemes={"http", "https"}).rstrip("/")

# --- Celery ---------------------------------------------------------------------------------
# The default broker is Kombu's filesystem transport: a folder of message files that the web
# process, worker and beat share, so the embedded setup needs no broker server.
CELERY_BROKER_URL = env.url("CELERY_BROKER_URL", "filesystem://", schemes={"filesystem", "redis", "rediss", "amqp"})
BROKER_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = env.string("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ACKS_LATE = True  # a task lost with its worker is redelivered; every task is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task running past the soft limit gets SoftTimeLimitExceeded; past the hard limit its process is killed.
# Celery puts the limits of the process that queues a task into its message, and the worker obeys those.
CELERY_TASK_SOFT_TIME_LIMIT = env.integer("TASK_SOFT_TIME_LIMIT_SECONDS", 60, min_value=1)
CELERY_TASK_TIME_LIMIT = env.integer("TASK_TIME_LIMIT_SECONDS", 90, min_value=2)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        "TASK_TIME_LIMIT_SECONDS must be more than TASK_SOFT_TIME_LIMIT_SECONDS: the soft limit warns a task "
        "before the hard limit kills it."
    )
# An outbox drain stops claiming emails after this many seconds, leaving room before the soft limit for the
# send in progress to wait out EMAIL_TIMEOUT twice (connecting, then the server's answer to the message).
OUTBOX_DRAIN_SECONDS = CELERY_TASK_SOFT_TIME_LIMIT - 2 * EMAIL_TIMEOUT
if OUTBOX_DRAIN_SECONDS < 1:
    raise ImproperlyConfigured(
        f"TASK_SOFT_TIME_LIMIT_SECONDS ({CELERY_TASK_SOFT_TIME_LIMIT}) must be more than twice EMAIL_TIMEOUT "
        f"({EMAIL_TIMEOUT}): an email drain needs time to send at least one email before its soft limit."
    )
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# A failed email waits this long before its next try, twice as long each time after (up to an hour).
EMAIL_RETRY_FIRST_SECONDS = env.integer("EMAIL_RETRY_FIRST_SECONDS", 60, min_value=1, max_value=3600)

# --- The promise engine ---------------------------------------------------------------------
# How often the sweep looks for promises entering their warning window or lapsing.
PROMISE_SWEEP_INTERVAL = env.integer("PROMISE_SWEEP_INTERVAL_SECONDS", 30, min_value=1, max_value=3600)
# Warning window: max(PROMISE_WARN_MIN, PROMISE_WARN_FRACTION x promise span); categories may override.
PROMISE_WARN_MIN = env.minutes("PROMISE_WARN_MIN", 30, min_value=0)
PROMISE_WARN_FRACTION = env.number("PROMISE_WARN_FRACTION", 0.2, min_value=0.0, max_value=1.0)
# The overpromise guard's estimate (tickets/estimates): this percentile of the time still to run, from a survival
# estimate over a recent window of tickets that starts at WINDOW_DAYS and doubles, up to LOOKBACK_DAYS, until it
# holds MIN_SAMPLE resolved tickets; thinner groups fall back to coarser ones (docs/estimates.md).
PROMISE_ESTIMATE_PERCENTILE = env.number("PROMISE_ESTIMATE_PERCENTILE", 0.8, min_value=0.5, max_value=0.99)
PROMISE_ESTIMATE_WINDOW_DAYS = env.integer("PROMISE_ESTIMATE_WINDOW_DAYS", 28, min_value=1, max_value=3650)
PROMISE_ESTIMATE_LOOKBACK_DAYS = env.integer("PROMISE_ESTIMATE_LOOKBACK_DAYS", 365, min_value=1, max_value=3650)
PROMISE_ESTIMATE_MIN_SAMPLE = env.integer("PROMISE_ESTIMATE_MIN_SAMPLE", 30, min_value=1)
# Longest a promise may reach into the future.
PROMISE_MAX_HORIZON_DAYS = env.integer("PROMISE_MAX_HORIZON_DAYS", 30, min_value=1, max_value=365)
# Tickets handled per sweep batch; a larger backlog re-queues the sweep.
PROMISE_SWEEP_BATCH_SIZE = env.integer("PROMISE_SWEEP_BATCH_SIZE", 500, min_value=1, max_value=10000)
# Seconds one sweep run may work before it stops and re-queues itself (each chunk of it commits): well inside
# the task's soft time limit, so a slow database never gets a run killed and rolled back.
PROMISE_SWEEP_BUDGET_SECONDS = env.integer(
    "PROMISE_SWEEP_BUDGET_SECONDS",
    CELERY_TASK_SOFT_TIME_LIMIT // 2,
    min_value=1,
    max_value=max(1, CELERY_TASK_SOFT_TIME_LIMIT - 1),
)
# How often the supervisor figures for the last 7, 30 and 90 days are computed ahead (the page shows "as of").
FIGURES_REFRESH_INTERVAL = env.integer("FIGURES_REFRESH_SECONDS", 300, min_value=10, max_value=86400)

# How often the overpromise guard's estimates are refreshed from history, in seconds.
ESTIMATES_REFRESH = 15 * 60
# The largest history file (docs/history.md) the import reads, from the command or the upload page: past it
# the whole file is refused before anything is parsed into memory. 50 MB is about 700,000 tickets.
HISTORY_IMPORT_MAX_BYTES = env.integer("HISTORY_IMPORT_MAX_MB", 50, min_value=1, max_value=2000) * 1024 * 1024

# All periodic work, in one place. No entry expires: an expiry is a moment on beat's clock that the worker
# judges on its own, and with beat's clock behind the workers' every sweep was discarded as expired. A task
# that piled up while no worker ran is harmless instead: the sweep and the drains read what is due from the
# database (a duplicate finds nothing), and the two refreshes skip a run made within half their interval
# (by the database's clock).
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Flag promises entering their warning window; break and escalate lapsed ones.
    "sweep-promises": {"task": "tickets.tasks.sweep_promises", "schedule": PROMISE_SWEEP_INTERVAL},
    # The overpromise guard's estimates, from the look-back window of resolved tickets.
    "refresh-estimates": {"task": "tickets.tasks.refresh_estimates", "schedule": ESTIMATES_REFRESH},
    # The supervisor figures for the rolling periods, so the page never aggregates while someone waits.
    "refresh-figures": {"task": "tickets.tasks.refresh_figures", "schedule": FIGURES_REFRESH_INTERVAL},
    # Safety net for the email outbox: sends what an after-commit nudge missed (broker down, crash).
    "drain-notification-outbox": {"task": "tickets.tasks.send_notification_emails", "schedule": 60},
    # The same for emails to customers (replies, ...).
    "drain-customer-email-outbox": {"task": "tickets.tasks.send_customer_emails", "schedule": 60},
}

# --- The public pages -----------------------------------------------------------------------
# Flood protection for the request form and the status links (per hour / per minute, shared via the cache).
REQUESTS_PER_IP_PER_HOUR = env.integer("REQUESTS_PER_IP_PER_HOUR", 20, min_value=1)
REQUESTS_PER_EMAIL_PER_HOUR = env.integer("REQUESTS_PER_EMAIL_PER_HOUR", 5, min_value=1)
STATUS_VIEWS_PER_IP_PER_MINUTE = env.integer("STATUS_VIEWS_PER_IP_PER_MINUTE", 60, min_value=1)
# A closed request's status link expires this many days after it was resolved.
STATUS_LINK_DAYS_AFTER_CLOSE = env.integer("STATUS_LINK_DAYS_AFTER_CLOSE", 90, min_value=1)
# A resolved request's link takes answers (a rating, a reopening) this many days after the resolution; after
# that, needing us again is a new request (an old link in an old inbox must not reopen settled history).
STATUS_LINK_ANSWER_DAYS = env.integer("STATUS_LINK_ANSWER_DAYS", 30, min_value=1)

# Customer attachments: how many per message, and how large each may be.
ATTACHMENT_MAX_FILES = env.integer("ATTACHMENT_MAX_FILES", 5, min_value=1, max_value=20)
ATTACHMENT_MAX_MB = env.integer("ATTACHMENT_MAX_MB", 10, min_value=1, max_value=100)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- REST framework (the API, under /api/v1/; see tickets/api/) ---------------------------------
REST_FRAMEWORK = {
    # Tokens first: an anonymous call is then answered 401 with a WWW-Authenticate header, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tickets.api.access.TokenAuthentication",
        "tickets.api.access.SessionAuthentication",
    ],
    # Staff only, unless an endpoint opts out (the public ones, explicitly).
    "DEFAULT_PERMISSION_CLASSES": ["tickets.api.access.IsStaff"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "helpdesk.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "helpdesk.api.pagination.NumberedPages",
    "DEFAULT_SCHEMA_CLASS": "tickets.api.schema.PromiseDeskSchema",
    "EXCEPTION_HANDLER": "tickets.api.conflicts.handle",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Promise Desk API",
    "DESCRIPTION": "Everything the desk does, for integrations: the same rules, services and permissions. "
    "See docs/api.md for sign-in, errors and paging.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatus": "tickets.models.TicketStatus",
        "PromiseState": "tickets.models.PromiseState",
        "Channel": "tickets.models.Channel",
        "Priority": "tickets.api.fields.PRIORITY_CHOICES",
    },
    # The docs page's assets are vendored (static/vendor), never fetched from a CDN.
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui-5.35.0",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui-5.35.0/favicon-32x32.png",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False, "displayOperationId": False},
}

# --- Security (strict in production, relaxed locally so http://127.0.0.1 works) --------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy, everywhere (locally too, so a page that breaks it fails in development and in the
# browser tests, not in production): scripts, styles, fonts and images from this site only, no inline
# script or style, no eval, no plugins, no framing, forms post here only. data: images are Bootstrap's
# icons in its CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "upgrade-insecure-requests": IS_PRODUCTION,
    }
}
# How many proxies in front of the app append the address they were reached from to X-Forwarded-For.
# The client's address is the one the outermost of them saw; anything further left in the header was
# written by the client and is never read. 0: the peer's own address, and the header is ignored.
BEHIND_TLS_PROXY = IS_PRODUCTION and env.boolean("BEHIND_TLS_PROXY", default=True)
TRUSTED_PROXIES = env.integer("TRUSTED_PROXIES", 1 if BEHIND_TLS_PROXY else 0, min_value=0)
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000, min_value=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz is probed over plain HTTP from inside the deployment.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Status-link and API tokens are masked in every line, tracebacks included (helpdesk/logging.py).
    "formatters": {
        "plain": {
            "()": "helpdesk.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's own loggers (its 404 lines; runserver's request lines) through this handler only, not
        # also through the unmasked one Django adds in development.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
# Celery's worker and beat log through the same handler instead of replacing the root logger's.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
