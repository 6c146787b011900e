"""Settings, read only from the environment. Every variable has a safe default.

The README has the table of variables. With `DJANGO_DEBUG=0` the secret key must be given and
the security settings are on, so `manage.py check --deploy` is clean.
"""

from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG=0.")
    SECRET_KEY = "insecure-development-key-only-for-make-run-never-in-production"  # noqa: S105
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "simple_history",
    "phonenumber_field",
    "import_export",
    "crm",
    "loyalty",
    "workflows",
]

MIDDLEWARE = [
    "config.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "config.security.BodySizeLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: it answers a locked-out login attempt (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: IMMEDIATE transactions wait for the write lock
    # instead of failing with "database is locked"; WAL lets readers run beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# Optional read replica for reports (config/db.py): `read_replica()` sends their reads there.
_replica_url = env.str("DATABASE_REPLICA_URL", default="")
DATABASE_READ_REPLICA: str | None = None
if _replica_url:
    DATABASES["replica"] = {
        **env.db_url_config(_replica_url),
        "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
    }
    DATABASE_READ_REPLICA = "replica"
DATABASE_ROUTERS = ["config.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)
# A shared branch computer: closing the browser ends the session (and it ends after
# SESSION_COOKIE_AGE in any case).
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
# django-axes: checks every login (its backend first) and locks out a username from one
# address after AXES_FAILURE_LIMIT wrong passwords, for AXES_COOLOFF_TIME hours. Attempts are
# rows in the database (no cache needed). `manage.py axes_reset` (or axes_reset_username,
# axes_reset_ip) lifts lockouts.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("DJANGO_LOGIN_LOCKOUT_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Its log lines name the username and address: the attempts are in admin (Axes) instead.
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# Proxies in front of the web processes that append to X-Forwarded-For (0: none, use the
# connection's address).
DJANGO_TRUSTED_PROXIES = env.int("DJANGO_TRUSTED_PROXIES", default=0)

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Asia/Shanghai")
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# whitenoise serves the collected static files from the web process: compressed and with
# hashed names (cached for ever) in production (`manage.py collectstatic` at deployment);
# straight from the apps' folders while debugging.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

# --- E-mail and SMS -------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="loyalty@localhost")
SMS_BACKEND = env.str("SMS_BACKEND", default="console")

# --- The outbox (workflows): every outgoing message passes its rules ------------------------
# Quiet hours for marketing, "HH:MM-HH:MM" in TIME_ZONE: customers have no time zone of their
# own, so the bank's local time stands for theirs. A marketing message due inside them is held
# until they end, not dropped.
WORKFLOWS_QUIET_HOURS = env.str("WORKFLOWS_QUIET_HOURS", default="21:00-09:00")
# Marketing messages per customer, counted over the last 24 hours and the last 7 days.
WORKFLOWS_MARKETING_PER_DAY = env.int("WORKFLOWS_MARKETING_PER_DAY", default=2)
WORKFLOWS_MARKETING_PER_WEEK = env.int("WORKFLOWS_MARKETING_PER_WEEK", default=5)
# Days without marketing after a sensitive event, per kind (the default of suppressed_until).
WORKFLOWS_SUPPRESSION_DAYS = {
    "bereavement": env.int("WORKFLOWS_SUPPRESSION_DAYS_BEREAVEMENT", default=90),
    "unemployment": env.int("WORKFLOWS_SUPPRESSION_DAYS_UNEMPLOYMENT", default=90),
    "illness": env.int("WORKFLOWS_SUPPRESSION_DAYS_ILLNESS", default=60),
    "divorce": env.int("WORKFLOWS_SUPPRESSION_DAYS_DIVORCE", default=60),
    "other": env.int("WORKFLOWS_SUPPRESSION_DAYS_OTHER", default=30),
}
# Channel backends (dotted paths, see workflows/outbox/backends.py). E-mail goes through
# Django's e-mail backend (EMAIL_URL). The default file backend appends one line per message,
# its id first, to WORKFLOWS_OUTBOX_FILE.
WORKFLOWS_SMS_BACKEND = env.str(
    "WORKFLOWS_SMS_BACKEND", default="workflows.outbox.backends.FileBackend"
)
WORKFLOWS_PUSH_BACKEND = env.str(
    "WORKFLOWS_PUSH_BACKEND", default="workflows.outbox.backends.FileBackend"
)
WORKFLOWS_WECHAT_BACKEND = env.str(
    "WORKFLOWS_WECHAT_BACKEND", default="workflows.outbox.backends.FileBackend"
)
WORKFLOWS_EMAIL_BACKEND = env.str(
    "WORKFLOWS_EMAIL_BACKEND", default="workflows.outbox.backends.DjangoEmailBackend"
)
WORKFLOWS_OUTBOX_FILE = env.str("WORKFLOWS_OUTBOX_FILE", default=str(VAR_DIR / "outbox.log"))
# A provider's latency per message for the file backend, in milliseconds: tests only.
WORKFLOWS_OUTBOX_FILE_DELAY_MS = env.int("WORKFLOWS_OUTBOX_FILE_DELAY_MS", default=0)
# Due messages taken per batch: the rules run once per batch; a worker killed while sending
# leaves at most this many messages "sending" for review.
WORKFLOWS_OUTBOX_BATCH_SIZE = env.int("WORKFLOWS_OUTBOX_BATCH_SIZE", default=500)
# A message "sending" for longer than this is reported (never re-sent automatically).
WORKFLOWS_OUTBOX_STALE_MINUTES = env.int("WORKFLOWS_OUTBOX_STALE_MINUTES", default=15)
# Only bench.outbox's own settings module (bench/outbox_settings.py) turns the rules off, to
# measure what they cost: no environment variable can.
WORKFLOWS_OUTBOX_RULES_OFF = False

# --- Feedback forms (workflows) -------------------------------------------------------------
# The public address personal links in messages start with (no trailing slash).
WORKFLOWS_PUBLIC_BASE_URL = env.str("WORKFLOWS_PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# An unanswered personal link is reminded once, this many days after it was sent.
WORKFLOWS_FEEDBACK_REMINDER_DAYS = env.int("WORKFLOWS_FEEDBACK_REMINDER_DAYS", default=3)
# Public form submissions allowed per minute from one IP address, and per personal link.
WORKFLOWS_FEEDBACK_POSTS_PER_IP = env.int("WORKFLOWS_FEEDBACK_POSTS_PER_IP", default=10)
WORKFLOWS_FEEDBACK_POSTS_PER_TOKEN = env.int("WORKFLOWS_FEEDBACK_POSTS_PER_TOKEN", default=5)

# --- Service tickets (workflows) ------------------------------------------------------------
# A resolved ticket may be reopened within this many days of its resolution.
WORKFLOWS_TICKET_REOPEN_DAYS = env.int("WORKFLOWS_TICKET_REOPEN_DAYS", default=7)
# An assignee who has not acted within this many business minutes of the assignment loses the
# ticket to the next least-loaded agent of the department.
WORKFLOWS_TICKET_IDLE_BUSINESS_MINUTES = env.int(
    "WORKFLOWS_TICKET_IDLE_BUSINESS_MINUTES", default=30
)
# Attachments: the largest file, and the types taken (checked by content, not only the name).
WORKFLOWS_TICKET_ATTACHMENT_MAX_BYTES = env.int(
    "WORKFLOWS_TICKET_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024
)
WORKFLOWS_TICKET_ATTACHMENT_TYPES = ["pdf", "png", "jpeg", "txt", "docx", "xlsx"]

# --- Security (on whenever DEBUG is off) ----------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
# Content-Security-Policy (django-csp 4): scripts only from this site (no inline script, no
# eval: the charts' data travel in json_script tags; Swagger UI is served from the
# drf-spectacular-sidecar's static files), nothing may frame a page, forms post only here.
# Styles allow 'unsafe-inline': the admin's own widgets and a few report pages set style
# attributes and blocks; styles cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Request bodies: a form or JSON body read into memory at most DATA_UPLOAD_MAX_MEMORY_SIZE
# (uploads excepted: they go to a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE and each
# feature caps its files: CRM_IMPORT_MAX_BYTES, LOYALTY_GRACE_MAX_FILE_BYTES,
# WORKFLOWS_TICKET_ATTACHMENT_MAX_BYTES), at most DATA_UPLOAD_MAX_NUMBER_FIELDS fields.
# 10 MB: an API batch of CRM_API_BATCH_LIMIT transactions is about 0.5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default, said here: bigger files go to disk
# The admin's bulk actions post one field per selected row (a page holds at most 100 rows).
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DJANGO_DATA_UPLOAD_MAX_FIELDS", default=2_000)
DATA_UPLOAD_MAX_NUMBER_FILES = 20
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Load balancers check health over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz"]

# Health endpoints (config/health.py): seconds /healthz/celery waits for workers to answer.
HEALTHZ_CELERY_TIMEOUT = env.float("HEALTHZ_CELERY_TIMEOUT", default=2.0)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "config.api.NewestFirstCursorPagination",
    "PAGE_SIZE": 100,
    # Per token (config/security.py), counted in Django's cache: Redis when more than one web
    # process runs (CACHE_URL), or each process counts on its own.
    "DEFAULT_THROTTLE_CLASSES": [
        "config.security.TokenRateThrottle",
        "config.security.AnonymousRateThrottle",
    ],
}
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/minute")
API_ANON_THROTTLE_RATE = env.str("API_ANON_THROTTLE_RATE", default="60/minute")
REST_KNOX = {"TOKEN_TTL": None, "AUTH_HEADER_PREFIX": "Token"}
SPECTACULAR_SETTINGS = {
    "TITLE": "Loyalty CRM API",
    "DESCRIPTION": "Customers, transactions and loyalty for other systems. Token auth: "
    "`Authorization: Token <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files: no CDN (often unreachable from mainland China) and
    # nothing a strict CSP would refuse.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets whose field names other components use too (tickets' status, category...).
    "ENUM_NAME_OVERRIDES": {
        "CategoryEnum": "crm.models.Transaction.Category",
        "ChannelEnum": "crm.models.Transaction.Channel",
        "TicketStatusEnum": "workflows.models.tickets.Ticket.Status",
        "TicketCategoryEnum": "workflows.models.tickets.TicketCategory",
        "TicketChannelEnum": "workflows.models.tickets.TicketChannel",
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # kombu's filesystem transport only delivers when in and out are the same folder.
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
else:
    # Twice the longest task's hard limit, so an unacked task is not redelivered while it runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_CACHE_BACKEND = "django-cache"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Three queues, so that an hour-long import never holds up a message: `bulk` (imports, tier
# evaluations, expiry, recomputations, customer value and KPI refreshes), `messages` (the
# outbox, webhooks, feedback sendings) and `default` (everything else). A worker started
# without -Q consumes all three (make run); production runs one worker per queue (README).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in ("default", "bulk", "messages")]
CELERY_TASK_ROUTES = {
    "crm.tasks.run_import_task": {"queue": "bulk"},
    "crm.tasks.recompute_tags_task": {"queue": "bulk"},
    "crm.tasks.find_duplicates_task": {"queue": "bulk"},
    "loyalty.tasks.evaluate_program_task": {"queue": "bulk"},
    "loyalty.tasks.evaluate_all_programs_task": {"queue": "bulk"},
    "loyalty.tasks.points_expire_task": {"queue": "bulk"},
    "workflows.tasks.sequences_enrol_task": {"queue": "bulk"},
    "workflows.tasks.feedback_score_task": {"queue": "bulk"},
    "loyalty.tasks.refresh_customer_values_task": {"queue": "bulk"},
    "workflows.tasks.compute_kpis_task": {"queue": "bulk"},
    "*.tasks.*clv*": {"queue": "bulk"},
    "*.tasks.*kpi*": {"queue": "bulk"},
    "workflows.tasks.outbox_dispatch_task": {"queue": "messages"},
    "workflows.tasks.webhooks_deliver_task": {"queue": "messages"},
    "workflows.tasks.feedback_sendings_send_task": {"queue": "messages"},
    "workflows.tasks.feedback_reminders_task": {"queue": "messages"},
}

# --- Logging --------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line with the request id (config/logging.py), for a
# log collector; text for people. Messages carry ids, never names, phones or e-mail addresses.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
            # Also for loggers with their own level (Django's "django" logger is at INFO).
            "level": LOG_LEVEL,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- Product settings -----------------------------------------------------------------------
CRM_CURRENCIES = env.list("CRM_CURRENCIES", default=["CNY", "HKD", "USD", "EUR", "JPY"])
CRM_DEFAULT_CURRENCY = "CNY"
CRM_API_BATCH_LIMIT = 1000
# The admin counts at most this many rows of a filtered list; past it the list says "more than".
CRM_ADMIN_COUNT_LIMIT = env.int("CRM_ADMIN_COUNT_LIMIT", default=10_000)
# Imports of source files (crm/imports): limits checked before a file is parsed (ASVS 5.2).
# Exports from admin lists stop at this many rows (the page says so).
CRM_EXPORT_MAX_ROWS = env.int("CRM_EXPORT_MAX_ROWS", default=50_000)
# Staff accesses to customers' pages are kept this many days, then deleted nightly (0: forever).
CRM_ACCESS_LOG_RETENTION_DAYS = env.int("CRM_ACCESS_LOG_RETENTION_DAYS", default=365)
# Pairs scoring below this (0-100) are not listed as possible duplicates.
CRM_DUPLICATE_MIN_SCORE = env.float("CRM_DUPLICATE_MIN_SCORE", default=55.0)
# The data quality page counts a customer as stale after this many days without activity.
CRM_STALE_DAYS = env.int("CRM_STALE_DAYS", default=365)
CRM_IMPORT_MAX_BYTES = env.int("CRM_IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
# An XLSX is a zip: its entries may not unpack to more than this in all, nor be more than
# CRM_IMPORT_MAX_ZIP_ENTRIES (zip bombs).
CRM_IMPORT_MAX_UNPACKED_BYTES = env.int("CRM_IMPORT_MAX_UNPACKED_BYTES", default=1024**3)
CRM_IMPORT_MAX_ZIP_ENTRIES = env.int("CRM_IMPORT_MAX_ZIP_ENTRIES", default=1_000)
# Rows validated and written per transaction; the job's progress moves once per chunk.
CRM_IMPORT_CHUNK_ROWS = env.int("CRM_IMPORT_CHUNK_ROWS", default=5_000)
# The admin's preview reads at most this many rows in a request; a bigger file's preview
# covers its first rows only.
CRM_IMPORT_PREVIEW_MAX_ROWS = env.int("CRM_IMPORT_PREVIEW_MAX_ROWS", default=50_000)
# The import task's hard time limit (kept under the broker's visibility timeout). A job left
# "running" by a killed worker is taken over once it has run this long: no worker is still at it.
CRM_IMPORT_TIME_LIMIT_S = env.int("CRM_IMPORT_TIME_LIMIT_S", default=60 * 60)
# Grace periods (loyalty): evidence files per request, and each file's size. The types are fixed
# (PDF, JPEG, PNG) and recognised by content.
LOYALTY_GRACE_MAX_FILES = env.int("LOYALTY_GRACE_MAX_FILES", default=5)
LOYALTY_GRACE_MAX_FILE_BYTES = env.int("LOYALTY_GRACE_MAX_FILE_BYTES", default=5 * 1024 * 1024)

# Stability (loyalty): a purchase of the last LOYALTY_STABILITY_LOOKBACK_DAYS days above
# LOYALTY_STABILITY_MULTIPLIER times the median of the customer's monthly purchase totals over
# the LOYALTY_STABILITY_TRAILING_MONTHS calendar months before is flagged and does not count
# until an RM accepts it; fewer than LOYALTY_STABILITY_MIN_MONTHS months with purchases is no
# pattern yet.
LOYALTY_STABILITY_MULTIPLIER = Decimal(env.str("LOYALTY_STABILITY_MULTIPLIER", default="5"))
LOYALTY_STABILITY_LOOKBACK_DAYS = env.int("LOYALTY_STABILITY_LOOKBACK_DAYS", default=7)
LOYALTY_STABILITY_TRAILING_MONTHS = env.int("LOYALTY_STABILITY_TRAILING_MONTHS", default=12)
LOYALTY_STABILITY_MIN_MONTHS = env.int("LOYALTY_STABILITY_MIN_MONTHS", default=3)

# Points (loyalty): a staff adjustment of more than this many points (either way) waits for a
# second person's approval.
LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD = env.int(
    "LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD", default=10_000
)
# Referrals: the referrer's commission, as a share of the points the referred customer's first
# qualifying purchase earned: the high rate from this tier rank up, the low rate below.
LOYALTY_REFERRAL_HIGH_RANK = env.int("LOYALTY_REFERRAL_HIGH_RANK", default=3)
LOYALTY_REFERRAL_HIGH_RATE = Decimal(env.str("LOYALTY_REFERRAL_HIGH_RATE", default="0.30"))
LOYALTY_REFERRAL_LOW_RATE = Decimal(env.str("LOYALTY_REFERRAL_LOW_RATE", default="0.10"))
# Points expiring within this many days make a customer part of the "points expiring soon"
# segment.
LOYALTY_EXPIRING_SOON_DAYS = env.int("LOYALTY_EXPIRING_SOON_DAYS", default=30)
# Customer lifetime value (loyalty.clv): the predicted value is the expected spend of the next
# LOYALTY_CLV_HORIZON_MONTHS months, each month discounted by LOYALTY_CLV_MONTHLY_DISCOUNT_RATE.
LOYALTY_CLV_HORIZON_MONTHS = env.int("LOYALTY_CLV_HORIZON_MONTHS", default=12)
LOYALTY_CLV_MONTHLY_DISCOUNT_RATE = Decimal(
    env.str("LOYALTY_CLV_MONTHLY_DISCOUNT_RATE", default="0.01")
)

# --- Exports (django-import-export) ---------------------------------------------------------
# No exported cell starts a formula in a spreadsheet; crm.admin.exports also quotes +, -, @,
# tab and CR, which the library leaves alone.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
# Control characters that XLSX cannot hold are replaced instead of failing the export.
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
