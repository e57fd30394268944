"""Allocation, shipping and delivery: the beneficiary side of the lifecycle, through the core's service."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from hubs.selectors import user_can_act_in_hub
from refurbishing.errors import LifecycleError
from refurbishing.models import Device
from refurbishing.services import device_transition

from .models import Project, Shipment


def _project_data(project: Project, shipment: Shipment) -> dict[str, Any]:
    return {"project_id": project.pk, "project_kind": project.kind, "shipment_id": shipment.pk}


def project_allocate_device(
    *,
    device: Device,
    project: Project,
    actor: AbstractBaseUser | None,
    note: str = "",
) -> Device:
    """Allocate a configured device to a project, adding it to the project's shipment being prepared."""
    if actor is not None and not user_can_act_in_hub(user=actor, hub_id=project.hub_id):
        # Checked first, and without the project's name: the API takes any project id, and another hub's
        # projects (most of them not public) are none of this user's business.
        message = "You can only allocate devices to projects served by a hub you work at."
        raise LifecycleError(message, code="forbidden", field_errors={"project": [message]})
    if project.hub_id != device.hub_id:
        raise LifecycleError(f"{device} is at another hub than the one serving {project.name}; move it there first.")
    with transaction.atomic():
        shipment, _ = Shipment.objects.get_or_create(
            project=project, hub_id=device.hub_id, status=Shipment.Status.PREPARING
        )
        device = device_transition(
            device=device,
            action="allocate",
            actor=actor,
            note=note,
            data=_project_data(project, shipment),
        )
        shipment.devices.add(device)
    return device


def _shipment_of(device: Device, *, status: str) -> Shipment:
    shipment = device.shipments.filter(status=status).select_related("project").first()
    if shipment is None:
        raise LifecycleError(f"{device} is not in a {status} shipment.")
    return shipment


def shipment_ship(*, shipment: Shipment, actor: AbstractBaseUser | None, note: str = "") -> Shipment:
    """Ship every allocated device of the shipment; all of them, or none if one is refused."""
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().select_related("project").get(pk=shipment.pk)
        if shipment.status != Shipment.Status.PREPARING:
            raise LifecycleError(f"Shipment {shipment.pk} is already {shipment.get_status_display()}.")
        devices = list(shipment.devices.filter(state=Device.State.ALLOCATED).order_by("id"))
        if not devices:
            raise LifecycleError(f"Shipment {shipment.pk} has no allocated devices to ship.")
        for device in devices:
            device_transition(
                device=device,
                action="ship",
                actor=actor,
                note=note,
                data=_project_data(shipment.project, shipment),
            )
        shipment.status = Shipment.Status.SHIPPED
        shipment.shipped_at = timezone.now()
        shipment.save(update_fields=["status", "shipped_at"])
    return shipment


def shipment_deliver(
    *,
    shipment: Shipment,
    actor: AbstractBaseUser | None,
    beneficiaries: int,
    note: str = "",
) -> Shipment:
    """Confirm delivery of a shipment and how many people its devices reach.

    The confirmed number is spread over the devices' delivery events (the first ones carry the
    remainder), so the public total is exactly the number confirmed.
    """
    if beneficiaries < 0:
        raise LifecycleError("The number of people reached cannot be negative.")
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().select_related("project").get(pk=shipment.pk)
        if shipment.status != Shipment.Status.SHIPPED:
            raise LifecycleError(
                f"Shipment {shipment.pk} is {shipment.get_status_display()}; only a shipped one can be delivered."
            )
        devices = list(shipment.devices.filter(state=Device.State.SHIPPED).order_by("id"))
        share, remainder = divmod(beneficiaries, len(devices)) if devices else (0, 0)
        for index, device in enumerate(devices):
            data = _project_data(shipment.project, shipment) | {
                "beneficiaries": share + (1 if index < remainder else 0)
            }
            device_transition(device=device, action="deliver", actor=actor, note=note, data=data)
        shipment.status = Shipment.Status.DELIVERED
        shipment.delivered_at = timezone.now()
        shipment.beneficiaries_confirmed = beneficiaries
        shipment.save(update_fields=["status", "delivered_at", "beneficiaries_confirmed"])
    return shipment


# Handlers for the device-level actions (admin bulk actions and the API's transitions endpoint).


def handle_allocate(*, device: Device, actor: AbstractBaseUser, cleaned: dict[str, Any]) -> Device:
    return project_allocate_device(device=device, project=cleaned["project"], actor=actor, note=cleaned.get("note", ""))


def handle_ship(*, device: Device, actor: AbstractBaseUser, cleaned: dict[str, Any]) -> Device:
    shipment = _shipment_of(device, status=Shipment.Status.PREPARING)
    with transaction.atomic():
        device = device_transition(
            device=device,
            action="ship",
            actor=actor,
            note=cleaned.get("note", ""),
            data=_project_data(shipment.project, shipment),
        )
        if not shipment.devices.filter(state=Device.State.ALLOCATED).exists():
            Shipment.objects.filter(pk=shipment.pk).update(status=Shipment.Status.SHIPPED, shipped_at=timezone.now())
    return device


def handle_deliver(*, device: Device, actor: AbstractBaseUser, cleaned: dict[str, Any]) -> Device:
    shipment = _shipment_of(device, status=Shipment.Status.SHIPPED)
    with transaction.atomic():
        data = _project_data(shipment.project, shipment) | {"beneficiaries": cleaned["beneficiaries"]}
        device = device_transition(
            device=device, action="deliver", actor=actor, note=cleaned.get("note", ""), data=data
        )
        confirmed = Coalesce(F("beneficiaries_confirmed"), 0) + cleaned["beneficiaries"]
        Shipment.objects.filter(pk=shipment.pk).update(beneficiaries_confirmed=confirmed)
        if not shipment.devices.filter(state=Device.State.SHIPPED).exists():
            Shipment.objects.filter(pk=shipment.pk).update(
                status=Shipment.Status.DELIVERED, delivered_at=timezone.now()
            )
    return device
