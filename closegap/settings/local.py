"""Development: the zero-install default (SQLite, in-process Celery) unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# An empty DJANGO_SECRET_KEY (as in a .env copied from .env.example) means "not set" here.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or "dev-only-insecure-key-do-not-use-in-production"
