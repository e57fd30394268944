"""Impact aggregation: each event counted once, whatever happens to the task that folds it."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache

from impact import services, tasks
from impact.models import ImpactCounter, Metric, OpeningBalance
from impact.selectors import impact_summary
from refurbishing.models import DeviceEvent
from refurbishing.services import device_transition
from tests.factories import DeviceFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()  # also drops a "fold pending" flag a test left behind


def total(metric, **filters):
    return sum((c.value for c in ImpactCounter.objects.filter(metric=metric, **filters)), Decimal(0))


def receive_devices(n, *, hub, actor):
    devices = DeviceFactory.create_batch(n, donation__hub=hub)
    for device in devices:
        device_transition(device=device, action="receive", actor=actor)
    return devices


def test_fold_counts_each_event_once(hubs, staff_be):
    receive_devices(3, hub=hubs["BE-BRU"], actor=staff_be)
    assert services.impact_fold_events() == 6  # 3 pledge events (count nothing) + 3 receipts
    assert services.impact_fold_events() == 0
    assert total(Metric.DEVICES_RECEIVED) == 3
    assert not DeviceEvent.objects.filter(impact_counted=False).exists()


def test_a_task_delivered_twice_counts_once(hubs, staff_be):
    receive_devices(2, hub=hubs["BE-BRU"], actor=staff_be)
    tasks.impact_fold_events.apply()
    tasks.impact_fold_events.apply()
    assert total(Metric.DEVICES_RECEIVED) == 2


def test_fold_in_small_batches_gives_the_same_totals(hubs, staff_be):
    receive_devices(7, hub=hubs["BE-BRU"], actor=staff_be)
    while services.impact_fold_events(batch_size=3, max_batches=1):
        pass
    assert total(Metric.DEVICES_RECEIVED) == 7
    assert services.impact_reconcile(repair=False) == []


def test_a_fold_killed_half_way_loses_nothing(hubs, staff_be):
    receive_devices(4, hub=hubs["BE-BRU"], actor=staff_be)
    with (
        mock.patch.object(services, "device_events_mark_counted", side_effect=RuntimeError("worker killed")),
        pytest.raises(RuntimeError),
    ):
        services.impact_fold_events()
    assert total(Metric.DEVICES_RECEIVED) == 0  # the counter increments rolled back with the batch
    assert DeviceEvent.objects.filter(impact_counted=False).count() == 8
    services.impact_fold_events()
    assert total(Metric.DEVICES_RECEIVED) == 4


def test_a_transition_folds_itself_after_commit(hubs, staff_be, django_capture_on_commit_callbacks):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    with django_capture_on_commit_callbacks(execute=True):
        device_transition(device=device, action="receive", actor=None)
    assert total(Metric.DEVICES_RECEIVED, hub=hubs["KE-MBA"]) == 1
    assert impact_summary()["devices_received"] == 1


def test_counters_are_split_by_hub_kind_and_month(hubs, staff_be, staff_ke_mba):
    receive_devices(2, hub=hubs["BE-BRU"], actor=staff_be)
    receive_devices(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    services.impact_fold_events()
    assert total(Metric.DEVICES_RECEIVED, hub=hubs["BE-BRU"]) == 2
    assert total(Metric.DEVICES_RECEIVED, hub=hubs["KE-MBA"]) == 1
    assert {c.month.day for c in ImpactCounter.objects.all()} == {1}


def test_reconcile_reports_and_repairs_drift(hubs, staff_be):
    receive_devices(3, hub=hubs["BE-BRU"], actor=staff_be)
    services.impact_fold_events()
    cell = ImpactCounter.objects.get(metric=Metric.DEVICES_RECEIVED)
    cell.value = 10
    cell.save()
    ImpactCounter.objects.create(
        metric=Metric.DEVICES_DELIVERED, hub=hubs["ZA-JNB"], project_kind="", month=cell.month, value=5
    )
    drift = services.impact_reconcile(repair=True)
    assert {(d["metric"], d["counted"], d["expected"]) for d in drift} == {
        (Metric.DEVICES_RECEIVED, Decimal(10), Decimal(3)),
        (Metric.DEVICES_DELIVERED, Decimal(5), Decimal(0)),
    }
    assert total(Metric.DEVICES_RECEIVED) == 3
    assert total(Metric.DEVICES_DELIVERED) == 0
    assert services.impact_reconcile(repair=True) == []


def test_summary_adds_opening_balances_and_serves_from_cache(hubs, staff_be, django_assert_num_queries):
    OpeningBalance.objects.create(hub=hubs["BE-BRU"], metric=Metric.DEVICES_RECEIVED, value=1000)
    OpeningBalance.objects.create(hub=hubs["KE-NBO"], metric=Metric.BENEFICIARIES_REACHED, value=250)
    receive_devices(2, hub=hubs["BE-BRU"], actor=staff_be)
    services.impact_fold_events()
    summary = impact_summary()
    assert summary["devices_received"] == 1002
    assert summary["beneficiaries_reached"] == 250
    by_hub = {h["code"]: h for h in summary["by_hub"]}
    assert by_hub["BE-BRU"]["devices_received"] == 1002
    assert by_hub["KE-NBO"]["beneficiaries_reached"] == 250
    with django_assert_num_queries(0):
        assert impact_summary()["devices_received"] == 1002


def test_reconcile_command_reports_drift_and_repairs(hubs, staff_be):
    from io import StringIO

    from django.core.management import call_command

    receive_devices(2, hub=hubs["BE-BRU"], actor=staff_be)
    services.impact_fold_events()
    ImpactCounter.objects.filter(metric=Metric.DEVICES_RECEIVED).update(value=5)
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("reconcile_impact", "--check", stdout=out)
    assert "DRIFT devices_received hub=BE-BRU" in out.getvalue()
    assert "counted 5.000, events say 2" in out.getvalue()
    assert total(Metric.DEVICES_RECEIVED) == 5
    call_command("reconcile_impact", stdout=out)
    assert total(Metric.DEVICES_RECEIVED) == 2
    out = StringIO()
    call_command("reconcile_impact", stdout=out)
    assert "No drift" in out.getvalue()


@pytest.fixture
def worker_mode():
    """Tasks go to a (mocked) broker instead of running in place, as with a real worker."""
    conf = tasks.impact_fold_events.app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False
    yield
    conf.task_always_eager = eager


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
    assert total(Metric.DEVICES_RECEIVED) == 3


def test_a_fold_that_could_not_be_queued_does_not_block_the_next(worker_mode, hubs, staff_be):
    broken = mock.patch.object(tasks.impact_fold_events, "delay", side_effect=ConnectionError("broker down"))
    with broken, pytest.raises(ConnectionError):
        tasks.impact_fold_request()
    with mock.patch.object(tasks.impact_fold_events, "delay") as delay:
        tasks.impact_fold_request()
    assert delay.call_count == 1
