"""The donor portal across apps: where delivered devices went, and "Your impact" with the public page's factors."""

import pytest
from django.urls import reverse

from donations.factories import DonationFactory
from impact.models import EmissionFactor
from impact.selectors import donor_impact
from projects.factories import ProjectFactory
from projects.models import Project
from projects.services import project_allocate_device, shipment_create, shipment_deliver, shipment_ship
from refurbishing.factories import TO_CONFIGURED, DeviceFactory, device_through
from refurbishing.services import device_transition

pytestmark = pytest.mark.django_db


def _deliver(devices, *, project: Project, actor, beneficiaries: int, ship: bool = True, deliver: bool = True):
    for device in devices:
        device_through(device, *TO_CONFIGURED, actor=actor)
        project_allocate_device(device=device, project=project, actor=actor)
    if ship:
        shipment = shipment_ship(shipment=shipment_create(project=project, actor=actor), actor=actor)
        if deliver:
            shipment_deliver(shipment=shipment, actor=None, beneficiaries=beneficiaries)


@pytest.fixture
def donation(hubs, donor_user):
    return DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])


def test_destination_shows_once_delivered_and_links_only_to_projects_shown_publicly(
    client, hubs, donation, donor_user, staff_be
):
    public = ProjectFactory(hub=hubs["BE-BRU"], kind="education", country="CD", name="Lab in Bukavu", public=True)
    private = ProjectFactory(hub=hubs["BE-BRU"], kind="medical", country="KE", name="Private Clinic", public=False)
    to_public, to_private, on_the_way = DeviceFactory.create_batch(3, donation=donation)
    _deliver([to_public], project=public, actor=staff_be, beneficiaries=30)
    _deliver([to_private], project=private, actor=staff_be, beneficiaries=12)
    _deliver([on_the_way], project=public, actor=staff_be, beneficiaries=0, deliver=False)
    client.force_login(donor_user)

    def page(device):
        return client.get(reverse("donations:device", args=[donation.reference, device.pk])).content.decode()

    html = page(to_public)
    assert "education project in Democratic Republic of the Congo" in html
    assert f'href="{reverse("impact:project", args=[public.pk])}"' in html
    assert "Lab in Bukavu" in html

    html = page(to_private)
    assert "medical project in Kenya" in html
    assert "Private Clinic" not in html
    assert reverse("impact:project", args=[private.pk]) not in html
    assert private.organisation not in html

    html = page(on_the_way)  # shipped, not delivered yet
    assert "Not delivered yet." in html
    assert "Lab in Bukavu" not in html

    listing = client.get(reverse("donations:detail", args=[donation.reference])).content.decode()
    assert listing.count("Lab in Bukavu") == 1
    assert "medical project in Kenya" in listing


def test_your_impact_counts_only_the_organisations_devices_with_the_public_factors(
    client, hubs, donation, donor_user, staff_be
):
    project = ProjectFactory(
        hub=hubs["BE-BRU"], kind="education", country="CD", public=True, expected_beneficiaries=500
    )
    laptops = DeviceFactory.create_batch(2, donation=donation)
    _deliver(laptops, project=project, actor=staff_be, beneficiaries=50)
    recycled = DeviceFactory(donation=donation)
    device_through(recycled, "receive", "sanitise", actor=staff_be)
    device_transition(device=recycled, action="inspect", actor=staff_be, record={"passed": False})
    device_transition(device=recycled, action="recycle", actor=staff_be, data={"weight_kg": "10.00"})
    # Another organisation's delivery to the same project counts for them, not for us.
    _deliver(
        DeviceFactory.create_batch(3, donation=DonationFactory(hub=hubs["BE-BRU"])),
        project=project,
        actor=staff_be,
        beneficiaries=99,
    )

    figures = donor_impact(user=donor_user)

    assert figures["devices_reused"] == 2
    assert figures["people_reached"] == 50
    assert figures["countries"] == [("CD", 2)]
    assert figures["project_kinds"] == [("education", 2)]
    assert figures["ewaste_recycled_kg"] == 10.0
    laptop = EmissionFactor.objects.get(applies_to="laptop").kg_co2e
    ewaste = EmissionFactor.objects.get(applies_to=EmissionFactor.EWASTE).kg_co2e
    assert figures["environment"]["co2e_avoided_by_reuse_kg"] == int(2 * laptop)
    assert figures["environment"]["co2e_avoided_by_recycling_kg"] == int(10 * ewaste)

    client.force_login(donor_user)
    html = client.get(reverse("impact:donor-impact")).content.decode()
    assert "<strong>50</strong>" in html
    assert project.name not in html and project.organisation not in html  # counts only, nobody's name


def test_your_impact_needs_a_login(client, db):
    assert client.get(reverse("impact:donor-impact")).status_code == 302
