"""Allocation, shipping and delivery through the devices API (the actions this app registers with the core)."""

import pytest

from projects.factories import ProjectFactory, shipment_shipped
from projects.models import Shipment
from projects.services import project_allocate_device, shipment_create
from refurbishing.factories import TO_CONFIGURED, DeviceFactory, device_through
from refurbishing.models import Device, DeviceEvent
from refurbishing.services import device_update

SECRET_NAME = "Confidential pilot Lubumbashi"


def post_action(client, device: Device, body: dict):
    return client.post(f"/api/v1/devices/{device.pk}/transitions/", body, format="json")


def test_the_whole_journey_through_the_api(staff_ke_mba, hubs, sanitisation, token_client):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    project = ProjectFactory(hub=hubs["KE-MBA"])
    client = token_client(staff_ke_mba)
    steps = [
        ({"action": "receive"}, "received"),
        ({"action": "sanitise", **sanitisation}, "sanitised"),
        ({"action": "inspect", "passed": True, "grade": "B", "notes": "Battery 80%"}, "inspected"),
        ({"action": "configure", "operating_system": "Ubuntu", "os_version": "24.04"}, "configured"),
        ({"action": "allocate", "project": project.pk}, "allocated"),
        ({"action": "ship"}, "shipped"),
        ({"action": "deliver", "beneficiaries": 25}, "delivered"),
    ]
    for body, state in steps:
        if body["action"] == "ship":
            shipment_create(project=project, actor=staff_ke_mba)  # a shipment is put together explicitly
        response = post_action(client, device, body)
        assert response.status_code == 200, (body, response.content)
        assert response.json()["state"] == state
    device.refresh_from_db()
    assert (device.state, device.grade, device.version) == (Device.State.DELIVERED, "B", 7)
    delivered = device.events.get(action="deliver")
    assert delivered.data["beneficiaries"] == 25
    assert delivered.data["project_id"] == project.pk


def test_allocating_a_device_with_unwiped_storage_is_refused(staff_ke_mba, hubs, token_client):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"], has_storage_media=False)
    device_through(device, "receive", "inspect", "configure", actor=staff_ke_mba)
    # A technician finds an SD card after configuring: the device now has media that was never wiped.
    device = device_update(device=device, actor=staff_ke_mba, fields={"has_storage_media": True})
    project = ProjectFactory(hub=hubs["KE-MBA"])

    response = post_action(token_client(staff_ke_mba), device, {"action": "allocate", "project": project.pk})
    assert response.status_code == 400
    assert "no verified sanitisation record" in response.json()["detail"]
    device.refresh_from_db()
    assert (device.state, device.version) == (Device.State.CONFIGURED, 3)
    assert not device.events.filter(action="allocate").exists()


def test_allocate_to_another_hubs_project_neither_moves_nor_names_it(hubs, staff_ke_mba, token_client):
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), *TO_CONFIGURED, actor=staff_ke_mba)
    elsewhere = ProjectFactory(hub=hubs["BE-BRU"], name=SECRET_NAME)
    response = post_action(token_client(staff_ke_mba), device, {"action": "allocate", "project": elsewhere.pk})
    assert response.status_code == 403
    assert SECRET_NAME not in response.content.decode()
    assert "project" in response.json()["errors"]
    device.refresh_from_db()
    assert device.state == Device.State.CONFIGURED
    assert not Shipment.objects.exists()


def test_allocate_then_ship_with_the_project_service(staff_ke_mba, hubs, token_client):
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), *TO_CONFIGURED, actor=staff_ke_mba)
    project = ProjectFactory(hub=hubs["KE-MBA"])
    project_allocate_device(device=device, project=project, actor=staff_ke_mba)
    refused = post_action(token_client(staff_ke_mba), device, {"action": "ship"})
    assert refused.status_code == 400
    assert "not in a shipment yet" in refused.json()["detail"]
    shipment_create(project=project, actor=staff_ke_mba)
    response = post_action(token_client(staff_ke_mba), device, {"action": "ship"})
    assert response.status_code == 200
    assert response.json()["state"] == "shipped"
    assert response.json()["allowed_actions"] == ["deliver"]


@pytest.mark.parametrize("beneficiaries", [2**40, 10**30])
def test_deliver_refuses_an_absurd_number_of_people(hubs, staff_ke_mba, token_client, beneficiaries):
    # Before its fix: 2**40 went into the event and the shipment (and so the public totals); 10**30 was a 500.
    shipment = shipment_shipped(project=ProjectFactory(hub=hubs["KE-MBA"]), actor=staff_ke_mba)
    device = shipment.devices.get()
    response = post_action(token_client(staff_ke_mba), device, {"action": "deliver", "beneficiaries": beneficiaries})
    assert response.status_code == 400, response.content
    assert "beneficiaries" in response.json()["errors"]
    device.refresh_from_db()
    shipment.refresh_from_db()
    assert device.state == Device.State.SHIPPED
    assert shipment.beneficiaries_confirmed is None
    assert not DeviceEvent.objects.filter(device=device, action="deliver").exists()
