"""The coordinator portal: a coordinator's projects and shipments, and confirming a delivery."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from hubs.factories import UserFactory
from projects.factories import ProjectFactory, shipment_shipped
from projects.models import Shipment
from refurbishing.models import DeviceEvent


@pytest.fixture
def shipment(hubs, staff_be, coordinator):
    project = ProjectFactory(hub=hubs["BE-BRU"], name="Digital classroom Bukavu")
    project.coordinators.add(coordinator)
    return shipment_shipped(project=project, actor=staff_be, count=3)


def test_coordinator_portal_lists_projects_and_shipments(client, shipment, coordinator):
    client.force_login(coordinator)

    html = client.get(reverse("projects:portal")).content.decode()

    assert "Digital classroom Bukavu" in html
    assert f"#{shipment.pk}" in html
    assert reverse("projects:deliver", args=[shipment.pk]) in html
    assert re.search(r'<td class="num">3</td>', html)


def test_coordinator_confirms_delivery(client, shipment, coordinator):
    client.force_login(coordinator)

    response = client.post(reverse("projects:deliver", args=[shipment.pk]), {"beneficiaries": "40", "note": ""})

    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED
    assert shipment.beneficiaries_confirmed == 40
    assert shipment.delivered_at is not None
    assert set(shipment.devices.values_list("state", flat=True)) == {"delivered"}
    events = DeviceEvent.objects.filter(action="deliver")
    assert events.count() == 3
    assert sum(e.data["beneficiaries"] for e in events) == 40
    assert all(e.actor_id is None and "coordinator-wanjiru (project coordinator)" in e.note for e in events)
    assert "reaching 40 people" in client.get(reverse("projects:portal")).content.decode()


def test_delivery_form_errors_are_shown_and_nothing_changes(client, shipment, coordinator):
    client.force_login(coordinator)

    response = client.post(reverse("projects:deliver", args=[shipment.pk]), {"beneficiaries": "-3"})

    assert response.status_code == 400
    assert "greater than or equal to 0" in response.content.decode()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED


def test_only_the_projects_coordinators_may_confirm(client, hubs, shipment):
    stranger = UserFactory(username="not-a-coordinator")
    other_coordinator = UserFactory(username="coordinator-of-another-project")
    ProjectFactory(hub=shipment.project.hub).coordinators.add(other_coordinator)

    for user in (stranger, other_coordinator):
        client.force_login(user)
        response = client.post(reverse("projects:deliver", args=[shipment.pk]), {"beneficiaries": "40"})

        assert response.status_code == 404, user
        portal = client.get(reverse("projects:portal"))
        assert portal.status_code == 200
        assert "Digital classroom Bukavu" not in portal.content.decode()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED
    assert not DeviceEvent.objects.filter(action="deliver").exists()


def test_confirming_a_delivery_needs_a_csrf_token(shipment, coordinator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)

    response = client.post(reverse("projects:deliver", args=[shipment.pk]), {"beneficiaries": "5"})

    assert response.status_code == 403
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED


def test_coordinator_portal_runs_a_fixed_number_of_queries(
    client, hubs, staff_be, coordinator, django_assert_num_queries
):
    project = ProjectFactory(hub=hubs["BE-BRU"])
    project.coordinators.add(coordinator)
    shipment_shipped(project=project, actor=staff_be, count=1)
    client.force_login(coordinator)
    with django_assert_num_queries(4):  # session, user, projects, shipments with their device counts
        client.get(reverse("projects:portal"))

    for _ in range(3):
        more = ProjectFactory(hub=hubs["BE-BRU"])
        more.coordinators.add(coordinator)
        shipment_shipped(project=more, actor=staff_be, count=2)
    with django_assert_num_queries(4):
        html = client.get(reverse("projects:portal")).content.decode()

    assert html.count("Confirm delivery of shipment") == 4
