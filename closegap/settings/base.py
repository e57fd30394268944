"""Settings shared by every environment. Values come from the environment, with safe defaults."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file is read only when asked (as cookiecutter-django does), so a developer's .env can never change what
# the tests test. docker compose hands .env to the containers itself; variables already set win over the file.
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The country list (names in every language) for donors' organisations.
    "django_countries",
    "hubs",
    "refurbishing",
    "donations",
    "projects",
    "impact",
    "demo",
    # Records every sign-in, and locks out guessing (see "Sign-in lockout" below).
    "axes",
    # A second factor (TOTP with recovery codes) for the people who certify wipes (hubs.accounts.second_factor).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every answer, the static files' too.
    "common.security.SecurityHeadersMiddleware",
    # Compresses HTML and JSON answers that are not compressed yet (WhiteNoise serves static files already
    # compressed, and the home page keeps a gzipped copy ready): pages are a third of their size on a slow link.
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL character in the path, the query or a form field is a 400 before any view looks it up in PostgreSQL.
    "common.security.RejectNulCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # After the session, before CommonMiddleware: the language from the URL (/fr/...), the cookie or
    # Accept-Language; "/" is redirected to the language found. The profile's language comes next.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "common.security.StaffSessionIdleMiddleware",
    # Whether this session signed in with its second factor, then: no guarded page before it (hubs.middleware).
    "django_otp.middleware.OTPMiddleware",
    "hubs.middleware.SecondFactorMiddleware",
    "hubs.middleware.ProfileLanguageMiddleware",
    # After authentication: turns a lockout found while signing in into the 429 page (common.lockout).
    "axes.middleware.AxesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# --- Security headers and sessions (common/security.py) ---------------------------------------------------
# No inline script or style anywhere: every script and stylesheet is a static file of our own. data: images are
# Swagger UI's icons. The widget alone drops frame-ancestors to * (it is xframe_options_exempt).
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
}
# Powerful browser features no page here uses; an empty list denies them to every origin, frames included.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Hub staff and superusers sign in with a second factor (TOTP from an authenticator app, or a recovery code)
# before the admin, the scan station and staff API operations (hubs.accounts.second_factor); anyone else may turn it on
# for themselves. Only the local default exempts the README's demo accounts; production forces both values.
SECOND_FACTOR_REQUIRED_FOR_STAFF = env.bool("SECOND_FACTOR_REQUIRED_FOR_STAFF", default=True)
SECOND_FACTOR_EXEMPT_USERNAMES: list[str] = []
OTP_TOTP_ISSUER = "Close the Gap"
# Each wrong code doubles the wait before the next try on that device (django-otp's throttle).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# Staff record wipes: their sessions end after a working day without a request (common.security).
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=8 * 60 * 60)

# Running a hub: a bulk lifecycle action takes at most this many devices (refurbishing.bulk.services); the hub dashboard
# calls a device in work "stuck" after this many days without a change, and charts this many weeks.
BULK_JOB_MAX_DEVICES = env.int("BULK_JOB_MAX_DEVICES", default=100_000)
HUB_DASHBOARD_STUCK_DAYS = env.int("HUB_DASHBOARD_STUCK_DAYS", default=14)
HUB_DASHBOARD_WEEKS = env.int("HUB_DASHBOARD_WEEKS", default=26)

ROOT_URLCONF = "closegap.urls"
WSGI_APPLICATION = "closegap.wsgi.application"
ASGI_APPLICATION = "closegap.asgi.application"

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
                "common.context_processors.language_alternates",
            ],
        },
    },
]

# SQLite is the zero-install default; DATABASE_URL=postgres://... switches to PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers queue instead of
    # failing half-way with "database is locked"; the timeout lets them wait their turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out account or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, taking the e-mail address (any case) as well as the username (hubs.accounts.backends).
    "hubs.accounts.backends.EmailOrUsernameBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "after-login"
LOGOUT_REDIRECT_URL = "impact:home"

LANGUAGE_CODE = "en"
# Day-month-year English dates (closegap/formats/en): one date format per language, everywhere.
FORMAT_MODULE_PATH = ["closegap.formats"]
# Hubs work in English (Kenya, South Africa), French (Kinshasa, Brussels) and Dutch (Brussels).
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language switcher's choice is remembered for a year (Django's default cookie ends with the browser session).
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served by WhiteNoise.
WHITENOISE_ROOT = BASE_DIR / "public"
# Files only a permission-checked view hands out (common.storage): hubs' evidence archives. A folder the web and
# worker processes share and no web server serves (never under STATIC_ROOT or WHITENOISE_ROOT; the site serves no
# MEDIA_URL). Production refuses a folder inside a served one.
PRIVATE_FILES_ROOT = Path(env("PRIVATE_FILES_ROOT", default=str(BASE_DIR / "var" / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "private": {
        "BACKEND": "common.storage.PrivateFileSystemStorage",
        "OPTIONS": {
            "location": str(PRIVATE_FILES_ROOT),
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    },
}

# Redis when REDIS_URL is set; otherwise a per-process memory cache (fine for one dev process).
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "closegap"}}

REST_FRAMEWORK = {
    # Token first: a request without valid credentials is answered 401 with "WWW-Authenticate: Token" (with the
    # session first, DRF would answer 403, which tells a script nothing about what to send).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's three parsers; the JSON one refuses text holding a NUL character (common.parsers, common.security).
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    # Every error, from any endpoint, has one body: {"detail": "...", "errors": {"field": ["..."]}}; the schema
    # class documents it, with the error statuses each operation can answer.
    "EXCEPTION_HANDLER": "common.api_errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "common.openapi.AutoSchema",
    # Slows password guessing on the token endpoint.
    "DEFAULT_THROTTLE_RATES": {"auth_token": env("API_AUTH_TOKEN_RATE", default="20/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Close the Gap device platform API",
    "DESCRIPTION": "Devices from donor to beneficiary, their chain of custody, and public impact.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API docs page loads Swagger UI from our own static files (no third-party script on our origin).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No deep links: with them Swagger UI puts a link inside each operation's expand button, a control
    # nested in a control that screen readers and keyboards handle badly (axe-core: nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "impact.openapi.add_public_impact_path",
        "common.openapi.add_web_server_errors",  # last: it documents every path, the hand-written ones too
    ],
    "ENUM_NAME_OVERRIDES": {
        "DeviceStateEnum": "refurbishing.models.DeviceState",
        "DeviceActionEnum": "refurbishing.lifecycle.ACTIONS",
        # A device's grade and the lowest grade a request accepts are one choice set.
        "GradeEnum": "refurbishing.models.Device.Grade",
        # Several models have a "status": each choice set gets its own name.
        "DonationStatusEnum": "donations.models.Donation.Status",
        "RecyclingBatchStatusEnum": "refurbishing.models.RecyclingBatch.Status",
        "TransferStatusEnum": "refurbishing.models.Transfer.Status",
        # A batch's waste streams and those each covering certificate covered are one choice set.
        "WasteStreamEnum": "refurbishing.models.WasteStream",
        "VendorCertificateSchemeEnum": "refurbishing.models.VendorCertificate.Scheme",
    },
}

# The public impact JSON may be read from partner sites.
CORS_URLS_REGEX = r"^/api/v1/impact/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]

# Celery: Redis when CELERY_BROKER_URL is set; otherwise tasks run in-process right after commit
# ("eager"), so the zero-install default needs no broker and counters still move.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not (REDIS_URL or env("CELERY_BROKER_URL", default=""))
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # The backstop: anything a lost after-commit message left unfolded is folded within a minute.
    "impact-fold-backstop": {"task": "impact.tasks.impact_fold_events", "schedule": timedelta(seconds=30)},
    "impact-reconcile-daily": {"task": "impact.tasks.impact_reconcile", "schedule": timedelta(days=1)},
    # Tells hub managers, once per certificate, that a downstream vendor's certificate expires within 30 days.
    # e-Resource: kilograms of batches dispatched at African hubs that a lost after-commit message left unallocated.
    "e-resource-allocate-backstop": {
        "task": "donations.tasks.e_resource_allocate_pending",
        "schedule": timedelta(minutes=5),
    },
    "vendor-certificate-reminders-daily": {
        "task": "refurbishing.tasks.vendor_certificate_reminders",
        "schedule": timedelta(days=1),
    },
}

# Sign-in lockout (django-axes) on the site's login, the admin login and the API token endpoint: after
# AXES_FAILURE_LIMIT failed sign-ins for one username, or from one address, that door answers 429 until
# AXES_COOLOFF_MINUTES have passed; the lock then lifts by itself. Every sign-in, failed or not, is recorded
# and listed in the admin for superusers.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "common.lockout.lockout_response"
# The client's address, for the lockout and the rate limits alike: REMOTE_ADDR, or behind this many proxies
# (e.g. 1 for the TLS proxy in front of docker compose) the X-Forwarded-For entry the outermost one added.
# Without it, behind a proxy every client has the proxy's address and one guesser would lock everyone out.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "common.ratelimit.client_ip"
# Failures count per account, whether the person typed their e-mail address or their username.
AXES_USERNAME_CALLABLE = "hubs.accounts.axes_username"

# Forms that create things for anonymous or new people: at most this many POSTs per address in a fixed
# window ("count/s", "/m", "/h" or "/d"); past it they answer 429 with Retry-After (common.ratelimit).
RATE_LIMITS = {
    "signup": env("RATE_LIMIT_SIGNUP", default="5/h"),
    "pledge": env("RATE_LIMIT_PLEDGE", default="30/h"),
    "password_reset": env("RATE_LIMIT_PASSWORD_RESET", default="5/h"),
    # Hardware reports (API and upload page): a hub shares one address, so room for a busy bench, not a flood.
    "hardware_report": env("RATE_LIMIT_HARDWARE_REPORT", default="120/m"),
    # Sending a verification link again, and inviting colleagues: each POST sends an e-mail.
    "email": env("RATE_LIMIT_EMAIL", default="10/h"),
    # Spreadsheet uploads and imports (donations.views): each one reads a whole file.
    "asset_import": env("RATE_LIMIT_ASSET_IMPORT", default="30/h"),
}
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)

# The largest eReuse Workbench hardware report accepted, in bytes (real ones are 5-300 KB).
HARDWARE_REPORT_MAX_BYTES = env.int("HARDWARE_REPORT_MAX_BYTES", default=2 * 1024 * 1024)

# e-Resource (donations.services.e_resource): a commitment by devices compensates this many kilograms a device.
# Source: WorldLoop, the e-waste partner of Close the Gap's e-Resource, which counts about 20 kg of e-waste recycled
# in Africa per device a donor sends there ("1 device = 20 kg", worldloop.org, e-Resource). A commitment keeps the
# kilograms it was made with; changing this changes only later commitments.
E_RESOURCE_KG_PER_DEVICE = Decimal(env("E_RESOURCE_KG_PER_DEVICE", default="20"))

# A donor's yearly report (impact.yearly_report) counts the calendar year from 1 January 00:00 to 31 December 24:00
# in this zone: by default the site's own (UTC), the zone the public page's months are counted in, so the report and
# the public monthly figures agree. A donor's 31 December 23:59 UTC falls in that year, although it is already
# 1 January in Nairobi. Each report records the zone it was computed in.
YEARLY_REPORT_TIME_ZONE = env("YEARLY_REPORT_TIME_ZONE", default=TIME_ZONE)

# Donors' asset lists (donations.imports.spreadsheet): the largest upload, how far an XLSX may expand when unzipped
# (a small file can hide gigabytes), and the most rows one import takes. Bigger files: split them.
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=20 * 1000 * 1000)
IMPORT_MAX_XLSX_EXPANDED_BYTES = env.int("IMPORT_MAX_XLSX_EXPANDED_BYTES", default=200 * 1000 * 1000)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
# Uploads larger than this are held in a temporary file rather than in memory while they are checked.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# How long each process keeps the rendered public impact JSON before asking the shared cache again.
IMPACT_LOCAL_CACHE_SECONDS = env.float("IMPACT_LOCAL_CACHE_SECONDS", default=1.0)

# Mail: printed to the console unless EMAIL_HOST is set, then sent through that SMTP server (production sets it).
EMAIL_HOST = env("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Close the Gap <no-reply@closegap.example>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# The site's address, for links in e-mails sent where no request says it (Celery tasks).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Embedded (eager) tasks run inside web requests and commands: keep their per-task "succeeded" lines quiet.
    "loggers": {"celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"}},
}
