"""The e-Resource allocation run twice at once, on PostgreSQL: two threads, two connections, real row locks. Every
kilogram is allocated once, the sums are exact, and the queue is served first come first served."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from donations.models import EResourceAllocation, EResourceCommitment, EResourceSource
from donations.services import e_resource_allocate, e_resource_allocate_pending

from .test_e_resource import commitment, dispatched_batch, donor_with_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _queue(targets: list[str]) -> list[EResourceCommitment]:
    made = []
    for index, kg in enumerate(targets):
        donor, user = donor_with_user(f"Donor{index} NV")
        made.append(commitment(donor, user, kg=kg))
    return made


def _check_books(queue: list[EResourceCommitment], batch_kg: Decimal) -> None:
    """Every sum agrees with the allocation rows, and the kilograms went first come first served."""
    for row in EResourceCommitment.objects.all():
        rows = EResourceAllocation.objects.filter(commitment=row).aggregate(total=Sum("kg"))["total"] or 0
        assert rows == row.allocated_kg <= row.target_kg
        assert (row.status == "covered") == (row.allocated_kg == row.target_kg)
    for source in EResourceSource.objects.all():
        rows = EResourceAllocation.objects.filter(source=source).aggregate(total=Sum("kg"))["total"] or 0
        assert rows == source.allocated_kg <= source.kg
    total_target = sum(c.target_kg for c in queue)
    allocated = EResourceAllocation.objects.aggregate(total=Sum("kg"))["total"]
    assert allocated == min(batch_kg, total_target)
    # First come first served: in queue order, covered commitments, then at most one partly covered, then none.
    states = []
    for c in queue:
        c.refresh_from_db()
        states.append("full" if c.status == "covered" else ("part" if c.allocated_kg else "none"))
    assert states == sorted(states, key=["full", "part", "none"].index), states
    assert states.count("part") <= 1


def test_the_same_batch_allocated_by_two_workers_at_once_gives_each_kilogram_once(hubs, run_together):
    queue = _queue(["30", "30", "30", "30"])
    batch = dispatched_batch(hubs["KE-MBA"], "100")

    def allocate(barrier):
        barrier.wait()
        return e_resource_allocate(batch_id=batch.pk)

    results = run_together(allocate, allocate)

    assert [kind for kind, _ in results] == ["ok", "ok"], results
    covered = [pk for _, value in results for pk in value]
    assert sorted(covered) == [c.pk for c in queue[:3]]  # each covered once, by one of the two runs
    assert EResourceAllocation.objects.count() == 4
    _check_books(queue, Decimal("100"))


def test_two_batches_allocated_at_once_share_the_queue_without_giving_a_kilogram_twice(hubs, run_together):
    queue = _queue(["17.5", "40", "12.25", "33", "60", "25"])
    first, second = dispatched_batch(hubs["KE-NBO"], "55.75"), dispatched_batch(hubs["ZA-JNB"], "71.5")

    def allocate(batch):
        def job(barrier):
            barrier.wait()
            return e_resource_allocate(batch_id=batch.pk)

        return job

    results = run_together(allocate(first), allocate(second))

    assert [kind for kind, _ in results] == ["ok", "ok"], results
    _check_books(queue, Decimal("127.25"))
    assert EResourceSource.objects.get(batch=first).allocated_kg == Decimal("55.75")
    assert EResourceSource.objects.get(batch=second).allocated_kg == Decimal("71.5")


def test_two_backstops_at_once_over_many_batches_allocate_every_kilogram_once(hubs, run_together):
    queue = _queue([str(10 + 7 * i) for i in range(12)])  # 10, 17, ... 87: 582 kg
    weights = [Decimal("13.37") * (1 + i % 5) for i in range(20)]  # 802.2 kg over 20 batches
    for index, kg in enumerate(weights):
        dispatched_batch(hubs["KE-MBA" if index % 2 else "CD-FIH"], kg)

    def backstop(barrier):
        barrier.wait()
        return e_resource_allocate_pending()

    results = run_together(backstop, backstop)

    assert [kind for kind, _ in results] == ["ok", "ok"], results
    assert sum(value for _, value in results) == len(queue)  # each commitment covered by exactly one run
    _check_books(queue, sum(weights))
    numbers = list(EResourceCommitment.objects.values_list("certificate_number", flat=True))
    assert len(set(numbers)) == len(queue) and None not in numbers
