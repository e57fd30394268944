"""The donations API for donors' systems: same rules as the donor pages, another organisation's is a 404."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations.factories import DonationFactory, DonorFactory
from donations.models import Donation
from hubs.factories import UserFactory
from refurbishing.factories import DeviceFactory
from refurbishing.models import Device, DeviceEvent
from refurbishing.services import device_transition

URL = "/api/v1/donations/"


def new_donation(**extra):
    return {
        "hub": "BE-BRU",
        "pickup_address": "Rue Haute 1, 1000 Brussels",
        "devices": [
            {"category": "laptop", "manufacturer": "Dell", "model": "Latitude 5490", "serial_number": "API-1"},
            {"category": "monitor", "manufacturer": "Dell", "serial_number": "API-2"},
        ],
    } | extra


@pytest.fixture
def other_donation(hubs):
    return DonationFactory(hub=hubs["BE-BRU"], donor=DonorFactory(legal_name="Other Corp"))


def test_a_donor_lists_only_their_own_donations(hubs, donor_user, other_donation, token_client):
    own = DonationFactory(hub=hubs["KE-NBO"], donor=donor_user.donors.get())
    DeviceFactory.create_batch(2, donation=own, hub=own.hub)

    body = token_client(donor_user).get(URL).json()

    assert [row["reference"] for row in body["results"]] == [own.reference]
    assert body["results"][0] | {"pledged_at": None} == {
        "reference": own.reference,
        "donor": "Acme NV",
        "hub": "KE-NBO",
        "status": "pledged",
        "pledged_at": None,
        "pickup_date": None,
        "received_at": None,
        "device_count": 2,
    }


def test_another_organisations_donation_is_a_404(hubs, donor_user, other_donation, token_client):
    response = token_client(donor_user).get(f"{URL}{other_donation.reference}/")

    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}
    assert token_client(donor_user).get(f"{URL}DON-1999-000000/").status_code == 404


def test_a_donation_shows_its_devices_and_their_states_in_a_fixed_number_of_queries(
    hubs, donor_user, staff_be, token_client
):
    donation = DonationFactory(hub=hubs["BE-BRU"], donor=donor_user.donors.get())
    devices = DeviceFactory.create_batch(3, donation=donation, hub=donation.hub)
    device_transition(device=devices[0], action="receive", actor=staff_be)
    client = token_client(donor_user)

    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"{URL}{donation.reference}/").json()
    DeviceFactory.create_batch(5, donation=donation, hub=donation.hub)
    with CaptureQueriesContext(connection) as more_queries:
        client.get(f"{URL}{donation.reference}/")

    assert body["state_counts"] == {"pledged": 2, "received": 1}
    assert [(device["id"], device["state"]) for device in body["devices"]] == [
        (devices[0].pk, "received"),
        (devices[1].pk, "pledged"),
        (devices[2].pk, "pledged"),
    ]
    assert len(more_queries) == len(queries)


def test_a_donor_creates_a_donation_with_its_devices_each_with_its_pledged_event(hubs, donor_user, token_client):
    response = token_client(donor_user).post(URL, new_donation(pickup_date="2099-01-15"), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    donation = Donation.objects.get(reference=body["reference"])
    assert donation.donor.legal_name == "Acme NV" and donation.hub.code == "BE-BRU"
    assert donation.created_by == donor_user
    laptop, monitor = Device.objects.filter(donation=donation).order_by("id")
    # Storage media by category when the caller does not say: a monitor has none.
    assert (laptop.has_storage_media, monitor.has_storage_media) == (True, False)
    assert [device["state"] for device in body["devices"]] == ["pledged", "pledged"]
    events = DeviceEvent.objects.filter(device__donation=donation)
    assert sorted(events.values_list("action", "to_state", "actor")) == [
        ("pledge", "pledged", donor_user.pk),
        ("pledge", "pledged", donor_user.pk),
    ]
    assert token_client(donor_user).get(f"{URL}{donation.reference}/").status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"devices": []}, "devices"),
        ({"hub": "XX-XXX"}, "hub"),
        ({"pickup_date": "2001-01-01"}, "pickup_date"),
        ({"pickup_address": "  "}, "pickup_address"),
        (
            {
                "devices": [
                    {"category": "laptop", "manufacturer": "HP", "serial_number": "DUP 1"},
                    {"category": "laptop", "manufacturer": "HP", "serial_number": "dup1"},
                ]
            },
            "devices",
        ),
        ({"devices": [{"category": "toaster", "manufacturer": "HP"}]}, "devices"),
    ],
)
def test_a_refused_donation_names_the_field_and_saves_nothing(hubs, donor_user, token_client, change, field):
    response = token_client(donor_user).post(URL, new_donation(**change), format="json")

    assert response.status_code == 400
    # Nested errors are keyed by their path: "devices.0.category", "devices.non_field_errors"...
    assert any(key.split(".")[0] == field for key in response.json()["errors"]), response.json()
    assert not Donation.objects.exists() and not Device.objects.exists()


def test_an_already_registered_serial_refuses_the_whole_donation(hubs, donor_user, token_client):
    DeviceFactory(manufacturer="Dell", serial_number="API-1", hub=hubs["BE-BRU"])

    response = token_client(donor_user).post(URL, new_donation(), format="json")

    assert response.status_code == 400
    assert "already registered" in response.json()["errors"]["devices"][0]
    assert Donation.objects.count() == 1  # the registered device's own


def test_creating_needs_a_verified_e_mail_and_a_donor_organisation(hubs, token_client, staff_be):
    unverified = UserFactory(username="new-donor")
    DonorFactory().users.add(unverified)

    refused = token_client(unverified).post(URL, new_donation(), format="json")
    assert refused.status_code == 403
    assert "Confirm your e-mail address" in refused.json()["detail"]
    assert token_client(staff_be).post(URL, new_donation(), format="json").status_code == 403
    assert not Donation.objects.exists()


def test_a_user_of_two_organisations_says_which_one_pledges(hubs, donor_user, token_client):
    second = DonorFactory(legal_name="Acme Foundation")
    second.users.add(donor_user)
    client = token_client(donor_user)

    assert "donor" in client.post(URL, new_donation(), format="json").json()["errors"]
    assert "donor" in client.post(URL, new_donation(donor=DonorFactory().pk), format="json").json()["errors"]
    created = client.post(URL, new_donation(donor=second.pk), format="json")

    assert created.status_code == 201
    assert created.json()["donor"] == "Acme Foundation"


def test_hub_staff_see_their_hubs_donations_only(hubs, staff_be, token_client):
    at_brussels = DonationFactory(hub=hubs["BE-BRU"])
    at_nairobi = DonationFactory(hub=hubs["KE-NBO"])
    client = token_client(staff_be)

    assert [row["reference"] for row in client.get(URL).json()["results"]] == [at_brussels.reference]
    assert client.get(f"{URL}{at_nairobi.reference}/").status_code == 404


def test_the_api_needs_credentials(db, client):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401
    assert APIClient().post(URL, new_donation(), format="json").status_code == 401


def test_a_donor_token_reaches_no_device_or_hub_through_the_staff_endpoints(hubs, donor_user, token_client):
    own = DonationFactory(hub=hubs["BE-BRU"], donor=donor_user.donors.get())
    device = DeviceFactory(donation=own, hub=own.hub)
    client = token_client(donor_user)

    # A donor follows devices through their donations; the devices and hubs endpoints are for hub staff.
    assert client.get("/api/v1/devices/").json()["results"] == []
    assert client.get(f"/api/v1/devices/{device.pk}/").status_code == 404
    assert client.post(f"/api/v1/devices/{device.pk}/transitions/", {"action": "receive"}).status_code == 404
    assert client.get("/api/v1/hubs/").json() == []


def test_a_pledged_weight_is_declared_and_a_missing_one_takes_the_typical_weight(hubs, donor_user, token_client):
    body = new_donation()
    body["devices"][0]["weight_kg"] = "1.62"
    response = token_client(donor_user).post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    laptop, monitor = response.json()["devices"]
    assert (laptop["weight_kg"], laptop["weight_basis"], laptop["weee_category"]) == ("1.62", "declared", 2)
    assert (monitor["weight_basis"], monitor["weee_category"]) == ("category", 2)
    assert monitor["weight_source"]
    refused = token_client(donor_user).post(
        URL, new_donation() | {"devices": [body["devices"][0] | {"weight_kg": "0"}]}, format="json"
    )
    assert refused.status_code == 400
