"""Impact aggregation: each event counted once, whatever happens to the fold, and the figures equal a recount."""

import random
from decimal import Decimal
from unittest import mock

import pytest
from django.db.models import Count

from hubs.factories import StaffFactory
from impact import services
from impact.factories import counter_total
from impact.models import ImpactCounter, Metric
from impact.selectors import impact_summary
from projects.factories import ProjectFactory
from projects.services import project_allocate_device
from refurbishing.errors import LifecycleError
from refurbishing.factories import CONFIGURATION, DeviceFactory, devices_received
from refurbishing.lifecycle import actions_from
from refurbishing.models import DeviceEvent
from refurbishing.services import device_transition

pytestmark = pytest.mark.usefixtures("fresh_cache")


def test_fold_counts_each_event_once(hubs, staff_be):
    devices_received(3, hub=hubs["BE-BRU"], actor=staff_be)
    assert services.impact_fold_events() == 6  # 3 pledge events (count nothing) + 3 receipts
    assert services.impact_fold_events() == 0
    assert counter_total(Metric.DEVICES_RECEIVED) == 3
    assert not DeviceEvent.objects.filter(impact_counted=False).exists()


def test_fold_in_small_batches_gives_the_same_totals(hubs, staff_be):
    devices_received(7, hub=hubs["BE-BRU"], actor=staff_be)
    while services.impact_fold_events(batch_size=3, max_batches=1):
        pass
    assert counter_total(Metric.DEVICES_RECEIVED) == 7
    assert services.impact_reconcile(repair=False) == []


def test_a_fold_killed_half_way_loses_nothing(hubs, staff_be):
    devices_received(4, hub=hubs["BE-BRU"], actor=staff_be)
    with (
        mock.patch.object(services, "device_events_mark_counted", side_effect=RuntimeError("worker killed")),
        pytest.raises(RuntimeError),
    ):
        services.impact_fold_events()
    assert counter_total(Metric.DEVICES_RECEIVED) == 0  # the counter increments rolled back with the batch
    assert DeviceEvent.objects.filter(impact_counted=False).count() == 8
    services.impact_fold_events()
    assert counter_total(Metric.DEVICES_RECEIVED) == 4


def test_a_transition_folds_itself_after_commit(hubs, staff_be, django_capture_on_commit_callbacks):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    with django_capture_on_commit_callbacks(execute=True):
        device_transition(device=device, action="receive", actor=None)
    assert counter_total(Metric.DEVICES_RECEIVED, hub=hubs["KE-MBA"]) == 1
    assert impact_summary()["devices_received"] == 1


def test_counters_are_split_by_hub_kind_and_month(hubs, staff_be, staff_ke_mba):
    devices_received(2, hub=hubs["BE-BRU"], actor=staff_be)
    devices_received(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    services.impact_fold_events()
    assert counter_total(Metric.DEVICES_RECEIVED, hub=hubs["BE-BRU"]) == 2
    assert counter_total(Metric.DEVICES_RECEIVED, hub=hubs["KE-MBA"]) == 1
    assert {c.month.day for c in ImpactCounter.objects.all()} == {1}


def test_reconcile_reports_and_repairs_drift(hubs, staff_be):
    devices_received(3, hub=hubs["BE-BRU"], actor=staff_be)
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
    assert counter_total(Metric.DEVICES_RECEIVED) == 3
    assert counter_total(Metric.DEVICES_DELIVERED) == 0
    assert services.impact_reconcile(repair=True) == []


# The public figures equal an independent recount from the events, after any mix of transitions.


def _random_step(rng, device, actor, project, sanitisation):
    action = rng.choice(actions_from(device.state))
    if action == "allocate":
        return project_allocate_device(device=device, project=project, actor=actor)
    kwargs = {}
    if action == "sanitise":
        kwargs["record"] = sanitisation
    elif action == "inspect":
        kwargs["record"] = {"passed": rng.random() < 0.8, "grade": rng.choice("ABC")}
    elif action == "configure":
        kwargs["record"] = CONFIGURATION
    elif action == "deliver":
        kwargs["data"] = {"beneficiaries": rng.randint(0, 60), "project_kind": project.kind}
    elif action == "recycle":
        kwargs["data"] = {"weight_kg": Decimal(rng.randint(50, 900)) / 100}
    elif action == "ship":
        kwargs["data"] = {"project_kind": project.kind}
    return device_transition(device=device, action=action, actor=actor, **kwargs)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_public_totals_equal_a_recount_after_random_transitions(seed, hubs, sanitisation):
    rng = random.Random(seed)
    staff = {code: StaffFactory(username=f"staff-{code.lower()}", hub=hub) for code, hub in hubs.items()}
    projects = {
        code: ProjectFactory(hub=hub, kind=rng.choice(["education", "medical", "social"])) for code, hub in hubs.items()
    }
    devices = []
    for _ in range(40):
        code = rng.choice(list(hubs))
        devices.append((code, DeviceFactory(donation__hub=hubs[code], has_storage_media=rng.random() < 0.8)))
    for _ in range(400):
        code, device = rng.choice(devices)
        if not actions_from(device.state):
            continue
        try:
            _random_step(rng, device, staff[code], projects[code], sanitisation)
        except LifecycleError as refused:  # e.g. sanitising a device without storage: a real refusal
            assert refused.code == "invalid"
        if rng.random() < 0.05:
            services.impact_fold_events(batch_size=rng.randint(1, 50), max_batches=rng.randint(1, 3))
    services.impact_fold_events()
    summary = impact_summary()

    by_state = dict(DeviceEvent.objects.values_list("to_state").annotate(n=Count("id")))
    beneficiaries = sum(e.data.get("beneficiaries", 0) for e in DeviceEvent.objects.filter(to_state="delivered"))
    kg = sum(Decimal(e.data["weight_kg"]) for e in DeviceEvent.objects.filter(to_state="recycled"))
    assert summary["devices_received"] == by_state.get("received", 0)
    assert summary["devices_refurbished"] == by_state.get("configured", 0)
    assert summary["devices_delivered"] == by_state.get("delivered", 0)
    assert summary["beneficiaries_reached"] == beneficiaries
    assert summary["ewaste_recycled_kg"] == float(round(kg, 1))
    for entry in summary["by_hub"]:
        hub_events = DeviceEvent.objects.filter(hub__code=entry["code"])
        assert entry["devices_received"] == hub_events.filter(to_state="received").count()
        assert entry["devices_delivered"] == hub_events.filter(to_state="delivered").count()
    for entry in summary["by_project_kind"]:
        delivered = DeviceEvent.objects.filter(to_state="delivered", data__project_kind=entry["kind"])
        assert entry["devices_delivered"] == delivered.count()
    assert sum(m["devices_received"] for m in summary["monthly"]) == summary["devices_received"]
    assert services.impact_reconcile(repair=False) == []
    # The walk must have reached the far ends of the lifecycle, or this test proves little.
    assert by_state.get("delivered", 0) > 0
    assert by_state.get("recycled", 0) > 0


# --- impact_fold_suspended and opening_balance_set (added with the demo app) --------------------------------


def test_transitions_inside_impact_fold_suspended_fold_once_when_it_ends(
    hubs, staff_be, sanitisation, django_capture_on_commit_callbacks
):
    devices = DeviceFactory.create_batch(2, donation__hub=hubs["BE-BRU"])

    with services.impact_fold_suspended() as suspension:
        with django_capture_on_commit_callbacks(execute=True):  # commits: the moves are announced
            for device in devices:
                device_transition(device=device, action="receive", actor=staff_be)
        assert not ImpactCounter.objects.exists()  # ... and neither folded
        assert DeviceEvent.objects.filter(impact_counted=False).count() == 4

    assert suspension.folded == 4  # 2 pledges + 2 receipts, in one fold
    assert counter_total(Metric.DEVICES_RECEIVED, hub=hubs["BE-BRU"]) == 2
    assert services.impact_reconcile(repair=False) == []
    # Once the block is over, a transition announced the same way folds itself again.
    with django_capture_on_commit_callbacks(execute=True):
        device_transition(device=devices[0], action="sanitise", actor=staff_be, record=sanitisation)
    assert counter_total(Metric.DEVICES_SANITISED, hub=hubs["BE-BRU"]) == 1


def test_impact_fold_suspended_folds_at_the_outermost_end_and_not_after_a_failure(hubs):
    devices = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])

    with pytest.raises(LifecycleError), services.impact_fold_suspended() as failed:
        device_transition(device=devices[0], action="ship", actor=None)
    assert failed.folded == 0
    assert DeviceEvent.objects.filter(impact_counted=False).count() == 2  # the pledges wait for the next fold

    with services.impact_fold_suspended() as outer:
        with services.impact_fold_suspended() as inner:
            device_transition(device=devices[1], action="receive", actor=None)
        assert inner.folded == 0
        assert not ImpactCounter.objects.exists()
    assert outer.folded == 3
    assert counter_total(Metric.DEVICES_RECEIVED, hub=hubs["KE-MBA"]) == 1


def test_opening_balance_set_records_and_replaces_a_hubs_historic_total(hubs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.opening_balance_set(hub=hubs["CD-FIH"], metric=Metric.DEVICES_RECEIVED, value=78_000)
    assert impact_summary()["devices_received"] == 78_000

    with django_capture_on_commit_callbacks(execute=True):
        balance = services.opening_balance_set(
            hub=hubs["CD-FIH"], metric=Metric.DEVICES_RECEIVED, value=78_492, note="Annual report 2023"
        )

    balance.refresh_from_db()
    assert (balance.value, balance.note) == (Decimal(78_492), "Annual report 2023")
    assert impact_summary()["devices_received"] == 78_492  # replaced, not added


def test_opening_balance_set_refuses_a_negative_total_and_an_unknown_metric(hubs):
    with pytest.raises(services.ImpactError, match="devices received at BE-BRU cannot be negative"):
        services.opening_balance_set(hub=hubs["BE-BRU"], metric=Metric.DEVICES_RECEIVED, value=-1)
    with pytest.raises(services.ImpactError, match="laptops_hugged is not an impact metric"):
        services.opening_balance_set(hub=hubs["BE-BRU"], metric="laptops_hugged", value=1)

    assert impact_summary()["devices_received"] == 0
