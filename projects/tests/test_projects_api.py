"""The projects API: applications, requests, allocation, shipments and deliveries, scoped like the pages."""

import pytest
from django.utils import timezone

from hubs.factories import UserFactory
from projects.factories import ProjectFactory, application_approved, configured_device
from projects.models import Project

LAPTOPS = {"category": "laptop", "quantity": 2, "min_ram_gb": 8, "keyboard_layout": "QWERTY US", "language": "en"}


def test_a_coordinator_applies_and_sees_only_their_organisations_projects(hubs, coordinator, token_client):
    api = token_client(coordinator)
    body = {
        "organisation": "Likoni Secondary",
        "name": "Science lab",
        "kind": "education",
        "country": "KE",
        "place": "Likoni",
        "hub": "KE-MBA",
        "expected_beneficiaries": 200,
        "requests": [LAPTOPS],
    }
    created = api.post("/api/v1/projects/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "submitted"
    other = ProjectFactory(hub=hubs["KE-MBA"], organisation="Another school")
    other.coordinators.add(UserFactory(username="someone-else"))

    listed = [p["id"] for p in api.get("/api/v1/projects/").json()["results"]]
    assert listed == [created.json()["id"]]
    assert api.get(f"/api/v1/projects/{other.pk}/").status_code == 404
    requests = api.get("/api/v1/requests/").json()["results"]
    assert [(r["category"], r["quantity"], r["status"]) for r in requests] == [("laptop", 2, "open")]


def test_review_allocate_ship_deliver_and_correct_through_the_api(
    hubs, coordinator, manager_ke_mba, staff_ke_mba, staff_be, token_client
):
    hub = hubs["KE-MBA"]
    project = application_approved(coordinator=coordinator, manager=manager_ke_mba, hub=hub, requests=[LAPTOPS])
    request = project.requests.get()
    devices = [configured_device(hub=hub, actor=staff_ke_mba) for _ in range(3)]
    tech, manager, outsider = token_client(staff_ke_mba), token_client(manager_ke_mba), token_client(staff_be)

    assert outsider.get(f"/api/v1/requests/{request.pk}/").status_code == 404
    fitting = tech.get(f"/api/v1/requests/{request.pk}/fitting/").json()
    assert {d["id"] for d in fitting} == {d.pk for d in devices}
    assert token_client(coordinator).get(f"/api/v1/requests/{request.pk}/fitting/").status_code == 404

    first = tech.post(f"/api/v1/requests/{request.pk}/allocate/", {"devices": [devices[0].pk]}, format="json")
    assert first.status_code == 200, first.json()
    taken = tech.post(f"/api/v1/requests/{request.pk}/allocate/", {"devices": [devices[0].pk]}, format="json")
    assert taken.status_code == 409
    filled = tech.post(f"/api/v1/requests/{request.pk}/allocate-suggested/", format="json")
    assert filled.status_code == 200 and len(filled.json()["devices"]) == 1
    beyond = tech.post(f"/api/v1/requests/{request.pk}/allocate/", {"devices": [devices[2].pk]}, format="json")
    assert beyond.status_code == 409
    override = tech.post(
        f"/api/v1/requests/{request.pk}/allocate/", {"devices": [devices[2].pk], "override": True}, format="json"
    )
    assert override.status_code == 403
    assert (
        manager.post(
            f"/api/v1/requests/{request.pk}/allocate/", {"devices": [devices[2].pk], "override": True}, format="json"
        ).status_code
        == 200
    )

    shipment = tech.post("/api/v1/shipments/", {"project": project.pk, "carrier": "DHL"}, format="json").json()
    assert len(shipment["devices"]) == 3
    assert tech.post(f"/api/v1/shipments/{shipment['id']}/ship/").status_code == 200
    assert tech.post(f"/api/v1/shipments/{shipment['id']}/ship/").status_code == 409
    late = configured_device(hub=hub, actor=staff_ke_mba)
    manager.post(f"/api/v1/requests/{request.pk}/allocate/", {"devices": [late.pk], "override": True}, format="json")
    assert (
        tech.post(f"/api/v1/shipments/{shipment['id']}/devices/", {"devices": [late.pk]}, format="json").status_code
        == 409
    )
    pdf = tech.get(f"/api/v1/shipments/{shipment['id']}/packing-list/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    confirmation = {
        "shipment": shipment["id"],
        "idempotency_key": "api-1",
        "delivered_on": timezone.localdate().isoformat(),
        "people_served": 60,
        "arrived": [devices[0].pk, devices[1].pk],
        "missing": [devices[2].pk],
    }
    assert tech.post("/api/v1/deliveries/", confirmation, format="json").status_code == 404  # coordinators confirm
    api = token_client(coordinator)
    created = api.post("/api/v1/deliveries/", confirmation, format="json")
    assert created.status_code == 201, created.json()
    replay = api.post("/api/v1/deliveries/", confirmation, format="json")
    assert replay.status_code == 200 and replay.json()["id"] == created.json()["id"]

    delivery = created.json()["id"]
    assert (
        tech.post(
            f"/api/v1/deliveries/{delivery}/corrections/", {"people_served": 50, "reason": "x"}, format="json"
        ).status_code
        == 403
    )
    corrected = manager.post(
        f"/api/v1/deliveries/{delivery}/corrections/", {"people_served": 50, "reason": "Double-counted"}, format="json"
    )
    assert corrected.status_code == 200 and corrected.json()["people_now"] == 50
    assert outsider.get(f"/api/v1/deliveries/{delivery}/").status_code == 404
    assert Project.objects.get(pk=project.pk).shipments.get().beneficiaries_confirmed == 50


@pytest.mark.parametrize("decision,reason,code", [("approved", "", 200), ("declined", "", 400)])
def test_only_a_manager_reviews_through_the_api(
    hubs, coordinator, manager_ke_mba, staff_ke_mba, token_client, decision, reason, code
):
    project = ProjectFactory(hub=hubs["KE-MBA"], status="submitted")
    body = {"decision": decision, "reason": reason}
    assert (
        token_client(staff_ke_mba).post(f"/api/v1/projects/{project.pk}/review/", body, format="json").status_code
        == 403
    )
    assert (
        token_client(manager_ke_mba).post(f"/api/v1/projects/{project.pk}/review/", body, format="json").status_code
        == code
    )
