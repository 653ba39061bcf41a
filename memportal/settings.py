"""Django settings for memportal.

Everything an operator may change is read from the environment; docs/configuration.md
(and the table in the README) lists each variable. ``MEMPORTAL_ENV=production`` turns on
the deployment hardening that ``manage.py check --deploy`` looks for.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from memportal.safety import dev_secret_key, settings_refusal

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("MEMPORTAL_DATA_DIR", BASE_DIR / ".data"))

# mem0 reads both at import time: telemetry must be off and its folder ours before any
# module imports mem0 (memportal.memory enforces the same again, in case settings were
# bypassed).
os.environ["MEM0_TELEMETRY"] = "False"
os.environ.setdefault("MEM0_DIR", str(DATA_DIR / "mem0"))

# MEMPORTAL_ENV as the operator wrote it: an explicit "development" is a deliberate choice that
# lifts the public-host refusal below; unset means a developer's machine, checked against
# ALLOWED_HOSTS.
ENV_SETTING = os.environ.get("MEMPORTAL_ENV", "").strip()
ENV = ENV_SETTING or "development"
PRODUCTION = ENV == "production"
TESTING = os.environ.get("MEMPORTAL_TESTING") == "1"


def _bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
SECRET_KEY_IS_DEV_KEY = not SECRET_KEY
if SECRET_KEY_IS_DEV_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when MEMPORTAL_ENV=production")
    # Generated once per checkout and never committed: sessions and password-reset links signed
    # by one developer's site are worthless on every other.
    SECRET_KEY = dev_secret_key(DATA_DIR / "dev-secret-key")

DEBUG = _bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
# DEBUG pages or the development key on a host the network can reach: refuse to start.
_refusal = settings_refusal(
    debug=DEBUG, dev_key=SECRET_KEY_IS_DEV_KEY, allowed_hosts=ALLOWED_HOSTS, env=ENV_SETTING or None
)
if _refusal:
    raise ImproperlyConfigured(_refusal)
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
CSRF_FAILURE_VIEW = "memportal.errors.csrf_failure"  # the branded 403 page, with the reason

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "django_htmx",
    "procrastinate.contrib.django",  # the task queue: its migrations make the queue tables
    "memportal.memory",
    "memportal.accounts",
    "memportal.you",
    "memportal.agents",
    "memportal.staff",
    "memportal.offboarding",
]

# Background work (offboarding, exports, sweeps, tenant-wide deletes, the nightly audit) runs on
# procrastinate's PostgreSQL queue: ``manage.py procrastinate worker``, any number of them on any
# number of hosts. A worker heartbeats every WORKER_HEARTBEAT_SECONDS; one silent for
# WORKER_STALLED_SECONDS is dead, and the ``queue.retry_stalled`` periodic task hands its jobs
# to a live worker (every job is resumable).
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("MEMPORTAL_WORKER_HEARTBEAT_SECONDS", "10"))
WORKER_STALLED_SECONDS = float(os.environ.get("MEMPORTAL_WORKER_STALLED_SECONDS", "30"))
PROCRASTINATE_WORKER_DEFAULTS = {
    "update_heartbeat_interval": WORKER_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": WORKER_STALLED_SECONDS,
    "delete_jobs": "successful",  # our own job rows are the record; finished queue rows go
}
PROCRASTINATE_IMPORT_PATHS = ["memportal.queue"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "memportal.middleware.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "memportal.urls"
WSGI_APPLICATION = "memportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "memportal.accounts.context_processors.roles",
            ],
            # The site's one date format ({{ value|when }} / {% when value %}), in every template.
            "builtins": ["memportal.templatetags.when"],
        },
    },
]

# --- Database: PostgreSQL + pgvector, embedded unless DATABASE_URL is set ---------------
EMBEDDED_DATABASE = not os.environ.get("DATABASE_URL")
if not EMBEDDED_DATABASE:
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    from memportal.database import DEFAULT_DATABASE, database_url

    database_url(BASE_DIR)  # starts the embedded server and creates the database if needed
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": DEFAULT_DATABASE,
            "USER": "postgres",
            "HOST": str(Path(os.environ.get("MEMPORTAL_PGDATA", DATA_DIR / "pg")).resolve()),
            "CONN_MAX_AGE": 60,
        }
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("MEMPORTAL_TEST_DATABASE", "test_memportal")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A real, shared cache: allauth's rate limits must hold across processes.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "memportal_cache",
    },
    # Rendered parts of a person's own pages (you/fragments.py), in each web process's memory only:
    # keyed on the person's data version, so never stale and never someone else's; bounded, LRU.
    "you_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "you-fragments",
        "TIMEOUT": int(os.environ.get("MEMPORTAL_FRAGMENT_TIMEOUT", "300")),
        "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("MEMPORTAL_FRAGMENT_MAX_ENTRIES", "2000"))},
    },
}

# Django's database sessions (logout-everywhere and erasure delete their rows), read per request
# without the ORM's query building (memportal/accounts/sessions.py).
SESSION_ENGINE = "memportal.accounts.sessions"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- Accounts (django-allauth) -------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# A deployment lets an account in only once its address is proven: emails are unique, so an
# unverified sign-up could take someone else's address before they do. Development keeps "none".
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("MEMPORTAL_EMAIL_VERIFICATION", "mandatory" if PRODUCTION else "none")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
}
LOGIN_REDIRECT_URL = "you:list"
ACCOUNT_ADAPTER = "memportal.accounts.adapter.AccountAdapter"  # staff land on their work
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "DJANGO_EMAIL_BACKEND",
            "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
            else "django.core.mail.backends.console.EmailBackend",
        ),
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "memportal <noreply@localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Content-Security-Policy (Django 6 built-in): no inline script anywhere -----------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# --- Security headers; strict in production ------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = _bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- memportal's memory service -------------------------------------------------------------
MEMPORTAL = {
    # Tenant that browser sign-ups join (its slug is the mem0 app_id).
    "DEFAULT_TENANT": os.environ.get("MEMPORTAL_DEFAULT_TENANT", "concierge_app"),
    # Embedder: "onnx-minilm" (offline, shipped in a wheel), "openai" or "ollama".
    "EMBEDDER": os.environ.get("MEMPORTAL_EMBEDDER", "onnx-minilm"),
    "EMBEDDER_MODEL": os.environ.get("MEMPORTAL_EMBEDDER_MODEL", ""),
    "EMBEDDER_BASE_URL": os.environ.get("MEMPORTAL_EMBEDDER_BASE_URL", ""),
    "EMBEDDING_DIMS": int(os.environ.get("MEMPORTAL_EMBEDDING_DIMS", "384")),
    "EMBEDDER_THREADS": int(os.environ.get("MEMPORTAL_EMBEDDER_THREADS", "1")),
    # LLM: "" (none: memories stored verbatim, infer=False), "openai" or "ollama".
    "LLM": os.environ.get("MEMPORTAL_LLM", ""),
    "LLM_MODEL": os.environ.get("MEMPORTAL_LLM_MODEL", ""),
    "LLM_BASE_URL": os.environ.get("MEMPORTAL_LLM_BASE_URL", ""),
    "LLM_API_KEY": os.environ.get("MEMPORTAL_LLM_API_KEY", os.environ.get("OPENAI_API_KEY", "")),
    "MAX_MEMORY_CHARS": int(os.environ.get("MEMPORTAL_MAX_MEMORY_CHARS", "2000")),
    "MAX_MESSAGES_PER_ADD": int(os.environ.get("MEMPORTAL_MAX_MESSAGES_PER_ADD", "50")),
    "COLLECTION": "memportal_memories",
    # Without an LLM: "fast" writes mem0's infer=False rows itself (one batched embedding, COPY;
    # proven equal by tests/memory/test_ingest_fast_path.py), "mem0" runs mem0's own add loop.
    "INGEST": os.environ.get("MEMPORTAL_INGEST", "fast"),
    "MAX_MESSAGES_PER_IMPORT": int(os.environ.get("MEMPORTAL_MAX_MESSAGES_PER_IMPORT", "10000")),
    # A person's import on /you/import/ (a download file or a list of facts): file size and facts.
    "MAX_IMPORT_BYTES": int(os.environ.get("MEMPORTAL_MAX_IMPORT_BYTES", str(512 * 1024))),
    "MAX_IMPORT_FACTS": int(os.environ.get("MEMPORTAL_MAX_IMPORT_FACTS", "1000")),
    # Background staff exports: where files go and how long they live.
    "EXPORT_DIR": os.environ.get("MEMPORTAL_EXPORT_DIR", str(DATA_DIR / "exports")),
    "EXPORT_TTL_HOURS": int(os.environ.get("MEMPORTAL_EXPORT_TTL_HOURS", "24")),
    "EXPORT_BATCH_SIZE": int(os.environ.get("MEMPORTAL_EXPORT_BATCH_SIZE", "2000")),  # rows per query and chunk
    # Pause between the batches of background jobs (offboarding, exports, tenant-wide deletes):
    # leaves the database to the site's requests.
    "JOB_THROTTLE_SECONDS": float(os.environ.get("MEMPORTAL_JOB_THROTTLE_SECONDS", "0")),
    # Webhooks (memportal.agents.webhooks): a delivery is tried up to WEBHOOK_MAX_ATTEMPTS times,
    # waiting BACKOFF_BASE**n seconds before retry n (3: 3 s, 9 s, 27 s ... about 8 hours in all).
    # Private, loopback and link-local addresses are refused as webhook URLs unless
    # WEBHOOK_ALLOW_PRIVATE (default on only outside production: development and tests).
    "WEBHOOK_MAX_ATTEMPTS": int(os.environ.get("MEMPORTAL_WEBHOOK_MAX_ATTEMPTS", "10")),
    "WEBHOOK_BACKOFF_BASE": int(os.environ.get("MEMPORTAL_WEBHOOK_BACKOFF_BASE", "3")),
    "WEBHOOK_TIMEOUT_SECONDS": float(os.environ.get("MEMPORTAL_WEBHOOK_TIMEOUT_SECONDS", "10")),
    "WEBHOOK_ALLOW_PRIVATE": _bool("MEMPORTAL_WEBHOOK_ALLOW_PRIVATE", not PRODUCTION),
    # Requests per API key per minute (memportal.agents.api).
    "API_RATE_LIMIT": int(os.environ.get("MEMPORTAL_API_RATE_LIMIT", "600")),
    # Keyed hashes of erased identifiers and staff search text (memportal.crypto); derived from
    # SECRET_KEY when unset. Set it to keep hashes stable across a SECRET_KEY rotation.
    "HASH_KEY": os.environ.get("MEMPORTAL_HASH_KEY", ""),
    # Ed25519 seed (32 bytes, base64) signing downloadable erasure receipts; derived from SECRET_KEY when unset.
    "RECEIPT_SIGNING_KEY": os.environ.get("MEMPORTAL_RECEIPT_SIGNING_KEY", ""),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Query strings carry search text ("/you/search/?q=my+diagnosis"): stripped from request
    # lines and paths before any handler writes them, since erasure cannot reach log files.
    "filters": {"no_query_strings": {"()": "memportal.request_logging.StripQueryStrings"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_query_strings"]},
        "django.server": {
            "class": "logging.StreamHandler", "formatter": "django.server", "filters": ["no_query_strings"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("MEMPORTAL_LOG_LEVEL", "WARNING")},
    "loggers": {
        # mem0 logs memory text at INFO ("Updating memory with data=..."): keep it out of our logs,
        # which erasure cannot reach.
        "mem0": {"level": "ERROR"},
        # runserver's access lines, as Django's defaults have them, minus the query strings.
        "django.server": {
            "handlers": ["django.server"], "level": "INFO", "propagate": False, "filters": ["no_query_strings"],
        },
        # Logger filters run before propagation, so Django's own "django" handlers get the clean record.
        "django.request": {"filters": ["no_query_strings"]},
    },
}
