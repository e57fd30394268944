"""Thin Celery tasks: no arguments but ids, idempotent, safe to retry or run twice at once."""

from celery import shared_task
from django.db import OperationalError

from common.task_queue import QueuedOnceTask, delay_once

from . import services


@shared_task(
    name="impact.tasks.impact_fold_events",
    base=QueuedOnceTask,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=100,
)
def impact_fold_events() -> int:
    return services.impact_fold_events()


def impact_fold_request() -> None:
    """Queue one fold for however many transitions commit before a worker starts it (the beat backstop's
    period bounds what a lost message costs)."""
    delay_once(impact_fold_events)


@shared_task(name="impact.tasks.impact_reconcile", time_limit=3600, soft_time_limit=3500)
def impact_reconcile() -> int:
    return len(services.impact_reconcile(repair=True))


@shared_task(
    name="impact.tasks.yearly_report_xlsx_build",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    time_limit=60 * 30,
    soft_time_limit=29 * 60,
)
def yearly_report_xlsx_build(xlsx_id: int) -> str:
    """Build a large yearly report's XLSX; a second run of the same id finds it built and does nothing."""
    from .reports.services import yearly_report_xlsx_build as build

    return build(xlsx_id=xlsx_id).status
