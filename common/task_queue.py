"""Queue a task once for a burst of events: while a call is queued and not yet started, the same call is not queued
again, because the one waiting will find every event committed before it starts.

For tasks whose work is "bring X up to date" (fold the new events, settle a donation's status): a bulk move of
200 devices from one donation then queues one status check, not 200, and the worker's queue stays short. Such a
task is declared with ``base=QueuedOnceTask``: as it starts, it clears its flag, so that a commit from then on
queues a call of its own. The flag expires after ``PENDING_SECONDS``, so a lost message costs at most that long; a
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


class QueuedOnceTask(Task):
    """A task queued with ``delay_once``: starting it (by a worker, eagerly, or by beat) clears its queued flag."""

    def __call__(self, *args, **kwargs):
        cache.delete(pending_key(self.name, args))  # events committed from now on queue another call
        return super().__call__(*args, **kwargs)
