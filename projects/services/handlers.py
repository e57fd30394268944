"""Handlers for the device-level actions (admin bulk actions and the API's transitions endpoint)."""

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _

from projects.models import (
    Allocation,
    Shipment,
)
from projects.services.allocation import project_allocate_device
from projects.services.common import ProjectError, device_guard_refusal
from projects.services.deliveries import delivery_confirm
from projects.services.shipments import shipment_ship
from refurbishing.errors import LifecycleError
from refurbishing.models import Device


def handle_allocate(*, device: Device, actor: AbstractBaseUser, cleaned: dict[str, Any]) -> Device:
    return project_allocate_device(device=device, project=cleaned["project"], actor=actor, note=cleaned.get("note", ""))


def handle_ship(*, device: Device, actor: AbstractBaseUser, cleaned: dict[str, Any]) -> Device:
    """Shipping is an act on a whole shipment: this ships the device's shipment, every device in it.

    The device's own guards speak first (a missing wipe), then whether it is in a shipment at all.
    """
    fresh = Device.objects.get(pk=device.pk)
    if fresh.state in (Device.State.SHIPPED, Device.State.DELIVERED):
        # Someone shipped its shipment first: the loser of that race is told so, as a conflict.
        raise LifecycleError(
            _("%(device)s was just shipped with its shipment by someone else.") % {"device": fresh}, code="conflict"
        )
    refusal = device_guard_refusal(device, "ship")
    if refusal:
        raise LifecycleError(refusal)
    shipment_id = Allocation.objects.filter(device_id=device.pk).values_list("shipment_id", flat=True).first()
    if shipment_id is None:
        raise LifecycleError(
            _("%(device)s is not in a shipment yet: put its project's shipment together, then ship it.")
            % {"device": device}
        )
    shipment_ship(shipment=Shipment(pk=shipment_id, hub_id=device.hub_id), actor=actor, note=cleaned.get("note", ""))
    device.refresh_from_db()
    return device


def handle_deliver(*, device: Device, actor: AbstractBaseUser, cleaned: dict[str, Any]) -> Device:
    """Confirm one device arrived, reaching ``beneficiaries`` people, through the one delivery path."""
    refusal = device_guard_refusal(device, "deliver", data={"beneficiaries": cleaned.get("beneficiaries")})
    if refusal:
        raise LifecycleError(refusal)
    shipment_id = Allocation.objects.filter(device_id=device.pk).values_list("shipment_id", flat=True).first()
    if shipment_id is None:
        raise LifecycleError(_("%(device)s is not in a shipment.") % {"device": device})
    try:
        delivery_confirm(
            shipment=Shipment(pk=shipment_id),
            confirmed_by=actor,
            idempotency_key=cleaned.get("idempotency_key") or uuid.uuid4().hex,
            delivered_on=timezone.localdate(),
            people_served=cleaned["beneficiaries"],
            arrived=[device.pk],
            explanation=cleaned.get("note", "") or "",
            note=cleaned.get("note", "") or "",
        )
    except ProjectError as error:
        raise LifecycleError(error.message, code=error.code, field_errors=error.field_errors) from error
    device.refresh_from_db()
    return device
