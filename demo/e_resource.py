"""Demo data for e-Resource: the demo donor's two commitments, and the South African batch dispatched to a certified
recycler, whose kilograms cover the first commitment and part of the second.

Made by the services, like the rest of the demo: ``seed_demo`` calls ``seed_e_resource`` after ``seed_hub_work``
(which opened the batches). The commitments are made before the batch is dispatched: only kilograms dispatched
after a commitment count for it.
"""

from decimal import Decimal
from typing import Any

from donations.models import Donor, EResourceCommitment
from donations.services import e_resource_allocate, e_resource_commitment_create
from hubs.models import Hub
from refurbishing.models import RecyclingBatch
from refurbishing.recycling.services import recycling_batch_close

DONOR = "Demo Donor NV"
# (basis, devices or kilograms): a small commitment by kilograms, then one by devices (10 x 20 kg).
COMMITMENTS = (("kilograms", Decimal("10")), ("devices", 10))
# The hub whose open batch is dispatched, and what the recycler's scale showed for it.
DISPATCHED = ("ZA-JNB", Decimal("41.60"))


def seed_e_resource(*, hubs: dict[str, Hub], users: dict[str, Any]) -> list[EResourceCommitment]:
    donor = Donor.objects.get(legal_name=DONOR)
    actor = donor.users.order_by("pk").first()
    made = []
    for basis, amount in COMMITMENTS:
        if basis == "devices":
            made.append(e_resource_commitment_create(donor=donor, actor=actor, basis=basis, devices=amount))
        else:
            made.append(e_resource_commitment_create(donor=donor, actor=actor, basis=basis, kilograms=amount))
    code, weight = DISPATCHED
    batch = RecyclingBatch.objects.get(hub=hubs[code], status=RecyclingBatch.Status.OPEN)
    recycling_batch_close(batch=batch, actor=users[f"manager-{code.lower()}"], total_weight_kg=weight)
    # After commit a task does this; inside seed_demo's one transaction, do it now (a second run finds it done).
    e_resource_allocate(batch_id=batch.pk)
    return made
