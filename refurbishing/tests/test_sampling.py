"""Wipe verification by sampling: the draw, who may re-verify, a failed sample and the certificate that waits."""

import io
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from donations.factories import DonationFactory
from donations.models import Certificate
from donations.selectors import certificate_current
from donations.services import CertificatePending, donation_certificate_issue
from hubs.factories import StaffFactory
from refurbishing.errors import LifecycleError
from refurbishing.factories import SANITISATION, TO_CONFIGURED, DeviceFactory, device_through, wipe_sample_passed
from refurbishing.hardware.sampling import (
    device_rewipe_record,
    sample_pick,
    sample_size,
    wipe_sample_item_verify,
    wipe_sample_pick,
)
from refurbishing.hardware.services import drive_create, drive_sanitisation_record_create, unwiped_drives
from refurbishing.models import DeviceEvent, WipeSample, WipeSampleItem
from refurbishing.services import device_transition_refusal

pytestmark = pytest.mark.django_db

REWIPE = {k: v for k, v in SANITISATION.items() if k != "verified"}


@pytest.fixture
def donation(hubs, donor_user):
    return DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])


@pytest.fixture
def checker(hubs):
    """A second technician at the hub, who wiped nothing."""
    return StaffFactory(username="checker-be-bru", hub=hubs["BE-BRU"])


def _draw(donation) -> WipeSample:
    with transaction.atomic():
        return wipe_sample_pick(donation_id=donation.pk, hub_id=donation.hub_id)


@pytest.mark.parametrize(("population", "size"), [(0, 0), (1, 1), (20, 1), (21, 2), (100, 5), (101, 6), (1000, 50)])
def test_the_sample_is_at_least_five_percent_and_at_least_one(population, size):
    assert sample_size(population) == size


def test_the_pick_is_a_function_of_the_seed_and_the_population_only():
    population = [f"drive:{n}" for n in range(1, 200)]
    picked = sample_pick(seed="a" * 64, population=population)
    assert len(picked) == 10
    assert sample_pick(seed="a" * 64, population=list(reversed(population))) == picked
    assert set(picked) <= set(population)
    others = {tuple(sample_pick(seed=f"{n:064x}", population=population)) for n in range(20)}
    assert len(others) > 1  # the seed decides, not the order of the drives


def test_a_complete_lot_draws_a_sample_from_a_stored_seed_that_reproduces_it(donation, staff_be):
    devices = DeviceFactory.create_batch(25, donation=donation)
    for device in devices:
        device_through(device, "receive", "sanitise", actor=staff_be)
    with pytest.raises(CertificatePending, match="wipe verification sample"):
        donation_certificate_issue(donation=donation)

    sample = WipeSample.objects.get(donation=donation)
    assert sample.status == WipeSample.Status.OPEN and sample.round == 1
    assert len(sample.seed) == 64
    assert sample.population == sorted(f"device:{device.pk}" for device in devices)
    keys = sorted(sample.items.values_list("key", flat=True))
    assert len(keys) == 2  # 5% of 25, rounded up
    assert keys == sample_pick(seed=sample.seed, population=sample.population)
    assert set(sample.items.values_list("wiped_by", flat=True)) == {staff_be.pk}
    # Asking again draws nothing new.
    with pytest.raises(CertificatePending):
        donation_certificate_issue(donation=donation)
    assert WipeSample.objects.filter(donation=donation).count() == 1


def test_an_incomplete_lot_draws_no_sample(donation, staff_be):
    wiped, waiting = DeviceFactory.create_batch(2, donation=donation)
    device_through(wiped, "receive", "sanitise", actor=staff_be)
    device_through(waiting, "receive", actor=staff_be)
    with pytest.raises(CertificatePending):
        donation_certificate_issue(donation=donation)
    assert not WipeSample.objects.filter(donation=donation).exists()


def test_the_wiper_cannot_re_verify_and_nothing_is_written(donation, staff_be):
    device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    sample = _draw(donation)
    item = sample.items.get()
    with pytest.raises(LifecycleError, match="you cannot re-verify it"):
        wipe_sample_item_verify(item=item, actor=staff_be, passed=True)
    item.refresh_from_db()
    sample.refresh_from_db()
    assert item.result == WipeSampleItem.Result.PENDING and item.verified_by is None
    assert sample.status == WipeSample.Status.OPEN


def test_staff_of_another_hub_cannot_re_verify(donation, staff_be, staff_ke_mba):
    device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    item = _draw(donation).items.get()
    with pytest.raises(LifecycleError) as refused:
        wipe_sample_item_verify(item=item, actor=staff_ke_mba, passed=True)
    assert refused.value.code == "forbidden"
    item.refresh_from_db()
    assert item.result == WipeSampleItem.Result.PENDING


def test_a_passed_sample_is_listed_on_the_certificate(donation, staff_be, checker):
    device_through(DeviceFactory(donation=donation, serial_number="SAMPLED-1"), "receive", "sanitise", actor=staff_be)
    sample = wipe_sample_passed(donation, verifier=checker)
    assert sample.status == WipeSample.Status.PASSED and sample.decided_at is not None
    certificate = donation_certificate_issue(donation=donation)
    row = certificate.rows[0]
    assert row["re_verified_by"] == checker.get_username()
    assert row["wipe_sample"]["seed"] == sample.seed and row["wipe_sample"]["picked"] == 1
    from donations.documents import certificate_pdf

    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(certificate_pdf(certificate, verify_url="x"))).pages
    )
    text = " ".join(text.split())
    assert "Wipe verification sample" in text
    assert f"re-verified by {checker.get_username()}" in text
    assert sample.seed in text.replace(" ", "")


def test_a_failed_sample_sends_every_device_of_the_lot_back_to_be_wiped(donation, staff_be, checker):
    devices = DeviceFactory.create_batch(3, donation=donation)
    for device in devices:
        device_through(device, *TO_CONFIGURED, actor=staff_be)
    sample = _draw(donation)
    item = sample.items.get()
    wipe_sample_item_verify(item=item, actor=checker, passed=False, notes="Recovered files with PhotoRec.")

    sample.refresh_from_db()
    assert sample.status == WipeSample.Status.FAILED and sample.requeued_devices == 3
    events = DeviceEvent.objects.filter(action="rewipe_required", device__in=devices)
    assert events.count() == 3
    assert {event.to_state for event in events} == {"configured"}  # state kept: the guard holds them
    for device in devices:
        device.refresh_from_db()
        refusal = device_transition_refusal(device=device, action="allocate", data={"project_id": 1})
        assert refusal and "no verified sanitisation record" in refusal
    with pytest.raises(CertificatePending) as pending:
        donation_certificate_issue(donation=donation)
    assert {d.pk for d in pending.value.pending} == {d.pk for d in devices}

    # Wiped again (by anyone at the hub, the wiper too), each with a rewipe event.
    for device in devices:
        device_rewipe_record(device=device, actor=staff_be, **REWIPE)
    assert DeviceEvent.objects.filter(action="rewipe", device__in=devices).count() == 3
    for device in devices:
        device.refresh_from_db()
        assert device_transition_refusal(device=device, action="allocate", data={"project_id": 1}) is None
    # A new round, with a new seed, before the certificate.
    with pytest.raises(CertificatePending, match="wipe verification sample"):
        donation_certificate_issue(donation=donation)
    second = WipeSample.objects.get(donation=donation, round=2)
    assert second.seed != sample.seed
    wipe_sample_passed(donation, verifier=checker)
    certificate = donation_certificate_issue(donation=donation)
    assert certificate_current(donation=donation, kind=Certificate.Kind.SANITISATION) == certificate
    assert {row["wipe_sample"]["round"] for row in certificate.rows if row.get("wipe_sample")} == {2}


def test_a_failed_sample_needs_each_drive_wiped_again(donation, staff_be, checker):
    device = DeviceFactory(donation=donation)
    device_through(device, "receive", actor=staff_be)
    drives = [drive_create(device=device, actor=staff_be, media_type="ssd", serial_number=f"D{n}") for n in range(2)]
    wiped_at = timezone.now() - timedelta(hours=1)
    for drive in drives:
        drive_sanitisation_record_create(drive=drive, recorded_by=staff_be, completed_at=wiped_at, **SANITISATION)
    device_through(device, "sanitise", actor=staff_be)
    sample = _draw(donation)
    assert sample.population == sorted(f"drive:{drive.pk}" for drive in drives)
    wipe_sample_item_verify(item=sample.items.get(), actor=checker, passed=False)

    assert [drive.pk for drive in unwiped_drives(device=device)] == [drive.pk for drive in drives]
    with pytest.raises(LifecycleError, match="record the new wipe of each drive"):
        device_rewipe_record(device=device, actor=staff_be, **REWIPE)
    for drive in drives:
        drive_sanitisation_record_create(drive=drive, recorded_by=staff_be, completed_at=timezone.now(), **SANITISATION)
    assert unwiped_drives(device=device) == []


def test_a_device_not_sent_back_cannot_record_a_rewipe(donation, staff_be):
    device = device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    with pytest.raises(LifecycleError, match="not waiting to be wiped again"):
        device_rewipe_record(device=device, actor=staff_be, **REWIPE)
    assert device.sanitisation_records.count() == 1


def test_a_decided_sample_takes_no_more_verdicts(donation, staff_be, checker):
    device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    sample = wipe_sample_passed(donation, verifier=checker)
    with pytest.raises(LifecycleError, match="already decided"):
        wipe_sample_item_verify(item=sample.items.get(), actor=checker, passed=False)
    assert WipeSample.objects.get(pk=sample.pk).status == WipeSample.Status.PASSED


def test_the_database_refuses_a_re_verification_by_the_wiper(donation, staff_be):
    from django.db import IntegrityError

    device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    item = _draw(donation).items.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        WipeSampleItem.objects.filter(pk=item.pk).update(verified_by=staff_be, result="passed")


def test_api_lists_samples_of_the_callers_hubs_and_refuses_the_wiper(
    token_client, donation, staff_be, checker, staff_ke_mba
):
    device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    sample = _draw(donation)
    item = sample.items.get()
    url = f"/api/v1/wipe-samples/{sample.pk}/verify/"

    assert token_client(staff_ke_mba).get(f"/api/v1/wipe-samples/{sample.pk}/").status_code == 404
    assert token_client(staff_ke_mba).post(url, {"item": item.pk, "passed": True}, format="json").status_code == 404

    wiper = token_client(staff_be)
    listed = wiper.get("/api/v1/wipe-samples/").json()
    assert [row["id"] for row in listed["results"]] == [sample.pk]
    assert listed["results"][0]["seed"] == sample.seed
    refused = wiper.post(url, {"item": item.pk, "passed": True}, format="json")
    assert refused.status_code == 400
    assert "cannot re-verify" in refused.json()["detail"]
    unchanged = WipeSampleItem.objects.get(pk=item.pk)
    assert (unchanged.result, unchanged.verified_by, unchanged.verified_at) == (
        WipeSampleItem.Result.PENDING,
        None,
        None,
    )
    assert WipeSample.objects.get(pk=sample.pk).status == WipeSample.Status.OPEN

    answer = token_client(checker).post(url, {"item": item.pk, "passed": True}, format="json")
    assert answer.status_code == 200
    assert answer.json()["status"] == "passed"
    assert answer.json()["items"][0]["verified_by"] == checker.get_username()


def test_admin_shows_samples_of_the_users_hubs_only_and_never_edits_them(
    client, donation, staff_be, checker, staff_ke_mba
):
    device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    sample = _draw(donation)
    url = f"/admin/refurbishing/wipesample/{sample.pk}/change/"
    client.force_login(staff_be)
    page = client.get(url)
    assert page.status_code == 200 and sample.seed in page.content.decode()
    assert client.get("/admin/refurbishing/wipesample/").status_code == 200
    assert client.post(url, {"status": "passed"}).status_code == 403
    assert WipeSample.objects.get(pk=sample.pk).status == WipeSample.Status.OPEN
    client.force_login(staff_ke_mba)
    assert client.get(url).status_code == 404


def test_scan_station_page_records_a_verdict_and_refuses_the_wiper(client, donation, staff_be, checker, staff_ke_mba):
    device_through(DeviceFactory(donation=donation), "receive", "sanitise", actor=staff_be)
    sample = _draw(donation)
    item = sample.items.get()
    url = "/en/scan/wipe-samples/"

    client.force_login(staff_ke_mba)
    assert sample.seed not in client.get(url).content.decode()  # another hub's sample is not listed
    assert client.post(url, {"item": item.pk, "result": "passed"}).status_code == 400

    client.force_login(staff_be)
    page = client.get(url).content.decode()
    assert sample.seed in page and "You wiped this medium" in page
    refused = client.post(url, {"item": item.pk, "result": "passed"})
    assert refused.status_code == 400 and "cannot re-verify it" in refused.content.decode()
    assert WipeSampleItem.objects.get(pk=item.pk).result == WipeSampleItem.Result.PENDING

    client.force_login(checker)
    assert client.post(url, {"item": item.pk, "result": "failed", "notes": "Files recovered."}).status_code == 302
    assert WipeSample.objects.get(pk=sample.pk).status == WipeSample.Status.FAILED
