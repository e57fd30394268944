"""Bulk lifecycle moves: one action on thousands of devices, in the background, one event per device.

``bulk_job_start`` records the job and queues ``refurbishing.tasks.bulk_job_run`` after commit. The task moves
one chunk of devices per run, each through ``device_perform_action`` (so every guard holds and every device
gets its own event), advances the job's progress in the same transaction as the chunk, and queues the next
chunk. A device a guard refuses is listed with the reason and left as it was; a device already where the action
leads is skipped, so running the same bulk action twice changes nothing the second time, and a chunk retried
after a lost worker moves nothing twice.

Without a worker (Celery eager, the embedded default) the first chunk runs in the request right after commit
and each later chunk runs when someone asks how far the job got (the progress page polls; so can an API client).
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from refurbishing.actions import device_perform_action, validate_action_fields
from refurbishing.errors import LifecycleError
from refurbishing.lifecycle import ACTIONS, transitions_for
from refurbishing.models import BulkJob, Device
from refurbishing.selectors import device_list

# Devices moved per task run: small enough that a chunk's transaction and row locks stay short.
BULK_JOB_CHUNK = 200


def bulk_job_max_devices() -> int:
    return int(getattr(settings, "BULK_JOB_MAX_DEVICES", 100_000))


def _json_value(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def bulk_fields_from_cleaned(cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """A form's cleaned data as JSON values the action's form accepts again (objects by their id)."""
    return {name: _json_value(value) for name, value in cleaned.items() if value not in (None, "")}


def target_states(action: str) -> set[str]:
    return {str(t.target) for t in transitions_for(action)}


def bulk_job_start(
    *,
    actor: AbstractBaseUser,
    action: str,
    device_ids: Sequence[int],
    fields: Mapping[str, Any] | None = None,
) -> BulkJob:
    """Record a bulk move of the given devices (already scoped by the caller) and queue it after commit.

    The fields are checked once here, so a mistake is answered at once instead of once per device.
    """
    from refurbishing.tasks import bulk_job_run

    if action not in ACTIONS:
        raise LifecycleError(
            _("'%(action)s' is not a device action. Choose one of: %(actions)s.")
            % {"action": action, "actions": ", ".join(ACTIONS)}
        )
    fields = dict(fields or {})
    validate_action_fields(action, fields)
    ids = list(dict.fromkeys(int(pk) for pk in device_ids))
    if not ids:
        raise LifecycleError(_("Select at least one device."))
    if len(ids) > bulk_job_max_devices():
        raise LifecycleError(_("Select at most %(max)d devices for one bulk action.") % {"max": bulk_job_max_devices()})
    with transaction.atomic():
        job = BulkJob.objects.create(actor=actor, action=action, fields=fields, device_ids=ids, total=len(ids))
        if not bulk_job_runs_in_requests():
            transaction.on_commit(lambda: bulk_job_run.delay(job.pk))
    if bulk_job_runs_in_requests():
        # No worker: the first chunk runs here (a small job is then already over); the progress page drives the rest.
        job = bulk_job_advance(job_id=job.pk)
    return job


def _reason(error: LifecycleError) -> str:
    return str(error.message)


def bulk_job_advance(*, job_id: int, chunk: int = BULK_JOB_CHUNK) -> BulkJob:
    """Move the job's next chunk of devices; returns the job as it stands after the chunk.

    The job row is locked for the chunk, so two runs given the same job never move the same devices; the
    progress commits with the moves it counts.
    """
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job_id)
        if job.finished:
            return job
        actor = job.actor
        try:
            cleaned = validate_action_fields(job.action, job.fields)
        except LifecycleError as error:
            job.status = BulkJob.Status.FAILED
            job.error = _reason(error)
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "error", "finished_at"])
            return job
        ids = job.device_ids[job.done : job.done + chunk]
        targets = target_states(job.action)
        # Scoped again at run time: a device that left the person's hubs since is refused, not moved.
        devices = {d.pk: d for d in device_list(user=actor).filter(pk__in=ids)}
        refused = list(job.refused)
        for pk in ids:
            device = devices.get(pk)
            if device is None:
                refused.append({"id": pk, "device": f"#{pk}", "reason": _("Not found at your hubs.")})
                continue
            if device.state in targets:
                job.skipped += 1
                continue
            try:
                with transaction.atomic():
                    device_perform_action(device=device, action=job.action, actor=actor, fields={}, cleaned=cleaned)
            except LifecycleError as error:
                refused.append({"id": pk, "device": str(device), "reason": _reason(error)})
            else:
                job.moved += 1
        job.refused = refused
        job.done += len(ids)
        job.status = BulkJob.Status.DONE if job.done >= job.total else BulkJob.Status.RUNNING
        if job.status == BulkJob.Status.DONE:
            job.finished_at = timezone.now()
        job.save()
    return job


def bulk_job_runs_in_requests() -> bool:
    """Whether no worker runs the chunks (Celery eager): then whoever follows the job's progress drives it."""
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def bulk_job_for_user(*, user: AbstractBaseUser, pk: int) -> BulkJob:
    """A job its starter (or a superuser) may follow; ``BulkJob.DoesNotExist`` for anyone else."""
    queryset = BulkJob.objects.all() if user.is_superuser else BulkJob.objects.filter(actor_id=user.pk)
    return queryset.get(pk=pk)


def bulk_job_progress(*, job: BulkJob, drive: bool = True) -> dict[str, Any]:
    """The job's figures for its progress page and the API; without a worker, first move its next chunk."""
    if drive and not job.finished and bulk_job_runs_in_requests():
        job = bulk_job_advance(job_id=job.pk)
    return {
        "id": job.pk,
        "action": job.action,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "total": job.total,
        "done": job.done,
        "moved": job.moved,
        "skipped": job.skipped,
        "refused_count": len(job.refused),
        "refused": job.refused,
        "percent": job.percent,
        "finished": job.finished,
        "error": job.error,
    }


def bulk_device_ids(*, queryset: QuerySet[Device], limit: int | None = None) -> list[int]:
    """The ids of a scoped device queryset in a stable order, at most ``limit`` + 1 (to tell "too many")."""
    limit = bulk_job_max_devices() if limit is None else limit
    return list(queryset.order_by("pk").values_list("pk", flat=True)[: limit + 1])
