"""Donors and coordinators download what the platform holds about them, and delete their account."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.authtoken.models import Token

from donations.models import Donation, Donor
from donations.services import donation_pledge
from refurbishing.models import Device, DeviceEvent

pytestmark = pytest.mark.django_db
ROWS = [{"category": "laptop", "manufacturer": "Dell", "model": "Latitude 5490", "serial_number": "PD-1"}]


@pytest.fixture
def pledged(donor_user, hubs):
    donor = donor_user.donors.get()
    return donation_pledge(donor=donor, hub=hubs["BE-BRU"], pickup_address="Brussels", rows=ROWS, actor=donor_user)


def test_a_donor_downloads_their_data_as_json(client, donor_user, pledged):
    donor_user.email = "it@acme.example"
    donor_user.save()
    client.force_login(donor_user)
    assert client.get(reverse("my-data")).status_code == 200
    response = client.get(reverse("my-data-download"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["username"] == "donor-a"
    assert data["account"]["email"] == "it@acme.example"
    assert data["organisations"] == [{"legal_name": "Acme NV", "country": "BE"}]
    assert data["donations_pledged"][0]["reference"] == pledged.reference
    assert data["device_events_recorded"]["total"] == 1
    assert data["device_events_recorded"]["latest"][0]["action"] == "pledge"


def test_the_download_needs_a_signed_in_person(client):
    response = client.get(reverse("my-data-download"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_deleting_the_account_keeps_the_organisation_and_the_chain_of_custody(client, donor_user, pledged):
    Token.objects.create(user=donor_user)
    events_before = list(DeviceEvent.objects.order_by("id").values_list("id", "device_id", "action", "actor_id"))
    client.force_login(donor_user)

    wrong = client.post(reverse("account-delete"), {"password": "not-it"})
    assert wrong.status_code == 200 and "not your password" in wrong.content.decode()

    done = client.post(reverse("account-delete"), {"password": "donor-a"})
    assert done.status_code == 200

    user = get_user_model().objects.get(pk=donor_user.pk)
    assert user.username == f"deleted-user-{user.pk}"
    assert (user.email, user.first_name, user.last_name) == ("", "", "")
    assert not user.is_active and not user.has_usable_password()
    assert not Token.objects.filter(user=user).exists()
    assert not user.donors.exists()
    # The organisation's records stay, and every event still points at the same (now nameless) account.
    assert Donor.objects.filter(legal_name="Acme NV").exists()
    assert Donation.objects.filter(pk=pledged.pk).exists()
    assert Device.objects.filter(donation=pledged).count() == 1
    assert (
        list(DeviceEvent.objects.order_by("id").values_list("id", "device_id", "action", "actor_id")) == events_before
    )
    assert str(DeviceEvent.objects.get(device__donation=pledged).actor) == f"deleted-user-{user.pk}"
    # Signed out everywhere, and the old password opens nothing.
    assert client.get(reverse("donations:portal")).status_code == 302
    assert not client.login(username="donor-a", password="donor-a")


def test_hub_staff_cannot_delete_their_own_account(client, staff_ke_mba):
    client.force_login(staff_ke_mba)
    assert client.post(reverse("account-delete"), {"password": "staff-ke-mba"}).status_code == 403
    assert get_user_model().objects.get(pk=staff_ke_mba.pk).username == "staff-ke-mba"
