"""Celery tasks of the core: thin, taking ids, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from refurbishing.bulk import services as bulk
from refurbishing.recycling import services as recycling


@shared_task(
    name="refurbishing.tasks.bulk_job_run",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=300,
    soft_time_limit=240,
)
def bulk_job_run(job_id: int) -> int:
    """Move the bulk job's next chunk, then queue the one after (with a worker); returns how far it got."""
    job = bulk.bulk_job_advance(job_id=job_id)
    # Eager (no worker): a chained call would run the whole job inside the request that started it; the job's
    # progress page drives the later chunks instead (bulk.bulk_job_progress).
    if not job.finished and not bulk.bulk_job_runs_in_requests():
        bulk_job_run.delay(job_id)
    return job.done


@shared_task(name="refurbishing.tasks.vendor_certificate_reminders", time_limit=120, soft_time_limit=100)
def vendor_certificate_reminders() -> int:
    """Daily (Celery beat): queue the expiry reminder of each vendor certificate that is due one; returns how many."""
    due = recycling.vendor_certificate_reminders_due()
    for certificate_id in due:
        vendor_certificate_remind.delay(certificate_id)
    return len(due)


@shared_task(
    name="refurbishing.tasks.vendor_certificate_remind",
    autoretry_for=(OperationalError, ConnectionError, SMTPException),
    retry_backoff=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=50,
)
def vendor_certificate_remind(certificate_id: int) -> bool:
    """Tell the managers that one vendor certificate expires soon; a second run (retry, duplicate) sends nothing."""
    return recycling.vendor_certificate_remind(certificate_id=certificate_id)
