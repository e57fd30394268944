"""Check-in on the scan station: start, scan (each outcome), describe an unexpected device, close, labels."""

import pypdfium2
import pytest
from django.urls import reverse

from donations.factories import DonationFactory
from refurbishing.factories import DeviceFactory
from refurbishing.models import Device

S = Device.State
FRAGMENT = {"HTTP_X_FRAGMENT": "1"}


@pytest.fixture
def donation(hubs):
    donation = DonationFactory(hub=hubs["KE-MBA"])
    DeviceFactory(donation=donation, serial_number="CI-1")
    DeviceFactory(donation=donation, serial_number="CI-2")
    return donation


def _url(donation, name="check-in:donation"):
    return reverse(name, kwargs={"reference": donation.reference})


def test_start_lists_donations_expected_and_opens_one_by_reference(client, staff_ke_mba, donation, hubs):
    elsewhere = DonationFactory(hub=hubs["BE-BRU"])
    client.force_login(staff_ke_mba)
    page = client.get(reverse("check-in:start")).content.decode()
    assert donation.reference in page
    assert elsewhere.reference not in page
    response = client.get(reverse("check-in:start"), {"reference": donation.reference.lower()})
    assert response.status_code == 302 and response["Location"] == _url(donation)
    assert client.get(reverse("check-in:start"), {"reference": elsewhere.reference}).status_code == 404


def test_scanning_on_the_page_receives_reports_duplicates_and_asks_for_unexpected_devices(
    client, staff_ke_mba, donation
):
    client.force_login(staff_ke_mba)
    received = client.post(_url(donation), {"scan": "CI-1"}, **FRAGMENT)
    assert 'data-scan-outcome="received"' in received.content.decode()
    assert 'data-count="received">1<' in received.content.decode()

    twice = client.post(_url(donation), {"scan": "CI-1"}, **FRAGMENT)
    assert "was already received" in twice.content.decode()

    unknown = client.post(_url(donation), {"scan": "NEW-7"}, **FRAGMENT)
    assert unknown.status_code == 400
    page = unknown.content.decode()
    assert "NEW-7 is not on donation" in page
    assert 'name="category"' in page and 'value="NEW-7"' in page

    added = client.post(
        _url(donation),
        {"scan": "NEW-7", "category": "laptop", "manufacturer": "Acer", "model": "TravelMate"},
        **FRAGMENT,
    )
    assert 'data-scan-outcome="unexpected"' in added.content.decode()
    assert 'data-count="unexpected">1<' in added.content.decode()
    assert Device.objects.get(serial_number="NEW-7").donation == donation


def test_closing_marks_the_rest_missing_and_says_so(client, staff_ke_mba, donation):
    client.force_login(staff_ke_mba)
    client.post(_url(donation), {"scan": "CI-1"})
    response = client.post(_url(donation, "check-in:close"), follow=True)
    page = response.content.decode()
    assert "Check-in closed: 1 received, 0 not pledged, 1 missing." in page
    assert Device.objects.get(serial_number="CI-2").state == S.MISSING


def test_labels_of_a_check_in_hold_the_devices_received(client, staff_ke_mba, donation):
    client.force_login(staff_ke_mba)
    client.post(_url(donation), {"scan": "CI-1"})
    response = client.get(_url(donation, "check-in:labels"), {"layout": "tape"})
    assert response["Content-Type"] == "application/pdf"
    pages = pypdfium2.PdfDocument(response.content)
    assert len(pages) == 1  # tape: one label per received device, CI-2 has not arrived
    assert "S/N CI-1" in pages[0].get_textpage().get_text_range()


def test_check_in_pages_are_for_staff_of_the_donations_hub(client, staff_be, donor_user, donation):
    assert client.get(_url(donation)).status_code == 302  # to the login page
    for user in (staff_be, donor_user):
        client.force_login(user)
        assert client.get(_url(donation)).status_code == 404
        assert client.post(_url(donation), {"scan": "CI-1"}).status_code == 404
        assert client.post(_url(donation, "check-in:close")).status_code == 404
    assert Device.objects.get(serial_number="CI-1").state == S.PLEDGED


@pytest.mark.parametrize(
    ("language", "claimed", "which"),
    [
        ("en", "one of the devices pledged without a serial number", "which category is it?"),
        ("fr", "l’un des appareils promis sans numéro de série", "quelle catégorie ?"),
        ("nl", "een van de apparaten die zonder serienummer werden toegezegd", "welke categorie is het?"),
    ],
)
def test_on_the_page_a_serial_claims_a_device_pledged_by_quantity(
    client, staff_ke_mba, hubs, donor_user, language, claimed, which
):
    """Issue 21 (1), on the check-in page in each language: ten monitors pledged without serials are claimed."""
    from django.utils import translation

    from donations.services import donation_pledge

    rows = [{"category": "monitor", "manufacturer": "Dell", "model": "P2419H"} for _ in range(10)]
    donation = donation_pledge(
        donor=donor_user.donors.get(), hub=hubs["KE-MBA"], pickup_address="Moi Avenue 1", rows=rows, actor=donor_user
    )
    client.force_login(staff_ke_mba)
    with translation.override(language):
        url = _url(donation)
    page = client.post(url, {"scan": "CN-0001"}, **FRAGMENT).content.decode()
    assert 'data-scan-outcome="claimed"' in page and claimed in page
    assert 'data-count="awaited">9<' in page and 'data-count="unexpected">0<' in page
    # With two categories waiting, the page asks which one, in the person's language.
    DeviceFactory(donation=donation, category="printer", serial_number="")
    asked = client.post(url, {"scan": "CN-0002"}, **FRAGMENT)
    assert asked.status_code == 400 and which in asked.content.decode()
