"""E-waste batches: devices beyond reuse gathered for a recycling partner, recycled together when the batch closes.

Closing is a manager's act. It moves every device of the batch to ``recycled`` through the lifecycle service (its
guards, one event each carrying the device's share of the weighed total) in one transaction: either the whole
batch is recycled or nothing is. The e-waste counters fold from those events, once each, like any move.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.models import Hub
from hubs.selectors import restrict_to_user_hubs, user_can_act_in_hub, user_is_hub_manager
from refurbishing.errors import LifecycleError
from refurbishing.models import Device, DeviceState, RecyclingBatch, RecyclingBatchDevice, RecyclingPartner
from refurbishing.services import device_transition

CENT = Decimal("0.01")


def recycling_batch_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[RecyclingBatch]:
    """Batches at the user's hubs, with their partner and hub, and how many devices each holds."""
    queryset = RecyclingBatch.objects.select_related("partner", "hub", "closed_by").annotate(
        device_count=Count("items")
    )
    return restrict_to_user_hubs(queryset, user=user).order_by("-created_at", "-id")


def recycling_batch_devices(*, batch: RecyclingBatch) -> QuerySet[Device]:
    return Device.objects.filter(recycling_item__batch=batch).order_by("id")


def recycling_batch_create(
    *,
    hub: Hub,
    partner: RecyclingPartner,
    reference: str,
    actor: AbstractBaseUser,
) -> RecyclingBatch:
    """Open a batch at the hub for a partner."""
    if not user_can_act_in_hub(user=actor, hub_id=hub.pk):
        raise LifecycleError(_("%(hub)s is a hub you do not work at.") % {"hub": hub.code}, code="forbidden")
    reference = reference.strip()
    if not reference:
        raise LifecycleError(_("Give the batch a reference."), field_errors={"reference": [_("Enter a reference.")]})
    try:
        with transaction.atomic():
            return RecyclingBatch.objects.create(hub=hub, partner=partner, reference=reference)
    except IntegrityError:
        raise LifecycleError(
            _("A recycling batch %(reference)s already exists.") % {"reference": reference},
            field_errors={"reference": [_("Choose another reference.")]},
        ) from None


def recycling_batch_add_devices(
    *, batch: RecyclingBatch, devices: Iterable[Device], actor: AbstractBaseUser
) -> tuple[int, list[str]]:
    """Add devices waiting to be recycled (``to_recycle``, at the batch's hub, in no batch yet) to an open batch.

    Returns how many were added and, for each device left out, why.
    """
    if not user_can_act_in_hub(user=actor, hub_id=batch.hub_id):
        raise LifecycleError(_("%(hub)s is a hub you do not work at.") % {"hub": batch.hub.code}, code="forbidden")
    refusals: list[str] = []
    with transaction.atomic():
        locked = RecyclingBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != RecyclingBatch.Status.OPEN:
            raise LifecycleError(_("Batch %(reference)s is closed.") % {"reference": locked.reference})
        devices = list(devices)
        taken = set(
            RecyclingBatchDevice.objects.filter(device__in=[d.pk for d in devices]).values_list("device_id", flat=True)
        )
        rows = []
        for device in devices:
            if device.hub_id != locked.hub_id:
                refusals.append(_("%(device)s is at another hub.") % {"device": device})
            elif device.state != DeviceState.TO_RECYCLE:
                refusals.append(
                    _("%(device)s is %(state)s; only a device to recycle joins a batch.")
                    % {"device": device, "state": device.get_state_display()}
                )
            elif device.pk in taken:
                refusals.append(_("%(device)s is already in a batch.") % {"device": device})
            else:
                rows.append(RecyclingBatchDevice(batch=locked, device=device))
                taken.add(device.pk)
        RecyclingBatchDevice.objects.bulk_create(rows)
    return len(rows), refusals


def recycling_batch_add_waiting(*, batch: RecyclingBatch, actor: AbstractBaseUser) -> int:
    """Add every device of the batch's hub waiting to be recycled and in no batch yet; returns how many."""
    waiting = Device.objects.filter(
        hub_id=batch.hub_id, state=DeviceState.TO_RECYCLE, recycling_item__isnull=True
    ).order_by("id")
    added, _refusals = recycling_batch_add_devices(batch=batch, devices=waiting, actor=actor)
    return added


def _shares(total: Decimal, count: int) -> list[Decimal]:
    """``total`` split in ``count`` shares to the cent that add up to it exactly (the last takes the rest)."""
    share = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    return [share] * (count - 1) + [total - share * (count - 1)]


def recycling_batch_weights(*, batch: RecyclingBatch, devices: list[Device]) -> dict[int, Decimal]:
    """Each device's weight for its ``recycle`` event, adding up to what the partner weighed.

    With weights per category for every category in the batch, each category's weight is shared among its
    devices; otherwise the weighed total is shared among all of them.
    """
    total = batch.total_weight_kg
    by_category = {str(k): Decimal(str(v)) for k, v in (batch.weights_by_category or {}).items()}
    groups: dict[str, list[Device]] = defaultdict(list)
    for device in devices:
        groups[device.category].append(device)
    if by_category and set(groups) <= set(by_category):
        if any(by_category[c] <= 0 for c in groups):
            raise LifecycleError(_("Every category's weight must be more than 0 kg."))
        pairs = [(group, by_category[category]) for category, group in groups.items()]
    elif total:
        pairs = [(devices, Decimal(total))]
    else:
        raise LifecycleError(
            _("Enter the weighed total of batch %(reference)s, in kg, before closing it.")
            % {"reference": batch.reference},
            field_errors={"total_weight_kg": [_("Enter the weight the partner weighed, in kg.")]},
        )
    weights: dict[int, Decimal] = {}
    for group, weight in pairs:
        shares = _shares(weight, len(group))
        if shares[0] <= 0:
            raise LifecycleError(
                _("%(weight)s kg is too little to share among %(count)d devices.")
                % {"weight": weight, "count": len(group)}
            )
        for device, share in zip(group, shares, strict=True):
            weights[device.pk] = share
    return weights


def recycling_batch_close(
    *,
    batch: RecyclingBatch,
    actor: AbstractBaseUser,
    total_weight_kg: Decimal | None = None,
    weights_by_category: dict[str, Any] | None = None,
    certificate_reference: str | None = None,
    certificate_date: date | None = None,
) -> RecyclingBatch:
    """Recycle every device of the batch and close it, all or nothing; managers of the batch's hub only.

    Each device moves through ``device_transition`` (``recycle``, with its guards: a device whose data is not
    wiped stops the whole close) and gets its share of the weighed total on its event.
    """
    if not user_can_act_in_hub(user=actor, hub_id=batch.hub_id):
        raise LifecycleError(_("%(hub)s is a hub you do not work at.") % {"hub": batch.hub.code}, code="forbidden")
    if not user_is_hub_manager(user=actor, hub_id=batch.hub_id):
        raise LifecycleError(_("Only a manager of the hub can close a recycling batch."), code="forbidden")
    with transaction.atomic():
        locked = RecyclingBatch.objects.select_for_update(of=("self",)).select_related("partner").get(pk=batch.pk)
        if locked.status != RecyclingBatch.Status.OPEN:
            raise LifecycleError(_("Batch %(reference)s is already closed.") % {"reference": locked.reference})
        if total_weight_kg is not None:
            locked.total_weight_kg = total_weight_kg
        if weights_by_category is not None:
            locked.weights_by_category = {str(k): str(v) for k, v in weights_by_category.items()}
        if certificate_reference is not None:
            locked.certificate_reference = certificate_reference
        if certificate_date is not None:
            locked.certificate_date = certificate_date
        devices = list(Device.objects.filter(recycling_item__batch=locked).order_by("id"))
        if not devices:
            raise LifecycleError(_("Batch %(reference)s has no devices to recycle.") % {"reference": locked.reference})
        weights = recycling_batch_weights(batch=locked, devices=devices)
        note = _("Recycled in batch %(reference)s by %(partner)s.") % {
            "reference": locked.reference,
            "partner": locked.partner.name,
        }
        for device in devices:
            device_transition(
                device=device,
                action="recycle",
                actor=actor,
                note=note,
                data={"weight_kg": weights[device.pk], "recycling_batch": locked.reference},
            )
        if locked.total_weight_kg is None:
            locked.total_weight_kg = sum(weights.values(), Decimal(0))
        locked.status = RecyclingBatch.Status.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.save()
    return locked
