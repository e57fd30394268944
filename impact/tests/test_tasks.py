"""The fold task: a duplicated delivery counts once, and a burst of commits queues one fold."""

from unittest import mock

import pytest

from impact import tasks
from impact.factories import counter_total
from impact.models import Metric
from refurbishing.factories import DeviceFactory, devices_received
from refurbishing.services import device_transition

pytestmark = pytest.mark.usefixtures("fresh_cache")  # also drops a "fold pending" flag a test left behind


def test_a_task_delivered_twice_counts_once(hubs, staff_be):
    devices_received(2, hub=hubs["BE-BRU"], actor=staff_be)
    tasks.impact_fold_events.apply()
    tasks.impact_fold_events.apply()
    assert counter_total(Metric.DEVICES_RECEIVED) == 2


def test_transitions_committed_before_a_worker_starts_queue_one_fold(
    worker_mode, hubs, staff_be, sanitisation, django_capture_on_commit_callbacks
):
    devices = DeviceFactory.create_batch(3, donation__hub=hubs["BE-BRU"])
    with mock.patch.object(tasks.impact_fold_events, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            for device in devices:
                device_transition(device=device, action="receive", actor=staff_be)
        assert delay.call_count == 1  # three commits, one fold queued
        tasks.impact_fold_events.apply()  # the worker starts it: the next commit queues again
        with django_capture_on_commit_callbacks(execute=True):
            device_transition(device=devices[0], action="sanitise", actor=staff_be, record=sanitisation)
        assert delay.call_count == 2
    assert counter_total(Metric.DEVICES_RECEIVED) == 3


def test_a_fold_that_could_not_be_queued_does_not_block_the_next(worker_mode, hubs, staff_be):
    broken = mock.patch.object(tasks.impact_fold_events, "delay", side_effect=ConnectionError("broker down"))
    with broken, pytest.raises(ConnectionError):
        tasks.impact_fold_request()
    with mock.patch.object(tasks.impact_fold_events, "delay") as delay:
        tasks.impact_fold_request()
    assert delay.call_count == 1
