"""Thin Celery tasks for the donor side: ids in, a service call, safe to retry or run twice."""

from celery import shared_task
from django.db import OperationalError

from refurbishing.selectors import device_donation_id

from . import services


@shared_task(
    name="donations.tasks.donation_sync_status",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=50,
)
def donation_sync_status(device_id: int) -> bool:
    donation_id = device_donation_id(device_id=device_id)
    if donation_id is None:
        return False
    return services.donation_sync_status(donation_id=donation_id)


@shared_task(
    name="donations.tasks.spreadsheet_import_run",
    acks_late=True,
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
)
def spreadsheet_import_run(import_id: int) -> int:
    """Import a checked asset list; a second run of the same id finds it done and does nothing."""
    return services.spreadsheet_import_run(import_id=import_id)
