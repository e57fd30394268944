"""Downstream vendors and their certificates: the streams a batch holds, the dispatch guard, the record of what
covered a batch, the expiry reminder, and what the donor's recycling certificate and the admin and API show."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from hubs.factories import StaffFactory
from hubs.services import hub_membership_add
from refurbishing import tasks
from refurbishing.errors import LifecycleError
from refurbishing.factories import (
    DeviceFactory,
    RecyclingPartnerFactory,
    VendorCertificateFactory,
    device_through,
)
from refurbishing.models import (
    Device,
    DeviceEvent,
    DeviceState,
    Drive,
    RecyclingBatch,
    RecyclingBatchDevice,
    VendorCertificate,
    WasteStream,
)
from refurbishing.recycling.services import (
    recycling_batch_add_devices,
    recycling_batch_add_waiting,
    recycling_batch_close,
    vendor_certificate_record,
    vendor_certificate_remind,
    vendor_certificate_reminders_due,
)
from refurbishing.recycling.streams import device_list_with_data_state, device_streams, recycling_batch_coverage
from refurbishing.services import device_transition

pytestmark = pytest.mark.django_db

W = WasteStream


@pytest.fixture
def manager_be(hubs):
    user = StaffFactory(username="manager-be-bru")
    hub_membership_add(hub=hubs["BE-BRU"], user=user, role="manager")
    return user


@pytest.fixture
def vendor():
    return RecyclingPartnerFactory(name="WorldLoop", country="BE")


@pytest.fixture
def batch(hubs, vendor):
    return RecyclingBatch.objects.create(hub=hubs["BE-BRU"], partner=vendor, reference="RB-BRU-001")


def _today():
    return timezone.localdate()


def _to_recycle(count, *, hub, actor, **fields):
    """Devices wiped, failed at inspection: waiting to be recycled."""
    devices = DeviceFactory.create_batch(count, donation__hub=hub, **fields)
    for device in devices:
        if device.has_storage_media:
            device_through(device, "receive", "sanitise", actor=actor)
        else:
            device_through(device, "receive", actor=actor)
        device_transition(device=device, action="inspect", actor=actor, record={"passed": False})
    return devices


def _unwiped_to_recycle(*, hub, actor):
    """A device wiped as a whole, failed at inspection, in which a hardware report then found a drive no wipe covers:
    its data is not wiped, and recycling it alone is refused."""
    (device,) = _to_recycle(1, hub=hub, actor=actor)
    Drive.objects.create(device=device, serial_number="WD-WCC4N0123456", media_type="hdd", source="report")
    return device


def _streams(device):
    return device_streams(device_list_with_data_state(queryset=Device.objects.filter(pk=device.pk)).get())


def _nothing_written(batch, devices):
    batch.refresh_from_db()
    assert batch.status == RecyclingBatch.Status.OPEN and batch.closed_at is None
    assert batch.vendor_certificates == [] and batch.waste_streams == []
    assert not DeviceEvent.objects.filter(action="recycle").exists()
    states = set(Device.objects.filter(pk__in=[d.pk for d in devices]).values_list("state", flat=True))
    assert states == {DeviceState.TO_RECYCLE}
    assert not RecyclingBatchDevice.objects.filter(batch=batch, data_destroyed_by_vendor=True).exists()


# --- the streams a batch holds ----------------------------------------------------------------------------------


def test_streams_follow_the_category_the_crt_mark_and_the_data_left_on_the_device(hubs, staff_be):
    (laptop,) = _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    (lcd,) = _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be, category="monitor", has_storage_media=False)
    (crt,) = _to_recycle(
        1, hub=hubs["BE-BRU"], actor=staff_be, category="monitor", model="E773c CRT", has_storage_media=False
    )
    unwiped = _unwiped_to_recycle(hub=hubs["BE-BRU"], actor=staff_be)
    assert _streams(laptop) == {W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS, W.BATTERIES}
    assert _streams(lcd) == {W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS}
    assert _streams(crt) == {W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS, W.CRT_GLASS}
    assert _streams(unwiped) == {W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS, W.BATTERIES, W.DATA_BEARING_DEVICES}


def test_a_certificate_scope_lists_known_streams_and_ends_after_it_starts(vendor):
    with pytest.raises(LifecycleError, match="not a waste stream"):
        vendor_certificate_record(
            vendor=vendor,
            scheme="r2v3",
            number="R2-1",
            scope=["batteries", "uranium"],
            valid_from=_today(),
            expires_on=_today(),
        )
    with pytest.raises(LifecycleError, match="expires on or after"):
        vendor_certificate_record(
            vendor=vendor,
            scheme="r2v3",
            number="R2-1",
            scope=["batteries"],
            valid_from=_today(),
            expires_on=_today() - timedelta(days=1),
        )
    assert not VendorCertificate.objects.exists()


# --- the dispatch guard -----------------------------------------------------------------------------------------


def test_a_batch_covered_on_the_day_closes_and_keeps_the_certificates_that_covered_it(
    hubs, staff_be, manager_be, vendor, batch
):
    VendorCertificateFactory(vendor=vendor, scheme="weeelabex", number="WLX-0042", expires_on=_today())  # last day
    unrelated = VendorCertificateFactory(vendor=vendor, scheme="iso_14001", number="EMS-1", scope=[W.CRT_GLASS])
    _to_recycle(2, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("4"))

    batch.refresh_from_db()
    assert batch.status == RecyclingBatch.Status.CLOSED
    assert batch.waste_streams == [W.BATTERIES, W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS]
    assert batch.vendor_certificates == [
        {
            "scheme": "weeelabex",
            "number": "WLX-0042",
            "valid_from": (_today() - timedelta(days=365)).isoformat(),
            "expires_on": _today().isoformat(),
            "streams": [W.BATTERIES, W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS],
        }
    ]
    assert unrelated.number not in str(batch.vendor_certificates)  # covers no stream of this batch
    assert DeviceEvent.objects.filter(action="recycle").count() == 2


def test_a_stream_no_certificate_covers_refuses_the_dispatch_and_writes_nothing(
    hubs, staff_be, manager_be, vendor, batch
):
    VendorCertificateFactory(vendor=vendor, number="R2-7", scope=[W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS])
    devices = _to_recycle(2, hub=hubs["BE-BRU"], actor=staff_be)  # laptops: batteries too
    recycling_batch_add_waiting(batch=batch, actor=staff_be)

    with pytest.raises(LifecycleError) as refused:
        recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("4"))
    assert refused.value.code == "invalid"
    message = refused.value.message
    assert "WorldLoop holds no certificate valid on" in message
    assert "for batteries, which batch RB-BRU-001 holds" in message
    _nothing_written(batch, devices)


def test_a_vendor_with_no_certificate_at_all_is_refused(hubs, staff_be, manager_be, batch):
    devices = _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be, category="monitor", has_storage_media=False)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    with pytest.raises(LifecycleError, match="for circuit boards, plastics, metals, which batch RB-BRU-001 holds"):
        recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("4"))
    _nothing_written(batch, devices)


@pytest.mark.parametrize(
    ("valid_from", "expires_on"),
    [(-400, -1), (1, 400)],
    ids=["expired-yesterday", "valid-from-tomorrow"],
)
def test_a_certificate_not_valid_on_the_dispatch_date_does_not_cover(
    hubs, staff_be, manager_be, vendor, batch, valid_from, expires_on
):
    VendorCertificateFactory(
        vendor=vendor,
        number="R2-EXP",
        valid_from=_today() + timedelta(days=valid_from),
        expires_on=_today() + timedelta(days=expires_on),
    )
    devices = _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    with pytest.raises(LifecycleError) as refused:
        recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("2"))
    assert "WorldLoop holds no certificate valid on" in refused.value.message
    assert "Not valid on" in refused.value.message and "R2v3 R2-EXP, valid" in refused.value.message
    _nothing_written(batch, devices)


def test_unwiped_data_goes_only_to_a_vendor_certified_to_destroy_it(hubs, staff_be, manager_be, vendor, batch):
    VendorCertificateFactory(vendor=vendor, scheme="weeelabex", number="WLX-0042")  # everything but data
    wiped = _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    unwiped = _unwiped_to_recycle(hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_devices(batch=batch, devices=[*wiped, unwiped], actor=staff_be)

    with pytest.raises(LifecycleError) as refused:
        recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("4"))
    message = refused.value.message
    assert "Batch RB-BRU-001 holds 1 device whose data is not wiped" in message
    assert unwiped.serial_number in message and "WorldLoop holds no certificate valid on" in message
    assert "to destroy data" in message
    _nothing_written(batch, [*wiped, unwiped])

    # Recycled on its own, outside the batch, the device is refused as ever: wipe it first.
    with pytest.raises(LifecycleError, match="until every drive has a verified sanitisation record"):
        device_transition(device=unwiped, action="recycle", actor=manager_be, data={"weight_kg": "2"})

    # The vendor's e-Stewards certificate covers destroying data: the batch goes, the unwiped device whole.
    VendorCertificateFactory(vendor=vendor, scheme="e_stewards", number="ESV-2291", scope=[W.DATA_BEARING_DEVICES])
    recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("4"))
    batch.refresh_from_db()
    assert batch.status == RecyclingBatch.Status.CLOSED
    assert W.DATA_BEARING_DEVICES in batch.waste_streams
    assert {entry["number"] for entry in batch.vendor_certificates} == {"WLX-0042", "ESV-2291"}
    item = RecyclingBatchDevice.objects.get(device=unwiped)
    assert item.data_destroyed_by_vendor
    assert not RecyclingBatchDevice.objects.get(device=wiped[0]).data_destroyed_by_vendor
    event = unwiped.events.get(action="recycle")
    assert event.data["data_destroyed_by"] == {"vendor": "WorldLoop", "scheme": "e_stewards", "number": "ESV-2291"}
    assert "data_destroyed_by" not in wiped[0].events.get(action="recycle").data


def test_the_coverage_reads_a_fixed_number_of_queries(hubs, staff_be, vendor, batch, django_assert_num_queries):
    VendorCertificateFactory(vendor=vendor)
    _to_recycle(5, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    with django_assert_num_queries(2):  # the devices with their data state, the vendor's certificates
        coverage = recycling_batch_coverage(batch=batch, day=_today())
    assert coverage.complete and len(coverage.covering) == 1


# --- the expiry reminder ----------------------------------------------------------------------------------------


@pytest.fixture
def reminder_setting(hubs, staff_be, manager_be, vendor, batch):
    """A vendor used by BE-BRU, a manager elsewhere who has nothing to do with it, and certificates at three ages."""
    other_manager = StaffFactory(username="manager-ke-mba")
    hub_membership_add(hub=hubs["KE-MBA"], user=other_manager, role="manager")
    soon = VendorCertificateFactory(
        vendor=vendor,
        scheme="e_stewards",
        number="ESV-2291",
        scope=[W.DATA_BEARING_DEVICES, W.CIRCUIT_BOARDS],
        expires_on=_today() + timedelta(days=20),
    )
    later = VendorCertificateFactory(vendor=vendor, number="R2-LATER", expires_on=_today() + timedelta(days=200))
    expired = VendorCertificateFactory(vendor=vendor, number="R2-GONE", expires_on=_today() - timedelta(days=3))
    return {"soon": soon, "later": later, "expired": expired}


def test_the_reminder_tells_the_vendors_hub_managers_once_even_when_the_task_runs_twice(
    reminder_setting, manager_be, staff_be
):
    assert tasks.vendor_certificate_reminders() == 1
    assert tasks.vendor_certificate_reminders() == 0  # the second run finds nothing due
    assert [message.to for message in mail.outbox] == [[manager_be.email]]  # not the technician, not Kenya
    message = mail.outbox[0]
    assert "e-Stewards ESV-2291" in message.subject and "WorldLoop" in message.subject
    assert "cannot be closed to WorldLoop" in message.body and "BE-BRU" in message.body
    soon = reminder_setting["soon"]
    soon.refresh_from_db()
    assert soon.reminded_at is not None
    assert VendorCertificate.objects.filter(reminded_at__isnull=False).count() == 1


def test_the_claim_sends_once_per_certificate(reminder_setting):
    soon = reminder_setting["soon"]
    assert vendor_certificate_reminders_due() == [soon.pk]
    assert vendor_certificate_remind(certificate_id=soon.pk) is True
    assert vendor_certificate_remind(certificate_id=soon.pk) is False  # a retry, or a second worker
    assert len(mail.outbox) == 1
    assert vendor_certificate_reminders_due() == []


def test_a_renewed_certificate_is_not_reminded(reminder_setting, vendor):
    VendorCertificateFactory(
        vendor=vendor,
        scheme="e_stewards",
        number="ESV-3001",
        scope=[W.DATA_BEARING_DEVICES, W.CIRCUIT_BOARDS],
        valid_from=_today(),
        expires_on=_today() + timedelta(days=400),
    )
    assert tasks.vendor_certificate_reminders() == 1
    assert mail.outbox == []
    reminder_setting["soon"].refresh_from_db()
    assert reminder_setting["soon"].reminded_at is not None  # claimed all the same: once per certificate


def test_beat_runs_the_reminder_daily():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].endswith("reminders")]
    assert entries == [{"task": "refurbishing.tasks.vendor_certificate_reminders", "schedule": timedelta(days=1)}]


# --- what the donor, the admin and the API see ------------------------------------------------------------------


def test_the_recycling_certificate_names_the_vendor_and_its_certificates_after_a_renewal(
    client, hubs, staff_be, manager_be, vendor, batch, donor_user
):
    from pypdf import PdfReader

    from donations.factories import DonationFactory
    from donations.services import donation_recycling_certificate_issue

    certificate = VendorCertificateFactory(vendor=vendor, scheme="weeelabex", number="WLX-0042")
    VendorCertificateFactory(vendor=vendor, scheme="e_stewards", number="ESV-2291", scope=[W.DATA_BEARING_DEVICES])
    donation = DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])
    wiped = DeviceFactory(donation=donation)
    device_through(wiped, "receive", "sanitise", actor=staff_be)
    device_transition(device=wiped, action="inspect", actor=staff_be, record={"passed": False})
    unwiped = DeviceFactory(donation=donation)
    device_through(unwiped, "receive", "sanitise", actor=staff_be)
    device_transition(device=unwiped, action="inspect", actor=staff_be, record={"passed": False})
    Drive.objects.create(device=unwiped, serial_number="WD-1", media_type="hdd", source="report")
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("3.00"))
    # The vendor renews: the old row is corrected afterwards. The batch and the certificate keep what covered it.
    VendorCertificate.objects.filter(pk=certificate.pk).update(number="WLX-0099")

    issued = donation_recycling_certificate_issue(donation=donation)
    rows = {row["device_id"]: row for row in issued.rows}
    assert rows[wiped.pk]["recycler"] == "WorldLoop"
    assert {entry["number"] for entry in rows[wiped.pk]["recycler_certificates"]} == {"WLX-0042", "ESV-2291"}
    assert rows[unwiped.pk]["data_destroyed_by_recycler"] and not rows[wiped.pk]["data_destroyed_by_recycler"]

    client.force_login(donor_user)
    response = client.get(reverse("donations:recycling-certificate", args=[donation.reference]))
    assert response.status_code == 200
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "WorldLoop" in text and "WEEELABEX WLX-0042" in text and "e-Stewards ESV-2291" in text
    assert "WLX-0099" not in text
    assert "data destroyed by the recycler" in text and "certified to destroy their data" in text


def test_api_refusal_answers_400_with_the_sentence_and_writes_nothing(
    token_client, hubs, staff_be, manager_be, vendor, batch
):
    VendorCertificateFactory(vendor=vendor, number="R2-7", scope=[W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS])
    devices = _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    url = f"/api/v1/recycling-batches/{batch.pk}/close/"
    response = token_client(manager_be).post(url, {"total_weight_kg": "2.00"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert "WorldLoop holds no certificate valid on" in body["detail"] and "batteries" in body["detail"]
    _nothing_written(batch, devices)

    detail = token_client(manager_be).get(f"/api/v1/recycling-batches/{batch.pk}/").json()
    assert detail["vendor"] == {"id": vendor.pk, "name": "WorldLoop", "country": "BE"}
    assert detail["vendor_certificates"] == [] and detail["waste_streams"] == []


def test_api_shows_the_vendor_and_the_certificates_that_covered_a_closed_batch(
    token_client, hubs, staff_be, manager_be, vendor, batch
):
    VendorCertificateFactory(vendor=vendor, scheme="weeelabex", number="WLX-0042")
    _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    response = token_client(manager_be).post(
        f"/api/v1/recycling-batches/{batch.pk}/close/", {"total_weight_kg": "2.00"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["vendor"]["name"] == "WorldLoop" and body["partner"] == "WorldLoop"
    (covering,) = body["vendor_certificates"]
    assert covering["scheme"] == "weeelabex" and covering["number"] == "WLX-0042"
    assert covering["expires_on"] == (_today() + timedelta(days=365)).isoformat()
    assert covering["streams"] == [W.BATTERIES, W.CIRCUIT_BOARDS, W.PLASTICS, W.METALS]  # the laptop's, not CRT glass


def test_admin_lists_vendors_with_their_certificates_marked_expired_or_expiring(client, superuser, vendor):
    VendorCertificateFactory(vendor=vendor, number="R2-GONE", expires_on=_today() - timedelta(days=3))
    VendorCertificateFactory(vendor=vendor, number="R2-SOON", expires_on=_today() + timedelta(days=10))
    client.force_login(superuser)
    listing = client.get(reverse("admin:refurbishing_recyclingpartner_changelist")).content.decode()
    assert "R2v3 R2-GONE: Expired on" in listing and "R2v3 R2-SOON: Valid; expires in 10 days" in listing
    page = client.get(reverse("admin:refurbishing_recyclingpartner_change", args=[vendor.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Expired on" in html and "whole data-bearing devices" in html


def test_admin_close_page_shows_the_refusal_and_the_batch_its_covering_certificates(
    client, hubs, staff_be, manager_be, vendor, batch
):
    _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    client.force_login(manager_be)
    url = reverse("admin:refurbishing_recyclingbatch_close", args=[batch.pk])
    form = {
        "total_weight_kg": "2",
        "certificate_reference": "WL-1",
        "certificate_date": timezone.localdate().isoformat(),
    }
    page = client.get(url).content.decode()
    assert "WorldLoop holds no certificate valid on" in page  # told before weighing anything
    response = client.post(url, form)
    assert response.status_code == 200 and "WorldLoop holds no certificate valid on" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == RecyclingBatch.Status.OPEN

    VendorCertificateFactory(vendor=vendor, scheme="weeelabex", number="WLX-0042")
    assert client.post(url, form).status_code == 302
    change = client.get(reverse("admin:refurbishing_recyclingbatch_change", args=[batch.pk])).content.decode()
    assert "WEEELABEX WLX-0042, valid until" in change


def test_hub_staff_see_a_vendors_certificates_and_cannot_change_them(client, staff_be, vendor):
    VendorCertificateFactory(vendor=vendor, scheme="e_stewards", number="ESV-2291", scope=[W.DATA_BEARING_DEVICES])
    client.force_login(staff_be)
    url = reverse("admin:refurbishing_recyclingpartner_change", args=[vendor.pk])
    html = client.get(url).content.decode()
    assert "e-Stewards" in html and "ESV-2291" in html
    assert "whole data-bearing devices (data destroyed by the vendor)" in html and 'type="checkbox"' not in html
    assert client.post(url, {"name": "Renamed"}).status_code == 403


# --- an expired certificate, on each surface that closes a batch: the reason, and nothing written ------------------


def _expired(vendor):
    return VendorCertificateFactory(
        vendor=vendor,
        scheme="weeelabex",
        number="WLX-OLD",
        valid_from=_today() - timedelta(days=400),
        expires_on=_today() - timedelta(days=1),
    )


def test_api_an_expired_certificate_refuses_the_dispatch_with_the_reason_and_writes_nothing(
    token_client, hubs, staff_be, manager_be, vendor, batch
):
    _expired(vendor)
    devices = _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    response = token_client(manager_be).post(
        f"/api/v1/recycling-batches/{batch.pk}/close/", {"total_weight_kg": "2.00"}, format="json"
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "WorldLoop holds no certificate valid on" in detail
    assert "Not valid on" in detail and "WEEELABEX WLX-OLD, valid" in detail
    _nothing_written(batch, devices)


def test_admin_an_expired_certificate_refuses_the_dispatch_with_the_reason_and_writes_nothing(
    client, hubs, staff_be, manager_be, vendor, batch
):
    _expired(vendor)
    devices = _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    client.force_login(manager_be)
    url = reverse("admin:refurbishing_recyclingbatch_close", args=[batch.pk])
    form = {
        "total_weight_kg": "2",
        "certificate_reference": "WL-1",
        "certificate_date": _today().isoformat(),
    }
    response = client.post(url, form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "WorldLoop holds no certificate valid on" in page and "WEEELABEX WLX-OLD, valid" in page
    _nothing_written(batch, devices)


def test_api_lists_the_vendors_with_their_certificates_to_hub_staff_only(
    token_client, staff_be, vendor, donor_user, partner_user, django_assert_max_num_queries
):
    VendorCertificateFactory(vendor=vendor, number="R2-GONE", expires_on=_today() - timedelta(days=3))
    VendorCertificateFactory(
        vendor=vendor,
        scheme="e_stewards",
        number="ES-SOON",
        scope=[W.DATA_BEARING_DEVICES],
        expires_on=_today() + timedelta(days=10),
    )
    VendorCertificateFactory(
        vendor=vendor, scheme="weeelabex", number="WLX-OK", expires_on=_today() + timedelta(days=200)
    )
    RecyclingPartnerFactory(name="Recycler without certificates", country="KE")

    api = token_client(staff_be)
    listed = api.get("/api/v1/vendors/").json()["results"]
    assert {row["name"] for row in listed} == {"WorldLoop", "Recycler without certificates"}
    (worldloop,) = [row for row in listed if row["name"] == "WorldLoop"]
    assert [(c["number"], c["state"]) for c in worldloop["certificates"]] == [
        ("WLX-OK", "valid"),
        ("ES-SOON", "expires_soon"),
        ("R2-GONE", "expired"),
    ]
    assert worldloop["certificates"][1]["waste_streams"] == [W.DATA_BEARING_DEVICES]
    assert worldloop["certificates"][1]["expires_on"] == (_today() + timedelta(days=10)).isoformat()
    assert api.get(f"/api/v1/vendors/{vendor.pk}/").json()["name"] == "WorldLoop"
    with django_assert_max_num_queries(6):  # the vendors and their certificates: two queries whatever their number
        api.get("/api/v1/vendors/")

    for outsider in (donor_user, partner_user):  # the register is the hubs' own
        assert token_client(outsider).get("/api/v1/vendors/").json()["results"] == []
        assert token_client(outsider).get(f"/api/v1/vendors/{vendor.pk}/").status_code == 404
