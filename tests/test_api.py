"""The REST API under /api/v1/: tokens, hub scoping, filters, lifecycle moves, query counts and public impact."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from projects.services import project_allocate_device
from refurbishing.models import Device, DeviceEvent, SanitisationRecord
from refurbishing.services import device_transition, device_update
from tests.factories import DeviceFactory, DonationFactory, ProjectFactory, UserFactory

DEVICES = "/api/v1/devices/"


def client_for(user) -> APIClient:
    """A client that signs in the way scripts do: with the user's API token."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def device_at(hub, **fields) -> Device:
    return DeviceFactory(donation__hub=hub, **fields)


def transitions_url(device: Device) -> str:
    return f"{DEVICES}{device.pk}/transitions/"


def received(hub, actor) -> Device:
    return device_transition(device=device_at(hub), action="receive", actor=actor)


def configured(hub, actor, sanitisation) -> Device:
    device = received(hub, actor)
    device_transition(device=device, action="sanitise", actor=actor, record=sanitisation)
    device_transition(device=device, action="inspect", actor=actor, record={"passed": True, "grade": "A"})
    return device_transition(device=device, action="configure", actor=actor)


def list_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# Tokens and hubs


def test_token_endpoint_returns_a_token_that_lists_devices(staff_ke_mba, hubs):
    device = device_at(hubs["KE-MBA"])
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "staff-ke-mba", "password": "staff-ke-mba"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=staff_ke_mba).key

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert list_ids(client.get(DEVICES)) == [device.pk]


def test_token_endpoint_refuses_a_wrong_password_with_a_message(staff_ke_mba):
    response = APIClient().post("/api/v1/auth/token/", {"username": "staff-ke-mba", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Unable to log in with provided credentials."
    assert not Token.objects.filter(user=staff_ke_mba).exists()


def test_token_endpoint_needs_no_csrf_token_from_a_signed_in_browser(staff_ke_mba):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff_ke_mba)
    response = client.post("/api/v1/auth/token/", {"username": "staff-ke-mba", "password": "staff-ke-mba"})
    assert response.status_code == 200


def test_hubs_lists_only_the_callers_hubs(staff_ke_mba, superuser):
    response = client_for(staff_ke_mba).get("/api/v1/hubs/")
    assert response.status_code == 200
    assert [hub["code"] for hub in response.json()] == ["KE-MBA"]

    codes = [hub["code"] for hub in client_for(superuser).get("/api/v1/hubs/").json()]
    assert codes == ["BE-BRU", "CD-FIH", "KE-MBA", "KE-NBO", "ZA-JNB"]


def test_hubs_are_read_only(superuser, hubs):
    response = client_for(superuser).post("/api/v1/hubs/", {"code": "NL-AMS", "name": "x"}, format="json")
    assert response.status_code == 405


# Scoping


def test_anonymous_callers_are_refused(hubs):
    device = device_at(hubs["KE-MBA"])
    client = APIClient()
    assert client.get(DEVICES).status_code in (401, 403)
    assert client.get(f"{DEVICES}{device.pk}/").status_code in (401, 403)
    assert client.post(transitions_url(device), {"action": "receive"}, format="json").status_code in (401, 403)
    device.refresh_from_db()
    assert device.state == Device.State.PLEDGED


def test_staff_see_only_their_hubs_devices(staff_ke_mba, hubs):
    mine = [device_at(hubs["KE-MBA"]), device_at(hubs["KE-MBA"])]
    device_at(hubs["ZA-JNB"])
    response = client_for(staff_ke_mba).get(DEVICES)
    assert list_ids(response) == sorted((d.pk for d in mine), reverse=True)
    assert {row["hub"] for row in response.json()["results"]} == {"KE-MBA"}


def test_a_user_of_no_hub_sees_no_devices(hubs):
    device_at(hubs["KE-MBA"])
    assert list_ids(client_for(UserFactory()).get(DEVICES)) == []


def test_a_device_at_another_hub_is_not_found_for_detail_or_transitions(staff_ke_mba, hubs):
    device = device_at(hubs["ZA-JNB"])
    client = client_for(staff_ke_mba)
    assert client.get(f"{DEVICES}{device.pk}/").status_code == 404
    response = client.post(transitions_url(device), {"action": "receive"}, format="json")
    assert response.status_code == 404
    device.refresh_from_db()
    assert (device.state, device.version, device.events.count()) == (Device.State.PLEDGED, 0, 1)


def test_devices_cannot_be_written_except_through_transitions(superuser, hubs):
    device = device_at(hubs["KE-MBA"])
    client = client_for(superuser)
    assert client.post(DEVICES, {"manufacturer": "HP"}, format="json").status_code == 405
    assert client.patch(f"{DEVICES}{device.pk}/", {"state": "delivered"}, format="json").status_code == 405
    assert client.delete(f"{DEVICES}{device.pk}/").status_code == 405
    device.refresh_from_db()
    assert device.state == Device.State.PLEDGED


# Listing, filters, pagination, query counts


def test_device_fields_and_chain_of_custody(staff_ke_mba, hubs):
    device = received(hubs["KE-MBA"], staff_ke_mba)
    client = client_for(staff_ke_mba)

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


def test_device_filters(superuser, hubs):
    laptop = device_at(hubs["KE-MBA"], category="laptop", serial_number="ABC-1")
    tablet = device_at(hubs["KE-MBA"], category="tablet", serial_number="ABC-12")
    device_transition(device=tablet, action="receive", actor=superuser)
    elsewhere = device_at(hubs["ZA-JNB"], category="laptop")
    client = client_for(superuser)

    assert list_ids(client.get(DEVICES, {"state": "received"})) == [tablet.pk]
    assert list_ids(client.get(DEVICES, {"state": "pledged"})) == [elsewhere.pk, laptop.pk]
    assert list_ids(client.get(DEVICES, {"hub": "KE-MBA"})) == [tablet.pk, laptop.pk]
    assert list_ids(client.get(DEVICES, {"hub": hubs["ZA-JNB"].pk})) == [elsewhere.pk]
    assert list_ids(client.get(DEVICES, {"hub": "NL-AMS"})) == []
    assert list_ids(client.get(DEVICES, {"category": "tablet"})) == [tablet.pk]
    assert list_ids(client.get(DEVICES, {"category": "laptop", "hub": "KE-MBA"})) == [laptop.pk]
    assert list_ids(client.get(DEVICES, {"serial_number": "ABC-1"})) == [laptop.pk]
    assert client.get(DEVICES, {"state": "teleported"}).status_code == 400


def test_device_list_uses_a_cursor_with_no_count(staff_ke_mba, hubs):
    devices = [device_at(hubs["KE-MBA"]) for _ in range(3)]
    client = client_for(staff_ke_mba)
    first = client.get(DEVICES, {"page_size": 2}).json()
    assert "count" not in first
    assert [row["id"] for row in first["results"]] == [devices[2].pk, devices[1].pk]
    assert first["next"]
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [devices[0].pk]
    assert second["next"] is None


@pytest.mark.parametrize("how_many", [3, 30])
def test_device_list_runs_the_same_queries_whatever_the_number_of_devices(
    staff_ke_mba, hubs, django_assert_num_queries, how_many
):
    donation = DonationFactory(hub=hubs["KE-MBA"])
    DeviceFactory.create_batch(how_many, donation=donation)
    client = client_for(staff_ke_mba)
    # The token with its user, the caller's hubs, one page of devices with their hub and donation.
    with django_assert_num_queries(3):
        response = client.get(DEVICES)
    assert len(response.json()["results"]) == how_many


# Transitions


def test_a_transition_moves_the_device_and_writes_its_event(staff_ke_mba, hubs, sanitisation):
    device = received(hubs["KE-MBA"], staff_ke_mba)
    response = client_for(staff_ke_mba).post(
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


def test_the_whole_journey_through_the_api(staff_ke_mba, hubs, sanitisation):
    device = device_at(hubs["KE-MBA"])
    project = ProjectFactory(hub=hubs["KE-MBA"])
    client = client_for(staff_ke_mba)
    steps = [
        ({"action": "receive"}, "received"),
        ({"action": "sanitise", **sanitisation}, "sanitised"),
        ({"action": "inspect", "passed": True, "grade": "B", "notes": "Battery 80%"}, "inspected"),
        ({"action": "configure", "note": "Ubuntu 24.04"}, "configured"),
        ({"action": "allocate", "project": project.pk}, "allocated"),
        ({"action": "ship"}, "shipped"),
        ({"action": "deliver", "beneficiaries": 25}, "delivered"),
    ]
    for body, state in steps:
        response = client.post(transitions_url(device), body, format="json")
        assert response.status_code == 200, (body, response.content)
        assert response.json()["state"] == state
    device.refresh_from_db()
    assert (device.state, device.grade, device.version) == (Device.State.DELIVERED, "B", 7)
    delivered = device.events.get(action="deliver")
    assert delivered.data["beneficiaries"] == 25
    assert delivered.data["project_id"] == project.pk


def test_a_failed_inspection_sends_the_device_to_recycling(staff_ke_mba, hubs, sanitisation):
    device = received(hubs["KE-MBA"], staff_ke_mba)
    device_transition(device=device, action="sanitise", actor=staff_ke_mba, record=sanitisation)
    client = client_for(staff_ke_mba)
    response = client.post(transitions_url(device), {"action": "inspect", "passed": False}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "to_recycle"
    response = client.post(transitions_url(device), {"action": "recycle", "weight_kg": "2.35"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "recycled"
    assert device.events.get(action="recycle").data["weight_kg"] == "2.35"


def test_an_unverified_wipe_is_refused_and_nothing_changes(staff_ke_mba, hubs, sanitisation):
    device = received(hubs["KE-MBA"], staff_ke_mba)
    response = client_for(staff_ke_mba).post(
        transitions_url(device), {"action": "sanitise", **sanitisation, "verified": False}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert "verified" in body["errors"]
    assert "verified" in body["detail"]
    device.refresh_from_db()
    assert (device.state, device.version, device.events.count()) == (Device.State.RECEIVED, 1, 2)
    assert not SanitisationRecord.objects.filter(device=device).exists()


def test_allocating_a_device_with_unwiped_storage_is_refused(staff_ke_mba, hubs):
    device = device_at(hubs["KE-MBA"], has_storage_media=False)
    for action, record in [("receive", None), ("inspect", {"passed": True, "grade": "A"}), ("configure", None)]:
        device_transition(device=device, action=action, actor=staff_ke_mba, record=record)
    # A technician finds an SD card after configuring: the device now has media that was never wiped.
    device = device_update(device=device, actor=staff_ke_mba, fields={"has_storage_media": True})
    project = ProjectFactory(hub=hubs["KE-MBA"])

    response = client_for(staff_ke_mba).post(
        transitions_url(device), {"action": "allocate", "project": project.pk}, format="json"
    )
    assert response.status_code == 400
    assert "no verified sanitisation record" in response.json()["detail"]
    device.refresh_from_db()
    assert (device.state, device.version) == (Device.State.CONFIGURED, 3)
    assert not device.events.filter(action="allocate").exists()


def test_a_move_the_state_does_not_allow_is_refused(staff_ke_mba, hubs):
    device = device_at(hubs["KE-MBA"])
    response = client_for(staff_ke_mba).post(transitions_url(device), {"action": "configure"}, format="json")
    assert response.status_code == 400
    assert "only a device that is inspected" in response.json()["detail"]


@pytest.mark.parametrize("body", [{"action": "teleport"}, {"note": "no action"}, {"action": ""}])
def test_an_unknown_action_is_refused(staff_ke_mba, hubs, body):
    device = device_at(hubs["KE-MBA"])
    response = client_for(staff_ke_mba).post(transitions_url(device), body, format="json")
    assert response.status_code == 400
    assert "is not a device action" in response.json()["detail"]
    assert "action" in response.json()["errors"]


def test_a_stale_version_is_a_conflict(staff_ke_mba, hubs, sanitisation):
    device = received(hubs["KE-MBA"], staff_ke_mba)
    response = client_for(staff_ke_mba).post(
        transitions_url(device), {"action": "sanitise", "version": 0, **sanitisation}, format="json"
    )
    assert response.status_code == 409
    assert "someone else" in response.json()["detail"]
    device.refresh_from_db()
    assert (device.state, device.version, device.events.count()) == (Device.State.RECEIVED, 1, 2)
    assert not SanitisationRecord.objects.filter(device=device).exists()


def test_a_move_that_lands_between_read_and_write_is_a_conflict(staff_ke_mba, hubs, sanitisation, monkeypatch):
    import refurbishing.api

    device = received(hubs["KE-MBA"], staff_ke_mba)
    perform = refurbishing.api.device_perform_action

    def someone_else_first(**kwargs):
        other_copy = Device.objects.get(pk=device.pk)
        device_transition(device=other_copy, action="sanitise", actor=staff_ke_mba, record=sanitisation)
        return perform(**kwargs)

    monkeypatch.setattr(refurbishing.api, "device_perform_action", someone_else_first)
    response = client_for(staff_ke_mba).post(
        transitions_url(device), {"action": "sanitise", "version": 1, **sanitisation}, format="json"
    )
    assert response.status_code == 409
    assert DeviceEvent.objects.filter(device=device, action="sanitise").count() == 1
    assert SanitisationRecord.objects.filter(device=device).count() == 1


def test_receiving_into_another_hub_is_forbidden(staff_ke_mba, hubs):
    device = device_at(hubs["KE-MBA"])
    response = client_for(staff_ke_mba).post(
        transitions_url(device), {"action": "receive", "hub": hubs["ZA-JNB"].pk}, format="json"
    )
    assert response.status_code == 403
    assert "ZA-JNB" in response.json()["detail"]
    device.refresh_from_db()
    assert (device.state, device.version, device.hub) == (Device.State.PLEDGED, 0, hubs["KE-MBA"])
    assert device.events.count() == 1


def test_receiving_into_another_of_ones_own_hubs(superuser, hubs):
    device = device_at(hubs["KE-MBA"])
    response = client_for(superuser).post(
        transitions_url(device), {"action": "receive", "hub": hubs["KE-NBO"].pk}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["hub"]) == ("received", "KE-NBO")


def test_allocate_then_ship_with_the_project_service(staff_ke_mba, hubs, sanitisation):
    device = configured(hubs["KE-MBA"], staff_ke_mba, sanitisation)
    project_allocate_device(device=device, project=ProjectFactory(hub=hubs["KE-MBA"]), actor=staff_ke_mba)
    response = client_for(staff_ke_mba).post(transitions_url(device), {"action": "ship"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "shipped"
    assert response.json()["allowed_actions"] == ["deliver"]


# Public impact


def test_impact_is_public_and_has_the_totals(hubs):
    cache.clear()
    response = APIClient().get("/api/v1/impact/", HTTP_ORIGIN="https://partner.example")
    assert response.status_code == 200
    body = response.json()
    for field in (
        "devices_received",
        "devices_refurbished",
        "devices_delivered",
        "beneficiaries_reached",
        "ewaste_recycled_kg",
        "updated_at",
    ):
        assert field in body
    assert [hub["code"] for hub in body["by_hub"]] == ["BE-BRU", "CD-FIH", "KE-MBA", "KE-NBO", "ZA-JNB"]
    assert {"code", "name", "country", "devices_received", "beneficiaries_reached"} <= set(body["by_hub"][0])
    assert response["Cache-Control"] == "public, max-age=5, stale-while-revalidate=30"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert {"by_country", "by_project_kind", "monthly", "environment"} <= set(body)


def test_impact_answers_304_to_a_matching_etag_and_200_once_figures_change(
    staff_ke_mba, hubs, django_capture_on_commit_callbacks
):
    cache.clear()
    client = APIClient()
    first = client.get("/api/v1/impact/")
    etag = first["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    again = client.get("/api/v1/impact/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    with django_capture_on_commit_callbacks(execute=True):
        received(hubs["KE-MBA"], staff_ke_mba)
    changed = client.get("/api/v1/impact/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["devices_received"] == 1


def test_impact_is_read_only(hubs):
    assert APIClient().post("/api/v1/impact/", {}).status_code == 405


def test_impact_cors_preflight_allows_get_from_any_origin(hubs):
    response = APIClient().options(
        "/api/v1/impact/", HTTP_ORIGIN="https://partner.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response["Access-Control-Allow-Methods"]


def test_impact_counts_a_received_device(staff_ke_mba, hubs, django_capture_on_commit_callbacks):
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        received(hubs["KE-MBA"], staff_ke_mba)
    body = APIClient().get("/api/v1/impact/").json()
    assert body["devices_received"] == 1
    assert next(hub for hub in body["by_hub"] if hub["code"] == "KE-MBA")["devices_received"] == 1


def test_impact_runs_no_query_when_the_cache_is_warm(hubs, django_assert_num_queries):
    cache.clear()
    client = APIClient()
    assert client.get("/api/v1/impact/").status_code == 200
    with django_assert_num_queries(0):
        response = client.get("/api/v1/impact/")
    assert response.status_code == 200


def test_impact_stampede_after_expiry_rebuilds_once():
    import threading
    from unittest import mock

    from impact import selectors

    cache.clear()
    calls = []

    def slow_build():  # stands in for the database work, which is what a stampede would repeat
        calls.append(1)
        import time

        time.sleep(0.2)  # long enough for every reader to miss the cache at once
        return {"devices_received": 7}

    results = []
    with mock.patch.object(selectors, "impact_summary_build", side_effect=slow_build):
        barrier = threading.Barrier(8)

        def read():
            barrier.wait()
            results.append(selectors.impact_summary_payload().etag)

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(calls) == 1
    assert len(results) == 8 and len(set(results)) == 1


# Schema


def test_the_schema_is_served(db):
    assert APIClient().get("/api/schema/").status_code == 200


def test_the_schema_generates_without_warnings(db, tmp_path):
    # --fail-on-warn turns any drf-spectacular warning (an undocumented field, a clashing name) into a failure.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/v1/devices/{id}/transitions/" in schema
    assert "DeviceTransitionRequest" in schema


def test_schema_documents_the_public_impact_json(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/impact/" in schema["paths"]
    assert "by_project_kind" in schema["components"]["schemas"]["ImpactSummary"]["properties"]
