"""One settings module, fed by environment variables whose defaults run on a fresh clone.

Unset `DATABASE_URL` → SQLite (WAL) under `var/`; unset `REDIS_URL` → an embedded redis-server on a
unix socket under `var/` (see autogpt/embedded.py). Every variable is listed in `.env.example`.
Production safety lives in autogpt/checks.py as system checks.
"""

import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from autogpt.env import env_bool, env_choice, env_int, env_json, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Workers and web processes write their metrics here; /metrics adds them up (SPEC §13). Set
# before prometheus_client is imported anywhere. With METRICS_SHARED_DIR (a volume shared by the
# containers of one machine), each container writes to a directory of its own in it and
# /metrics adds up all of them.
METRICS_SHARED_DIR = env_str("METRICS_SHARED_DIR")
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    str(
        Path(METRICS_SHARED_DIR) / socket.gethostname()
        if METRICS_SHARED_DIR
        else VAR_DIR / "prometheus"
    ),
)
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"  # noqa: S105 - refused by autogpt.checks outside DEBUG
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_prometheus",
    "channels",
    "apps.common",
    "apps.users",
    "apps.integrations",
    "apps.realtime",
    "apps.graphs",
    "apps.credits",
    "apps.executions",
    "apps.store",
    "apps.schedules",
    "apps.chat",
    "apps.webhooks",
    "apps.notifications",
    "apps.dashboard",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.common.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.common.middleware.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.common.logging.UserContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "autogpt.urls"
# On SIGTERM the web process closes WebSockets (code 1012) and lets requests finish this long.
WEB_SHUTDOWN_GRACE_SECONDS = env_int("WEB_SHUTDOWN_GRACE_SECONDS", 10, minimum=1)
# Threads of the web process that run HTTP requests (autogpt/asgi_http.py).
WEB_THREADS = env_int("WEB_THREADS", 8, minimum=1)
WSGI_APPLICATION = "autogpt.wsgi.application"
ASGI_APPLICATION = "autogpt.asgi.application"
# The API's paths carry no trailing slash (the seed's client posts to `/api/graphs`).
APPEND_SLASH = False

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
                "apps.dashboard.nav.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    # Persistent connections: a connect-and-authenticate per request or task (a SCRAM
    # handshake) costs milliseconds. Web requests run on threads (autogpt/asgi_http.py), so
    # this is the threaded-WSGI case Django supports; health checks drop dead connections.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 600, minimum=0),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL lets the web process read while a worker writes; IMMEDIATE transactions
                # take the write lock up front instead of failing with "database is locked".
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 10,
            },
            # A file, not :memory:, so a worker process started by the tests sees the same data.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# `manage.py backup` (PostgreSQL): where archives go and how long they are kept.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))
BACKUP_RETENTION_DAYS = env_int("BACKUP_RETENTION_DAYS", 30, minimum=1)

# --- Redis, cache, Celery, Channels ---------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if not REDIS_URL:
    from autogpt.embedded import ensure_embedded_redis

    REDIS_URL = f"unix://{ensure_embedded_redis(VAR_DIR / 'redis')}"


def _kombu_url(redis_url: str) -> str:
    # kombu spells a unix-socket Redis as redis+socket:///path.
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "autogpt"),
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or _kombu_url(REDIS_URL)
# A Redis broker's transport keeps its clients (autogpt/broker.py); any other keeps kombu's own.
CELERY_BROKER_TRANSPORT = (
    "autogpt.broker:Transport" if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else None
)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Threads: a run mostly waits (on models, HTTP, the database) and its nodes are threads already;
# one process of threads idles at ~1/3 of a prefork pool's memory and skips prefork's pipe hop
# per task. Celery enforces task time limits only in prefork: the engine ends over-long runs
# itself, and outbound calls carry their own timeouts (EMAIL_TIMEOUT, safe_http, the LLM client).
CELERY_WORKER_POOL = env_choice("WORKER_POOL", "threads", ("threads", "prefork", "solo"))
CELERY_WORKER_DISABLE_RATE_LIMITS = True  # no task declares a rate limit; skip the bookkeeping
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ROUTES = {"executions.run_graph": {"queue": "executions"}}
# How often a worker records that it is alive (read by /health/ready).
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10, minimum=1)

CHANNEL_LAYERS = {
    "default": {
        # Redis pub/sub: a group message is one PUBLISH and reaches subscribed processes at once,
        # at a fraction of the core layer's cost (a Lua script per group send and a polling
        # BRPOP per socket). Delivery is at most once, as for any WebSocket message; a run's
        # final event is re-published by the watchdog and every state is in the REST API.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # socket_timeout None: with redis-py 8 an idle connection would otherwise time out after
        # 5 s and close every idle WebSocket (tests/executions/test_websocket.py holds one open).
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
    }
}

# --- Executions (SPEC §6) ------------------------------------------------------------------
EXECUTION_TIME_LIMIT_SECONDS = env_int("EXECUTION_TIME_LIMIT_SECONDS", 3600, minimum=1)
# A run's own progress commits without waiting for PostgreSQL's WAL flush (sql.execute_relaxed).
EXECUTION_RELAXED_COMMITS = env_bool("EXECUTION_RELAXED_COMMITS", True)
EXECUTION_MAX_PARALLEL_NODES = env_int("EXECUTION_MAX_PARALLEL_NODES", 8, minimum=1)
EXECUTION_MAX_RUNNING_PER_GRAPH = env_int("EXECUTION_MAX_RUNNING_PER_GRAPH", 25, minimum=1)
EXECUTION_CAP_RETRY_SECONDS = 1.0
EXECUTION_LEASE_SECONDS = env_int("EXECUTION_LEASE_SECONDS", 30, minimum=3)
EXECUTION_MAX_ATTEMPTS = env_int("EXECUTION_MAX_ATTEMPTS", 3, minimum=1)
# On SIGTERM a worker lets its runs finish for this long, then hands the rest to other workers.
EXECUTION_SHUTDOWN_GRACE_SECONDS = env_int("EXECUTION_SHUTDOWN_GRACE_SECONDS", 60, minimum=0)
# Node retries (SPEC §17): attempt n of a retriable failure waits NODE_RETRY_BASE_MS * 2**(n-1)
# (with jitter, at most NODE_RETRY_MAX_SECONDS), or the provider's Retry-After when longer; a
# Retry-After over NODE_RETRY_AFTER_LIMIT_SECONDS is not waited (the failure stands).
NODE_RETRY_BASE_MS = env_int("NODE_RETRY_BASE_MS", 1000, minimum=1)
NODE_RETRY_MAX_SECONDS = env_int("NODE_RETRY_MAX_SECONDS", 30, minimum=1)
NODE_RETRY_AFTER_LIMIT_SECONDS = env_int("NODE_RETRY_AFTER_LIMIT_SECONDS", 120, minimum=0)
# Expired leases are looked for every half lease period (the watchdog below is the backstop).
RESCUE_INTERVAL_SECONDS = max(1, EXECUTION_LEASE_SECONDS // 2)
WATCHDOG_INTERVAL_SECONDS = env_int("WATCHDOG_INTERVAL_SECONDS", 30, minimum=5)
WATCHDOG_QUEUED_SECONDS = env_int("WATCHDOG_QUEUED_SECONDS", 60, minimum=1)
# Share links stop working this many days after they were made; soft-deleted runs are removed
# this many days after they started (0: never).
EXECUTION_SHARE_LINK_DAYS = env_int("EXECUTION_SHARE_LINK_DAYS", 90, minimum=0)
EXECUTION_PURGE_DELETED_DAYS = env_int("EXECUTION_PURGE_DELETED_DAYS", 30, minimum=0)
# Idempotency-Key on run starts (SPEC §17): a key answers its first run this long...
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24, minimum=1)
# ...and a first request that has not answered after this long (its process died between
# taking the key and starting the run) gives the key up to the next request.
IDEMPOTENCY_IN_FLIGHT_SECONDS = env_int("IDEMPOTENCY_IN_FLIGHT_SECONDS", 120, minimum=5)

# A schedule's firing sent this many seconds after its time was missed (beat was down): it
# follows the schedule's catch_up policy (SPEC §17).
SCHEDULE_MISFIRE_GRACE_SECONDS = env_int("SCHEDULE_MISFIRE_GRACE_SECONDS", 300, minimum=1)

# --- Notifications (SPEC §11) ---------------------------------------------------------------
# Finished runs are emailed as one digest per user this often (agent_run notifications).
NOTIFICATION_DIGEST_MINUTES = env_int("NOTIFICATION_DIGEST_MINUTES", 60, minimum=1)
# block_execution_failed for one graph is sent at most once per back-off window; the window
# starts at this many minutes and doubles with each notice up to the maximum.
NOTIFICATION_BACKOFF_MINUTES = env_int("NOTIFICATION_BACKOFF_MINUTES", 15, minimum=1)
NOTIFICATION_BACKOFF_MAX_MINUTES = env_int("NOTIFICATION_BACKOFF_MAX_MINUTES", 1440, minimum=1)

# Housekeeping jobs, declared here and copied into beat's tables by `manage.py
# sync_housekeeping` (`runplatform` runs it at start-up): {"task", "every": seconds} or
# {"task", "cron": "m h dom mon dow"} in UTC.
RUN_TALLY_INTERVAL_SECONDS = env_int("RUN_TALLY_INTERVAL_SECONDS", 60, minimum=1)
TABLE_UPKEEP_INTERVAL_SECONDS = env_int("TABLE_UPKEEP_INTERVAL_SECONDS", 15, minimum=1)
HOUSEKEEPING_SCHEDULE = {
    "execution-watchdog": {"task": "executions.watchdog", "every": WATCHDOG_INTERVAL_SECONDS},
    # A run whose worker was lost resumes within one lease period (SPEC §17).
    "execution-rescue": {"task": "executions.rescue", "every": RESCUE_INTERVAL_SECONDS},
    "execution-cleanup": {"task": "executions.cleanup", "cron": "17 3 * * *"},
    # Finished runs folded into the graph list's run statistics (apps.executions.tally).
    "execution-tally": {"task": "executions.tally_fold", "every": RUN_TALLY_INTERVAL_SECONDS},
    # ANALYZE and VACUUM where PostgreSQL's autovacuum is off (apps.common.upkeep).
    "table-upkeep": {"task": "common.table_upkeep", "every": TABLE_UPKEEP_INTERVAL_SECONDS},
    # Hourly: Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS are removed (SPEC §17).
    "idempotency-keys-cleanup": {"task": "executions.idempotency_cleanup", "cron": "29 * * * *"},
    # Human reviews past their timeout end `timed_out` and their runs resume (SPEC §15).
    "review-timeouts": {"task": "executions.review_timeouts", "every": 60},
    # Hourly: it refills once per month per user (an idempotent ledger key).
    "credits-monthly-refill": {"task": "credits.monthly_refill", "cron": "7 * * * *"},
    "notification-digests": {
        "task": "notifications.send_digests",
        "every": NOTIFICATION_DIGEST_MINUTES * 60,
        "queue": "notifications",
    },
    # Hourly: each user's summaries go out after midnight in their own time zone.
    "notification-summaries": {
        "task": "notifications.send_summaries",
        "cron": "5 * * * *",
        "queue": "notifications",
    },
    "files-cleanup": {"task": "integrations.files_cleanup", "cron": "23 * * * *"},
    "oauth-states-cleanup": {"task": "integrations.oauth_states_cleanup", "cron": "41 * * * *"},
}

# --- Credits (SPEC §9): 1 credit = US$0.01 ------------------------------------------------
CREDITS_SIGNUP_GRANT = env_int("CREDITS_SIGNUP_GRANT", 1000, minimum=0)
CREDITS_MONTHLY_REFILL = env_int("CREDITS_MONTHLY_REFILL", 0, minimum=0)  # 0: no refill
CREDITS_LOW_BALANCE_THRESHOLD = env_int("CREDITS_LOW_BALANCE_THRESHOLD", 100, minimum=0)
# Operators price blocks here, over the blocks' own cost rules: a JSON object
# {"<block id>": [{"amount": 1, "unit": "RUN", "filter": {}}]}.
BLOCK_COST_OVERRIDES = env_json("BLOCK_COST_OVERRIDES", "{}")
# Payments (Stripe Checkout). Without a secret key the top-up endpoints answer 503.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")  # tests: a local server

# --- Webhook triggers (SPEC §12) ----------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 256 * 1024, minimum=1024)
WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = env_int("WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS", 300, minimum=1)
# Encrypts webhook secrets at rest; defaults to SECRET_KEY (changing it voids stored secrets).

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY") or SECRET_KEY,
    "USER_ID_FIELD": "id",
}
# The HMAC key of stored API-key hashes (SPEC §3): a stolen table alone cannot be checked
# against guesses. Defaults to SECRET_KEY; set it on its own so SECRET_KEY can be rotated
# (changing the pepper voids every API key).
API_KEY_PEPPER = env_str("API_KEY_PEPPER") or SECRET_KEY

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.users.authentication.ApiKeyAuthentication",
        "apps.users.authentication.LoggedJWTAuthentication",
        "apps.users.authentication.LoggedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apps.users.permissions.ApiKeyPermission",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.common.throttling.PrincipalRateThrottle",
        "apps.common.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_PARSER_CLASSES": ["apps.common.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "apps.common.pagination.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.common.api.exception_handler.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Client IPs for rate limits come from REMOTE_ADDR unless proxies are declared; a
    # client-supplied X-Forwarded-For would otherwise let anyone pick a fresh budget.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
}
# Requests per window for each throttle scope: "<count>/<second|minute|hour|day>".
API_RATE_LIMITS = {
    "principal": env_str("RATE_LIMIT_USER", "600/minute"),
    "anonymous": env_str("RATE_LIMIT_ANON", "120/minute"),
    "auth": env_str("RATE_LIMIT_AUTH", "20/minute"),
    # Sign-in attempts on one account from anywhere (password guessing spread over many IPs).
    "signin_account": env_str("RATE_LIMIT_SIGNIN_ACCOUNT", "30/hour"),
}
# Request limits (SPEC §12): body bytes and the shape of JSON documents.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 10 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
JSON_MAX_DEPTH = 32
JSON_MAX_ITEMS = 10_000

# Blocks' outgoing HTTP (SPEC §12): only public addresses, unless a host is allow-listed here.
BLOCK_HTTP_ALLOWED_HOSTS = env_list("BLOCK_HTTP_ALLOWED_HOSTS", [])
BLOCK_HTTP_TIMEOUT_SECONDS = env_int("BLOCK_HTTP_TIMEOUT_SECONDS", 30, minimum=1)
# Time limit of `POST /api/blocks/{id}/execute` (a block run outside any graph).
BLOCK_EXECUTE_TIMEOUT_SECONDS = env_int("BLOCK_EXECUTE_TIMEOUT_SECONDS", 30, minimum=1)
BLOCK_HTTP_MAX_RESPONSE_BYTES = env_int(
    "BLOCK_HTTP_MAX_RESPONSE_BYTES", 10 * 1024 * 1024, minimum=1
)

# --- Integrations (SPEC §7, §12) ----------------------------------------------------------
# Fernet keys for stored provider credentials, comma-separated, newest first (older ones still
# decrypt: rotate by prepending, then `manage.py rotate_credentials`). Required with DEBUG off;
# with DEBUG on a development key is derived from SECRET_KEY.
ENCRYPTION_KEYS = env_list("ENCRYPTION_KEY", [])
if not ENCRYPTION_KEYS and DEBUG:
    import base64
    import hashlib

    ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(b"autogpt-dev-credentials:" + SECRET_KEY.encode()).digest()
        ).decode()
    ]
# The platform's own LLM provider key, used (and charged per model) for users who store none.
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "https://api.openai.com/v1")
LLM_TIMEOUT_SECONDS = env_int("LLM_TIMEOUT_SECONDS", 120, minimum=1)
# Uploads (`POST /api/files/upload`): size, accepted types (by file name), lifetime.
FILE_UPLOAD_MAX_BYTES = env_int("FILE_UPLOAD_MAX_BYTES", 8 * 1024 * 1024, minimum=1)
FILE_UPLOAD_ALLOWED_TYPES = env_list(
    "FILE_UPLOAD_ALLOWED_TYPES",
    [
        "text/plain",
        "text/csv",
        "text/markdown",
        "application/json",
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
    ],
)
FILE_UPLOAD_EXPIRY_HOURS = env_int("FILE_UPLOAD_EXPIRY_HOURS", 24 * 7, minimum=1)
# ClamAV's daemon scans every upload when CLAMAV_HOST is set; infected files are refused.
CLAMAV_HOST = env_str("CLAMAV_HOST")
CLAMAV_PORT = env_int("CLAMAV_PORT", 3310, minimum=1)
CLAMAV_TIMEOUT_SECONDS = env_int("CLAMAV_TIMEOUT_SECONDS", 30, minimum=1)
# Uploaded files live on local disk, or in an S3-compatible bucket when one is named (needs
# `pip install 'django-storages[s3]'`; AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY as usual).
FILE_STORAGE_S3_BUCKET = env_str("FILE_STORAGE_S3_BUCKET")
FILE_STORAGE_S3_ENDPOINT_URL = env_str("FILE_STORAGE_S3_ENDPOINT_URL")
FILE_STORAGE_DIR = Path(env_str("FILE_STORAGE_DIR", str(VAR_DIR / "files")))
# Chat (SPEC §7): how many recent messages go to the model, and how long Redis keeps them.
CHAT_CONTEXT_MESSAGES = env_int("CHAT_CONTEXT_MESSAGES", 20, minimum=1)
CHAT_CACHE_SECONDS = env_int("CHAT_CACHE_SECONDS", 3600, minimum=1)
# The copilot (SPEC §18): model calls in one reply, and drafts the validator may refuse before
# the remaining errors are shown to the user instead.
COPILOT_MAX_TURNS = env_int("COPILOT_MAX_TURNS", 16, minimum=1)
COPILOT_REPAIR_ROUNDS = env_int("COPILOT_REPAIR_ROUNDS", 3, minimum=0)

SPECTACULAR_SETTINGS = {
    "TITLE": "AutoGPT Platform API",
    "DESCRIPTION": "Build, run and share AI-agent workflows.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.common.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ExecutionStatusEnum": "apps.executions.models.ExecutionStatus",
        "ApiKeyStatusEnum": "apps.users.models.APIKey.Status",
        "StoreListingVersionStatusEnum": "apps.store.models.StoreListingVersion.Status",
    },
}

# --- Static files, i18n ----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise also serves straight from the finders (static/ and the apps' static folders), so
# pages are styled without `collectstatic` (tests, DEBUG off on a fresh clone); files collected
# into STATIC_ROOT still come first.
WHITENOISE_USE_FINDERS = True
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "uploads": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": FILE_STORAGE_S3_BUCKET,
                "endpoint_url": FILE_STORAGE_S3_ENDPOINT_URL or None,
                "default_acl": "private",
                "querystring_auth": True,
            },
        }
        if FILE_STORAGE_S3_BUCKET
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(FILE_STORAGE_DIR), "base_url": None},
        }
    ),
}
MEDIA_ROOT = VAR_DIR / "media"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Email ----------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
# Seconds before an unanswering SMTP server is given up: the worker's thread is freed.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AutoGPT Platform <noreply@localhost>")

# --- Production hardening (checked by `manage.py check --deploy`) ----------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics$"]
X_FRAME_OPTIONS = "DENY"

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# One JSON object per line with request_id and execution_id (apps/common/logging.py).
LOG_JSON = env_bool("LOG_JSON", not DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "apps.common.logging.ContextFilter"},
        "secret_query": {"()": "apps.common.logging.SecretQueryFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s"},
        "json": {"()": "apps.common.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Celery's two INFO lines per task (received, succeeded) would be two per run: a run's
    # life is in the database and the metrics. Task failures are still logged (ERROR).
    "loggers": {
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        # uvicorn logs every WebSocket's path with its query string (a token or API key).
        "uvicorn.error": {"filters": ["secret_query"]},
    },
}
# With JSON logs, workers log through LOGGING above rather than Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = not LOG_JSON

# Demo account that `make run` creates on the embedded default (never with DEBUG off).
DEMO_USER_EMAIL = env_str("DEMO_USER_EMAIL", "demo@example.com")
DEMO_USER_PASSWORD = env_str("DEMO_USER_PASSWORD", "demo-password-123")

# --- Provider OAuth2 clients (SPEC §16) ---------------------------------------------------
# Per provider: OAUTH_<NAME>_CLIENT_ID and OAUTH_<NAME>_CLIENT_SECRET enable "Connect"; the
# optional OAUTH_<NAME>_AUTHORIZE_URL / OAUTH_<NAME>_TOKEN_URL point at another server (an
# enterprise install; the tests' local OAuth2 server).
OAUTH_CLIENTS = {
    name: {
        "client_id": env_str(f"OAUTH_{name.upper()}_CLIENT_ID"),
        "client_secret": env_str(f"OAUTH_{name.upper()}_CLIENT_SECRET"),
        "authorize_url": env_str(f"OAUTH_{name.upper()}_AUTHORIZE_URL"),
        "token_url": env_str(f"OAUTH_{name.upper()}_TOKEN_URL"),
    }
    for name in ("slack", "github", "google", "notion")
}
OAUTH_STATE_MAX_AGE_SECONDS = 600
# An access token this close to its expiry is refreshed before a block uses it.
OAUTH_REFRESH_MARGIN_SECONDS = env_int("OAUTH_REFRESH_MARGIN_SECONDS", 120, minimum=0)
