"""Races only a real database with row locks can referee (PostgreSQL in CI): allocation, shipping, confirming.

Each racer runs in its own thread with its own connection (``run_together``) and starts at the same barrier.
"""

import threading

import pytest
from django.utils import timezone

from hubs.factories import StaffFactory
from hubs.services import hub_membership_add
from projects.factories import application_approved, configured_device
from projects.models import Allocation, DeliveryConfirmation, DeviceRequest, Shipment
from projects.services import ProjectError, delivery_confirm, request_allocate, shipment_create, shipment_ship
from refurbishing.errors import LifecycleError
from refurbishing.models import Device, DeviceEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LAPTOP = {"category": "laptop", "quantity": 1}


@pytest.fixture
def managers(hubs):
    hub = hubs["KE-MBA"]
    people = []
    for name in ("manager-a", "manager-b"):
        user = StaffFactory(username=name)
        hub_membership_add(hub=hub, user=user, role="manager")
        people.append(user)
    return people


def outcome_kinds(results):
    return sorted(kind for kind, _ in results)


def the_error(results):
    [error] = [value for kind, value in results if kind == "error"]
    return error


@pytest.fixture
def race_allocation(hubs, coordinator, managers):
    """Two approved requests for one laptop each, one fitting laptop, and a racer factory."""
    first = managers[0]
    hub = hubs["KE-MBA"]
    requests = [
        application_approved(coordinator=coordinator, manager=first, hub=hub, requests=[LAPTOP]).requests.get()
        for _ in range(2)
    ]
    device = configured_device(hub=hub, actor=first)

    def allocate(manager, request):
        def job(barrier: threading.Barrier):
            fresh = DeviceRequest.objects.select_related("project").get(pk=request.pk)
            barrier.wait()
            return request_allocate(request=fresh, devices=[device.pk], actor=manager)[0].request_id

        return job

    return device, requests, allocate


def test_a_device_goes_to_one_request_only_when_two_managers_allocate_it_at_once(
    run_together, race_allocation, managers
):
    device, requests, allocate = race_allocation
    results = run_together(allocate(managers[0], requests[0]), allocate(managers[1], requests[1]))

    assert outcome_kinds(results) == ["error", "ok"], results
    error = the_error(results)
    assert isinstance(error, ProjectError | LifecycleError), repr(error)
    assert error.code == "conflict", error.message
    assert Allocation.objects.filter(device=device).count() == 1
    assert DeviceEvent.objects.filter(device=device, action="allocate").count() == 1
    assert Device.objects.get(pk=device.pk).state == Device.State.ALLOCATED


def test_two_people_filling_the_last_place_of_a_request_never_exceed_it(run_together, hubs, coordinator, managers):
    hub = hubs["KE-MBA"]
    request = application_approved(
        coordinator=coordinator, manager=managers[0], hub=hub, requests=[LAPTOP]
    ).requests.get()
    devices = [configured_device(hub=hub, actor=managers[0]) for _ in range(2)]

    def allocate(manager, device):
        def job(barrier: threading.Barrier):
            barrier.wait()
            return request_allocate(request=request, devices=[device.pk], actor=manager)

        return job

    results = run_together(allocate(managers[0], devices[0]), allocate(managers[1], devices[1]))

    assert outcome_kinds(results) == ["error", "ok"], results
    assert the_error(results).code == "conflict"
    assert Allocation.objects.filter(request=request).count() == 1


@pytest.fixture
def preparing(hubs, coordinator, managers):
    hub = hubs["KE-MBA"]
    project = application_approved(
        coordinator=coordinator, manager=managers[0], hub=hub, requests=[LAPTOP | {"quantity": 3}]
    )
    devices = [configured_device(hub=hub, actor=managers[0]) for _ in range(3)]
    request_allocate(request=project.requests.get(), devices=devices, actor=managers[0])
    return shipment_create(project=project, actor=managers[0]), devices


def test_two_people_ship_the_same_shipment_at_once_and_the_loser_is_told_409(run_together, preparing, managers):
    shipment, devices = preparing

    def ship(manager):
        def job(barrier: threading.Barrier):
            barrier.wait()
            return shipment_ship(shipment=Shipment(pk=shipment.pk, hub_id=shipment.hub_id), actor=manager).status

        return job

    results = run_together(ship(managers[0]), ship(managers[1]))

    assert outcome_kinds(results) == ["error", "ok"], results
    error = the_error(results)
    assert isinstance(error, LifecycleError) and error.code == "conflict", repr(error)
    assert "already shipped" in error.message
    assert DeviceEvent.objects.filter(action="ship").count() == 3  # each device shipped once


def test_the_same_confirmation_sent_twice_at_once_counts_once(run_together, preparing, managers, coordinator):
    shipment, devices = preparing
    shipment_ship(shipment=shipment, actor=managers[0])

    def confirm(barrier: threading.Barrier):
        barrier.wait()
        confirmation, created = delivery_confirm(
            shipment=Shipment(pk=shipment.pk),
            confirmed_by=coordinator,
            idempotency_key="double-click",
            delivered_on=timezone.localdate(),
            people_served=40,
            arrived=[d.pk for d in devices],
        )
        return confirmation.pk, created

    results = run_together(confirm, confirm)

    assert outcome_kinds(results) == ["ok", "ok"], results
    assert sorted(created for _, (pk, created) in results) == [False, True]
    assert len({pk for _, (pk, created) in results}) == 1
    assert DeliveryConfirmation.objects.count() == 1
    assert DeviceEvent.objects.filter(action="deliver").count() == 3
