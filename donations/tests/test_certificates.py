"""Sanitisation and recycling certificates: when they are issued, that they never change, and public verification."""

import io
import re

import pytest
import zxingcpp
from django.db import DatabaseError, transaction
from django.urls import reverse
from pypdf import PdfReader

from donations.factories import DonationFactory
from donations.models import Certificate
from donations.selectors import certificate_current
from donations.services import (
    CertificatePending,
    DonationError,
    certificate_number_new,
    certificate_reissue,
    donation_certificate_issue,
    donation_recycling_certificate_issue,
)
from refurbishing.factories import SANITISATION, DeviceFactory, device_through, wipe_sample_passed
from refurbishing.models import Device
from refurbishing.services import device_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def donation(hubs, donor_user):
    return DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_certificate_number_is_random_base32_not_sequential():
    numbers = {certificate_number_new() for _ in range(200)}
    assert len(numbers) == 200
    for number in numbers:
        assert re.fullmatch(r"CTG-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", number)


def test_certificate_waits_for_every_storage_device_to_arrive_and_be_wiped(
    donation, staff_be, django_capture_on_commit_callbacks
):
    laptop, phone = DeviceFactory.create_batch(2, donation=donation)
    DeviceFactory(donation=donation, category=Device.Category.MONITOR, has_storage_media=False)
    lost = DeviceFactory(donation=donation)

    with pytest.raises(CertificatePending) as pending:
        donation_certificate_issue(donation=donation)
    assert {d.pk for d in pending.value.pending} == {laptop.pk, phone.pk, lost.pk}  # not the monitor

    device_through(laptop, "receive", "sanitise", actor=staff_be)
    device_through(phone, "receive", actor=staff_be)
    device_transition(device=lost, action="mark_missing", actor=staff_be)
    with pytest.raises(CertificatePending) as pending:
        donation_certificate_issue(donation=donation)
    assert [d.pk for d in pending.value.pending] == [phone.pk]  # arrived, not yet wiped; the missing one holds nothing

    # The last wipe issues it by itself (the task queued after the move commits), once.
    with django_capture_on_commit_callbacks(execute=True):
        device_through(phone, "sanitise", actor=staff_be)
    # The last wipe completes the lot: its wipe verification sample is drawn, and the certificate waits for it.
    assert certificate_current(donation=donation, kind=Certificate.Kind.SANITISATION) is None
    with pytest.raises(CertificatePending, match="wipe verification sample"):
        donation_certificate_issue(donation=donation)
    # Passing the sample issues it by itself (the task queued after the last re-verification commits).
    with django_capture_on_commit_callbacks(execute=True):
        wipe_sample_passed(donation)
    certificate = certificate_current(donation=donation, kind=Certificate.Kind.SANITISATION)
    assert certificate is not None
    assert certificate.device_count == 2
    assert donation_certificate_issue(donation=donation) == certificate
    assert Certificate.objects.filter(donation=donation).count() == 1
    row = next(r for r in certificate.rows if r["device_id"] == laptop.pk)
    assert row["serial_number"] == laptop.serial_number
    assert row["method"] == SANITISATION["method"]
    assert row["tool"] == "nwipe" and row["tool_version"] == "0.34"
    assert row["operator"] == staff_be.get_username()


def test_certificate_url_answers_409_listing_what_is_pending_then_the_pdf(client, donation, donor_user, staff_be):
    device = DeviceFactory(donation=donation, serial_number="PENDING-SN-1")
    client.force_login(donor_user)
    url = reverse("donations:certificate", args=[donation.reference])

    response = client.get(url)
    assert response.status_code == 409
    assert "PENDING-SN-1" in response.content.decode()
    portal = client.get(reverse("donations:detail", args=[donation.reference])).content.decode()
    assert "Not yet available: 1 device with storage media has still to arrive or be wiped." in portal
    # The progress line beside it counts the same awaited device (it said "0 sanitised, of 0 with storage media").
    progress = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", "", portal.split('class="counts progress"', 1)[1].split("</ul>")[0])
    )
    assert "0 sanitised, of 1 with storage media" in progress

    device_through(device, "receive", "sanitise", actor=staff_be)
    response = client.get(url)
    assert response.status_code == 409  # wiped, and waiting for its wipe verification sample
    assert "wipe verification sample" in response.content.decode()
    wipe_sample_passed(donation)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    certificate = Certificate.objects.get(donation=donation)
    text = _pdf_text(response.content)
    for expected in (certificate.number, "Acme NV", "PENDING-SN-1", "Dell", "Latitude 5490", "nwipe 0.34", "purge"):
        assert expected in text
    assert "NIST SP 800-88" in text
    assert f"/verify/{certificate.number}/" in text
    portal = client.get(reverse("donations:detail", args=[donation.reference])).content.decode()
    assert certificate.number in portal


def test_certificate_never_changes_once_issued(client, donation, donor_user, staff_be):
    device = device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    wipe_sample_passed(donation)
    certificate = donation_certificate_issue(donation=donation)
    client.force_login(donor_user)
    url = reverse("donations:certificate", args=[donation.reference])
    first = client.get(url).content

    # The device is edited and wiped again later: the issued certificate does not follow.
    Device.objects.filter(pk=device.pk).update(model="Renamed model")
    device_through(device, "inspect", actor=staff_be)
    assert client.get(url).content == first
    assert "Renamed model" not in _pdf_text(first)

    # Not even the database lets anyone change the row.
    with pytest.raises(DatabaseError), transaction.atomic():
        Certificate.objects.filter(pk=certificate.pk).update(donor_name="Someone else")
    certificate.refresh_from_db()
    assert certificate.donor_name == "Acme NV"


def test_certificate_reissue_supersedes_and_keeps_the_old_one(donation, staff_be):
    device = device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    wipe_sample_passed(donation)
    old = donation_certificate_issue(donation=donation)
    Device.objects.filter(pk=device.pk).update(serial_number="CORRECTED-SN")

    with pytest.raises(DonationError):
        certificate_reissue(certificate=old, actor=staff_be, reason="  ")
    new = certificate_reissue(certificate=old, actor=staff_be, reason="Serial number typed wrong at check-in")

    assert new.number != old.number
    assert new.supersedes == old
    assert new.rows[0]["serial_number"] == "CORRECTED-SN"
    old.refresh_from_db()
    assert old.rows[0]["serial_number"] != "CORRECTED-SN"
    assert certificate_current(donation=donation, kind=Certificate.Kind.SANITISATION) == new
    with pytest.raises(DonationError):
        certificate_reissue(certificate=old, actor=staff_be, reason="again")


def test_verify_page_says_genuine_and_shows_only_what_it_should(client, donation, staff_be):
    device = device_through(
        DeviceFactory(donation=donation, serial_number="SECRET-SERIAL"), "receive", "sanitise", actor=staff_be
    )
    wipe_sample_passed(donation)
    certificate = donation_certificate_issue(donation=donation)

    response = client.get(f"/en/verify/{certificate.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert certificate.number in html
    assert "Acme NV" in html
    assert "genuine and current" in html
    # Nothing more: no device, serial, hub, operator or donation reference.
    for hidden in ("SECRET-SERIAL", device.model, donation.reference, staff_be.get_username(), donation.hub.name):
        assert hidden not in html
    # Without a language, the address sends the reader to their own.
    assert client.get(f"/verify/{certificate.number}/").status_code == 302
    assert client.get(f"/en/verify/{certificate.number.lower()}/").status_code == 200


def test_verify_page_says_superseded(client, donation, staff_be):
    device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    wipe_sample_passed(donation)
    old = donation_certificate_issue(donation=donation)
    new = certificate_reissue(certificate=old, actor=staff_be, reason="Correction")

    html = client.get(f"/en/verify/{old.number}/").content.decode()
    assert "superseded" in html
    assert new.number not in html  # the current one is the donor's to hand out
    assert "genuine and current" in client.get(f"/en/verify/{new.number}/").content.decode()


def test_verify_page_unknown_number_is_404(client, db):
    assert client.get(f"/en/verify/{certificate_number_new()}/").status_code == 404


def test_qr_code_on_the_certificate_decodes_to_its_verify_url(client, donation, donor_user, staff_be):
    device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    wipe_sample_passed(donation)
    client.force_login(donor_user)
    content = client.get(reverse("donations:certificate", args=[donation.reference])).content
    certificate = Certificate.objects.get(donation=donation)

    images = [image.image for page in PdfReader(io.BytesIO(content)).pages for image in page.images]
    decoded = [result.text for image in images for result in zxingcpp.read_barcodes(image)]
    assert decoded == [f"http://testserver/verify/{certificate.number}/"]


def test_recycling_certificate_lists_recycled_devices_with_weights(client, donation, donor_user, staff_be):
    first, second = DeviceFactory.create_batch(2, donation=donation, weight_kg="2.40")
    client.force_login(donor_user)
    url = reverse("donations:recycling-certificate", args=[donation.reference])
    assert client.get(url).status_code == 409

    for device in (first, second):
        device_through(device, "receive", "sanitise", actor=staff_be)
        device_transition(device=device, action="inspect", actor=staff_be, record={"passed": False})
    device_transition(device=first, action="recycle", actor=staff_be, data={"weight_kg": "2.40"})
    response = client.get(url)
    assert response.status_code == 200
    text = _pdf_text(response.content)
    assert first.serial_number in text and "2.40" in text
    assert second.serial_number not in text

    one = Certificate.objects.get(donation=donation, kind=Certificate.Kind.RECYCLING)
    device_transition(device=second, action="recycle", actor=staff_be, data={"weight_kg": "3.10"})
    two = donation_recycling_certificate_issue(donation=donation)
    assert two.supersedes == one and two.device_count == 2
    assert second.serial_number in _pdf_text(client.get(url).content)


def test_certificate_lists_each_wiped_drive_with_its_serial(client, donation, donor_user, staff_be):
    """A device whose drives are known is certified drive by drive (NIST SP 800-88's media serial and type)."""
    from django.utils import timezone

    from refurbishing.hardware.services import drive_create, drive_sanitisation_record_create

    laptop = DeviceFactory(donation=donation, serial_number="TWO-DRIVES-1")
    device_through(laptop, "receive", actor=staff_be)
    for serial, media_type in (("SSD-SERIAL-A", "ssd"), ("HDD-SERIAL-B", "hdd")):
        drive = drive_create(device=laptop, actor=staff_be, media_type=media_type, serial_number=serial, model="Disk")
        drive_sanitisation_record_create(
            drive=drive,
            recorded_by=staff_be,
            method="purge",
            technique="ATA Secure Erase",
            tool="nwipe",
            tool_version="0.34",
            verification="full",
            verified=True,
            completed_at=timezone.now(),
        )
    device_through(laptop, "sanitise", actor=staff_be)
    wipe_sample_passed(donation)
    certificate = donation_certificate_issue(donation=donation)
    rows = [row for row in certificate.rows if row["device_id"] == laptop.pk]
    assert sorted((row["media_serial"], row["media_type"]) for row in rows) == [
        ("HDD-SERIAL-B", "hdd"),
        ("SSD-SERIAL-A", "ssd"),
    ]
    client.force_login(donor_user)
    text = _pdf_text(client.get(reverse("donations:certificate", args=[donation.reference])).content)
    assert "SSD-SERIAL-A" in text and "HDD-SERIAL-B" in text
