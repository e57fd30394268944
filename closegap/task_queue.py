"""Queue a task once for a burst of events: while a call is queued and not yet started, the same call is not queued
again, because the one waiting will find every event committed before it starts.

For tasks whose work is "bring X up to date" (fold the new events, settle a donation's status): a bulk move of
200 devices from one donation then queues one status check, not 200, and the worker's queue stays short. The
task must call ``task_started`` with its own arguments first thing, so that a commit from then on queues a
call of its own. The flag expires after ``PENDING_SECONDS``, so a lost message costs at most that long; a
flag that expires while its call still waits behind a long queue only lets a second, harmless call in (these
tasks are idempotent). In the embedded mode (Celery eager) there is no queue to keep short: the call runs at once.
"""

from collections.abc import Hashable

from celery import Task
from django.core.cache import cache

PENDING_SECONDS = 30


def pending_key(task_name: str, args: tuple[Hashable, ...]) -> str:
    return ":".join(["task", "pending", task_name, *(str(arg) for arg in args)])


def delay_once(task: Task, *args: Hashable) -> None:
    """``task.delay(*args)``, unless that same call is already queued and has not started."""
    if task.app.conf.task_always_eager:
        task.delay(*args)
        return
    key = pending_key(task.name, args)
    if not cache.add(key, 1, timeout=PENDING_SECONDS):
        return
    try:
        task.delay(*args)
    except Exception:
        cache.delete(key)  # nothing was queued: let the next event try again
        raise


def task_started(task_name: str, *args: Hashable) -> None:
    """Called by the task as it starts: events committed from now on queue another call."""
    cache.delete(pending_key(task_name, args))
