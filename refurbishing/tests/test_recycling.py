"""E-waste batches: who may close them, that closing is all or nothing, and that the counters count it once."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from hubs.factories import StaffFactory
from hubs.services import hub_membership_add
from impact import services as impact_services
from impact.models import ImpactCounter, Metric
from refurbishing.errors import LifecycleError
from refurbishing.factories import DeviceFactory, VendorCertificateFactory, device_through
from refurbishing.models import (
    Device,
    DeviceEvent,
    DeviceState,
    RecyclingBatch,
    RecyclingBatchDevice,
    RecyclingPartner,
)
from refurbishing.recycling.services import (
    recycling_batch_add_devices,
    recycling_batch_add_waiting,
    recycling_batch_close,
)
from refurbishing.services import device_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_be(hubs):
    user = StaffFactory(username="manager-be-bru")
    hub_membership_add(hub=hubs["BE-BRU"], user=user, role="manager")
    return user


@pytest.fixture
def partner():
    partner = RecyclingPartner.objects.create(name="WorldLoop", country="BE", certification="weeelabex")
    # Certified for every waste stream but destroying data (refurbishing/tests/test_vendor_certificates.py).
    VendorCertificateFactory(vendor=partner, scheme="weeelabex", number="WLX-0042")
    return partner


@pytest.fixture
def batch(hubs, partner):
    return RecyclingBatch.objects.create(hub=hubs["BE-BRU"], partner=partner, reference="RB-BRU-001")


def _to_recycle(count, *, hub, actor, **fields):
    devices = DeviceFactory.create_batch(count, donation__hub=hub, **fields)
    for device in devices:
        device_through(device, "receive", "sanitise", actor=actor)
        device_transition(device=device, action="inspect", actor=actor, record={"passed": False})
    return devices


def _counter(metric):
    return sum(c.value for c in ImpactCounter.objects.filter(metric=metric))


def test_devices_to_recycle_join_an_open_batch_and_others_are_refused(hubs, staff_be, batch):
    waiting = _to_recycle(3, hub=hubs["BE-BRU"], actor=staff_be)
    working = device_through(DeviceFactory(donation__hub=hubs["BE-BRU"]), "receive", actor=staff_be)
    added, refusals = recycling_batch_add_devices(batch=batch, devices=[*waiting[:1], working], actor=staff_be)
    assert added == 1 and len(refusals) == 1 and "received" in refusals[0]
    assert recycling_batch_add_waiting(batch=batch, actor=staff_be) == 2
    assert recycling_batch_add_waiting(batch=batch, actor=staff_be) == 0  # nothing added twice


def test_a_technician_cannot_close_a_batch(hubs, staff_be, batch):
    _to_recycle(2, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    with pytest.raises(LifecycleError) as refused:
        recycling_batch_close(batch=batch, actor=staff_be, total_weight_kg=Decimal("5"))
    assert refused.value.code == "forbidden"
    batch.refresh_from_db()
    assert batch.status == RecyclingBatch.Status.OPEN
    assert not Device.objects.filter(state=DeviceState.RECYCLED).exists()


def test_closing_recycles_every_device_with_its_share_and_feeds_the_counters_once(
    hubs, staff_be, manager_be, batch, django_capture_on_commit_callbacks
):
    devices = _to_recycle(3, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    impact_services.impact_fold_events()
    with django_capture_on_commit_callbacks(execute=True):
        recycling_batch_close(
            batch=batch,
            actor=manager_be,
            total_weight_kg=Decimal("10.00"),
            certificate_reference="WL-2026-118",
        )
    batch.refresh_from_db()
    assert batch.status == RecyclingBatch.Status.CLOSED and batch.closed_by == manager_be
    events = DeviceEvent.objects.filter(action="recycle").order_by("device_id")
    assert [e.device_id for e in events] == [d.pk for d in devices]  # an event each
    weights = [Decimal(e.data["weight_kg"]) for e in events]
    assert weights == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]  # shares add up to the weighed total
    assert all(e.data["recycling_batch"] == "RB-BRU-001" for e in events)
    # Each device now weighs its share of what the partner weighed, and says so.
    recycled = Device.objects.filter(pk__in=[d.pk for d in devices]).order_by("pk")
    assert {(d.weight_basis, d.weight_source) for d in recycled} == {
        ("measured", "share of the weighed total of batch RB-BRU-001")
    }

    impact_services.impact_fold_events()
    assert _counter(Metric.DEVICES_RECYCLED) == 3
    assert _counter(Metric.EWASTE_RECYCLED_KG) == Decimal("10.00")
    assert impact_services.impact_fold_events() == 0
    assert impact_services.impact_reconcile() == []
    assert _counter(Metric.EWASTE_RECYCLED_KG) == Decimal("10.00")
    with pytest.raises(LifecycleError):  # a closed batch closes once
        recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("10.00"))
    assert DeviceEvent.objects.filter(action="recycle").count() == 3


def test_closing_is_one_transaction_a_refused_device_recycles_none(hubs, staff_be, manager_be, batch):
    ready = _to_recycle(2, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_devices(batch=batch, devices=ready, actor=staff_be)
    # A device whose storage was never wiped, put in the batch by hand as a bad import would: its data may not
    # leave the hub for a vendor not certified to destroy it, so the close refuses it, and with it the whole batch.
    unwiped_to_recycle = DeviceFactory(donation__hub=hubs["BE-BRU"])
    device_through(unwiped_to_recycle, "receive", actor=staff_be)
    Device.objects.filter(pk=unwiped_to_recycle.pk)._update_state(state=DeviceState.TO_RECYCLE)
    RecyclingBatchDevice.objects.create(batch=batch, device=unwiped_to_recycle)

    with pytest.raises(LifecycleError) as refused:
        recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("6"))
    assert "data is not wiped" in refused.value.message
    batch.refresh_from_db()
    assert batch.status == RecyclingBatch.Status.OPEN
    assert not DeviceEvent.objects.filter(action="recycle").exists()
    assert set(Device.objects.filter(pk__in=[d.pk for d in ready]).values_list("state", flat=True)) == {
        DeviceState.TO_RECYCLE
    }


def test_weights_per_category_are_shared_within_each_category(hubs, staff_be, manager_be, batch):
    _to_recycle(2, hub=hubs["BE-BRU"], actor=staff_be, category="laptop")
    _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be, category="monitor")
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    recycling_batch_close(batch=batch, actor=manager_be, weights_by_category={"laptop": "4.00", "monitor": "7.50"})
    weights = {
        (e.device.category, Decimal(e.data["weight_kg"]))
        for e in DeviceEvent.objects.filter(action="recycle").select_related("device")
    }
    assert weights == {("laptop", Decimal("2.00")), ("monitor", Decimal("7.50"))}
    batch.refresh_from_db()
    assert batch.total_weight_kg == Decimal("11.50")


def test_closing_needs_a_weight(hubs, staff_be, manager_be, batch):
    _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    with pytest.raises(LifecycleError) as refused:
        recycling_batch_close(batch=batch, actor=manager_be)
    assert "total_weight_kg" in refused.value.field_errors


def test_recycling_certificate_rows_name_the_batch(hubs, staff_be, manager_be, batch):
    from donations.selectors import recycling_rows_for_donation

    (device,) = _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("2.5"))
    (row,) = recycling_rows_for_donation(device.donation)
    assert row["batch_reference"] == "RB-BRU-001" and row["recycler"] == "WorldLoop"
    assert row["weight_kg"] == "2.50"


# --- surfaces: admin page and API ---------------------------------------------------------------------------


def test_admin_close_page_is_403_for_a_technician_and_works_for_a_manager(client, hubs, staff_be, manager_be, batch):
    _to_recycle(2, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    url = reverse("admin:refurbishing_recyclingbatch_close", args=[batch.pk])
    today = timezone.localdate().isoformat()
    client.force_login(staff_be)
    assert client.get(url).status_code == 403
    assert (
        client.post(url, {"total_weight_kg": "4", "certificate_reference": "X", "certificate_date": today}).status_code
        == 403
    )
    client.force_login(manager_be)
    assert client.get(url).status_code == 200
    response = client.post(url, {"total_weight_kg": "4", "certificate_reference": "WL-1", "certificate_date": today})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == RecyclingBatch.Status.CLOSED and batch.certificate_reference == "WL-1"
    assert Device.objects.filter(state=DeviceState.RECYCLED).count() == 2


def test_admin_close_page_is_404_at_another_hub(client, hubs, batch, staff_ke_mba):
    client.force_login(staff_ke_mba)
    assert client.get(reverse("admin:refurbishing_recyclingbatch_close", args=[batch.pk])).status_code == 404


def test_admin_lists_batches_and_adds_waiting_devices(client, hubs, staff_be, batch):
    _to_recycle(2, hub=hubs["BE-BRU"], actor=staff_be)
    client.force_login(staff_be)
    url = reverse("admin:refurbishing_recyclingbatch_changelist")
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "add_waiting_devices", "_selected_action": [batch.pk]})
    assert response.status_code == 302
    assert batch.items.count() == 2
    assert client.get(reverse("admin:refurbishing_recyclingbatch_change", args=[batch.pk])).status_code == 200


def test_api_close_is_403_for_a_technician_404_elsewhere_200_for_a_manager(
    token_client, hubs, staff_be, manager_be, staff_ke_mba, batch
):
    _to_recycle(1, hub=hubs["BE-BRU"], actor=staff_be)
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    url = f"/api/v1/recycling-batches/{batch.pk}/close/"
    body = {"total_weight_kg": "2.00", "certificate_reference": "WL-9"}
    response = token_client(staff_be).post(url, body, format="json")
    assert response.status_code == 403 and set(response.json()) == {"detail", "errors"}
    assert token_client(staff_ke_mba).post(url, body, format="json").status_code == 404
    assert token_client(staff_ke_mba).get("/api/v1/recycling-batches/").json()["results"] == []
    response = token_client(manager_be).post(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed" and response.json()["device_count"] == 1


def test_donor_recycling_certificate_pdf_names_the_batch(client, hubs, staff_be, manager_be, batch, donor_user):
    import io

    from pypdf import PdfReader

    from donations.factories import DonationFactory

    donation = DonationFactory(donor=donor_user.donors.get(), hub=hubs["BE-BRU"])
    device = DeviceFactory(donation=donation)
    device_through(device, "receive", "sanitise", actor=staff_be)
    device_transition(device=device, action="inspect", actor=staff_be, record={"passed": False})
    recycling_batch_add_waiting(batch=batch, actor=staff_be)
    recycling_batch_close(batch=batch, actor=manager_be, total_weight_kg=Decimal("1.75"))
    client.force_login(donor_user)
    response = client.get(reverse("donations:recycling-certificate", args=[donation.reference]))
    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "RB-BRU-001" in text and device.serial_number in text and "1.75" in text
