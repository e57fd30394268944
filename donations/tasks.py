"""Thin Celery tasks for the donor side: ids in, a service call, safe to retry or run twice."""

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from common.task_queue import QueuedOnceTask
from donations import notifications, services

# A mail server that is briefly away, or a database that is: try again later; the sent-marker keeps it once.
TRANSIENT_ERRORS = (OperationalError, SMTPException, ConnectionError, TimeoutError)


# The three tasks a device's move queues take the donation's id (they were given the device's id before; the
# names changed with the arguments, so a message queued by the older code is refused rather than misread).


@shared_task(
    name="donations.tasks.donation_status_sync",
    base=QueuedOnceTask,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=50,
)
def donation_sync_status(donation_id: int) -> bool:
    return services.donation_sync_status(donation_id=donation_id)


@shared_task(
    name="donations.tasks.donation_notify",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=8,
    time_limit=120,
    soft_time_limit=100,
)
def donation_notify(donation_id: int, kind: str, certificate_number: str = "") -> bool:
    return notifications.donation_notify(donation_id=donation_id, kind=kind, certificate_number=certificate_number)


@shared_task(
    name="donations.tasks.donation_notify_after_move",
    base=QueuedOnceTask,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=8,
    time_limit=120,
    soft_time_limit=100,
)
def donation_notify_after_transition(donation_id: int, action: str) -> bool:
    return notifications.donation_notify_after_transition(donation_id=donation_id, action=action)


@shared_task(
    name="donations.tasks.spreadsheet_import_run",
    acks_late=True,
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
)
def spreadsheet_import_run(import_id: int) -> int:
    """Import a checked asset list; a second run of the same id finds it done and does nothing."""
    return services.spreadsheet_import_run(import_id=import_id)


@shared_task(
    name="donations.tasks.donation_certificate_check",
    base=QueuedOnceTask,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=110,
)
def donation_certificate_issue_if_ready(donation_id: int) -> str | None:
    """Issue the donation's sanitisation certificate once every storage device is wiped; its number."""
    certificate = services.donation_certificate_issue_if_ready(donation_id=donation_id)
    return certificate.number if certificate else None


@shared_task(
    name="donations.tasks.e_resource_allocate",
    base=QueuedOnceTask,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=110,
)
def e_resource_allocate(batch_id: int) -> list[int]:
    """Allocate a dispatched batch's kilograms to open e-Resource commitments; the ids it covered. Exactly once."""
    return services.e_resource_allocate(batch_id=batch_id)


@shared_task(
    name="donations.tasks.e_resource_covered_notify",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=8,
    time_limit=120,
    soft_time_limit=100,
)
def e_resource_covered_notify(commitment_id: int) -> bool:
    """Tell the donor a commitment is covered and its certificate issued; sent once however often it runs."""
    return notifications.e_resource_covered_notify(commitment_id=commitment_id)


@shared_task(
    name="donations.tasks.e_resource_allocate_pending",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    time_limit=600,
    soft_time_limit=580,
)
def e_resource_allocate_pending() -> int:
    """The beat backstop: allocate what a lost after-commit message left; how many commitments it covered."""
    return services.e_resource_allocate_pending()


@shared_task(
    name="donations.tasks.evidence_archive_build",
    acks_late=True,
    time_limit=60 * 60,
    soft_time_limit=59 * 60,
)
def evidence_archive_build(archive_id: int) -> str:
    """Build an auditor's evidence archive; a second run of the same id finds it finished and does nothing."""
    return services.evidence_archive_build(archive_id=archive_id).status
