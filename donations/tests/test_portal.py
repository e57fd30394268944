"""The donor portal: progress per stage, device journeys, exports and asset reports, and nobody else's data."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from donations.exports import spreadsheet_safe
from donations.factories import DonationFactory
from donations.selectors import donation_list_with_progress, progress_of
from refurbishing.factories import DeviceFactory, device_through
from refurbishing.models import Device
from refurbishing.services import device_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def donation(hubs, donor_user):
    return DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])


@pytest.fixture
def other_donation(hubs):
    """Another organisation's donation, with a device, a certificate and a recycled device."""
    return DonationFactory(hub=hubs["BE-BRU"])


def _recycled(device: Device, *, actor, weight: str = "2.50") -> Device:
    device_through(device, "receive", "sanitise", actor=actor)
    device_transition(device=device, action="inspect", actor=actor, record={"passed": False})
    return device_transition(device=device, action="recycle", actor=actor, data={"weight_kg": weight})


def test_progress_counts_every_stage_in_one_query(donation, staff_be, donor_user):
    pledged, received, wiped, refurbished, recycled, missing = DeviceFactory.create_batch(6, donation=donation)
    monitor = DeviceFactory(donation=donation, category=Device.Category.MONITOR, has_storage_media=False)
    device_through(received, "receive", actor=staff_be)
    device_through(wiped, "receive", "sanitise", actor=staff_be)
    device_through(refurbished, "receive", "sanitise", "inspect", "configure", actor=staff_be)
    device_through(monitor, "receive", "inspect", actor=staff_be)
    _recycled(recycled, actor=staff_be)
    device_transition(device=missing, action="mark_missing", actor=staff_be)
    DonationFactory(donor=donation.donor, hub=donation.hub)  # an empty one counts zeros

    with CaptureQueriesContext(connection) as queries:
        donations = {d.pk: progress_of(d) for d in donation_list_with_progress(user=donor_user)}
    assert len(queries) == 1
    assert donations[donation.pk] == {
        "pledged": 7,
        "received": 5,  # all but the pledged and the missing one
        "with_storage": 5,  # with storage media, arrived or still awaited (not the monitor, not the missing one)
        "sanitised": 3,
        "refurbished": 1,
        "delivered": 0,
        "recycled": 1,
        "missing": 1,
    }
    assert set(donations) == {donation.pk, donation.donor.donations.exclude(pk=donation.pk).get().pk}


def test_device_page_tells_the_journey_in_words(client, donation, donor_user, staff_be):
    device = device_through(DeviceFactory(donation=donation), "receive", "sanitise", "inspect", actor=staff_be)
    client.force_login(donor_user)

    html = client.get(reverse("donations:device", args=[donation.reference, device.pk])).content.decode()

    assert "Received at Hub BE-BRU." in html
    assert "Data wiped and verified at Hub BE-BRU: purge (secure erase, crypto erase, degauss)." in html
    assert "Tested at Hub BE-BRU: works, graded A." in html
    assert "sanitisation_record_id" not in html and "{" not in html.split("<main", 1)[1]
    assert "Not delivered yet." in html


def test_device_list_exports_neutralise_formulas(client, donation, donor_user):
    DeviceFactory(donation=donation, model='=HYPERLINK("http://evil")', serial_number="+SN1")
    DeviceFactory(donation=donation, model="@SUM(A1)", serial_number="-SN2", asset_tag="\tTAB")
    DeviceFactory(donation=donation, model="\rCR", serial_number="SAFE-3")
    client.force_login(donor_user)

    response = client.get(reverse("donations:donation-devices-export", args=[donation.reference, "csv"]))
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Donation", "Category", "Manufacturer"]
    assert len(rows) == 4
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil")' in cells and "'+SN1" in cells and "'@SUM(A1)" in cells
    assert "'-SN2" in cells and "'\tTAB" in cells and "'\rCR" in cells and "SAFE-3" in cells
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells)

    response = client.get(reverse("donations:donation-devices-export", args=[donation.reference, "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for row in sheet.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert '\'=HYPERLINK("http://evil")' in values and "'-SN2" in values
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_spreadsheet_safe_leaves_numbers_and_plain_text_alone():
    assert spreadsheet_safe(-3) == -3
    assert spreadsheet_safe("Dell") == "Dell"
    assert spreadsheet_safe("=1+1") == "'=1+1"


def test_all_devices_export_lists_every_donation_of_the_organisation_only(client, donation, other_donation, donor_user):
    second = DonationFactory(donor=donation.donor, hub=donation.hub)
    mine = [DeviceFactory(donation=donation), DeviceFactory(donation=second)]
    theirs = DeviceFactory(donation=other_donation)
    client.force_login(donor_user)

    body = b"".join(client.get("/en/donors/devices.csv").streaming_content).decode("utf-8-sig")
    assert all(device.serial_number in body for device in mine)
    assert theirs.serial_number not in body
    assert donation.reference in body and second.reference in body

    sheet = load_workbook(io.BytesIO(client.get("/en/donors/devices.xlsx").content)).active
    assert sheet.max_row == 3


def test_asset_report_lists_grade_outcome_and_date(client, donation, donor_user, staff_be):
    reused = device_through(DeviceFactory(donation=donation), "receive", "sanitise", "inspect", actor=staff_be)
    recycled = _recycled(DeviceFactory(donation=donation), actor=staff_be)
    missing = DeviceFactory(donation=donation)
    device_transition(device=missing, action="mark_missing", actor=staff_be)
    client.force_login(donor_user)

    response = client.get(reverse("donations:asset-report", args=[donation.reference, "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header == [
        "Category",
        "Manufacturer",
        "Model",
        "Serial number",
        "Asset tag",
        "Grade",
        "Outcome",
        "State",
        "Date",
        "WEEE category",
        "Weight (kg)",
        "Weight basis",
    ]
    rows = {row[3]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[reused.serial_number][5] == "A"
    assert rows[reused.serial_number][6] == "in progress"
    assert rows[recycled.serial_number][6] == "recycled"
    assert rows[missing.serial_number][6] == "missing"
    assert all(row[8] is not None for row in rows.values())  # the date each outcome was reached

    response = client.get(reverse("donations:asset-report", args=[donation.reference, "pdf"]))
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert donation.reference in text and recycled.serial_number in text and "missing" in text


def test_another_organisations_pages_exports_reports_and_certificates_are_404(
    client, donation, other_donation, donor_user, staff_be
):
    device = _recycled(DeviceFactory(donation=other_donation), actor=staff_be)
    own_device = DeviceFactory(donation=donation)
    client.force_login(donor_user)
    theirs = other_donation.reference
    urls = [
        reverse("donations:detail", args=[theirs]),
        reverse("donations:device", args=[theirs, device.pk]),
        reverse("donations:device", args=[donation.reference, device.pk]),  # their device under my donation
        reverse("donations:donation-devices-export", args=[theirs, "csv"]),
        reverse("donations:donation-devices-export", args=[theirs, "xlsx"]),
        reverse("donations:asset-report", args=[theirs, "xlsx"]),
        reverse("donations:asset-report", args=[theirs, "pdf"]),
        reverse("donations:certificate", args=[theirs]),
        reverse("donations:recycling-certificate", args=[theirs]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    # ... while the same pages of my own donation answer.
    assert client.get(reverse("donations:device", args=[donation.reference, own_device.pk])).status_code == 200
    assert client.get(reverse("donations:certificate", args=[donation.reference])).status_code == 409


def test_a_user_without_an_organisation_gets_no_device_list(client, db):
    from hubs.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get("/en/donors/devices.csv").status_code == 404


def test_portal_pages_need_a_login(client, donation):
    for url in (
        reverse("donations:certificate", args=[donation.reference]),
        reverse("donations:donation-devices-export", args=[donation.reference, "csv"]),
        "/en/donors/devices.xlsx",
    ):
        assert client.get(url).status_code == 302


def test_portal_lists_progress_in_a_fixed_number_of_queries(client, hubs, donor_user, staff_be):
    donor = donor_user.donors.get()
    first = DonationFactory(donor=donor, hub=hubs["BE-BRU"])
    device_through(DeviceFactory(donation=first), "receive", actor=staff_be)
    client.force_login(donor_user)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("donations:portal")).status_code == 200
    for _ in range(5):
        DeviceFactory.create_batch(4, donation=DonationFactory(donor=donor, hub=hubs["BE-BRU"]))
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("donations:portal")).content.decode()
    assert len(few) == len(many)
    assert html.count('<td class="num">4</td>') == 5
