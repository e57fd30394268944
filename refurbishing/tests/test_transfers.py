"""Transfers between hubs: one chain of custody, check-in by scanning, missing devices flagged, counted once."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from hubs.factories import StaffFactory
from hubs.services import hub_membership_add
from impact import services as impact_services
from impact.models import ImpactCounter, Metric
from refurbishing.errors import LifecycleError
from refurbishing.factories import TO_CONFIGURED, DeviceFactory, device_through, devices_received
from refurbishing.models import Device, DeviceEvent, DeviceState, Transfer, TransferDevice
from refurbishing.services import device_transition
from refurbishing.transfers.services import transfer_check_in_close, transfer_check_in_scan, transfer_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_be(hubs):
    user = StaffFactory(username="manager-be-bru")
    hub_membership_add(hub=hubs["BE-BRU"], user=user, role="manager")
    return user


def _send(hubs, manager, devices, reference="MSCU1234567"):
    return transfer_send(
        from_hub=hubs["BE-BRU"], to_hub=hubs["KE-MBA"], devices=devices, reference=reference, actor=manager
    )


def test_only_a_manager_of_the_origin_sends(hubs, staff_be, manager_ke_mba):
    devices = devices_received(1, hub=hubs["BE-BRU"], actor=staff_be)
    for actor in (staff_be, manager_ke_mba):
        with pytest.raises(LifecycleError) as refused:
            _send(hubs, actor, devices)
        assert refused.value.code == "forbidden"
    assert not Transfer.objects.exists()


def test_only_received_or_configured_devices_at_the_origin_travel(hubs, staff_be, manager_be, sanitisation):
    wiped = device_through(DeviceFactory(donation__hub=hubs["BE-BRU"]), "receive", "sanitise", actor=staff_be)
    with pytest.raises(LifecycleError, match="only received or configured"):
        _send(hubs, manager_be, [wiped])
    configured = device_through(DeviceFactory(donation__hub=hubs["BE-BRU"]), *TO_CONFIGURED, actor=staff_be)
    (received,) = devices_received(1, hub=hubs["BE-BRU"], actor=staff_be)
    transfer = _send(hubs, manager_be, [configured, received])
    assert transfer.items.count() == 2
    with pytest.raises(LifecycleError, match="already on its way"):
        _send(hubs, manager_be, [received], reference="OTHER")


def test_a_transfer_with_devices_missing_on_arrival(hubs, staff_be, manager_be, staff_ke_mba):
    devices = devices_received(3, hub=hubs["BE-BRU"], actor=staff_be)
    transfer = _send(hubs, manager_be, devices)
    # In transit the devices stay at the origin, in the state they left in, and nobody works on them.
    assert set(Device.objects.filter(pk__in=[d.pk for d in devices]).values_list("hub__code", flat=True)) == {"BE-BRU"}
    with pytest.raises(LifecycleError, match="on its way to KE-MBA in transfer MSCU1234567"):
        device_transition(
            device=Device.objects.get(pk=devices[0].pk),
            action="sanitise",
            actor=staff_be,
            record=dict(SANITISATION_RECORD),
        )

    with pytest.raises(LifecycleError) as refused:  # the origin cannot check in what it sent
        transfer_check_in_scan(transfer=transfer, actor=staff_be, scan=devices[0].serial_number)
    assert refused.value.code == "forbidden"

    first = transfer_check_in_scan(transfer=transfer, actor=staff_ke_mba, scan=devices[0].serial_number)
    assert first.outcome == "received" and first.device.hub.code == "KE-MBA"
    second = transfer_check_in_scan(transfer=transfer, actor=staff_ke_mba, scan=devices[1].label_code.lower())
    assert second.outcome == "received"
    again = transfer_check_in_scan(transfer=transfer, actor=staff_ke_mba, scan=devices[0].serial_number)
    assert again.outcome == "already_received"
    with pytest.raises(LifecycleError):
        transfer_check_in_scan(transfer=transfer, actor=staff_ke_mba, scan="NOT-IN-IT")

    summary = transfer_check_in_close(transfer=transfer, actor=staff_ke_mba)
    assert (summary.expected, summary.received, summary.missing, summary.awaited) == (3, 2, 1, 0)
    lost = Device.objects.get(pk=devices[2].pk)
    assert lost.state == DeviceState.MISSING and lost.hub.code == "BE-BRU"
    assert TransferDevice.objects.get(device=lost).status == TransferDevice.Status.MISSING
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.CLOSED and transfer.received_at is not None

    # One chain of custody across both hubs, in order.
    arrived = Device.objects.get(pk=devices[0].pk)
    chain = list(arrived.events.order_by("id").values_list("action", "hub__code", "to_state"))
    assert chain == [
        ("pledge", "BE-BRU", "pledged"),
        ("receive", "BE-BRU", "received"),
        ("transfer_ship", "BE-BRU", "received"),
        ("transfer_receive", "KE-MBA", "received"),
    ]
    assert lost.events.order_by("id").last().action == "transfer_missing"
    # Work carries on at the new hub, by its staff.
    device_transition(device=arrived, action="sanitise", actor=staff_ke_mba, record=dict(SANITISATION_RECORD))
    with pytest.raises(LifecycleError):
        transfer_check_in_scan(transfer=transfer, actor=staff_ke_mba, scan=devices[2].serial_number)


SANITISATION_RECORD = {
    "method": "purge",
    "technique": "NVMe Format with crypto erase",
    "tool": "nwipe",
    "verification": "full",
    "verified": True,
}


def _cells(metric):
    return {c.hub.code: c.value for c in ImpactCounter.objects.filter(metric=metric).select_related("hub") if c.value}


def test_a_transferred_device_is_counted_once_at_its_first_hub(hubs, staff_be, manager_be, staff_ke_mba):
    devices = devices_received(2, hub=hubs["BE-BRU"], actor=staff_be)
    impact_services.impact_fold_events()
    assert _cells(Metric.DEVICES_RECEIVED) == {"BE-BRU": 2}
    transfer = _send(hubs, manager_be, devices)
    for device in devices:
        transfer_check_in_scan(transfer=transfer, actor=staff_ke_mba, scan=device.serial_number)
    transfer_check_in_close(transfer=transfer, actor=staff_ke_mba)
    assert DeviceEvent.objects.filter(action__startswith="transfer_", impact_counted=False).count() == 4
    impact_services.impact_fold_events()
    assert _cells(Metric.DEVICES_RECEIVED) == {"BE-BRU": 2}
    assert impact_services.impact_reconcile() == []
    assert _cells(Metric.DEVICES_RECEIVED) == {"BE-BRU": 2}
    # Work done after the journey counts where it is done.
    device_transition(
        device=Device.objects.get(pk=devices[0].pk),
        action="sanitise",
        actor=staff_ke_mba,
        record=dict(SANITISATION_RECORD),
    )
    impact_services.impact_fold_events()
    assert _cells(Metric.DEVICES_SANITISED) == {"KE-MBA": 1}


# --- surfaces: API, scan station, admin ----------------------------------------------------------------------


def test_api_check_in_is_scoped(token_client, hubs, staff_be, manager_be, staff_ke_mba, staff_ke_nbo, donor_user):
    devices = devices_received(2, hub=hubs["BE-BRU"], actor=staff_be)
    transfer = _send(hubs, manager_be, devices)
    url = f"/api/v1/transfers/{transfer.pk}/check-in/"
    body = {"scan": devices[0].serial_number}
    assert token_client(staff_ke_nbo).post(url, body, format="json").status_code == 404
    assert token_client(staff_ke_nbo).get("/api/v1/transfers/").json()["results"] == []
    assert token_client(donor_user).post(url, body, format="json").status_code == 404
    assert APIClient().post(url, body, format="json").status_code in (401, 403)  # signed out
    response = token_client(staff_be).post(url, body, format="json")  # sees it (sent it), may not check it in
    assert response.status_code == 403 and set(response.json()) == {"detail", "errors"}
    response = token_client(staff_ke_mba).post(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == "received" and response.json()["awaited"] == 1
    response = token_client(staff_ke_mba).post(url, {"scan": "UNKNOWN"}, format="json")
    assert response.status_code == 400 and "not in transfer" in response.json()["detail"]
    assert token_client(staff_ke_mba).post(url, {}, format="json").status_code == 400
    response = token_client(staff_ke_mba).post(f"/api/v1/transfers/{transfer.pk}/close/", format="json")
    assert response.status_code == 200 and response.json()["missing"] == 1
    listed = token_client(staff_be).get("/api/v1/transfers/").json()["results"]
    assert [(t["reference"], t["received_count"], t["missing_count"]) for t in listed] == [("MSCU1234567", 1, 1)]


def test_scan_station_check_in_page(client, hubs, staff_be, manager_be, staff_ke_mba):
    devices = devices_received(2, hub=hubs["BE-BRU"], actor=staff_be)
    transfer = _send(hubs, manager_be, devices)
    url = reverse("scan:transfer", args=[transfer.pk])
    client.force_login(staff_be)
    assert client.get(url).status_code == 404  # the origin does not check in
    client.force_login(staff_ke_mba)
    start = client.get(reverse("scan:transfers"))
    assert start.status_code == 200 and "MSCU1234567" in start.content.decode()
    response = client.post(url, {"scan": devices[0].label_code})
    assert response.status_code == 200 and 'data-scan-outcome="received"' in response.content.decode()
    fragment = client.post(url, {"scan": "nope"}, HTTP_X_FRAGMENT="1")
    assert fragment.status_code == 400 and 'data-scan-outcome="refused"' in fragment.content.decode()
    assert client.post(reverse("scan:transfer-close", args=[transfer.pk])).status_code == 302
    assert Device.objects.get(pk=devices[1].pk).state == DeviceState.MISSING


def test_admin_send_page_is_for_managers(client, hubs, staff_be, manager_be):
    devices = devices_received(2, hub=hubs["BE-BRU"], actor=staff_be)
    url = reverse("admin:refurbishing_transfer_add")
    client.force_login(staff_be)
    assert client.get(url).status_code == 403
    client.force_login(manager_be)
    assert client.get(url).status_code == 200
    codes = "\n".join(d.label_code for d in devices)
    response = client.post(
        url,
        {
            "from_hub": hubs["BE-BRU"].pk,
            "to_hub": hubs["KE-MBA"].pk,
            "reference": "WAYBILL-7",
            "codes": codes,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    transfer = Transfer.objects.get(reference="WAYBILL-7")
    assert transfer.items.count() == 2
    assert client.get(reverse("admin:refurbishing_transfer_change", args=[transfer.pk])).status_code == 200
    assert client.get(reverse("admin:refurbishing_transfer_changelist")).status_code == 200


def test_a_device_in_transit_cannot_be_moved_to_another_hub_by_hand(hubs, staff_be, manager_be):
    from refurbishing.services import device_update

    (device,) = devices_received(1, hub=hubs["BE-BRU"], actor=staff_be)
    _send(hubs, manager_be, [device])
    hub_membership_add(hub=hubs["KE-NBO"], user=manager_be, role="technician")
    with pytest.raises(LifecycleError, match="on its way"):
        device_update(device=device, actor=manager_be, fields={"hub": hubs["KE-NBO"]})
