"""The project portal (coordinators) and the hub's project pages: scoping, the flows, and their refusals."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from hubs.factories import UserFactory
from projects.factories import ProjectFactory, application_approved, configured_device, shipment_shipped
from projects.models import Allocation, DeliveryConfirmation, Project, Shipment
from refurbishing.models import Device, DeviceEvent

LAPTOPS = {"category": "laptop", "quantity": 2}


@pytest.fixture
def shipment(hubs, staff_be, coordinator):
    project = ProjectFactory(hub=hubs["BE-BRU"], name="Digital classroom Bukavu", expected_beneficiaries=500)
    project.coordinators.add(coordinator)
    return shipment_shipped(project=project, actor=staff_be, count=3)


def hidden_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)


def delivery_post(shipment, html, **overrides):
    body = {"idempotency_key": hidden_key(html), "delivered_on": "2026-01-01", "people_served": "40"}
    body["delivered_on"] = re.search(r'name="delivered_on" value="([0-9-]+)"', html).group(1)
    for device in shipment.devices.all():
        body[f"device_{device.pk}"] = "delivered"
    return body | overrides


def test_my_projects_lists_projects_and_links_their_shipments(client, shipment, coordinator):
    client.force_login(coordinator)
    html = client.get(reverse("projects:portal")).content.decode()
    assert "Digital classroom Bukavu" in html
    assert reverse("projects:shipment", args=[shipment.pk]) in html
    # The coordinator's own navigation: My projects, applications, shipments; and the site's "My projects" link.
    for name in ("projects:portal", "projects:applications", "projects:shipments"):
        assert reverse(name) in html
    assert 'aria-current="page">My projects</a>' in html


def test_coordinator_confirms_a_partial_delivery_and_a_second_send_changes_nothing(client, shipment, coordinator):
    client.force_login(coordinator)
    page = client.get(reverse("projects:shipment", args=[shipment.pk])).content.decode()
    one, two, three = shipment.devices.order_by("id")
    body = delivery_post(shipment, page, **{f"device_{two.pk}": "missing", f"device_{three.pk}": "damaged"})

    response = client.post(reverse("projects:shipment", args=[shipment.pk]), body)
    assert response.status_code == 302
    again = client.post(reverse("projects:shipment", args=[shipment.pk]), body, follow=True)
    assert again.status_code == 200
    assert DeliveryConfirmation.objects.count() == 1
    assert DeviceEvent.objects.filter(action="deliver").count() == 1
    states = dict(Device.objects.values_list("pk", "state"))
    assert (states[one.pk], states[two.pk], states[three.pk]) == ("delivered", "shipped", "shipped")
    shipment.refresh_from_db()
    assert (shipment.status, shipment.beneficiaries_confirmed) == ("shipped", 40)
    assert "reaching 40 people" in again.content.decode()


def test_a_delivery_of_zero_people_is_refused_with_the_error_at_the_top(client, shipment, coordinator):
    client.force_login(coordinator)
    page = client.get(reverse("projects:shipment", args=[shipment.pk])).content.decode()
    response = client.post(
        reverse("projects:shipment", args=[shipment.pk]), delivery_post(shipment, page, people_served="0")
    )
    assert response.status_code == 400
    assert "data-error-summary" in response.content.decode()
    assert not DeliveryConfirmation.objects.exists()


def test_another_organisations_project_and_shipment_are_404(client, shipment, hubs):
    other = UserFactory(username="other-coordinator")
    ProjectFactory(hub=hubs["BE-BRU"], organisation="Another school").coordinators.add(other)
    client.force_login(other)
    assert client.get(reverse("projects:shipment", args=[shipment.pk])).status_code == 404
    assert client.get(reverse("projects:project", args=[shipment.project_id])).status_code == 404
    assert client.post(reverse("projects:shipment", args=[shipment.pk]), {"people_served": "4"}).status_code == 404
    assert "Digital classroom Bukavu" not in client.get(reverse("projects:portal")).content.decode()
    # Nor are the hub's pages open to a coordinator.
    assert client.get(reverse("projects:hub")).status_code == 404


def test_confirming_a_delivery_needs_a_csrf_token(shipment, coordinator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.post(reverse("projects:shipment", args=[shipment.pk]), {"people_served": "5"})
    assert response.status_code == 403


def test_apply_then_review_then_allocate_then_ship_on_the_pages(
    client, hubs, coordinator, manager_ke_mba, staff_ke_mba
):
    hub = hubs["KE-MBA"]
    client.force_login(coordinator)
    form = {
        "organisation": "Likoni Secondary",
        "name": "Science lab",
        "kind": "education",
        "country": "KE",
        "place": "Likoni",
        "hub": hub.pk,
        "expected_beneficiaries": "200",
        "requests-TOTAL_FORMS": "3",
        "requests-INITIAL_FORMS": "0",
        "requests-MIN_NUM_FORMS": "1",
        "requests-MAX_NUM_FORMS": "10",
        "requests-0-category": "laptop",
        "requests-0-quantity": "2",
        "requests-0-min_ram_gb": "8",
        "requests-0-min_grade": "C",
        "requests-0-keyboard_layout": "QWERTY US",
        "requests-0-language": "en",
    }
    response = client.post(reverse("projects:apply"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(name="Science lab")
    assert project.status == "submitted" and project.requests.count() == 1

    client.force_login(staff_ke_mba)  # a technician sees the application but cannot decide
    assert "Record the decision" not in client.get(reverse("projects:hub-review", args=[project.pk])).content.decode()
    client.force_login(manager_ke_mba)
    refused = client.post(reverse("projects:hub-review", args=[project.pk]), {"decision": "declined"})
    assert refused.status_code == 400
    client.post(reverse("projects:hub-review", args=[project.pk]), {"decision": "approved"})
    project.refresh_from_db()
    assert project.status == "approved"

    devices = [configured_device(hub=hub, actor=staff_ke_mba) for _ in range(3)]
    request_page = reverse("projects:hub-request", args=[project.requests.get().pk])
    client.post(request_page, {"suggested": "1"})
    assert Allocation.objects.filter(project=project).count() == 2
    client.post(reverse("projects:hub-shipment-create", args=[project.pk]), {"carrier": "G4S"})
    shipment = Shipment.objects.get(project=project)
    page = client.get(reverse("projects:hub-shipment", args=[shipment.pk])).content.decode()
    assert devices[0].serial_number in page or devices[1].serial_number in page
    # The tracking reference typed beside "Ship the whole shipment" is kept, and the coordinator sees it.
    client.post(
        reverse("projects:hub-shipment", args=[shipment.pk]),
        {"ship": "1", "carrier": "G4S", "tracking_reference": "G4S-KE-0042"},
    )
    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.tracking_reference) == ("shipped", "G4S", "G4S-KE-0042")
    client.force_login(coordinator)
    seen = client.get(reverse("projects:shipment", args=[shipment.pk])).content.decode()
    assert "Tracking reference" in seen and "G4S-KE-0042" in seen
    client.force_login(manager_ke_mba)
    pdf = client.get(reverse("projects:packing-list", args=[shipment.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_another_hubs_pages_are_404(client, hubs, coordinator, manager_ke_mba, staff_be):
    project = application_approved(
        coordinator=coordinator, manager=manager_ke_mba, hub=hubs["KE-MBA"], requests=[LAPTOPS]
    )
    client.force_login(staff_be)
    assert client.get(reverse("projects:hub-review", args=[project.pk])).status_code == 404
    assert client.get(reverse("projects:hub-request", args=[project.requests.get().pk])).status_code == 404


def test_my_projects_runs_a_fixed_number_of_queries(client, hubs, staff_be, coordinator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project = ProjectFactory(hub=hubs["BE-BRU"])
    project.coordinators.add(coordinator)
    shipment_shipped(project=project, actor=staff_be, count=1)
    client.force_login(coordinator)
    client.get(reverse("projects:portal"))  # the first visit remembers the coordinator in the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("projects:portal"))
    for _ in range(3):
        more = ProjectFactory(hub=hubs["BE-BRU"])
        more.coordinators.add(coordinator)
        shipment_shipped(project=more, actor=staff_be, count=2)
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("projects:portal")).content.decode()
    assert len(many) == len(few)
    assert html.count(reverse("projects:portal")) >= 1
