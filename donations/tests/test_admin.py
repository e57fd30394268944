"""The donations admin: scoped to the user's hubs, listing each donation's devices; status follows the devices."""

from django.urls import reverse

from donations.factories import DonationFactory
from refurbishing.factories import DeviceFactory


def test_donation_admin_is_scoped_and_lists_its_devices(client, hubs, staff_ke_mba):
    mine = DeviceFactory(donation__hub=hubs["KE-MBA"])
    theirs = DeviceFactory(donation__hub=hubs["ZA-JNB"])
    client.force_login(staff_ke_mba)

    response = client.get(reverse("admin:donations_donation_changelist"))
    assert [d.pk for d in response.context["cl"].result_list] == [mine.donation_id]
    page = client.get(reverse("admin:donations_donation_change", args=[mine.donation_id]))
    assert mine.serial_number in page.content.decode()
    other = client.get(reverse("admin:donations_donation_change", args=[theirs.donation_id]))
    assert other.status_code == 404


def test_donation_status_follows_its_devices_and_cannot_be_typed_in(client, hubs, staff_ke_mba):
    donation = DonationFactory(hub=hubs["KE-MBA"])
    client.force_login(staff_ke_mba)
    url = reverse("admin:donations_donation_change", args=[donation.pk])
    page = client.get(url).content.decode()
    assert 'name="status"' not in page
    response = client.post(
        url,
        {"status": "closed", "pickup_address": "Moi Avenue, Mombasa", "pickup_date": "", "notes": "called ahead"},
    )
    assert response.status_code == 302
    donation.refresh_from_db()
    assert (donation.status, donation.notes) == ("pledged", "called ahead")
