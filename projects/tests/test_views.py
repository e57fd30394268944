"""The project portal (coordinators) and the hub's project pages: scoping, the flows, and their refusals."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from hubs.factories import UserFactory
from hubs.models import Hub, HubKind
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


def test_specifications_recorded_at_the_bench_let_a_request_for_8_gb_and_an_ssd_find_its_laptops(
    client, hubs, coordinator, manager_ke_mba, staff_ke_mba
):
    """Issue 21 (3): with no hardware report, neither the pledge nor the configure form recorded RAM or storage,
    so a request for laptops with 8 GB and an SSD found "no configured device at the hub"."""
    from refurbishing.factories import CONFIGURATION, DeviceFactory, device_through

    hub = hubs["KE-MBA"]
    project = application_approved(
        coordinator=coordinator,
        manager=manager_ke_mba,
        hub=hub,
        requests=[{"category": "laptop", "quantity": 20, "min_ram_gb": 8, "ssd_required": True}],
    )
    device_request = project.requests.get()
    # As the donor's list described them: "8 GB" and "256 GB SSD" (read by the import), or nothing at all.
    listed = [DeviceFactory(donation__hub=hub, ram_gb=8, storage_gb=256, storage_kind="ssd") for _ in range(2)]
    undescribed = DeviceFactory(donation__hub=hub, ram_gb=None, storage_gb=None)
    small = DeviceFactory(donation__hub=hub, ram_gb=4, storage_gb=128, storage_kind="hdd")
    client.force_login(staff_ke_mba)
    for device in [*listed, undescribed, small]:
        device_through(device, "receive", "sanitise", "inspect", actor=staff_ke_mba)
    # At the bench, the configure form shows what the list said, and the technician records what was found.
    configure = reverse("scan:device-action", args=[listed[0].label_code, "configure"])
    form = client.get(configure).content.decode()
    assert 'name="ram_gb" value="8"' in form and 'name="storage_gb" value="256"' in form
    assert '<option value="ssd" selected>' in form
    for device in listed:
        client.post(reverse("scan:device-action", args=[device.label_code, "configure"]), {**CONFIGURATION})
    client.post(
        reverse("scan:device-action", args=[undescribed.label_code, "configure"]),
        {**CONFIGURATION, "ram_gb": "16", "storage_gb": "512", "storage_kind": "nvme"},
    )
    client.post(reverse("scan:device-action", args=[small.label_code, "configure"]), {**CONFIGURATION})
    undescribed.refresh_from_db()
    assert (undescribed.state, undescribed.ram_gb, undescribed.storage_gb, undescribed.storage_kind) == (
        "configured",
        16,
        512,
        "nvme",
    )

    client.force_login(manager_ke_mba)
    page_url = reverse("projects:hub-request", args=[device_request.pk])
    page = client.get(page_url).content.decode()
    assert "No configured device at the hub fits this request yet." not in page
    for device in [*listed, undescribed]:
        assert f'name="devices" value="{device.pk}"' in page
    # The 4 GB laptop with a spinning disk does not fit; a manager may allocate it, saying why.
    assert f'name="devices" value="{small.pk}"' not in page
    assert f'name="misfit_device" value="{small.pk}"' in page
    refused = client.post(page_url, {"misfit": "1", "misfit_device": small.pk, "fit_exception": ""}, follow=True)
    assert "Say why this device goes" in refused.content.decode()
    client.post(
        page_url, {"misfit": "1", "misfit_device": small.pk, "fit_exception": "The school takes 4 GB for typing."}
    )
    allocation = Allocation.objects.get(device=small)
    assert allocation.fit_exception == "The school takes 4 GB for typing."
    assert "The school takes 4 GB for typing." in small.events.get(action="allocate").note
    # A technician cannot make that exception.
    other = DeviceFactory(donation__hub=hub, ram_gb=2, storage_gb=64)
    device_through(other, "receive", "sanitise", "inspect", "configure", actor=staff_ke_mba)
    client.force_login(staff_ke_mba)
    assert 'name="misfit_device"' not in client.get(page_url).content.decode()
    client.post(page_url, {"misfit": "1", "misfit_device": other.pk, "fit_exception": "Why not"})
    assert not Allocation.objects.filter(device=other).exists()


def _application(hub, **rows):
    data = {
        "organisation": "Bukavu Digital School",
        "name": "Computer room",
        "kind": "education",
        "country": "CD",
        "place": "Bukavu",
        "hub": hub.pk,
        "expected_beneficiaries": "300",
        "requests-INITIAL_FORMS": "0",
        "requests-MIN_NUM_FORMS": "1",
        "requests-MAX_NUM_FORMS": "10",
    }
    count = 1 + max([int(key.split("_")[0][1:]) for key in rows] or [0])
    data["requests-TOTAL_FORMS"] = str(count)
    for key, value in rows.items():  # r0_category="laptop" -> requests-0-category
        index, name = key.split("_", 1)
        data[f"requests-{index[1:]}-{name}"] = value
    return data


def test_the_application_form_offers_only_hubs_that_send_devices_to_projects(client, hubs, coordinator):
    Hub.objects.filter(code="ZA-JNB").update(kind=HubKind.objects.get(code=HubKind.ITAD_SOCIAL_ENTERPRISE))
    client.force_login(coordinator)

    page = client.get(reverse("projects:apply")).content.decode()
    assert f'<option value="{hubs["ZA-JNB"].pk}"' not in page
    assert f'<option value="{hubs["KE-NBO"].pk}"' in page

    refused = client.post(reverse("projects:apply"), _application(hubs["ZA-JNB"], r0_category="laptop"))
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    assert not Project.objects.exists()


def test_the_application_form_asks_plainly_with_one_block_and_add_another(client, hubs, coordinator):
    """Issue 20 (6): four identical blocks, a two-letter country box, no bounds, "Please submit at least 1 form"."""
    client.force_login(coordinator)
    page = client.get(reverse("projects:apply")).content.decode()
    assert page.count("<legend>Devices, request") == 1
    assert '<select name="country"' in page and '<option value="CD">' in page and '<option value="KE">Kenya<' in page
    assert 'name="requests-0-quantity"' in page and 'max="1000"' in page

    # Nothing asked for: a plain sentence, not Django's formset wording.
    empty = client.post(reverse("projects:apply"), _application(hubs["BE-BRU"]))
    assert empty.status_code == 400
    text = empty.content.decode()
    assert "Ask for at least one kind of device" in text and "Please submit at least" not in text

    # "Add another kind of device" keeps what was typed and adds one block.
    more = client.post(
        reverse("projects:apply"),
        {**_application(hubs["BE-BRU"], r0_category="laptop", r0_quantity="20"), "add_request": "1"},
    ).content.decode()
    assert more.count("<legend>Devices, request") == 2
    assert 'name="requests-0-quantity" value="20"' in more and 'value="Bukavu Digital School"' in more
    assert not Project.objects.exists()

    too_many = client.post(
        reverse("projects:apply"), _application(hubs["BE-BRU"], r0_category="laptop", r0_quantity="5000")
    )
    assert "At most 1000 devices in one request" in too_many.content.decode().replace("\u202f", "").replace(",", "")
    sent = client.post(
        reverse("projects:apply"),
        _application(hubs["BE-BRU"], r0_category="laptop", r0_quantity="20", r1_category="monitor", r1_quantity="5"),
    )
    assert sent.status_code == 302
    project = Project.objects.get()
    assert (project.country, project.requests.count()) == ("CD", 2)


def test_a_reason_is_asked_for_only_to_ask_for_changes_or_decline(client, hubs, coordinator, manager_ke_mba):
    """Issue 20 (7): "Reason (required to ask for changes or decline) (optional)" contradicted itself."""
    from projects.services import project_apply

    project = project_apply(
        applicant=coordinator,
        organisation="Likoni Secondary",
        name="Lab",
        kind="education",
        country="KE",
        place="Likoni",
        hub=hubs["KE-MBA"],
        expected_beneficiaries=50,
        requests=[LAPTOPS],
    )
    client.force_login(manager_ke_mba)
    page = client.get(reverse("projects:hub-review", args=[project.pk])).content.decode()
    label = page[page.index('<label for="id_reason"') :]
    label = label[: label.index("</label>")]
    assert "Reason" in label and "optional" not in label and "required" not in label
    refused = client.post(reverse("projects:hub-review", args=[project.pk]), {"decision": "declined"})
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
