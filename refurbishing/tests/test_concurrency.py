"""Races that only a real database with row locks can referee: run against PostgreSQL in CI.

Each racer runs in its own thread with its own database connection (the ``run_together`` fixture), reads the
device first (as a person looking at the page would), then all start together at a barrier.
"""

import threading
from collections.abc import Callable
from typing import Any

import pytest

from hubs.factories import StaffFactory
from refurbishing.errors import LifecycleError
from refurbishing.factories import SANITISATION, DeviceFactory
from refurbishing.models import Device, DeviceState, SanitisationRecord
from refurbishing.services import device_transition

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def transition_racer(*, device_pk: int, actor, action: str, **kwargs) -> Callable[[threading.Barrier], Any]:
    def job(barrier: threading.Barrier) -> str:
        device = Device.objects.get(pk=device_pk)  # the copy this person saw before pressing the button
        barrier.wait()
        return device_transition(device=device, actor=actor, action=action, **kwargs).state

    return job


def actions_of(device: Device) -> list[str]:
    return list(device.events.order_by("id").values_list("action", flat=True))


def assert_one_winner(results: list[tuple[str, Any]], *, winner_state: str) -> None:
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    errors = [value for kind, value in results if kind == "error"]
    assert isinstance(errors[0], LifecycleError), repr(errors[0])
    assert errors[0].code == "conflict", errors[0].message
    assert "just changed by someone else" in errors[0].message
    assert [value for kind, value in results if kind == "ok"] == [winner_state]


@pytest.fixture
def actors(hubs):
    hub = hubs["BE-BRU"]
    return StaffFactory(username="tech-a", hub=hub), StaffFactory(username="tech-b", hub=hub)


def test_two_people_receive_the_same_device_once(run_together, actors):
    device = DeviceFactory()
    first, second = actors
    history = actions_of(device)

    results = run_together(
        transition_racer(device_pk=device.pk, actor=first, action="receive"),
        transition_racer(device_pk=device.pk, actor=second, action="receive"),
    )

    assert_one_winner(results, winner_state=DeviceState.RECEIVED)
    device.refresh_from_db()
    assert device.state == DeviceState.RECEIVED
    assert device.version == 1
    assert actions_of(device) == [*history, "receive"]


def test_two_people_sanitise_the_same_device_once(run_together, actors):
    first, second = actors
    device = device_transition(device=DeviceFactory(), actor=first, action="receive")
    history = actions_of(device)

    results = run_together(
        transition_racer(device_pk=device.pk, actor=first, action="sanitise", record=SANITISATION),
        transition_racer(device_pk=device.pk, actor=second, action="sanitise", record=SANITISATION),
    )

    assert_one_winner(results, winner_state=DeviceState.SANITISED)
    device.refresh_from_db()
    assert device.state == DeviceState.SANITISED
    assert actions_of(device) == [*history, "sanitise"]
    assert SanitisationRecord.objects.filter(device=device).count() == 1


def test_inspect_pass_and_fail_at_once_keeps_one_outcome(run_together, actors):
    first, second = actors
    device = device_transition(device=DeviceFactory(has_storage_media=False), actor=first, action="receive")
    history = actions_of(device)

    results = run_together(
        transition_racer(device_pk=device.pk, actor=first, action="inspect", record={"passed": True, "grade": "A"}),
        transition_racer(device_pk=device.pk, actor=second, action="inspect", record={"passed": False}),
    )

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, LifecycleError) and error.code == "conflict"
    device.refresh_from_db()
    assert device.state in (DeviceState.INSPECTED, DeviceState.TO_RECYCLE)
    assert actions_of(device) == [*history, "inspect"]
    assert device.inspection_records.count() == 1


def test_receive_and_mark_missing_at_once_keeps_one_story(run_together, actors):
    first, second = actors
    device = DeviceFactory()
    history = actions_of(device)

    results = run_together(
        transition_racer(device_pk=device.pk, actor=first, action="receive"),
        transition_racer(device_pk=device.pk, actor=second, action="mark_missing"),
    )

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, LifecycleError) and error.code == "conflict"
    device.refresh_from_db()
    assert len(actions_of(device)) == len(history) + 1
    assert device.events.order_by("id").last().to_state == device.state


def test_two_managers_giving_one_device_to_partners_at_once_give_it_once(run_together, hubs):
    """Each work order locks its devices: the second to open sees the first's order and is refused whole."""
    from django.utils import timezone

    from hubs.factories import PartnerFactory
    from hubs.services import hub_membership_add
    from refurbishing.models import WorkOrder
    from refurbishing.work_orders.services import work_order_create

    hub = hubs["KE-MBA"]
    managers = [StaffFactory(username=f"manager-{n}") for n in (1, 2)]
    for manager in managers:
        hub_membership_add(hub=hub, user=manager, role="manager")
    partners = [PartnerFactory(), PartnerFactory()]
    device = device_transition(device=DeviceFactory(donation__hub=hub), actor=None, action="receive")

    def opener(manager, partner):
        def job(barrier: threading.Barrier):
            barrier.wait()
            return work_order_create(
                actor=manager,
                hub=hub,
                partner=partner,
                steps=["sanitise"],
                due_on=timezone.localdate(),
                devices=[Device.objects.get(pk=device.pk)],
            ).pk

        return job

    results = run_together(opener(managers[0], partners[0]), opener(managers[1], partners[1]))

    outcomes = sorted(kind for kind, _value in results)
    assert outcomes == ["error", "ok"], results
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, LifecycleError)
    assert "Already in another open work order" in error.message
    assert WorkOrder.objects.filter(devices=device).count() == 1


def test_two_syncs_of_one_batch_at_once_apply_each_move_once(run_together, actors, hubs, monkeypatch):
    """A station that sends its queue twice at once (two tabs, or a retry while the first answer is on its way):
    both syncs read the UUIDs seen so far before either writes, so only the UUID's unique row referees them."""
    import uuid
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from refurbishing.models import DeviceEvent, SyncedMove
    from refurbishing.scan import sync

    technician, _other = actors
    devices = DeviceFactory.create_batch(3, donation__hub=hubs["BE-BRU"], has_storage_media=False)
    happened = timezone.now() - timedelta(minutes=30)
    plan = [(devices[0], "receive", {}), (devices[0], "inspect", {"passed": "true", "grade": "B"})]
    plan += [(devices[1], "receive", {}), (devices[1], "inspect", {"passed": "true", "grade": "C"})]
    plan += [(devices[2], "receive", {})]
    versions: dict[int, int] = {}
    moves = []
    for step, (device, action, fields) in enumerate(plan):
        version = versions.get(device.pk, device.version)
        versions[device.pk] = version + 1
        moves.append(
            sync.QueuedMove(
                id=uuid.uuid4(),
                code=device.label_code,
                action=action,
                fields=fields,
                version=version,
                occurred_at=happened + timedelta(minutes=step),
                actor_id=technician.pk,
            )
        )
    events_before = DeviceEvent.objects.count()

    # Both syncs past their reads (the UUIDs already seen, the devices) before either applies its first move.
    both_have_read = threading.Barrier(2, timeout=30)
    batched = sync.announcements_batched

    def batched_once_both_have_read():
        both_have_read.wait()
        return batched()

    monkeypatch.setattr(sync, "announcements_batched", batched_once_both_have_read)

    def syncer(barrier: threading.Barrier) -> list[str]:
        actor = get_user_model().objects.get(pk=technician.pk)
        barrier.wait()
        return [answer.status for answer in sync.sync_moves_apply(actor=actor, moves=moves)]

    results = run_together(syncer, syncer)

    assert [kind for kind, _value in results] == ["ok", "ok"], results
    first, second = (statuses for _kind, statuses in results)
    # Each move applied by one sync, a duplicate in the other's answer (which sync won may differ move by move).
    assert [sorted(pair) for pair in zip(first, second, strict=True)] == [["applied", "duplicate"]] * len(moves)
    assert SyncedMove.objects.count() == len(moves)
    assert sorted(SyncedMove.objects.values_list("uuid", flat=True)) == sorted(move.id for move in moves)
    assert set(SyncedMove.objects.values_list("outcome", flat=True)) == {"applied"}
    assert DeviceEvent.objects.count() == events_before + len(moves)
    written = SyncedMove.objects.values_list("event__action", flat=True).order_by("occurred_at")
    assert list(written) == [action for _device, action, _fields in plan]
    for device in devices:
        device.refresh_from_db()
    assert [device.state for device in devices] == ["inspected", "inspected", "received"]
    assert [device.version for device in devices] == [2, 2, 1]
