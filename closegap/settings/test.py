"""Tests: SQLite and eager Celery by default; DATABASE_URL / REDIS_URL point them at the real services."""

import os
from urllib.parse import urlsplit, urlunsplit


def _redis_url_of_this_test_process(url: str, worker: str) -> str:
    """pytest-xdist runs the suite in processes gw0, gw1, ...; each gets a Redis database of its own (15, 14, ...
    counting down from the one REDIS_URL names), since a test's cache.clear() empties its whole database."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base - int(worker.removeprefix('gw'))) % 16}"))


if os.environ.get("REDIS_URL") and os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["REDIS_URL"] = _redis_url_of_this_test_process(
        os.environ["REDIS_URL"], os.environ["PYTEST_XDIST_WORKER"]
    )

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = False
SECRET_KEY = "test-only-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
}
# Each test run gets its own cache namespace so a shared Redis never leaks values between runs.
CACHES["default"]["KEY_PREFIX"] = env("CACHE_KEY_PREFIX", default="test")  # noqa: F405
IMPACT_LOCAL_CACHE_SECONDS = 0  # tests see every refresh at once
# Serve static files from the app folders, as no collectstatic runs before the tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Tests run tasks in-process after commit even when REDIS_URL is set (the PostgreSQL/Redis run); the
# `worker` tests switch this off for themselves and start a real worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Sign-in lockout and form rate limits would trip over tests that sign in or post many times; the tests
# about them (common/tests/test_lockout.py, test_ratelimit.py) switch them back on.
AXES_ENABLED = False
RATE_LIMITS_ENABLED = False
# Staff tests sign in with force_login; the tests about the second factor (hubs/tests/test_second_factor.py)
# switch it back on.
SECOND_FACTOR_REQUIRED_FOR_STAFF = False
