"""Allocation: a device of the hub is set aside for a project's request, one device at a time, under a lock."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hubs.selectors import user_can_act_in_hub
from projects.models import (
    Allocation,
    DeviceRequest,
    Project,
)
from projects.selectors import device_fit_refusal, device_suggestion_for_request
from projects.services.common import ProjectError, project_data, require_manager
from refurbishing.errors import LifecycleError
from refurbishing.models import Device
from refurbishing.services import device_transition


def _allocation_refusal(project: Project) -> str:
    # The hub's kind changed since the project was approved (the platform admin's choice): no more allocations.
    return _("%(hub)s does not send devices to projects, so no device can be allocated to %(project)s there.") % {
        "hub": project.hub.name,
        "project": project.name,
    }


def _allocate_one(
    *,
    device_pk: int,
    project: Project,
    request: DeviceRequest | None,
    actor: AbstractBaseUser | None,
    note: str,
    over_request: bool,
    fit_exception: str = "",
) -> Allocation:
    """Lock the device, make sure nobody allocated it first, move it to allocated and record the allocation.

    A device that does not fit the request is refused, unless ``fit_exception`` gives a manager's reason
    (the caller checked that the actor is one): the allocation and the device's history keep it.
    """
    device = Device.objects.select_for_update().get(pk=device_pk)
    taken = Allocation.objects.filter(device_id=device.pk).select_related("project").first()
    if taken is not None:
        raise ProjectError(
            _("%(device)s was just allocated to %(project)s by someone else.")
            % {"device": device, "project": taken.project.name},
            code="conflict",
        )
    data = project_data(project)
    if request is not None:
        reason = device_fit_refusal(device=device, request=request)
        if reason and not fit_exception:
            raise ProjectError(reason + " " + _("A hub manager can allocate it anyway, with a reason."))
        if not reason:
            fit_exception = ""
        elif fit_exception:
            data["fit_exception"] = fit_exception
            note = " ".join(
                filter(None, [note, _("Allocated though it does not fit: %(reason)s") % {"reason": fit_exception}])
            )
    device_transition(device=device, action="allocate", actor=actor, note=note, data=data)
    try:
        with transaction.atomic():
            return Allocation.objects.create(
                device=device,
                project=project,
                request=request,
                allocated_by=actor,
                over_request=over_request,
                fit_exception=fit_exception,
            )
    except IntegrityError as exc:  # the database's word, where row locks are absent
        raise ProjectError(
            _("%(device)s was just allocated by someone else.") % {"device": device}, code="conflict"
        ) from exc


def request_allocate(
    *,
    request: DeviceRequest,
    devices: Iterable[Device | int],
    actor: AbstractBaseUser,
    override: bool = False,
    note: str = "",
    fit_exception: str = "",
) -> list[Allocation]:
    """Allocate devices that fit an approved request; all of them or none.

    Never more than requested unless ``override`` (a hub manager's explicit choice), and never a device that
    does not fit unless ``fit_exception`` (a hub manager's reason, kept with the allocation). The request's row is
    locked first, so two people filling the same request count each other's allocations; each device's row is
    locked next, so a device goes to one request only (the loser is told, as a conflict).
    """
    project = request.project
    if not user_can_act_in_hub(user=actor, hub_id=project.hub_id):
        raise ProjectError(_("No such device request at your hubs."), code="not_found")
    if not project.hub.kind.sends_to_projects:
        raise ProjectError(_allocation_refusal(project))
    if override:
        require_manager(user=actor, hub_id=project.hub_id, what=_("allocate more than was requested"))
    fit_exception = fit_exception.strip()
    if fit_exception:
        require_manager(user=actor, hub_id=project.hub_id, what=_("allocate a device that does not fit the request"))
    device_ids = sorted({d if isinstance(d, int) else d.pk for d in devices})
    if not device_ids:
        message = _("Choose at least one device.")
        raise ProjectError(message, field_errors={"devices": [message]})
    with transaction.atomic():
        request = DeviceRequest.objects.select_for_update().select_related("project").get(pk=request.pk)
        if request.status not in (DeviceRequest.Status.APPROVED, DeviceRequest.Status.FULFILLED):
            raise ProjectError(
                _("This request is %(status)s; devices go only to approved requests.")
                % {"status": request.get_status_display()}
            )
        already = request.allocations.count()
        if already + len(device_ids) > request.quantity and not override:
            raise ProjectError(
                _(
                    "The request is for %(quantity)s devices and %(already)s are allocated: %(more)s more would be "
                    "beyond it. A hub manager can allow it explicitly."
                )
                % {"quantity": request.quantity, "already": already, "more": len(device_ids)},
                code="conflict" if already >= request.quantity else "invalid",
            )
        found = set(Device.objects.filter(pk__in=device_ids).values_list("pk", flat=True))
        if found != set(device_ids):
            raise ProjectError(_("No such device at your hubs."), code="not_found")
        allocations = [
            _allocate_one(
                device_pk=pk,
                project=request.project,
                request=request,
                actor=actor,
                note=note,
                over_request=already + index + 1 > request.quantity,
                fit_exception=fit_exception,
            )
            for index, pk in enumerate(device_ids)
        ]
        if already + len(allocations) >= request.quantity and request.status != DeviceRequest.Status.FULFILLED:
            request.status = DeviceRequest.Status.FULFILLED
            request.save(update_fields=["status"])
    return allocations


def request_allocate_suggested(*, request: DeviceRequest, actor: AbstractBaseUser, note: str = "") -> list[Allocation]:
    """Fill what is left of the request from the best-fitting devices, chosen under the request's lock."""
    if not user_can_act_in_hub(user=actor, hub_id=request.project.hub_id):
        raise ProjectError(_("No such device request at your hubs."), code="not_found")
    with transaction.atomic():
        request = DeviceRequest.objects.select_for_update().select_related("project").get(pk=request.pk)
        remaining = request.quantity - request.allocations.count()
        if remaining <= 0:
            raise ProjectError(_("This request is filled already."), code="conflict")
        suggestion = list(device_suggestion_for_request(request=request, limit=remaining).values_list("pk", flat=True))
        if not suggestion:
            raise ProjectError(_("No configured device at the hub fits this request yet."))
        return request_allocate(request=request, devices=suggestion, actor=actor, note=note)


def project_allocate_device(
    *,
    device: Device,
    project: Project,
    actor: AbstractBaseUser | None,
    note: str = "",
) -> Device:
    """Allocate one configured device to a project (the device-level action of the admin and the API).

    It fills the project's first approved request of the device's category that has room, if any; it joins a
    shipment only when a hub puts one together (``shipment_create``).
    """
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
    if not project.hub.kind.sends_to_projects:
        message = _allocation_refusal(project)
        raise LifecycleError(message, field_errors={"project": [message]})
    if project.status != Project.Status.APPROVED:
        raise LifecycleError(
            _("%(project)s is %(status)s: devices go only to approved projects.")
            % {"project": project.name, "status": project.get_status_display()}
        )
    with transaction.atomic():
        request = (
            DeviceRequest.objects.select_for_update()
            .filter(project=project, category=device.category, status=DeviceRequest.Status.APPROVED)
            .order_by("created_at", "id")
            .first()
        )
        if request is not None and request.allocations.count() >= request.quantity:
            request = None
        try:
            _allocate_one(
                device_pk=device.pk, project=project, request=None, actor=actor, note=note, over_request=False
            )
        except ProjectError as error:
            raise LifecycleError(error.message, code=error.code) from error
        if request is not None:
            Allocation.objects.filter(device_id=device.pk).update(request=request)
            if request.allocations.count() >= request.quantity:
                DeviceRequest.objects.filter(pk=request.pk).update(status=DeviceRequest.Status.FULFILLED)
    device.refresh_from_db()
    return device
