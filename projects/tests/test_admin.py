"""The projects admin: allocating devices to a project of the user's hubs, shipments and delivery, requests."""

import pytest
from django.urls import reverse

from hubs.models import Hub, HubKind
from projects.factories import ProjectFactory, shipment_shipped
from projects.models import Allocation, DeviceRequest, Shipment
from projects.services import shipment_create
from refurbishing.factories import TO_CONFIGURED, DeviceFactory, device_through
from refurbishing.models import Device

DEVICE_CHANGELIST = "admin:refurbishing_device_changelist"
SHIPMENT_CHANGELIST = "admin:projects_shipment_changelist"
SECRET_NAME = "Confidential pilot Lubumbashi"


def _allocate(client, devices, **extra):
    """The device list's "Allocate" action, as the admin posts it."""
    data = {"action": "lifecycle_allocate", "index": "0", "_selected_action": [d.pk for d in devices], **extra}
    return client.post(reverse(DEVICE_CHANGELIST), data)


def test_allocate_offers_only_projects_of_the_users_hubs(client, hubs, staff_ke_mba):
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), *TO_CONFIGURED, actor=staff_ke_mba)
    mine = ProjectFactory(hub=hubs["KE-MBA"], name="Mombasa school")
    theirs = ProjectFactory(hub=hubs["ZA-JNB"], name="Soweto clinic")
    client.force_login(staff_ke_mba)

    page = _allocate(client, [device]).content.decode()
    assert "Mombasa school" in page
    assert "Soweto clinic" not in page

    refused = _allocate(client, [device], apply="1", **{"lifecycle-project": theirs.pk})
    assert refused.status_code == 200  # the form again, refusing the other hub's project
    assert "Select a valid choice" in refused.content.decode()
    device.refresh_from_db()
    assert device.state == Device.State.CONFIGURED
    assert not device.events.filter(action="allocate").exists()
    assert not Shipment.objects.exists()

    # The same device allocates to the user's own project: the refusal above was the scoping, nothing else.
    _allocate(client, [device], apply="1", **{"lifecycle-project": mine.pk})
    device.refresh_from_db()
    assert device.state == Device.State.ALLOCATED
    assert Allocation.objects.get(device=device).project == mine
    assert not Shipment.objects.exists()  # a shipment is put together explicitly


def test_ship_and_confirm_delivery_actions(client, hubs, staff_ke_mba):
    project = ProjectFactory(hub=hubs["KE-MBA"])
    devices = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    client.force_login(staff_ke_mba)
    for device in devices:
        device_through(device, *TO_CONFIGURED, actor=staff_ke_mba)
    _allocate(client, devices, apply="1", **{"lifecycle-project": project.pk})
    shipment = shipment_create(project=project, actor=staff_ke_mba)  # put together explicitly
    assert shipment.devices.count() == 2
    changelist = reverse(SHIPMENT_CHANGELIST)

    client.post(changelist, {"action": "ship_shipments", "index": "0", "_selected_action": [shipment.pk]})
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED

    page = client.post(changelist, {"action": "deliver_shipments", "index": "0", "_selected_action": [shipment.pk]})
    assert page.status_code == 200
    assert f'name="delivery-beneficiaries_{shipment.pk}"' in page.content.decode()
    client.post(
        changelist,
        {
            "action": "deliver_shipments",
            "_selected_action": [shipment.pk],
            "apply": "1",
            f"delivery-beneficiaries_{shipment.pk}": "40",
        },
    )
    shipment.refresh_from_db()
    assert (shipment.status, shipment.beneficiaries_confirmed) == (Shipment.Status.DELIVERED, 40)
    assert set(Device.objects.values_list("state", flat=True)) == {Device.State.DELIVERED}

    response = client.post(
        changelist, {"action": "ship_shipments", "index": "0", "_selected_action": [shipment.pk]}, follow=True
    )
    messages = [str(message) for message in response.context["messages"]]
    assert any("refused" in m and "already delivered" in m for m in messages)


@pytest.mark.parametrize("beneficiaries", [str(2**40), str(10**30)])
def test_confirm_delivery_refuses_an_absurd_number_of_people(client, hubs, staff_ke_mba, beneficiaries):
    shipment = shipment_shipped(project=ProjectFactory(hub=hubs["KE-MBA"]), actor=staff_ke_mba)
    client.force_login(staff_ke_mba)
    response = client.post(
        reverse(SHIPMENT_CHANGELIST),
        {
            "action": "deliver_shipments",
            "_selected_action": [shipment.pk],
            "apply": "1",
            f"delivery-beneficiaries_{shipment.pk}": beneficiaries,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert response.context["form"].errors
    shipment.refresh_from_db()
    assert (shipment.status, shipment.beneficiaries_confirmed) == (Shipment.Status.SHIPPED, None)


def test_device_request_raw_id_field_does_not_name_another_hubs_project(client, hubs, staff_ke_mba):
    # Django's raw-id widget prints the name of whatever id was typed, looked up in the whole table.
    mine = ProjectFactory(hub=hubs["KE-MBA"])
    elsewhere = ProjectFactory(hub=hubs["BE-BRU"], name=SECRET_NAME)
    request = DeviceRequest.objects.create(project=mine, category="laptop", quantity=2)
    client.force_login(staff_ke_mba)
    url = reverse("admin:projects_devicerequest_change", args=[request.pk])
    response = client.post(
        url, {"project": elsewhere.pk, "category": "laptop", "quantity": "3", "status": "open", "purpose": ""}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["project"]
    assert SECRET_NAME not in response.content.decode()
    request.refresh_from_db()
    assert (request.project_id, request.quantity) == (mine.pk, 2)
    # The user's own project is still named beside the box.
    assert mine.name in client.get(url).content.decode()


def test_a_project_is_added_only_at_a_hub_that_sends_devices_to_projects(client, hubs, superuser):
    Hub.objects.filter(code="ZA-JNB").update(kind=HubKind.objects.get(code=HubKind.ITAD_SOCIAL_ENTERPRISE))
    client.force_login(superuser)

    field = client.get(reverse("admin:projects_project_add")).context["adminform"].form.fields["hub"]

    assert sorted(hub.code for hub in field.queryset) == ["BE-BRU", "CD-FIH", "KE-MBA", "KE-NBO"]
