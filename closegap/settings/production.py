"""Production: every secret from the environment; refuses to start without them."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random value of at least 50 characters.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # noqa: F405

# Every staff account signs in with a second factor in production: no setting or variable turns it off here.
SECOND_FACTOR_REQUIRED_FOR_STAFF = True
SECOND_FACTOR_EXEMPT_USERNAMES: list[str] = []

# Hubs' evidence archives (chain of custody, certificates): on a volume the web and worker containers share
# (docker-compose.yml mounts one here), served by no web server; only the evidence views stream them, to the hub's
# managers. A folder inside what WhiteNoise serves would publish them: refused.
PRIVATE_FILES_ROOT = Path(env("PRIVATE_FILES_ROOT", default="/var/lib/closegap/private"))
STORAGES["private"]["OPTIONS"]["location"] = str(PRIVATE_FILES_ROOT)  # noqa: F405
for _served in (STATIC_ROOT, WHITENOISE_ROOT):  # noqa: F405
    if PRIVATE_FILES_ROOT.resolve().is_relative_to(Path(_served).resolve()):
        raise ImproperlyConfigured(f"PRIVATE_FILES_ROOT must not be inside {_served}: that folder is served to anyone.")
