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
    name="donations.tasks.donation_certificate_issue_if_ready",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=110,
)
def donation_certificate_issue_if_ready(device_id: int) -> str | None:
    """Issue the device's donation's sanitisation certificate once every storage device is wiped; its number."""
    donation_id = device_donation_id(device_id=device_id)
    if donation_id is None:
        return None
    certificate = services.donation_certificate_issue_if_ready(donation_id=donation_id)
    return certificate.number if certificate else None
