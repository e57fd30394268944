"""e-Resource: a donor commits to compensate, by responsible recycling in Africa, the e-waste of the devices it sends
there (or a number of kilograms), and the kilograms of recycling batches dispatched at African hubs are allocated to
the open commitments, first come first served.

What a commitment by devices means: the number of devices the donor states when it commits, times
``settings.E_RESOURCE_KG_PER_DEVICE`` (WorldLoop's 20 kg a device), fixed then. Not the devices that happen to reach
African hubs later: the target must not move, or a commitment already covered (and certified) could fall short again,
and the queue's order would change under the donors waiting in it. The portal shows how many of the donor's devices
reached African hubs, to help it choose the number.

Which kilograms: those of a batch closed at a hub in Africa (``AFRICAN_COUNTRIES``), which in this platform means
dispatched to a downstream vendor whose certificates covered every waste stream of the batch that day (closing is
refused otherwise, ``refurbishing.recycling.services.recycling_batch_close``), and dispatched on or after the
commitment was made: a donor funds recycling from its commitment on, it does not claim what was recycled before.

Exactly once: a batch's kilograms are held by one ``EResourceSource`` row, created once (``ON CONFLICT DO NOTHING``)
and locked first by every allocation from the batch; the open commitments are then locked in their queue order
(``select_for_update``, oldest first). Two runs for one batch, at once or one after the other, find the second with
nothing left; two runs for two batches wait for each other on the first commitment they share, and the later one
reads the commitments as the first left them. An allocation row is unique per batch and commitment, and the database
checks that no batch gives and no commitment takes more than its kilograms.
"""

import logging
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.models import Donor, EResourceAllocation, EResourceCommitment, EResourceSource
from donations.notifications import e_resource_covered_notify_after_commit
from donations.signals import e_resource_allocated
from refurbishing.models import RecyclingBatch

from .certificates import certificate_number_new
from .common import DonationError

logger = logging.getLogger(__name__)

# The countries of Africa, as ISO 3166-1 alpha-2 codes: the United Nations M49 region "Africa" (Northern, Eastern,
# Middle, Southern and Western Africa), territories included. A hub in one of them is an African hub.
AFRICAN_COUNTRIES = frozenset({
    "DZ", "EG", "LY", "MA", "SD", "TN", "EH",
    "BI", "KM", "DJ", "ER", "ET", "KE", "MG", "MW", "MU", "YT", "MZ",
    "RE", "RW", "SC", "SO", "SS", "UG", "TZ", "ZM", "ZW", "IO", "TF",
    "AO", "CM", "CF", "TD", "CG", "CD", "GQ", "GA", "ST",
    "BW", "SZ", "LS", "NA", "ZA",
    "BJ", "BF", "CV", "CI", "GM", "GH", "GN", "GW", "LR", "ML", "MR", "NE", "NG", "SH", "SN", "SL", "TG",
})  # fmt: skip
# What one commitment may ask for: enough for the largest donor, small enough that a typing slip is caught.
MAX_DEVICES = 1_000_000
MAX_KG = Decimal("20000000")
CENT = Decimal("0.01")


class EResourceError(DonationError):
    """A commitment that cannot be made, with the field it is about."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def e_resource_kg_per_device() -> Decimal:
    return Decimal(str(settings.E_RESOURCE_KG_PER_DEVICE))


def e_resource_commitment_create(
    *,
    donor: Donor,
    actor: AbstractBaseUser,
    basis: str,
    devices: int | None = None,
    kilograms: Decimal | str | None = None,
) -> EResourceCommitment:
    """Make a commitment for the donor: by devices (their number, times the kilograms a device) or by kilograms.

    Only a user of the donor organisation, or a platform admin, may. It joins the queue at its end.
    """
    if not (actor.is_superuser or donor.users.filter(pk=actor.pk).exists()):
        raise EResourceError(_("You can only make a commitment for your own organisation."))
    if basis == EResourceCommitment.Basis.DEVICES:
        if devices is None or isinstance(devices, bool):
            raise EResourceError(_("Enter how many devices you send to Africa."), field="devices")
        try:
            devices = int(devices)
        except (TypeError, ValueError):
            raise EResourceError(_("Enter a whole number of devices."), field="devices") from None
        if not 1 <= devices <= MAX_DEVICES:
            raise EResourceError(
                _("Enter a number of devices from 1 to %(max)s.") % {"max": f"{MAX_DEVICES:,}"}, field="devices"
            )
        target = (devices * e_resource_kg_per_device()).quantize(CENT)
        kilograms = None
    elif basis == EResourceCommitment.Basis.KILOGRAMS:
        try:
            target = Decimal(str(kilograms).strip().replace(",", ".")) if kilograms is not None else None
        except InvalidOperation:
            target = None
        if target is None or not target.is_finite():
            raise EResourceError(_("Enter a number of kilograms, e.g. 250 or 250.5."), field="kilograms")
        if target != target.quantize(CENT) or not Decimal(1) <= target <= MAX_KG:
            raise EResourceError(
                _("Enter from 1 to %(max)s kilograms, with at most two decimals.") % {"max": f"{MAX_KG:,.0f}"},
                field="kilograms",
            )
        target = target.quantize(CENT)
        devices = None
    else:
        raise EResourceError(_("Choose whether you commit by devices or by kilograms."), field="basis")
    return EResourceCommitment.objects.create(
        donor=donor, basis=basis, devices=devices, target_kg=target, created_by=actor
    )


def _batch_is_african(batch: RecyclingBatch) -> bool:
    return batch.hub.country.upper() in AFRICAN_COUNTRIES


def e_resource_allocate(*, batch_id: int) -> list[int]:
    """Allocate the unallocated kilograms of one dispatched batch at an African hub to open commitments, oldest
    first; returns the ids of the commitments this call covered. Safe to run twice, or in two workers at once."""
    batch = RecyclingBatch.objects.select_related("hub").filter(pk=batch_id).first()
    if batch is None or batch.status != RecyclingBatch.Status.CLOSED or not batch.total_weight_kg:
        return []
    if not _batch_is_african(batch):
        return []
    covered: list[int] = []
    with transaction.atomic():
        EResourceSource.objects.bulk_create(
            [EResourceSource(batch=batch, kg=batch.total_weight_kg, dispatched_at=batch.closed_at)],
            ignore_conflicts=True,
        )
        source = EResourceSource.objects.select_for_update().get(batch_id=batch.pk)
        remaining = source.kg - source.allocated_kg
        if remaining <= 0:
            return []
        queue = (
            EResourceCommitment.objects.select_for_update()
            .filter(status=EResourceCommitment.Status.OPEN, created_at__lte=source.dispatched_at)
            .order_by("created_at", "id")
        )
        now = timezone.now()
        given = Decimal(0)
        for commitment in queue:
            if remaining <= 0:
                break
            take = min(remaining, commitment.target_kg - commitment.allocated_kg)
            if take <= 0:
                continue
            EResourceAllocation.objects.create(source=source, commitment=commitment, kg=take)
            commitment.allocated_kg += take
            fields = ["allocated_kg"]
            if commitment.allocated_kg == commitment.target_kg:
                commitment.status = EResourceCommitment.Status.COVERED
                commitment.covered_at = now
                commitment.certificate_number = certificate_number_new()
                fields += ["status", "covered_at", "certificate_number"]
                covered.append(commitment.pk)
            commitment.save(update_fields=fields)
            remaining -= take
            given += take
        if covered:
            e_resource_covered_notify_after_commit(commitment_ids=covered)
        if given:
            EResourceSource.objects.filter(pk=source.pk).update(allocated_kg=F("allocated_kg") + given)
            transaction.on_commit(
                lambda: e_resource_allocated.send(sender=EResourceAllocation, batch_id=batch.pk, covered=covered)
            )
    if covered:
        logger.info("e-Resource: batch %s covered commitments %s", batch.pk, covered)
    return covered


def e_resource_batches_pending() -> list[int]:
    """Batches dispatched at African hubs that may still have kilograms for an open commitment: not allocated yet, or
    not fully, and dispatched after the oldest open commitment was made. What the beat backstop allocates."""
    oldest = (
        EResourceCommitment.objects.filter(status=EResourceCommitment.Status.OPEN)
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
        .first()
    )
    if oldest is None:
        return []
    batches = RecyclingBatch.objects.filter(
        status=RecyclingBatch.Status.CLOSED,
        hub__country__in=AFRICAN_COUNTRIES,
        closed_at__gte=oldest,
        total_weight_kg__gt=0,
    ).filter(Q(e_resource_source__isnull=True) | Q(e_resource_source__allocated_kg__lt=F("e_resource_source__kg")))
    return list(batches.order_by("closed_at", "id").values_list("pk", flat=True))


def e_resource_allocate_pending() -> int:
    """Allocate every pending batch, oldest first; returns how many commitments got covered."""
    return sum(len(e_resource_allocate(batch_id=batch_id)) for batch_id in e_resource_batches_pending())


def e_resource_allocations_mark_counted(*, allocation_ids: list[int]) -> int:
    """Mark allocations as folded into the impact counters. Called inside the fold's transaction."""
    return EResourceAllocation.objects.filter(pk__in=allocation_ids, impact_counted=False).update(impact_counted=True)
