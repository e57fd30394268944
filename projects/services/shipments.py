"""Shipments: allocated devices are put together, given a carrier and tracking reference, and shipped whole."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.selectors import user_can_act_in_hub
from projects.models import (
    Allocation,
    Project,
    Shipment,
)
from projects.services.common import ProjectError, device_guard_refusal, project_data
from refurbishing.errors import LifecycleError
from refurbishing.services import device_transition


def shipment_locked(pk: int) -> Shipment:
    return Shipment.objects.select_for_update(of=("self",)).select_related("project", "hub").get(pk=pk)


def _refuse_unless_preparing(shipment: Shipment) -> None:
    if shipment.status != Shipment.Status.PREPARING:
        raise ProjectError(
            _("Shipment %(id)s is %(status)s already; it cannot take devices or be shipped again.")
            % {"id": shipment.pk, "status": shipment.get_status_display()},
            code="conflict",
        )


def _shipment_take(*, shipment: Shipment, device_ids: Iterable[int]) -> int:
    """Add allocated devices of the shipment's project to it (the shipment is locked and preparing)."""
    allocations = list(
        Allocation.objects.select_for_update(of=("self",))
        .filter(device_id__in=sorted(set(device_ids)))
        .select_related("device")
        .order_by("device_id")
    )
    wanted = set(device_ids)
    if {a.device_id for a in allocations} != wanted:
        raise ProjectError(_("Only devices allocated to this project can go in its shipment."))
    for allocation in allocations:
        if allocation.project_id != shipment.project_id or allocation.device.hub_id != shipment.hub_id:
            raise ProjectError(
                _("%(device)s is allocated to another project or is at another hub.") % {"device": allocation.device}
            )
        if allocation.shipment_id is not None and allocation.shipment_id != shipment.pk:
            raise ProjectError(
                _("%(device)s is already in shipment %(id)s.")
                % {"device": allocation.device, "id": allocation.shipment_id},
                code="conflict",
            )
    Allocation.objects.filter(pk__in=[a.pk for a in allocations]).update(shipment=shipment)
    shipment.devices.add(*[a.device_id for a in allocations])
    return len(allocations)


def shipment_create(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    device_ids: Iterable[int] | None = None,
    carrier: str = "",
    tracking_reference: str = "",
) -> Shipment:
    """Put a shipment together: the project, its hub, allocated devices (all unshipped ones by default)."""
    if actor is not None and not user_can_act_in_hub(user=actor, hub_id=project.hub_id):
        raise ProjectError(_("No such project at your hubs."), code="not_found")
    with transaction.atomic():
        if device_ids is None:
            device_ids = list(
                Allocation.objects.filter(
                    project=project, shipment__isnull=True, device__hub_id=project.hub_id
                ).values_list("device_id", flat=True)
            )
        device_ids = list(device_ids)
        if not device_ids:
            message = _("No allocated device of %(project)s is waiting for a shipment.") % {"project": project.name}
            raise ProjectError(message, field_errors={"devices": [message]})
        shipment = Shipment.objects.create(
            project=project, hub_id=project.hub_id, carrier=carrier, tracking_reference=tracking_reference
        )
        shipment = shipment_locked(shipment.pk)
        _shipment_take(shipment=shipment, device_ids=device_ids)
    return shipment


def shipment_add_devices(*, shipment: Shipment, actor: AbstractBaseUser | None, device_ids: Iterable[int]) -> Shipment:
    """Add allocated devices to a shipment still being prepared; a shipped one takes none (409)."""
    if actor is not None and not user_can_act_in_hub(user=actor, hub_id=shipment.hub_id):
        raise ProjectError(_("No such shipment at your hubs."), code="not_found")
    with transaction.atomic():
        shipment = shipment_locked(shipment.pk)
        _refuse_unless_preparing(shipment)
        _shipment_take(shipment=shipment, device_ids=list(device_ids))
    return shipment


def shipment_set_carrier(
    *, shipment: Shipment, actor: AbstractBaseUser | None, carrier: str, tracking_reference: str
) -> Shipment:
    if actor is not None and not user_can_act_in_hub(user=actor, hub_id=shipment.hub_id):
        raise ProjectError(_("No such shipment at your hubs."), code="not_found")
    with transaction.atomic():
        shipment = shipment_locked(shipment.pk)
        shipment.carrier = carrier.strip()
        shipment.tracking_reference = tracking_reference.strip()
        shipment.save(update_fields=["carrier", "tracking_reference"])
    return shipment


def shipment_ship(
    *,
    shipment: Shipment,
    actor: AbstractBaseUser | None,
    note: str = "",
) -> Shipment:
    """Ship the whole shipment in one act: every device moves to shipped in one transaction, or none does.

    Under the shipment's row lock: a shipment already shipped answers as a conflict (the race's loser); then
    every device's lifecycle guards are checked (the missing wipe is named) before anything moves.
    """
    if actor is not None and not user_can_act_in_hub(user=actor, hub_id=shipment.hub_id):
        raise LifecycleError(_("No such shipment at your hubs."), code="forbidden")
    with transaction.atomic():
        shipment = shipment_locked(shipment.pk)
        if shipment.status != Shipment.Status.PREPARING:
            raise LifecycleError(
                _("Shipment %(id)s is already %(status)s.")
                % {"id": shipment.pk, "status": shipment.get_status_display()},
                code="conflict",
            )
        devices = list(shipment.devices.select_for_update().order_by("id"))
        if not devices:
            raise LifecycleError(_("Shipment %(id)s has no devices to ship.") % {"id": shipment.pk})
        for device in devices:
            refusal = device_guard_refusal(device, "ship")
            if refusal:
                raise LifecycleError(refusal)
        for device in devices:
            device_transition(
                device=device, action="ship", actor=actor, note=note, data=project_data(shipment.project, shipment)
            )
        shipment.status = Shipment.Status.SHIPPED
        shipment.shipped_at = timezone.now()
        shipment.save(update_fields=["status", "shipped_at"])
    return shipment
