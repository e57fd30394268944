"""The donor pages: sign-up, the pledge form, the donor portal and a donation's page."""

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from donations import views as donation_views
from donations.factories import DonationFactory, DonorFactory
from donations.models import Donation, Donor
from donations.tests.pledge_forms import laptop, pledge_data
from hubs.factories import UserFactory
from refurbishing.factories import DeviceFactory
from refurbishing.models import Device
from refurbishing.services import device_transition

User = get_user_model()


# --- sign-up ------------------------------------------------------------------------------------------------


SIGN_UP = {
    "legal_name": "Brightside Consulting BV",
    "registration_number": "be 0123 456 789",
    "country": "BE",
    "address": "Kunstlaan 5, 1000 Brussels",
    "contact_name": "Els Peeters",
    "contact_phone": "+32 2 555 12 34",
    "email": "CSR@Brightside.example",
    "password1": "Refurbish-2-schools",
    "password2": "Refurbish-2-schools",
}


def test_sign_up_creates_donor_and_user_and_logs_in_then_the_e_mail_is_verified_before_a_pledge(client, hubs):
    response = client.post(reverse("donations:signup"), SIGN_UP)

    assert response.status_code == 302
    assert response["Location"] == reverse("donations:pledge")
    donor = Donor.objects.get()
    assert donor.registration_number == "BE0123456789"
    assert donor.country == "BE" and donor.country.name == "Belgium"
    assert (donor.contact_name, donor.contact_phone) == ("Els Peeters", "+32 2 555 12 34")
    user = User.objects.get(email="CSR@brightside.example")
    assert list(donor.users.all()) == [user]
    assert user.check_password("Refurbish-2-schools")
    assert client.session["_auth_user_id"] == str(user.pk)

    # No pledge before the address is confirmed: the page says why and offers the link again.
    refused = client.get(reverse("donations:pledge"))
    assert refused.status_code == 403
    assert "Confirm your e-mail address first" in refused.content.decode()
    assert client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], [laptop("SN-1")])).status_code == 403
    assert not Donation.objects.exists()

    (email,) = mail.outbox
    assert email.to == ["CSR@brightside.example"]
    link = re.search(r"http://testserver(/en/accounts/verify-email/\S+/)", email.body).group(1)
    assert client.get(link).status_code == 302
    assert client.get(reverse("donations:pledge")).status_code == 200


def test_sign_up_with_a_registered_number_is_a_form_error(client, db):
    DonorFactory(registration_number="BE0123456789")

    response = client.post(reverse("donations:signup"), SIGN_UP)

    assert response.status_code == 200
    assert "already signed up" in response.content.decode()
    assert Donor.objects.count() == 1
    assert not User.objects.filter(email__iexact="csr@brightside.example").exists()


def test_an_organisation_signed_up_a_moment_before_is_an_error_on_its_number(client, db, monkeypatch):
    # The race the form's check cannot see: another sign-up inserts the same number between check and insert.
    sign_up = donation_views.donor_sign_up

    def someone_else_first(**details):
        DonorFactory(registration_number=details["registration_number"])
        return sign_up(**details)

    monkeypatch.setattr(donation_views, "donor_sign_up", someone_else_first)

    response = client.post(reverse("donations:signup"), SIGN_UP)

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "registration_number": ["An organisation with this registration number has already signed up."]
    }
    assert Donor.objects.count() == 1
    assert not User.objects.filter(email__iexact="csr@brightside.example").exists()
    assert "_auth_user_id" not in client.session


def test_sign_up_checks_passwords_with_django_validators(client, db):
    response = client.post(reverse("donations:signup"), SIGN_UP | {"password1": "password", "password2": "password"})

    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not Donor.objects.exists()
    assert not User.objects.filter(email__iexact="csr@brightside.example").exists()


# --- pledge -------------------------------------------------------------------------------------------------


def test_pledge_creates_donation_with_pledged_devices_and_one_event_each(client, hubs, donor_user):
    client.force_login(donor_user)
    rows = [laptop("SN-PLEDGE-1"), laptop("SN-PLEDGE-2", has_storage_media=False, category="monitor")]

    response = client.post(reverse("donations:pledge"), pledge_data(hubs["KE-NBO"], rows), follow=True)

    donation = Donation.objects.get()
    assert re.fullmatch(r"DON-\d{4}-\d{6}", donation.reference)
    assert response.redirect_chain == [(reverse("donations:detail", args=[donation.reference]), 302)]
    assert donation.hub == hubs["KE-NBO"]
    assert donation.created_by == donor_user
    devices = list(Device.objects.filter(donation=donation).order_by("serial_number"))
    assert [d.serial_number for d in devices] == ["SN-PLEDGE-1", "SN-PLEDGE-2"]
    assert {d.state for d in devices} == {"pledged"}
    assert [d.has_storage_media for d in devices] == [True, False]
    for device in devices:
        assert list(device.events.values_list("action", "to_state")) == [("pledge", "pledged")]
    assert f"Donation {donation.reference} is pledged with 2 devices" in response.content.decode()


def test_pledge_with_only_empty_rows_is_refused(client, hubs, donor_user):
    client.force_login(donor_user)

    response = client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], []))

    assert response.status_code == 200
    assert "Add at least one device." in response.content.decode()
    assert not Donation.objects.exists()


def test_pledge_with_a_serial_twice_is_refused_before_the_database(client, hubs, donor_user):
    client.force_login(donor_user)
    rows = [laptop("SN-TWICE"), laptop("SN-OK"), laptop("sn-twice ")]

    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], rows))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Some serial numbers appear more than once" in html
    twice = "This serial number is also on row 1, 3."
    assert twice in html
    rows = response.context["formset"].forms
    assert [row.errors.get("serial_number") for row in rows[:3]] == [[twice], None, [twice]]  # on rows 1 and 3
    assert not Donation.objects.exists()
    assert not Device.objects.exists()
    assert not any("INSERT" in q["sql"] for q in queries.captured_queries)


def test_pledge_of_an_already_registered_device_shows_the_error_and_keeps_the_rows(client, hubs, donor_user):
    DeviceFactory(manufacturer="Dell", serial_number="SN-TAKEN", donation__hub=hubs["BE-BRU"])
    client.force_login(donor_user)
    rows = [laptop("SN-NEW-1"), laptop("SN-TAKEN")]

    response = client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], rows))

    assert response.status_code == 200
    html = response.content.decode()
    assert "already registered" in html
    assert 'value="SN-NEW-1"' in html and 'value="SN-TAKEN"' in html
    assert Donation.objects.count() == 1  # only the factory's
    assert not Device.objects.filter(serial_number="SN-NEW-1").exists()


def test_pledge_add_rows_without_javascript_keeps_what_was_typed(client, hubs, donor_user):
    client.force_login(donor_user)
    data = pledge_data(hubs["ZA-JNB"], [laptop("SN-KEEP")], add_rows="1")

    response = client.post(reverse("donations:pledge"), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="devices-TOTAL_FORMS" value="10"' in html
    assert 'value="SN-KEEP"' in html
    assert "was not saved" not in html  # no errors shown for a half-filled form
    assert not Donation.objects.exists()


def test_pledge_rows_from_the_query_string(client, hubs, donor_user):
    client.force_login(donor_user)

    html = client.get(reverse("donations:pledge") + "?rows=12").content.decode()

    assert 'name="devices-TOTAL_FORMS" value="12"' in html
    assert 'name="devices-11-serial_number"' in html


def test_pledge_needs_a_donor_organisation(client, hubs):
    client.force_login(UserFactory(username="someone"))

    response = client.get(reverse("donations:pledge"))

    assert response.status_code == 403
    assert reverse("donations:signup") in response.content.decode()


def test_pledge_needs_login(client, db):
    response = client.get(reverse("donations:pledge"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_pledge_needs_a_csrf_token(hubs, donor_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(donor_user)

    response = client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], [laptop("SN-CSRF")]))

    assert response.status_code == 403
    assert not Donation.objects.exists()


def test_a_user_of_two_organisations_chooses_which_one_pledges(client, hubs, donor_user):
    second = DonorFactory(legal_name="Second Org NV")
    second.users.add(donor_user)
    stranger = DonorFactory(legal_name="Stranger NV")
    client.force_login(donor_user)

    assert 'name="donor"' in client.get(reverse("donations:pledge")).content.decode()
    refused = client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], [laptop("SN-1")], donor=stranger.pk))
    assert refused.status_code == 200
    assert not Donation.objects.exists()
    client.post(reverse("donations:pledge"), pledge_data(hubs["BE-BRU"], [laptop("SN-1")], donor=second.pk))
    assert Donation.objects.get().donor == second


# --- donor portal -------------------------------------------------------------------------------------------


def test_portal_lists_only_the_users_donations(client, hubs, donor_user):
    own = DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])
    DeviceFactory.create_batch(3, donation=own)
    other = DonationFactory(hub=hubs["BE-BRU"])
    client.force_login(donor_user)

    html = client.get(reverse("donations:portal")).content.decode()

    assert own.reference in html
    assert other.reference not in html
    assert re.search(r'<td class="num">3</td>', html)


def test_donor_cannot_see_another_donors_donation(client, hubs, donor_user):
    own = DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])
    other = DonationFactory(hub=hubs["BE-BRU"])
    client.force_login(donor_user)

    assert client.get(reverse("donations:detail", args=[own.reference])).status_code == 200
    assert client.get(reverse("donations:detail", args=[other.reference])).status_code == 404


def test_donation_detail_lists_devices_and_counts_in_a_fixed_number_of_queries(client, hubs, donor_user, staff_be):
    donor = donor_user.donors.get()
    small = DonationFactory(donor=donor, hub=hubs["BE-BRU"])
    DeviceFactory.create_batch(3, donation=small)
    large = DonationFactory(donor=donor, hub=hubs["BE-BRU"])
    devices = DeviceFactory.create_batch(20, donation=large)
    device_transition(device=devices[0], action="receive", actor=staff_be)
    client.force_login(donor_user)

    with CaptureQueriesContext(connection) as small_queries:
        assert client.get(reverse("donations:detail", args=[small.reference])).status_code == 200
    with CaptureQueriesContext(connection) as large_queries:
        response = client.get(reverse("donations:detail", args=[large.reference]))

    # session, user, donation with its progress counts, devices, current certificate, devices it waits for,
    # the pledge's changes
    assert len(small_queries) == len(large_queries) == 7
    html = response.content.decode()
    assert html.count('<span class="state state-pledged">') == 19
    assert html.count('<span class="state state-received">') == 1
    assert "<strong>20</strong> pledged" in html
    assert "<strong>1</strong> received" in html
    assert devices[5].serial_number in html
