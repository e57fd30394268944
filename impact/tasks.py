"""Thin Celery tasks: no arguments but ids, idempotent, safe to retry or run twice at once."""

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from . import services

# While a fold is queued and not yet started, further transitions need not queue another: the one queued
# will find their events. The flag expires after the beat backstop's period, so a lost message costs at
# most that long.
FOLD_PENDING_KEY = "impact:fold:pending"
FOLD_PENDING_SECONDS = 30


@shared_task(
    name="impact.tasks.impact_fold_events",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=100,
)
def impact_fold_events() -> int:
    # Cleared before folding: an event committed from now on queues a fold of its own.
    cache.delete(FOLD_PENDING_KEY)
    return services.impact_fold_events()


def impact_fold_request() -> None:
    """Queue one fold for however many transitions commit before a worker starts it."""
    if impact_fold_events.app.conf.task_always_eager:  # embedded mode folds right here: nothing to coalesce
        impact_fold_events.delay()
        return
    if not cache.add(FOLD_PENDING_KEY, 1, timeout=FOLD_PENDING_SECONDS):
        return
    try:
        impact_fold_events.delay()
    except Exception:
        cache.delete(FOLD_PENDING_KEY)  # nothing was queued: let the next transition try again
        raise


@shared_task(name="impact.tasks.impact_reconcile", time_limit=3600, soft_time_limit=3500)
def impact_reconcile() -> int:
    return len(services.impact_reconcile(repair=True))
