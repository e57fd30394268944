"""e-Resource: commitments, the allocation of dispatched batches' kilograms (first come first served, exactly once),
the certificate, and the kilograms compensated on the public counters."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from donations.factories import DonorFactory
from donations.models import EResourceAllocation, EResourceCommitment, EResourceSource
from donations.services import (
    EResourceError,
    e_resource_allocate,
    e_resource_allocate_pending,
    e_resource_batches_pending,
    e_resource_commitment_create,
)
from hubs.factories import StaffFactory, UserFactory
from hubs.services import hub_membership_add
from impact import services as impact_services
from impact.models import ImpactCounter, Metric
from impact.selectors import impact_summary_build
from refurbishing.factories import DeviceFactory, RecyclingPartnerFactory, VendorCertificateFactory, device_through
from refurbishing.models import RecyclingBatch
from refurbishing.recycling.services import recycling_batch_add_waiting, recycling_batch_close
from refurbishing.services import device_transition

pytestmark = pytest.mark.django_db


def donor_with_user(name="Acme NV"):
    user = UserFactory(username=name.split()[0].lower())
    donor = DonorFactory(legal_name=name)
    donor.users.add(user)
    return donor, user


def commitment(donor, user, *, kg=None, devices=None) -> EResourceCommitment:
    if devices is not None:
        return e_resource_commitment_create(donor=donor, actor=user, basis="devices", devices=devices)
    return e_resource_commitment_create(donor=donor, actor=user, basis="kilograms", kilograms=kg)


_references = iter(range(1, 100_000))


def dispatched_batch(hub, kg, *, when=None) -> RecyclingBatch:
    """A batch as closing leaves it (written directly: the allocation reads only its hub, weight and dispatch)."""
    return RecyclingBatch.objects.create(
        hub=hub,
        partner=RecyclingPartnerFactory(name="Recycler"),
        reference=f"RB-T-{next(_references):05d}",
        status=RecyclingBatch.Status.CLOSED,
        total_weight_kg=Decimal(kg),
        closed_at=when or timezone.now() + timedelta(seconds=1),
    )


def allocated(c: EResourceCommitment) -> list[tuple[str, Decimal]]:
    return list(
        EResourceAllocation.objects.filter(commitment=c).order_by("id").values_list("source__batch__reference", "kg")
    )


# --- commitments ------------------------------------------------------------------------------------------------


def test_a_commitment_by_devices_is_twenty_kilograms_a_device(db, settings):
    donor, user = donor_with_user()
    made = commitment(donor, user, devices=12)
    assert (made.basis, made.devices, made.target_kg, made.status) == ("devices", 12, Decimal("240.00"), "open")
    settings.E_RESOURCE_KG_PER_DEVICE = Decimal("18.5")
    assert commitment(donor, user, devices=2).target_kg == Decimal("37.00")
    made.refresh_from_db()
    assert made.target_kg == Decimal("240.00")  # a commitment keeps the figure it was made with


@pytest.mark.parametrize(
    ("basis", "devices", "kilograms", "field"),
    [
        ("devices", 0, None, "devices"),
        ("devices", "twelve", None, "devices"),
        ("devices", None, None, "devices"),
        ("kilograms", None, "0", "kilograms"),
        ("kilograms", None, "-5", "kilograms"),
        ("kilograms", None, "12.345", "kilograms"),
        ("kilograms", None, "lots", "kilograms"),
        ("kilograms", None, "NaN", "kilograms"),
        ("tonnes", None, "5", "basis"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_is_written(db, basis, devices, kilograms, field):
    donor, user = donor_with_user()
    with pytest.raises(EResourceError) as refused:
        e_resource_commitment_create(donor=donor, actor=user, basis=basis, devices=devices, kilograms=kilograms)
    assert refused.value.field == field
    assert not EResourceCommitment.objects.exists()


def test_nobody_commits_for_another_organisation(db):
    donor, _user = donor_with_user()
    _other, stranger = donor_with_user("Other BV")
    with pytest.raises(EResourceError, match="your own organisation"):
        commitment(donor, stranger, kg="100")
    assert not EResourceCommitment.objects.exists()


# --- allocation -------------------------------------------------------------------------------------------------


def test_kilograms_go_to_the_oldest_open_commitment_first_and_certify_it_when_covered(hubs):
    first_donor, first_user = donor_with_user()
    second_donor, second_user = donor_with_user("Beta BV")
    first = commitment(first_donor, first_user, kg="100")
    second = commitment(second_donor, second_user, devices=5)  # 100 kg

    one = dispatched_batch(hubs["KE-MBA"], "60")
    assert e_resource_allocate(batch_id=one.pk) == []
    two = dispatched_batch(hubs["ZA-JNB"], "70.50")
    assert e_resource_allocate(batch_id=two.pk) == [first.pk]

    first.refresh_from_db()
    second.refresh_from_db()
    assert allocated(first) == [(one.reference, Decimal("60.00")), (two.reference, Decimal("40.00"))]
    assert allocated(second) == [(two.reference, Decimal("30.50"))]
    assert (first.status, first.allocated_kg, first.percent) == ("covered", Decimal("100.00"), 100)
    assert first.certificate_number.startswith("CTG-") and first.covered_at is not None
    assert (second.status, second.allocated_kg, second.percent, second.certificate_number) == (
        "open",
        Decimal("30.50"),
        30,
        None,
    )
    assert EResourceSource.objects.get(batch=two).allocated_kg == Decimal("70.50")


def test_a_batch_allocated_twice_gives_its_kilograms_once(hubs):
    donor, user = donor_with_user()
    made = commitment(donor, user, kg="500")
    batch = dispatched_batch(hubs["KE-NBO"], "80")
    e_resource_allocate(batch_id=batch.pk)
    e_resource_allocate(batch_id=batch.pk)
    assert e_resource_allocate_pending() == 0
    made.refresh_from_db()
    assert made.allocated_kg == Decimal("80.00")
    assert EResourceAllocation.objects.count() == 1


def test_only_african_hubs_dispatched_batches_after_the_commitment_count(hubs):
    donor, user = donor_with_user()
    before = dispatched_batch(hubs["KE-MBA"], "30", when=timezone.now() - timedelta(days=1))
    made = commitment(donor, user, kg="500")
    brussels = dispatched_batch(hubs["BE-BRU"], "40")
    still_open = RecyclingBatch.objects.create(
        hub=hubs["KE-MBA"], partner=RecyclingPartnerFactory(name="Recycler"), reference="RB-OPEN", total_weight_kg=9
    )
    for batch in (before, brussels, still_open):
        assert e_resource_allocate(batch_id=batch.pk) == []
    made.refresh_from_db()
    assert made.allocated_kg == 0
    assert not EResourceAllocation.objects.exists()


def test_the_backstop_allocates_what_a_lost_message_left(hubs):
    donor, user = donor_with_user()
    made = commitment(donor, user, kg="50")
    batches = [dispatched_batch(hubs["KE-MBA"], "20"), dispatched_batch(hubs["CD-FIH"], "45")]
    assert e_resource_batches_pending() == [b.pk for b in batches]
    assert e_resource_allocate_pending() == 1
    made.refresh_from_db()
    assert (made.status, made.allocated_kg) == ("covered", Decimal("50.00"))
    assert e_resource_batches_pending() == []  # nothing open any more


def test_dispatching_a_batch_at_an_african_hub_allocates_it_after_commit(hubs, django_capture_on_commit_callbacks):
    donor, user = donor_with_user()
    made = commitment(donor, user, devices=1)  # 20 kg
    manager = StaffFactory(username="manager-ke-nbo")
    hub_membership_add(hub=hubs["KE-NBO"], user=manager, role="manager")
    partner = RecyclingPartnerFactory(name="Nairobi Recyclers", country="KE")
    VendorCertificateFactory(vendor=partner)
    batch = RecyclingBatch.objects.create(hub=hubs["KE-NBO"], partner=partner, reference="RB-NBO-9")
    for device in DeviceFactory.create_batch(2, donation__hub=hubs["KE-NBO"], hub=hubs["KE-NBO"]):
        device_through(device, "receive", "sanitise", actor=manager)
        device_transition(device=device, action="inspect", actor=manager, record={"passed": False})
    recycling_batch_add_waiting(batch=batch, actor=manager)
    with django_capture_on_commit_callbacks(execute=True):
        recycling_batch_close(batch=batch, actor=manager, total_weight_kg=Decimal("26.40"))
    made.refresh_from_db()
    assert (made.status, made.allocated_kg) == ("covered", Decimal("20.00"))
    assert EResourceSource.objects.get(batch=batch).allocated_kg == Decimal("20.00")


# --- the public counter -----------------------------------------------------------------------------------------


def test_kilograms_compensated_are_folded_once_and_survive_a_reconcile(hubs):
    donor, user = donor_with_user()
    commitment(donor, user, kg="1000")
    e_resource_allocate(batch_id=dispatched_batch(hubs["KE-MBA"], "12.5").pk)
    e_resource_allocate(batch_id=dispatched_batch(hubs["ZA-JNB"], "7.25").pk)
    e_resource_allocate(batch_id=dispatched_batch(hubs["BE-BRU"], "99").pk)  # not in Africa

    assert impact_services.impact_fold_events() == 2
    assert impact_services.impact_fold_events() == 0
    cells = ImpactCounter.objects.filter(metric=Metric.EWASTE_COMPENSATED_KG)
    assert cells.aggregate(total=Sum("value"))["total"] == Decimal("19.75")
    assert impact_services.impact_reconcile(repair=True) == []
    summary = impact_summary_build()
    assert summary["ewaste_compensated_kg"] == pytest.approx(19.8)
    by_hub = {row["code"]: row["ewaste_compensated_kg"] for row in summary["by_hub"]}
    assert by_hub["KE-MBA"] == pytest.approx(12.5) and by_hub["BE-BRU"] == 0


def test_the_database_refuses_to_change_an_allocation_or_a_covered_commitment(hubs):
    from django.db import DatabaseError, transaction

    donor, user = donor_with_user()
    made = commitment(donor, user, kg="10")
    e_resource_allocate(batch_id=dispatched_batch(hubs["KE-MBA"], "25").pk)
    allocation = EResourceAllocation.objects.get()
    for change in (
        lambda: EResourceAllocation.objects.filter(pk=allocation.pk).update(kg=Decimal("5")),
        lambda: EResourceCommitment.objects.filter(pk=made.pk).update(certificate_number="CTG-FORGED"),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert EResourceAllocation.objects.filter(pk=allocation.pk).update(impact_counted=True) == 1  # the fold's marker
    allocation.refresh_from_db()
    assert allocation.kg == Decimal("10.00")


# --- the donor is told when a commitment is covered --------------------------------------------------------------


def test_the_donor_is_told_once_in_their_language_when_a_commitment_is_covered(
    hubs, django_capture_on_commit_callbacks
):
    from django.core import mail

    from donations.tasks import e_resource_covered_notify
    from hubs.services import user_language_set

    donor, user = donor_with_user()
    user.email = "csr@acme.example"
    user.save(update_fields=["email"])
    colleague = UserFactory(username="it-acme", email="it@acme.example")
    donor.users.add(colleague, UserFactory(username="gone-acme", email="gone@acme.example", is_active=False))
    user_language_set(user=colleague, language="nl")
    covered, still_open = commitment(donor, user, kg="1250"), commitment(donor, user, kg="500")

    with django_capture_on_commit_callbacks(execute=True):
        assert e_resource_allocate(batch_id=dispatched_batch(hubs["KE-MBA"], "1300").pk) == [covered.pk]
    covered.refresh_from_db()

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"csr@acme.example", "it@acme.example"}  # active users with an address
    english, dutch = by_recipient["csr@acme.example"], by_recipient["it@acme.example"]
    assert english.subject == f"Your e-Resource commitment is covered: certificate {covered.certificate_number}"
    assert "The 1,250 kg of e-waste Acme NV committed to compensate" in english.body
    assert "/en/donors/e-resource/" in english.body
    assert f"/verify/{covered.certificate_number}/" in english.body
    assert dutch.subject == f"Uw e-Resource-engagement is gedekt: certificaat {covered.certificate_number}"
    assert "1.250 kg" in dutch.body and "/nl/donors/e-resource/" in dutch.body

    # Run again (a retried task, a second worker): nothing more goes out. The open commitment is not news.
    assert e_resource_covered_notify.apply(args=[covered.pk]).get() is False
    assert e_resource_covered_notify.apply(args=[still_open.pk]).get() is False
    assert len(mail.outbox) == 2


def test_an_allocation_rolled_back_tells_nobody(hubs, django_capture_on_commit_callbacks):
    from django.core import mail
    from django.db import transaction

    donor, user = donor_with_user()
    user.email = "csr@acme.example"
    user.save(update_fields=["email"])
    made = commitment(donor, user, kg="100")
    batch = dispatched_batch(hubs["KE-MBA"], "100")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        assert e_resource_allocate(batch_id=batch.pk) == [made.pk]
        raise RuntimeError("the worker died before committing")
    assert mail.outbox == []
    made.refresh_from_db()
    assert made.status == "open"
