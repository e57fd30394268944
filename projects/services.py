"""Allocation, shipping and delivery: the beneficiary side of the lifecycle, through the core's service."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.models import Hub
from hubs.selectors import user_can_act_in_hub
from refurbishing.errors import LifecycleError
from refurbishing.models import Device
from refurbishing.services import device_transition

from .models import Project, Shipment


class ProjectError(Exception):
    """A project that cannot be registered or changed, with a message the hub manager can act on."""


def _validation_message(project: Project, error: ValidationError) -> str:
    messages = []
    for field, field_messages in error.message_dict.items():
        label = project._meta.get_field(field).verbose_name if field != "__all__" else ""
        for message in field_messages:
            messages.append(_("%(field)s: %(message)s") % {"field": label, "message": message} if label else message)
    return " ".join(messages)


def project_create(
    *,
    organisation: str,
    name: str,
    kind: str,
    country: str,
    hub: Hub,
    expected_beneficiaries: int = 0,
    public: bool = False,
) -> Project:
    """Register a beneficiary organisation's project, served by one hub."""
    if not hub.active:
        raise ProjectError(_("%(hub)s does not serve projects at the moment; choose another hub.") % {"hub": hub.name})
    project = Project(
        organisation=organisation,
        name=name,
        kind=kind,
        country=country.strip().upper(),
        hub=hub,
        expected_beneficiaries=expected_beneficiaries,
        public=public,
    )
    try:
        project.full_clean()
    except ValidationError as exc:
        raise ProjectError(_validation_message(project, exc)) from exc
    with transaction.atomic():
        project.save()
    return project


def project_coordinator_add(*, project: Project, user: AbstractBaseUser) -> Project:
    """Let a user coordinate a project: apply for devices and confirm deliveries on the project portal."""
    if not user.is_active:
        raise ProjectError(
            _("%(user)s is deactivated; reactivate the account before making it coordinate %(project)s.")
            % {"user": user, "project": project.name}
        )
    with transaction.atomic():
        project.coordinators.add(user)
    return project


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
        message = _("You can only allocate devices to projects served by a hub you work at.")
        raise LifecycleError(message, code="forbidden", field_errors={"project": [message]})
    if project.hub_id != device.hub_id:
        raise LifecycleError(
            _("%(device)s is at another hub than the one serving %(project)s; move it there first.")
            % {"device": device, "project": project.name}
        )
    with transaction.atomic():
        shipment, _created = Shipment.objects.get_or_create(
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
        raise LifecycleError(
            _("%(device)s is not in a %(status)s shipment.")
            % {"device": device, "status": Shipment.Status(status).label}
        )
    return shipment


def shipment_ship(*, shipment: Shipment, actor: AbstractBaseUser | None, note: str = "") -> Shipment:
    """Ship every allocated device of the shipment; all of them, or none if one is refused."""
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().select_related("project").get(pk=shipment.pk)
        if shipment.status != Shipment.Status.PREPARING:
            raise LifecycleError(
                _("Shipment %(id)s is already %(status)s.")
                % {"id": shipment.pk, "status": shipment.get_status_display()}
            )
        devices = list(shipment.devices.filter(state=Device.State.ALLOCATED).order_by("id"))
        if not devices:
            raise LifecycleError(_("Shipment %(id)s has no allocated devices to ship.") % {"id": shipment.pk})
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
        raise LifecycleError(_("The number of people reached cannot be negative."))
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().select_related("project").get(pk=shipment.pk)
        if shipment.status != Shipment.Status.SHIPPED:
            raise LifecycleError(
                _("Shipment %(id)s is %(status)s; only a shipped one can be delivered.")
                % {"id": shipment.pk, "status": shipment.get_status_display()}
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
