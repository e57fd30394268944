"""The live path end to end with a real Celery worker: a committed transition reaches the public JSON.

A worker runs in a thread of this process and consumes from the Redis broker for real (not eager). It listens
on a queue of its own, so a worker started elsewhere against the same Redis cannot take these tasks.
Needs REDIS_URL; CI runs it against PostgreSQL and Redis.
"""

import time
import uuid

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from closegap.celery import app as celery_app
from impact.selectors import impact_summary_refresh
from refurbishing.factories import DeviceFactory
from refurbishing.services import device_transition

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

IMPACT_URL = "/api/v1/impact/"
LIVE_WITHIN_SECONDS = 2.0


@pytest.fixture
def worker_queue():
    """A real worker on a queue of its own; every task this test sends goes through the broker to it."""
    queue = f"closegap-test-{uuid.uuid4().hex[:12]}"
    conf = celery_app.conf
    saved = {
        "task_always_eager": conf.task_always_eager,
        "task_default_queue": conf.task_default_queue,
        "worker_hijack_root_logger": conf.worker_hijack_root_logger,
    }
    queues = celery_app.amqp.queues
    saved_consume_from = queues._consume_from  # the worker narrows the app's queue selection to ours
    conf.task_always_eager = False
    # Read at every send by the router, so the receivers' plain .delay() lands on this queue.
    conf.task_default_queue = queue
    conf.worker_hijack_root_logger = False  # leave pytest's log capture alone
    try:
        with start_worker(
            celery_app,
            pool="solo",
            perform_ping_check=False,
            queues=[queue],
            shutdown_timeout=30,
        ):
            yield queue
    finally:
        for key, value in saved.items():
            setattr(conf, key, value)
        queues._consume_from = saved_consume_from
        _forget_queue(queue)


def _forget_queue(queue: str) -> None:
    """Leave nothing of this run's queue in the broker (its list, bindings, and any message a failure left)."""
    broker = redis.Redis.from_url(celery_app.conf.broker_url)
    try:
        keys = list(broker.scan_iter(match=f"*{queue}*"))
        if keys:
            broker.delete(*keys)
    finally:
        broker.close()


@pytest.fixture
def tasks_run():
    """(task name, queue it came from, eager?) for every task that finished while the test ran."""
    seen: list[tuple[str, str, bool]] = []

    def record(sender=None, task=None, **kwargs):
        info = task.request.delivery_info or {}
        seen.append((task.name, info.get("routing_key", ""), bool(task.request.is_eager)))

    task_postrun.connect(record, weak=False)
    yield seen
    task_postrun.disconnect(record)


def devices_received(client) -> int:
    response = client.get(IMPACT_URL)
    assert response.status_code == 200, response.content[:300]
    return response.json()["devices_received"]


def test_a_committed_receive_shows_in_the_public_json_within_two_seconds(client, staff_be, worker_queue, tasks_run):
    device = DeviceFactory()  # its pledge event is folded by the worker too, but counts nothing
    impact_summary_refresh()  # start from the database's figures, not a summary some earlier test cached
    before = devices_received(client)

    device_transition(device=device, action="receive", actor=staff_be)  # commits: autocommit test
    committed_at = time.monotonic()
    seen = before
    while time.monotonic() - committed_at < LIVE_WITHIN_SECONDS:
        seen = devices_received(client)
        if seen != before:
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - committed_at

    assert seen == before + 1, f"devices_received went {before} -> {seen} in {elapsed:.2f}s"
    assert elapsed < LIVE_WITHIN_SECONDS
    folds = [t for t in tasks_run if t[0] == "impact.tasks.impact_fold_events"]
    assert folds, "no fold ran on the worker"
    assert all(routing_key == worker_queue and not eager for _, routing_key, eager in folds), folds
