"""Development: the zero-install default (SQLite, in-process Celery) unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# An empty DJANGO_SECRET_KEY (as in a .env copied from .env.example) means "not set" here.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or "dev-only-insecure-key-do-not-use-in-production"

# The README's demo accounts sign in without a second factor here, and only here (production forces it on for
# every staff account). Any other staff account, even locally, sets one up at its first sign-in.
DEMO_HUB_CODES = ["be-bru", "ke-mba", "ke-nbo", "za-jnb", "cd-fih"]
SECOND_FACTOR_EXEMPT_USERNAMES = env.list(
    "SECOND_FACTOR_EXEMPT_USERNAMES",
    default=["admin"] + [f"{role}-{hub}" for role in ("staff", "manager") for hub in DEMO_HUB_CODES],
)
