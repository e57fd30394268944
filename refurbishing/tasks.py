"""Celery tasks of the core: thin, taking ids, safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from refurbishing.bulk import services as bulk


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
