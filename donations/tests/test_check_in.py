"""Check-in of a donation by scanning: each outcome, closing, the summary, the API and its scope."""

import pytest
from django.urls import reverse

from donations.factories import DonationFactory
from donations.services import (
    donation_check_in_close,
    donation_check_in_scan,
    donation_check_in_summary,
)
from refurbishing.errors import LifecycleError
from refurbishing.factories import DeviceFactory
from refurbishing.models import Device, DeviceEvent

S = Device.State


@pytest.fixture
def donation(hubs):
    donation = DonationFactory(hub=hubs["KE-MBA"])
    for serial, tag in (("SN-A1", "TAG-1"), ("SN-A2", "TAG-2"), ("SN-A3", "")):
        DeviceFactory(donation=donation, serial_number=serial, asset_tag=tag)
    return donation


def _device(serial):
    return Device.objects.get(serial_number=serial)


def test_scanning_a_pledged_serial_receives_it(donation, staff_ke_mba):
    result = donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="SN-A1")
    assert result.outcome == "received"
    device = _device("SN-A1")
    assert device.state == S.RECEIVED
    event = device.events.order_by("-id").first()
    assert (event.action, event.actor, event.data["check_in"]) == ("receive", staff_ke_mba, donation.reference)


def test_an_asset_tag_or_a_label_code_works_too(donation, staff_ke_mba):
    assert donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="tag-2").outcome == "received"
    label = _device("SN-A3").label_code
    assert donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan=label.lower()).outcome == "received"
    assert _device("SN-A2").state == _device("SN-A3").state == S.RECEIVED


def test_a_device_scanned_twice_is_already_received_and_nothing_changes(donation, staff_ke_mba):
    donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="SN-A1")
    events = DeviceEvent.objects.count()
    version = _device("SN-A1").version
    result = donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="SN-A1")
    assert result.outcome == "already_received"
    assert "already received" in result.message
    assert DeviceEvent.objects.count() == events
    assert _device("SN-A1").version == version


def test_an_unexpected_device_is_added_to_the_donation_and_received_with_an_event_saying_so(donation, staff_ke_mba):
    result = donation_check_in_scan(
        donation=donation, actor=staff_ke_mba, scan="NEW-99", category="desktop", manufacturer="HP", model="EliteDesk"
    )
    assert result.outcome == "unexpected"
    device = _device("NEW-99")
    assert (device.donation, device.state, device.category, device.manufacturer, device.model) == (
        donation,
        S.RECEIVED,
        "desktop",
        "HP",
        "EliteDesk",
    )
    receive = device.events.get(action="receive")
    assert receive.data["unexpected"] is True
    assert "Not on the pledge" in receive.note


def test_an_unexpected_device_needs_its_category_and_make(donation, staff_ke_mba):
    with pytest.raises(LifecycleError, match="is not on donation") as refused:
        donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="NEW-99")
    assert set(refused.value.field_errors) == {"category", "manufacturer"}
    assert not Device.objects.filter(serial_number="NEW-99").exists()


def test_a_device_of_another_donation_is_refused(donation, staff_ke_mba, hubs):
    other = DonationFactory(hub=hubs["KE-MBA"])
    DeviceFactory(donation=other, serial_number="SN-OTHER")
    with pytest.raises(LifecycleError, match=f"belongs to donation {other.reference}"):
        donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="SN-OTHER")
    assert _device("SN-OTHER").state == S.PLEDGED


def test_closing_marks_what_never_arrived_missing_and_sums_up(donation, staff_ke_mba, client, donor_user):
    donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="SN-A1")
    donation_check_in_scan(
        donation=donation, actor=staff_ke_mba, scan="NEW-1", category="laptop", manufacturer="Lenovo"
    )
    before = donation_check_in_summary(donation=donation)
    assert (before.expected, before.received, before.unexpected, before.missing, before.awaited) == (3, 2, 1, 0, 2)

    summary = donation_check_in_close(donation=donation, actor=staff_ke_mba)

    assert (summary.expected, summary.received, summary.unexpected, summary.missing, summary.awaited) == (3, 2, 1, 2, 0)
    assert _device("SN-A2").state == _device("SN-A3").state == S.MISSING
    assert "Never arrived" in _device("SN-A2").events.get(action="mark_missing").note
    # The donor sees it in the portal.
    donation.donor.users.add(donor_user)
    client.force_login(donor_user)
    page = client.get(reverse("donations:detail", kwargs={"reference": donation.reference})).content.decode()
    assert "missing" in page
    assert page.count('<span class="state state-missing">') == 2  # the two devices' rows


def test_a_missing_device_scanned_after_closing_is_refused(donation, staff_ke_mba):
    donation_check_in_close(donation=donation, actor=staff_ke_mba)
    with pytest.raises(LifecycleError, match="marked missing"):
        donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="SN-A1")


def test_staff_of_another_hub_cannot_check_in(donation, staff_be):
    with pytest.raises(LifecycleError) as refused:
        donation_check_in_scan(donation=donation, actor=staff_be, scan="SN-A1")
    assert refused.value.code == "forbidden"
    with pytest.raises(LifecycleError):
        donation_check_in_close(donation=donation, actor=staff_be)
    assert _device("SN-A1").state == S.PLEDGED


# The API


def _scan_url(donation):
    return reverse("api-donation-check-in", kwargs={"reference": donation.reference})


def test_api_answers_each_outcome(donation, staff_ke_mba, token_client):
    api = token_client(staff_ke_mba)
    first = api.post(_scan_url(donation), {"scan": "SN-A1"}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["outcome"] == "received"
    assert first.json()["device"]["state"] == "received"
    assert first.json()["device"]["serial_number"] == "SN-A1"
    assert first.json()["device"]["label_code"] == _device("SN-A1").label_code
    again = api.post(_scan_url(donation), {"scan": "SN-A1"}, format="json")
    assert again.json()["outcome"] == "already_received"
    unknown = api.post(_scan_url(donation), {"scan": "XYZ"}, format="json")
    assert unknown.status_code == 400
    assert set(unknown.json()["errors"]) == {"category", "manufacturer"}
    added = api.post(
        _scan_url(donation),
        {"scan": "XYZ", "category": "tablet", "manufacturer": "Samsung", "model": "Tab A"},
        format="json",
    )
    assert added.json()["outcome"] == "unexpected"
    assert added.json()["device"]["category"] == "tablet"


def test_api_close_answers_the_summary(donation, staff_ke_mba, token_client):
    api = token_client(staff_ke_mba)
    api.post(_scan_url(donation), {"scan": "SN-A1"}, format="json")
    url = reverse("api-donation-check-in-close", kwargs={"reference": donation.reference})
    response = api.post(url, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "reference": donation.reference,
        "expected": 3,
        "received": 1,
        "unexpected": 0,
        "missing": 2,
        "awaited": 0,
    }


def test_api_another_hubs_donation_is_not_found(donation, staff_be, donor_user, token_client):
    for user in (staff_be, donor_user):
        response = token_client(user).post(_scan_url(donation), {"scan": "SN-A1"}, format="json")
        assert response.status_code == 404
        close = reverse("api-donation-check-in-close", kwargs={"reference": donation.reference})
        assert token_client(user).post(close).status_code == 404
    assert _device("SN-A1").state == S.PLEDGED


def test_api_needs_a_token(donation, client):
    assert client.post(_scan_url(donation), {"scan": "SN-A1"}).status_code == 401


def test_check_in_endpoints_are_in_the_openapi_schema(db):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    scan = paths["/api/v1/donations/{reference}/check-in/"]["post"]
    assert set(scan["responses"]) >= {"200", "400", "401", "404"}
    assert "scan" in str(scan["requestBody"])
    assert "post" in paths["/api/v1/donations/{reference}/check-in/close/"]


@pytest.fixture
def ten_monitors_by_quantity(hubs, donor_user):
    """The realistic case: a donor pledges ten monitors by quantity, without serials, and two laptops."""
    from donations.services import donation_pledge

    rows = [{"category": "monitor", "manufacturer": "Dell", "model": "P2419H"} for _ in range(10)]
    rows += [{"category": "laptop", "manufacturer": "HP", "model": "EliteBook 840 G5", "serial_number": "5CG-L1"}]
    return donation_pledge(
        donor=donor_user.donors.get(), hub=hubs["KE-MBA"], pickup_address="Moi Avenue 1", rows=rows, actor=donor_user
    )


def test_monitors_pledged_by_quantity_are_claimed_by_their_serials_at_check_in(
    ten_monitors_by_quantity, staff_ke_mba, client, donor_user
):
    donation = ten_monitors_by_quantity
    for number in range(10):
        result = donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan=f"CN-0{number:05d}")
        assert result.outcome == "claimed", result.message
    # Each scan took one of the ten awaited monitors: nothing unexpected, nothing awaited but the laptop.
    summary = donation_check_in_summary(donation=donation)
    assert (summary.expected, summary.received, summary.unexpected, summary.awaited) == (11, 10, 0, 1)
    monitors = Device.objects.filter(donation=donation, category="monitor")
    assert monitors.count() == 10
    assert sorted(monitors.values_list("serial_number", flat=True)) == [f"CN-0{n:05d}" for n in range(10)]
    assert set(monitors.values_list("state", flat=True)) == {S.RECEIVED}
    event = monitors.order_by("id").first().events.order_by("-id").first()
    assert (event.action, event.data["serial_recorded"]) == ("receive", "CN-000000")
    assert "Pledged without a serial number" in event.note

    # An eleventh monitor was not pledged: it is unexpected, and needs its make.
    with pytest.raises(LifecycleError) as refused:
        donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="CN-EXTRA")
    assert refused.value.code == "unknown"
    donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="5CG-L1")
    closed = donation_check_in_close(donation=donation, actor=staff_ke_mba)
    assert (closed.received, closed.missing, closed.unexpected) == (11, 0, 0)  # no monitor marked missing

    # The donor sees each monitor with its serial, none missing.
    client.force_login(donor_user)
    page = client.get(reverse("donations:detail", args=[donation.reference])).content.decode()
    assert "CN-000009" in page
    assert Device.objects.filter(donation=donation, state=S.MISSING).count() == 0


def test_a_claim_follows_the_category_and_the_pledged_model(hubs, donor_user, staff_ke_mba):
    from donations.services import donation_pledge

    rows = [{"category": "monitor", "manufacturer": "Dell", "model": "P2419H"}] * 2
    rows += [{"category": "printer", "manufacturer": "Brother"}]
    donation = donation_pledge(
        donor=donor_user.donors.get(), hub=hubs["KE-MBA"], pickup_address="Moi Avenue 1", rows=rows, actor=donor_user
    )
    # Two categories wait without serials: the category is asked for, nothing is added.
    with pytest.raises(LifecycleError) as refused:
        donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="KB-1")
    assert refused.value.code == "unknown" and set(refused.value.field_errors) == {"category"}
    assert Device.objects.filter(donation=donation).count() == 3
    # A monitor of another model than the pledged one is not one of them: it is unexpected.
    with pytest.raises(LifecycleError):
        donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="CN-X", category="monitor", model="U2720Q")
    result = donation_check_in_scan(donation=donation, actor=staff_ke_mba, scan="KB-1", category="printer")
    assert (result.outcome, result.device.category, result.device.serial_number) == ("claimed", "printer", "KB-1")
    result = donation_check_in_scan(
        donation=donation, actor=staff_ke_mba, scan="CN-1", category="monitor", model="p2419h"
    )
    assert (result.outcome, result.device.model) == ("claimed", "P2419H")
