"""Thin Celery tasks for the beneficiary side: ids in, idempotent, safe to retry."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    name="projects.tasks.project_review_notify",
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=50,
)
def project_review_notify(review_id: int) -> bool:
    """Tell the coordinators of a reviewed application; a second run (retry, duplicate) sends nothing."""
    return services.project_review_notify_send(review_id=review_id)
