"""Thin Celery tasks: no arguments but ids, idempotent, safe to retry or run twice at once."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    name="impact.tasks.impact_fold_events",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=100,
)
def impact_fold_events() -> int:
    return services.impact_fold_events()


@shared_task(name="impact.tasks.impact_reconcile", time_limit=3600, soft_time_limit=3500)
def impact_reconcile() -> int:
    return len(services.impact_reconcile(repair=True))
