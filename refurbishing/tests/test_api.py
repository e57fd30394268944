"""The devices API under /api/v1/devices/: hub scoping, filters, query counts, and lifecycle moves."""

import pytest
from rest_framework.test import APIClient

import refurbishing.api
from donations.factories import DonationFactory
from hubs.factories import UserFactory
from refurbishing.factories import DeviceFactory, device_through, devices_received
from refurbishing.models import Device, DeviceEvent, SanitisationRecord
from refurbishing.services import device_transition

DEVICES = "/api/v1/devices/"
# Far past any id a database stores (bigint), and past what SQLite can bind at all.
HUGE_ID = "9" * 25


def transitions_url(device: Device) -> str:
    return f"{DEVICES}{device.pk}/transitions/"


def list_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# Scoping


def test_anonymous_callers_are_refused(hubs):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    client = APIClient()
    assert client.get(DEVICES).status_code in (401, 403)
    assert client.get(f"{DEVICES}{device.pk}/").status_code in (401, 403)
    assert client.post(transitions_url(device), {"action": "receive"}, format="json").status_code in (401, 403)
    device.refresh_from_db()
    assert device.state == Device.State.PLEDGED


def test_staff_see_only_their_hubs_devices(staff_ke_mba, hubs, token_client):
    mine = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    DeviceFactory(donation__hub=hubs["ZA-JNB"])
    response = token_client(staff_ke_mba).get(DEVICES)
    assert list_ids(response) == sorted((d.pk for d in mine), reverse=True)
    assert {row["hub"] for row in response.json()["results"]} == {"KE-MBA"}


def test_a_user_of_no_hub_sees_no_devices(hubs, token_client):
    DeviceFactory(donation__hub=hubs["KE-MBA"])
    assert list_ids(token_client(UserFactory()).get(DEVICES)) == []


def test_a_device_at_another_hub_is_not_found_for_detail_or_transitions(staff_ke_mba, hubs, token_client):
    device = DeviceFactory(donation__hub=hubs["ZA-JNB"])
    client = token_client(staff_ke_mba)
    assert client.get(f"{DEVICES}{device.pk}/").status_code == 404
    response = client.post(transitions_url(device), {"action": "receive"}, format="json")
    assert response.status_code == 404
    device.refresh_from_db()
    assert (device.state, device.version, device.events.count()) == (Device.State.PLEDGED, 0, 1)


def test_devices_cannot_be_written_except_through_transitions(superuser, hubs, token_client):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    client = token_client(superuser)
    assert client.post(DEVICES, {"manufacturer": "HP"}, format="json").status_code == 405
    assert client.patch(f"{DEVICES}{device.pk}/", {"state": "delivered"}, format="json").status_code == 405
    assert client.delete(f"{DEVICES}{device.pk}/").status_code == 405
    device.refresh_from_db()
    assert device.state == Device.State.PLEDGED


# Listing, filters, pagination, query counts


def test_device_fields_and_chain_of_custody(staff_ke_mba, hubs, token_client):
    (device,) = devices_received(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    client = token_client(staff_ke_mba)

    row = client.get(DEVICES).json()["results"][0]
    assert row["hub"] == "KE-MBA"
    assert row["donation"] == device.donation.reference
    assert row["serial_number"] == device.serial_number
    assert (row["state"], row["version"]) == ("received", 1)
    assert row["allowed_actions"] == ["sanitise", "inspect"]
    assert "events" not in row

    detail = client.get(f"{DEVICES}{device.pk}/").json()
    assert [(e["action"], e["from_state"], e["to_state"]) for e in detail["events"]] == [
        ("pledge", "", "pledged"),
        ("receive", "pledged", "received"),
    ]
    assert detail["events"][1]["actor"] == "staff-ke-mba"
    assert detail["events"][1]["hub"] == "KE-MBA"


def test_device_filters(superuser, hubs, token_client):
    laptop = DeviceFactory(donation__hub=hubs["KE-MBA"], category="laptop", serial_number="ABC-1")
    tablet = DeviceFactory(donation__hub=hubs["KE-MBA"], category="tablet", serial_number="ABC-12")
    device_transition(device=tablet, action="receive", actor=superuser)
    elsewhere = DeviceFactory(donation__hub=hubs["ZA-JNB"], category="laptop")
    client = token_client(superuser)

    assert list_ids(client.get(DEVICES, {"state": "received"})) == [tablet.pk]
    assert list_ids(client.get(DEVICES, {"state": "pledged"})) == [elsewhere.pk, laptop.pk]
    assert list_ids(client.get(DEVICES, {"hub": "KE-MBA"})) == [tablet.pk, laptop.pk]
    assert list_ids(client.get(DEVICES, {"hub": hubs["ZA-JNB"].pk})) == [elsewhere.pk]
    assert list_ids(client.get(DEVICES, {"hub": "NL-AMS"})) == []
    assert list_ids(client.get(DEVICES, {"category": "tablet"})) == [tablet.pk]
    assert list_ids(client.get(DEVICES, {"category": "laptop", "hub": "KE-MBA"})) == [laptop.pk]
    assert list_ids(client.get(DEVICES, {"serial_number": "ABC-1"})) == [laptop.pk]
    assert client.get(DEVICES, {"state": "teleported"}).status_code == 400


@pytest.mark.parametrize("value", [HUGE_ID, "9" * 5000, "\u00b2"])  # "²" passes str.isdigit() but not int()
def test_hub_filter_with_an_impossible_id_is_an_empty_list_not_a_500(hubs, staff_ke_mba, token_client, value):
    DeviceFactory(donation__hub=hubs["KE-MBA"])
    response = token_client(staff_ke_mba).get(DEVICES, {"hub": value})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_device_list_uses_a_cursor_with_no_count(staff_ke_mba, hubs, token_client):
    devices = [DeviceFactory(donation__hub=hubs["KE-MBA"]) for _ in range(3)]
    client = token_client(staff_ke_mba)
    first = client.get(DEVICES, {"page_size": 2}).json()
    assert "count" not in first
    assert [row["id"] for row in first["results"]] == [devices[2].pk, devices[1].pk]
    assert first["next"]
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [devices[0].pk]
    assert second["next"] is None


@pytest.mark.parametrize("how_many", [3, 30])
def test_device_list_runs_the_same_queries_whatever_the_number_of_devices(
    staff_ke_mba, hubs, token_client, django_assert_num_queries, how_many
):
    donation = DonationFactory(hub=hubs["KE-MBA"])
    DeviceFactory.create_batch(how_many, donation=donation)
    client = token_client(staff_ke_mba)
    # The token with its user, the caller's hubs, one page of devices with their hub and donation.
    with django_assert_num_queries(3):
        response = client.get(DEVICES)
    assert len(response.json()["results"]) == how_many


# Transitions


def test_a_transition_moves_the_device_and_writes_its_event(staff_ke_mba, hubs, sanitisation, token_client):
    (device,) = devices_received(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    response = token_client(staff_ke_mba).post(
        transitions_url(device), {"action": "sanitise", "version": 1, **sanitisation}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["version"]) == ("sanitised", 2)
    assert body["allowed_actions"] == ["inspect"]
    assert body["events"][-1]["action"] == "sanitise"

    device.refresh_from_db()
    assert device.state == Device.State.SANITISED
    event = device.events.latest("id")
    assert (event.action, event.from_state, event.to_state) == ("sanitise", "received", "sanitised")
    assert event.actor == staff_ke_mba
    record = SanitisationRecord.objects.get(device=device)
    assert (record.method, record.tool, record.operator) == ("purge", "nwipe", staff_ke_mba)


def test_a_failed_inspection_sends_the_device_to_recycling(staff_ke_mba, hubs, token_client):
    device = device_through(DeviceFactory(donation__hub=hubs["KE-MBA"]), "receive", "sanitise", actor=staff_ke_mba)
    client = token_client(staff_ke_mba)
    response = client.post(transitions_url(device), {"action": "inspect", "passed": False}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "to_recycle"
    response = client.post(transitions_url(device), {"action": "recycle", "weight_kg": "2.35"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "recycled"
    assert device.events.get(action="recycle").data["weight_kg"] == "2.35"


def test_an_unverified_wipe_is_refused_and_nothing_changes(staff_ke_mba, hubs, sanitisation, token_client):
    (device,) = devices_received(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    response = token_client(staff_ke_mba).post(
        transitions_url(device), {"action": "sanitise", **sanitisation, "verified": False}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert "verified" in body["errors"]
    assert "verified" in body["detail"]
    device.refresh_from_db()
    assert (device.state, device.version, device.events.count()) == (Device.State.RECEIVED, 1, 2)
    assert not SanitisationRecord.objects.filter(device=device).exists()


def test_sanitisation_verified_must_be_a_clear_yes(hubs, staff_be, sanitisation):
    (device,) = devices_received(1, hub=hubs["BE-BRU"], actor=staff_be)
    api = APIClient()
    api.force_authenticate(staff_be)
    body = {"action": "sanitise", **sanitisation, "verified": "yes please"}
    response = api.post(transitions_url(device), body, format="json")
    assert response.status_code == 400
    assert "verified" in response.json()["errors"]
    assert device.sanitisation_records.count() == 0


def test_a_move_the_state_does_not_allow_is_refused(staff_ke_mba, hubs, token_client):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    response = token_client(staff_ke_mba).post(
        transitions_url(device), {"action": "configure", "operating_system": "Ubuntu"}, format="json"
    )
    assert response.status_code == 400
    assert "only a device that is inspected" in response.json()["detail"]


@pytest.mark.parametrize("body", [{"action": "teleport"}, {"note": "no action"}, {"action": ""}])
def test_an_unknown_action_is_refused(staff_ke_mba, hubs, token_client, body):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    response = token_client(staff_ke_mba).post(transitions_url(device), body, format="json")
    assert response.status_code == 400
    assert "is not a device action" in response.json()["detail"]
    assert "action" in response.json()["errors"]


def test_a_stale_version_is_a_conflict(staff_ke_mba, hubs, sanitisation, token_client):
    (device,) = devices_received(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    response = token_client(staff_ke_mba).post(
        transitions_url(device), {"action": "sanitise", "version": 0, **sanitisation}, format="json"
    )
    assert response.status_code == 409
    assert "someone else" in response.json()["detail"]
    device.refresh_from_db()
    assert (device.state, device.version, device.events.count()) == (Device.State.RECEIVED, 1, 2)
    assert not SanitisationRecord.objects.filter(device=device).exists()


def test_a_move_that_lands_between_read_and_write_is_a_conflict(
    staff_ke_mba, hubs, sanitisation, token_client, monkeypatch
):
    (device,) = devices_received(1, hub=hubs["KE-MBA"], actor=staff_ke_mba)
    perform = refurbishing.api.device_perform_action

    def someone_else_first(**kwargs):
        other_copy = Device.objects.get(pk=device.pk)
        device_transition(device=other_copy, action="sanitise", actor=staff_ke_mba, record=sanitisation)
        return perform(**kwargs)

    monkeypatch.setattr(refurbishing.api, "device_perform_action", someone_else_first)
    response = token_client(staff_ke_mba).post(
        transitions_url(device), {"action": "sanitise", "version": 1, **sanitisation}, format="json"
    )
    assert response.status_code == 409
    assert DeviceEvent.objects.filter(device=device, action="sanitise").count() == 1
    assert SanitisationRecord.objects.filter(device=device).count() == 1


def test_receiving_into_another_hub_is_forbidden(staff_ke_mba, hubs, token_client):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    response = token_client(staff_ke_mba).post(
        transitions_url(device), {"action": "receive", "hub": hubs["ZA-JNB"].pk}, format="json"
    )
    assert response.status_code == 403
    assert "ZA-JNB" in response.json()["detail"]
    device.refresh_from_db()
    assert (device.state, device.version, device.hub) == (Device.State.PLEDGED, 0, hubs["KE-MBA"])
    assert device.events.count() == 1


def test_receiving_into_another_of_ones_own_hubs(superuser, hubs, token_client):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    response = token_client(superuser).post(
        transitions_url(device), {"action": "receive", "hub": hubs["KE-NBO"].pk}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["hub"]) == ("received", "KE-NBO")


def test_the_api_offers_no_write_to_devices_or_their_events_but_the_transition(hubs, superuser, token_client):
    device = DeviceFactory(donation__hub=hubs["KE-MBA"])
    api = token_client(superuser)
    url = f"/api/v1/devices/{device.pk}/"

    for method in (api.put, api.patch, api.delete):
        assert method(url, {"state": "received"}, format="json").status_code == 405
    assert device.events.count() == 1
