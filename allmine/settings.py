"""Settings for the Allmine backend, read from the environment.

Local defaults need nothing: SQLite in the project folder, DEBUG on, a development secret
key, an in-process cache. With DJANGO_ENV=production the service refuses to start without
DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS, DEBUG is off and the HTTPS hardening of
`manage.py check --deploy` is on.

Environment (all optional outside production):
  DJANGO_ENV                 `production` switches on the checks and hardening below
  DJANGO_SECRET_KEY          required in production
  DJANGO_ALLOWED_HOSTS       comma-separated; required in production
  DJANGO_DEBUG               defaults to on locally, off in production
  DATABASE_URL               e.g. postgres://user:pass@host:5432/allmine (default: SQLite)
  DATABASE_CONN_MAX_AGE      seconds a connection is kept between requests (default 60)
  DATABASE_POOL              `true`: psycopg's connection pool instead of persistent connections
  DATABASE_POOL_MAX_SIZE     connections per process with the pool (default 4)
  DATABASE_REPLICA_URL       a read replica for GET requests (allmine/db_router.py)
  DATABASE_REPLICA_MAX_LAG_SECONDS  a replica further behind is not read from (default 5)
  DATABASE_REPLICA_CHECK_SECONDS    how long a process reuses a replica lag check (default 1)
  DATABASE_REPLICA_RETRY_SECONDS    after a replica connection failure, primary only (default 5)
  DATABASE_REPLICA_CONNECT_TIMEOUT  seconds (default 2)
  REDIS_URL                  e.g. redis://127.0.0.1:6379/0 for the shared cache (throttles);
                             unset: a local-memory cache per process (with a replica: a cache
                             directory, CACHE_DIR, shared by this machine's processes)
  CORS_ALLOWED_ORIGINS       comma-separated origins of the web client
  DJANGO_SECURE_SSL_REDIRECT redirect http to https (production default on)
  DJANGO_SECURE_HSTS_SECONDS HSTS max-age (production default one year)
  DJANGO_SECURE_PROXY_SSL_HEADER  `true` when a proxy that sets X-Forwarded-Proto terminates TLS
  CSRF_TRUSTED_ORIGINS       comma-separated, for the admin behind a proxy
  THROTTLE_AUTH_RATE, THROTTLE_FUNDING_RATE  e.g. `20/min` (per address; per user)
  THROTTLE_AUTH_ACCOUNT_RATE sign-in attempts per account name, any address (default 20/min)
  DJANGO_NUM_PROXIES         proxies in front that append to X-Forwarded-For (default 0)
  LOG_LEVEL, LOG_FORMAT      LOG_FORMAT=json (production default) or `text`
  RECORDING_BASE_URL         where ended streams' recordings are published
  STREAM_START_GRACE         seconds after plannedStartDate an unstarted stream expires (3600)
  FUNDING_PAYOUT_DELAY       seconds after endedAt a stream's funding is paid out (86400)
  REPLAY_RENTAL_DURATION     seconds a replay rental lasts (86400)
  LIVE_EVENTS_REDIS_URL      Redis for live events' fan-out and backlog (default: REDIS_URL;
                             neither: in memory, one process only)
  LIVE_EVENTS_BACKLOG        events kept per channel for Last-Event-ID resume (default 500)
  LIVE_EVENTS_HEARTBEAT_SECONDS  seconds between heartbeat comments on an idle stream (15)
  PUSH_SENDER                dotted path of the push sender (default: the recording sender)
  CLOCK_TICK_SECONDS         how often each worker's clock runs: periodic jobs (CLOCK_JOBS),
                             retries, requeue of a dead worker's jobs, heartbeat (default 5)
  JOB_MAX_ATTEMPTS           a failing job runs at most this often in all (default 5)
  JOB_RETRY_BASE_SECONDS     attempt n+1 waits base * 2**(n-1) after attempt n failed (default 10)
  JOB_STALE_SECONDS          a RUNNING job whose worker sent no heartbeat for this long is failed
                             and retried: the worker died (default 60)
  QUEUE_STALL_SECONDS        health says `degraded` when a due job waits this long, or no worker
                             has sent a heartbeat for this long (default 300)
  JOB_RESULTS_KEPT_DAYS      finished job rows (successful or failed) are deleted after (default 7)
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


ENVIRONMENT = os.environ.get("DJANGO_ENV", "development").strip().lower()
IS_PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DJANGO_DEBUG", default=not IS_PRODUCTION)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_ENV=production.")
    SECRET_KEY = "django-insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_ENV=production.")
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_tasks",
    "django_tasks_db",
    "allmine.jobs",
    "users",
    "notifications",
    "livestreams",
    "crowdfunding",
]

MIDDLEWARE = [
    "allmine.api.logging.RequestIdMiddleware",
    "allmine.api.middleware.ApiRequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allmine.api.middleware.ApiExceptionMiddleware",
]

ROOT_URLCONF = "allmine.urls"
WSGI_APPLICATION = "allmine.wsgi.application"
ASGI_APPLICATION = "allmine.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],  # admin overrides: totals, overview, favicon
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

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, plus: a read-only file is a 503 while it lasts, not for ever after.
    DATABASES["default"]["ENGINE"] = "allmine.sqlite_backend"
    # Wait for a writer instead of failing at once; WAL lets readers run beside it.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # Fail fast while the server is unreachable instead of holding a worker.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3)
    )
    if env_bool("DATABASE_POOL", default=False):
        # psycopg's pool: connections are checked before use, so a restarted server is fine.
        from psycopg_pool import ConnectionPool

        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 4),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
            "check": ConnectionPool.check_connection,
        }

# Read replicas (optional): GET/HEAD/OPTIONS requests read from it, everything else and every
# write uses the primary; see allmine/db_router.py.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    DATABASES["replica"].setdefault("OPTIONS", {})
    DATABASES["replica"]["OPTIONS"].setdefault(
        "connect_timeout", env_int("DATABASE_REPLICA_CONNECT_TIMEOUT", 2)
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests/replica/ use a real standby
    DATABASE_REPLICA_MAX_LAG_SECONDS = env_int("DATABASE_REPLICA_MAX_LAG_SECONDS", 5)
    DATABASE_REPLICA_CHECK_SECONDS = env_int("DATABASE_REPLICA_CHECK_SECONDS", 1)
    DATABASE_REPLICA_RETRY_SECONDS = env_int("DATABASE_REPLICA_RETRY_SECONDS", 5)
    DATABASE_ROUTERS = ["allmine.db_router.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(1, "allmine.db_router.ReplicaReadsMiddleware")

# --- Cache (throttle counters) -----------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # Shared by every app server, so throttles count across the whole fleet.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "allmine"),
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
elif DATABASE_REPLICA_URL:
    # Read-your-writes pins (allmine/db_router.py) must reach every worker process: without
    # Redis, a directory shared by the processes of this one machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("CACHE_DIR", "/tmp/allmine-cache"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "allmine",
            # Room for every throttle counter of a burst: culling one would reset its count.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

AUTH_USER_MODEL = "users.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the admin's stylesheet and favicon
# whitenoise serves the admin's and the API docs' static files from gunicorn. In production
# they are compressed and named by content hash (needs `collectstatic` first).
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

# Outside production, serve straight from the apps' folders: no collectstatic needed.
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
WHITENOISE_AUTOREFRESH = not IS_PRODUCTION

# --- HTTPS and cookies (what `manage.py check --deploy` asks for) -------------------------

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
# Load balancers probe the health endpoint over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", IS_PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", IS_PRODUCTION)
SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
X_FRAME_OPTIONS = "DENY"

# --- CORS for the web client --------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = (
    "X-Total-Count",
    "X-Request-ID",
    "Retry-After",
    "Idempotent-Replayed",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
CORS_PREFLIGHT_MAX_AGE = 3600

APPEND_SLASH = False
CSRF_FAILURE_VIEW = "allmine.api.views.csrf_failure"

# --- API ---------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["users.authentication.BearerJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "users.permissions.IsNotSuspended",
    ],
    "DEFAULT_RENDERER_CLASSES": ["allmine.api.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["allmine.api.parsers.SafeJSONParser"],
    # Proxies in front of the app that append to X-Forwarded-For; 0 trusts only the socket's
    # address, so a client cannot dodge the per-IP sign-in throttle with a forged header.
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES", 0),
    "EXCEPTION_HANDLER": "allmine.api.exceptions.envelope_exception_handler",
    "DEFAULT_METADATA_CLASS": "allmine.api.metadata.ApiMetadata",
    "DEFAULT_SCHEMA_CLASS": "allmine.api.schema.EnvelopeAutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Views name their scope (`throttle_scope`); rates per user (or per IP when anonymous),
    # counted atomically in the cache (allmine/api/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": ["allmine.api.throttling.ScopedThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "auth": os.environ.get("THROTTLE_AUTH_RATE", "20/min"),
        "auth_account": os.environ.get("THROTTLE_AUTH_ACCOUNT_RATE", "20/min"),
        "funding": os.environ.get("THROTTLE_FUNDING_RATE", "60/min"),
    },
    "COERCE_DECIMAL_TO_STRING": False,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=3600),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=2_592_000),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "AUTH_TOKEN_CLASSES": ("users.authentication.AccessToken",),
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", SECRET_KEY),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Allmine API",
    "DESCRIPTION": (
        "Crowd-funded live streams. Every response is wrapped in the envelope "
        "`{isSuccess, statusCode, data, errors, timestamp}`."
    ),
    "VERSION": "1.0.0",
    # 3.1: nullability is exact (`type: [..., "null"]`), which 3.0's `nullable` is not.
    "OAS_VERSION": "3.1.0",
    "SERVERS": [{"url": "/", "description": "The server that serves this document."}],
    "TAGS": [
        {"name": "Auth", "description": "Sign in, rotate the refresh token, sign out."},
        {"name": "Live Streams", "description": "Scheduling, running and reading live streams."},
        {"name": "Crowdfunding", "description": "Funding streams and their mini crowd fundings."},
        {"name": "Replay Rentals", "description": "Renting and watching a stream's recording."},
        {"name": "Reminders", "description": "Being reminded when a scheduled stream starts."},
        {
            "name": "Notifications",
            "description": "The inbox, device tokens for push, and live events (SSE).",
        },
        {
            "name": "Wallet",
            "description": "The caller's profile, balance and credit movements; credit "
            "packages, store purchases and transfers.",
        },
        {"name": "Gifts", "description": "Gifts sent on live streams and their statistics."},
        {
            "name": "Health",
            "description": "Reachability of the database and the cache; the job queue's progress.",
        },
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "allmine.api.schema.postprocess_schema",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "DependencyStateEnum": "allmine.api.health.DEPENDENCY_STATES",
        "ReplicaStateEnum": "allmine.api.health.REPLICA_STATES",
        "QueueStateEnum": "allmine.api.health.QUEUE_STATES",
        "MiniCrowdFundingStatusEnum": "crowdfunding.models.MiniCrowdFunding.Status",
        "ReplayRentalStatusEnum": "livestreams.selectors.RENTAL_STATES",
        "ReminderStatusEnum": "livestreams.models.Reminder.Status",
        "ReminderModeEnum": "livestreams.models.Reminder.Mode",
        # The stream object's enums keep their names now that two components show them.
        "CrowdfundedLiveStreamStatusEnum": "livestreams.models.LiveStream.Status",
        "CrowdfundedLiveStreamRoleEnum": ["host", "guest", "audience"],
    },
}

# Shown for streams whose creator uploaded no thumbnail.
DEFAULT_THUMBNAIL_URL = os.environ.get(
    "DEFAULT_THUMBNAIL_URL", "https://cdn.allmine.example/stream/default-thumbnail.png"
)
# An ended, recorded stream's recording is published at RECORDING_BASE_URL/<channel name>.mp4.
RECORDING_BASE_URL = os.environ.get("RECORDING_BASE_URL", "https://cdn.allmine.example/recordings")

# The store webhook (POST /api/v1/webhooks/revenuecat) is accepted only with this value in
# `Authorization` (as is or after `Bearer `); unset, every delivery is refused (401).
REVENUECAT_WEBHOOK_SECRET = os.environ.get("REVENUECAT_WEBHOOK_SECRET", "")
# POST /api/v1/credit-packages/purchase credits a package without a store: dev, test and the
# demo only. Off, that URL is a 404.
ALLOW_TEST_PURCHASES = env_bool("ALLOW_TEST_PURCHASES", False)

# One line per request (`allmine.request`) and every other record, each with the request id.
# Tokens and passwords are never logged: only method, path (no query string), status, time.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if IS_PRODUCTION else "text").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "allmine.api.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "allmine.api.logging.JsonFormatter"},
        "text": {
            "class": "allmine.api.logging.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # The request log line says it already; django.request would repeat each 4xx.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
    },
}

# --- Live events and push (API.md §10; allmine/events.py, notifications/push.py) ----------

LIVE_EVENTS_REDIS_URL = os.environ.get("LIVE_EVENTS_REDIS_URL", REDIS_URL).strip()
LIVE_EVENTS_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "allmine")
LIVE_EVENTS_BACKLOG = env_int("LIVE_EVENTS_BACKLOG", 500)
LIVE_EVENTS_BACKLOG_TTL = env_int("LIVE_EVENTS_BACKLOG_TTL", 86_400)
LIVE_EVENTS_HEARTBEAT_SECONDS = float(os.environ.get("LIVE_EVENTS_HEARTBEAT_SECONDS") or 15)
PUSH_SENDER = os.environ.get("PUSH_SENDER", "notifications.push.RecordingPushSender")

# Money requests repeated with the same Idempotency-Key within this window are answered once.
IDEMPOTENCY_KEY_TTL = timedelta(hours=env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24))

# The clock (API.md §9), in seconds from the environment so a test or a demo runs it in seconds:
# an unstarted stream expires STREAM_START_GRACE after its planned start (its funders refunded);
# an ended stream's funding is paid out FUNDING_PAYOUT_DELAY after its end; a replay rental lasts
# REPLAY_RENTAL_DURATION.
STREAM_START_GRACE = timedelta(seconds=env_int("STREAM_START_GRACE", 3600))
FUNDING_PAYOUT_DELAY = timedelta(seconds=env_int("FUNDING_PAYOUT_DELAY", 86400))
REPLAY_RENTAL_DURATION = timedelta(seconds=env_int("REPLAY_RENTAL_DURATION", 86400))

# --- Job queue and clock (allmine/jobs/) ---------------------------------------------------

# Jobs are rows in our own database (django-tasks' ORM backend); `manage.py run_worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CLOCK_TICK_SECONDS = env_float("CLOCK_TICK_SECONDS", 5)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 5)
JOB_RETRY_BASE_SECONDS = env_float("JOB_RETRY_BASE_SECONDS", 10)
JOB_STALE_SECONDS = env_float("JOB_STALE_SECONDS", 60)
QUEUE_STALL_SECONDS = env_float("QUEUE_STALL_SECONDS", 300)
JOB_RESULTS_KEPT_DAYS = env_int("JOB_RESULTS_KEPT_DAYS", 7)
# Periodic jobs: the workers' clock enqueues each at most once per `every` seconds, across all
# workers. Each is a sweep: it finds what is due and acts on each row once (row locks).
CLOCK_JOBS = {
    "replay_revenue_settle": {
        "task": "livestreams.tasks.replay_revenue_settle_job",
        "every": CLOCK_TICK_SECONDS,
    },
    "reminders_sweep": {"task": "livestreams.tasks.reminders_sweep", "every": CLOCK_TICK_SECONDS},
    "idempotency_keys_purge": {
        "task": "crowdfunding.tasks.idempotency_keys_purge_job",
        "every": 3600,
    },
    "job_results_prune": {"task": "allmine.jobs.tasks.job_results_prune", "every": 3600},
    # The clock of API.md §9 (crowdfunding/clock.py): expiry with refunds, funding payouts.
    "live_streams_expire": {
        "task": "crowdfunding.tasks.live_streams_expire_job",
        "every": CLOCK_TICK_SECONDS,
    },
    "funding_payouts_settle": {
        "task": "crowdfunding.tasks.funding_payouts_settle_job",
        "every": CLOCK_TICK_SECONDS,
    },
}
