"""Allocation, shipping and delivery: the beneficiary side of the lifecycle, through the core's service."""

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hubs.models import Hub
from hubs.selectors import user_can_act_in_hub, user_is_hub_manager, user_language
from refurbishing.errors import LifecycleError
from refurbishing.forms import BENEFICIARIES_MAX
from refurbishing.models import Device, DeviceEvent
from refurbishing.services import device_event_correct, device_transition, device_transition_refusal

from .models import (
    Allocation,
    DeliveryConfirmation,
    DeliveryCorrection,
    DeliveryLine,
    DeviceRequest,
    Project,
    ProjectReview,
    ProjectStory,
    Shipment,
)
from .selectors import device_fit_refusal, device_suggestion_for_request


class ProjectError(Exception):
    """A project, request, allocation, shipment or delivery change that was refused, with a message to act on.

    ``code`` says how surfaces answer, as for ``LifecycleError``: "invalid" (400), "conflict" (someone else acted
    first, 409), "forbidden" (403), "not_found" (outside the user's scope, 404).
    """

    def __init__(self, message: str, *, code: str = "invalid", field_errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field_errors = field_errors or {}


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


# --- applications -------------------------------------------------------------------------------------------

REQUEST_FIELDS = (
    "category",
    "quantity",
    "min_ram_gb",
    "min_storage_gb",
    "min_cpu",
    "min_grade",
    "ssd_required",
    "keyboard_layout",
    "language",
    "purpose",
)


def _requests_create(*, project: Project, requests: Iterable[Mapping[str, Any]]) -> list[DeviceRequest]:
    rows = [dict(row) for row in requests if row]
    if not rows:
        message = _("Ask for at least one kind of device.")
        raise ProjectError(message, field_errors={"requests": [message]})
    created = []
    for row in rows:
        request = DeviceRequest(project=project, **{k: v for k, v in row.items() if k in REQUEST_FIELDS})
        if request.min_cpu is None:
            request.min_cpu = ""
        try:
            request.full_clean(exclude=["project"])
        except ValidationError as exc:
            raise ProjectError(_validation_message(request, exc), field_errors=exc.message_dict) from exc
        request.save()
        created.append(request)
    return created


def project_requests_add(*, project: Project, requests: Iterable[Mapping[str, Any]]) -> list[DeviceRequest]:
    """Requests a hub registers for a project it serves (admin, demo data); approved with an approved project."""
    with transaction.atomic():
        created = _requests_create(project=project, requests=requests)
        if project.status == Project.Status.APPROVED:
            DeviceRequest.objects.filter(pk__in=[r.pk for r in created]).update(status=DeviceRequest.Status.APPROVED)
    return created


def project_apply(
    *,
    applicant: AbstractBaseUser,
    organisation: str,
    name: str,
    kind: str,
    country: str,
    place: str,
    hub: Hub,
    expected_beneficiaries: int,
    requests: Iterable[Mapping[str, Any]],
) -> Project:
    """A coordinator's application: the project, the people it will serve and the devices it asks for.

    The applicant coordinates the project from now on; the serving hub's managers review it.
    """
    if not hub.active:
        raise ProjectError(_("%(hub)s does not serve projects at the moment; choose another hub.") % {"hub": hub.name})
    if expected_beneficiaries < 1:
        message = _("Say how many people the project will serve: 1 or more.")
        raise ProjectError(message, field_errors={"expected_beneficiaries": [message]})
    project = Project(
        organisation=organisation,
        name=name,
        kind=kind,
        country=country.strip().upper(),
        place=place,
        hub=hub,
        expected_beneficiaries=expected_beneficiaries,
        status=Project.Status.SUBMITTED,
        applied_by=applicant,
    )
    try:
        project.full_clean()
    except ValidationError as exc:
        raise ProjectError(_validation_message(project, exc), field_errors=exc.message_dict) from exc
    with transaction.atomic():
        project.save()
        project.coordinators.add(applicant)
        _requests_create(project=project, requests=requests)
    return project


def project_resubmit(
    *,
    project: Project,
    actor: AbstractBaseUser,
    expected_beneficiaries: int,
    place: str,
    requests: Iterable[Mapping[str, Any]],
) -> Project:
    """Send an application back for review after the hub asked for changes, with its new requests."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if not project.coordinators.filter(pk=actor.pk).exists():
            raise ProjectError(_("No such project among yours."), code="not_found")
        if project.status != Project.Status.CHANGES_REQUESTED:
            raise ProjectError(
                _("This application is %(status)s; only one the hub sent back for changes can be resubmitted.")
                % {"status": project.get_status_display()},
                code="conflict",
            )
        if expected_beneficiaries < 1:
            message = _("Say how many people the project will serve: 1 or more.")
            raise ProjectError(message, field_errors={"expected_beneficiaries": [message]})
        project.requests.filter(status=DeviceRequest.Status.OPEN, allocations__isnull=True).delete()
        _requests_create(project=project, requests=requests)
        project.expected_beneficiaries = expected_beneficiaries
        project.place = place
        project.status = Project.Status.SUBMITTED
        project.save(update_fields=["expected_beneficiaries", "place", "status"])
    return project


def _require_manager(*, user: AbstractBaseUser, hub_id: int, what: str) -> None:
    if not user_is_hub_manager(user=user, hub_id=hub_id):
        raise ProjectError(
            _("Only a manager of the serving hub can %(what)s.") % {"what": what},
            code="forbidden",
        )


def project_review(*, project: Project, reviewer: AbstractBaseUser, decision: str, reason: str = "") -> ProjectReview:
    """A hub manager's decision on an application: approve, ask for changes, or decline with a reason.

    The coordinators are told by e-mail after commit (``projects.tasks.project_review_notify``, idempotent).
    """
    _require_manager(user=reviewer, hub_id=project.hub_id, what=_("review its applications"))
    decisions = (Project.Status.APPROVED, Project.Status.CHANGES_REQUESTED, Project.Status.DECLINED)
    if decision not in decisions:
        message = _("Choose approve, ask for changes or decline.")
        raise ProjectError(message, field_errors={"decision": [message]})
    reason = (reason or "").strip()
    if decision != Project.Status.APPROVED and not reason:
        message = _("Say why, so the coordinator knows what to do next.")
        raise ProjectError(message, field_errors={"reason": [message]})
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.status != Project.Status.SUBMITTED:
            raise ProjectError(
                _("%(project)s is %(status)s already: someone reviewed it first, or it is waiting for changes.")
                % {"project": project.name, "status": project.get_status_display()},
                code="conflict",
            )
        project.status = decision
        project.review_reason = reason
        project.save(update_fields=["status", "review_reason"])
        if decision == Project.Status.APPROVED:
            project.requests.filter(status=DeviceRequest.Status.OPEN).update(status=DeviceRequest.Status.APPROVED)
        elif decision == Project.Status.DECLINED:
            project.requests.filter(status=DeviceRequest.Status.OPEN).update(status=DeviceRequest.Status.REJECTED)
        review = ProjectReview.objects.create(project=project, decision=decision, reason=reason, reviewer=reviewer)
        transaction.on_commit(lambda: _queue_review_notice(review.pk))
    return review


def _queue_review_notice(review_id: int) -> None:
    from .tasks import project_review_notify  # the tasks module imports these services

    project_review_notify.delay(review_id)


def project_review_notify_send(*, review_id: int) -> bool:
    """Tell the coordinators of a reviewed application, once: a second run finds the review already notified."""
    with transaction.atomic():
        review = (
            ProjectReview.objects.select_for_update(of=("self",)).select_related("project").filter(pk=review_id).first()
        )
        if review is None or review.notified_at is not None:
            return False
        project = review.project
        for coordinator in project.coordinators.filter(is_active=True).exclude(email=""):
            with translation.override(user_language(user=coordinator) or settings.LANGUAGE_CODE):
                subject = _("Your application for %(project)s: %(status)s") % {
                    "project": project.name,
                    "status": Project.Status(review.decision).label,
                }
                body = _("The hub reviewed your application for %(project)s. Decision: %(status)s.") % {
                    "project": project.name,
                    "status": Project.Status(review.decision).label,
                }
                if review.reason:
                    body += "\n\n" + _("Reason: %(reason)s") % {"reason": review.reason}
                send_mail(subject, body, None, [coordinator.email])
        review.notified_at = timezone.now()
        review.save(update_fields=["notified_at"])
    return True


# --- allocation ----------------------------------------------------------------------------------------------


def _project_data(project: Project, shipment: Shipment | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"project_id": project.pk, "project_kind": project.kind}
    if shipment is not None:
        data["shipment_id"] = shipment.pk
    return data


def _allocate_one(
    *,
    device_pk: int,
    project: Project,
    request: DeviceRequest | None,
    actor: AbstractBaseUser | None,
    note: str,
    over_request: bool,
) -> Allocation:
    """Lock the device, make sure nobody allocated it first, move it to allocated and record the allocation."""
    device = Device.objects.select_for_update().get(pk=device_pk)
    taken = Allocation.objects.filter(device_id=device.pk).select_related("project").first()
    if taken is not None:
        raise ProjectError(
            _("%(device)s was just allocated to %(project)s by someone else.")
            % {"device": device, "project": taken.project.name},
            code="conflict",
        )
    if request is not None:
        reason = device_fit_refusal(device=device, request=request)
        if reason:
            raise ProjectError(reason)
    device_transition(device=device, action="allocate", actor=actor, note=note, data=_project_data(project))
    try:
        with transaction.atomic():
            return Allocation.objects.create(
                device=device, project=project, request=request, allocated_by=actor, over_request=over_request
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
) -> list[Allocation]:
    """Allocate devices that fit an approved request; all of them or none.

    Never more than requested unless ``override`` (a hub manager's explicit choice). The request's row is
    locked first, so two people filling the same request count each other's allocations; each device's row is
    locked next, so a device goes to one request only (the loser is told, as a conflict).
    """
    project = request.project
    if not user_can_act_in_hub(user=actor, hub_id=project.hub_id):
        raise ProjectError(_("No such device request at your hubs."), code="not_found")
    if override:
        _require_manager(user=actor, hub_id=project.hub_id, what=_("allocate more than was requested"))
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


# --- shipments: one write path, under the shipment's row lock --------------------------------------------------


def _shipment_locked(pk: int) -> Shipment:
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
        shipment = _shipment_locked(shipment.pk)
        _shipment_take(shipment=shipment, device_ids=device_ids)
    return shipment


def shipment_add_devices(*, shipment: Shipment, actor: AbstractBaseUser | None, device_ids: Iterable[int]) -> Shipment:
    """Add allocated devices to a shipment still being prepared; a shipped one takes none (409)."""
    if actor is not None and not user_can_act_in_hub(user=actor, hub_id=shipment.hub_id):
        raise ProjectError(_("No such shipment at your hubs."), code="not_found")
    with transaction.atomic():
        shipment = _shipment_locked(shipment.pk)
        _refuse_unless_preparing(shipment)
        _shipment_take(shipment=shipment, device_ids=list(device_ids))
    return shipment


def shipment_set_carrier(
    *, shipment: Shipment, actor: AbstractBaseUser | None, carrier: str, tracking_reference: str
) -> Shipment:
    if actor is not None and not user_can_act_in_hub(user=actor, hub_id=shipment.hub_id):
        raise ProjectError(_("No such shipment at your hubs."), code="not_found")
    with transaction.atomic():
        shipment = _shipment_locked(shipment.pk)
        shipment.carrier = carrier.strip()
        shipment.tracking_reference = tracking_reference.strip()
        shipment.save(update_fields=["carrier", "tracking_reference"])
    return shipment


def _device_guard_refusal(device: Device, action: str, data: Mapping[str, Any] | None = None) -> str | None:
    return device_transition_refusal(device=device, action=action, data=data)


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
        shipment = _shipment_locked(shipment.pk)
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
            refusal = _device_guard_refusal(device, "ship")
            if refusal:
                raise LifecycleError(refusal)
        for device in devices:
            device_transition(
                device=device, action="ship", actor=actor, note=note, data=_project_data(shipment.project, shipment)
            )
        shipment.status = Shipment.Status.SHIPPED
        shipment.shipped_at = timezone.now()
        shipment.save(update_fields=["status", "shipped_at"])
    return shipment


# --- delivery ----------------------------------------------------------------------------------------------------

# A project may reach more people than it declared, but a figure far beyond it needs a word of explanation.
REACH_TOLERANCE = Decimal("1.2")


def _spread(total: int, count: int) -> list[int]:
    """``total`` people over ``count`` devices, the first ones carrying the remainder (sums to ``total``)."""
    if count <= 0:
        return []
    share, remainder = divmod(total, count)
    return [share + (1 if index < remainder else 0) for index in range(count)]


def project_people_confirmed(*, project: Project) -> int:
    return Shipment.objects.filter(project=project).aggregate(total=Sum("beneficiaries_confirmed"))["total"] or 0


def delivery_reach_bound(*, project: Project) -> int:
    return int((Decimal(max(project.expected_beneficiaries, 1)) * REACH_TOLERANCE).to_integral_value())


def delivery_confirm(
    *,
    shipment: Shipment,
    confirmed_by: AbstractBaseUser | None,
    idempotency_key: str,
    delivered_on: date,
    people_served: int,
    arrived: Iterable[int],
    missing: Iterable[int] = (),
    damaged: Iterable[int] = (),
    explanation: str = "",
    note: str = "",
) -> tuple[DeliveryConfirmation, bool]:
    """Confirm which devices of a shipment arrived and how many people they serve; returns (confirmation, new).

    The same ``idempotency_key`` sent twice (a form posted twice) returns the first confirmation and changes
    nothing. Arrived devices move to delivered, carrying the people spread over them (so the impact counters
    count the figure exactly once); missing and damaged ones stay shipped and are flagged to the hub. The
    shipment is delivered once none of its devices is still shipped.
    """
    key = (idempotency_key or "").strip()
    if not key:
        raise ProjectError(_("The form is missing its one-time key; reload the page and send it again."))
    existing = DeliveryConfirmation.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    arrived_ids, missing_ids, damaged_ids = (sorted(set(ids)) for ids in (arrived, missing, damaged))
    if people_served is None or people_served < 1:
        message = _("A delivery reaches at least 1 person: say how many use the devices.")
        raise ProjectError(message, field_errors={"people_served": [message]})
    if people_served > BENEFICIARIES_MAX:
        message = _("That is more people than any one delivery reaches; check the figure.")
        raise ProjectError(message, field_errors={"people_served": [message]})
    if not arrived_ids:
        message = _("Tick the devices that arrived (at least one).")
        raise ProjectError(message, field_errors={"arrived": [message]})
    if set(arrived_ids) & (set(missing_ids) | set(damaged_ids)) or set(missing_ids) & set(damaged_ids):
        message = _("A device is either arrived, missing or damaged, not two of them.")
        raise ProjectError(message, field_errors={"arrived": [message]})
    if delivered_on > timezone.localdate():
        message = _("The delivery date cannot be in the future.")
        raise ProjectError(message, field_errors={"delivered_on": [message]})
    with transaction.atomic():
        shipment = _shipment_locked(shipment.pk)
        existing = DeliveryConfirmation.objects.filter(idempotency_key=key).first()
        if existing is not None:  # the same form, sent twice at once: the first one won the lock
            return existing, False
        if shipment.status == Shipment.Status.PREPARING:
            raise ProjectError(_("Shipment %(id)s has not been shipped yet.") % {"id": shipment.pk})
        if shipment.status == Shipment.Status.DELIVERED:
            raise ProjectError(
                _("Every device of shipment %(id)s is confirmed delivered already.") % {"id": shipment.pk},
                code="conflict",
            )
        if shipment.shipped_at and delivered_on < timezone.localdate(shipment.shipped_at):
            message = _("The delivery date cannot be before the shipment left the hub.")
            raise ProjectError(message, field_errors={"delivered_on": [message]})
        on_the_way = {
            d.pk: d for d in shipment.devices.select_for_update().filter(state=Device.State.SHIPPED).order_by("id")
        }
        unknown = (set(arrived_ids) | set(missing_ids) | set(damaged_ids)) - set(on_the_way)
        if unknown:
            raise ProjectError(
                _("Some ticked devices are not on their way in this shipment (already confirmed, or another one's)."),
                code="conflict",
            )
        project = shipment.project
        bound = delivery_reach_bound(project=project)
        total_after = project_people_confirmed(project=project) + people_served
        if total_after > bound and not explanation.strip():
            message = _(
                "With this delivery the project would reach %(total)s people, more than the %(declared)s it declared "
                "it would serve. Check the figure, or explain why it is right."
            ) % {"total": total_after, "declared": project.expected_beneficiaries}
            raise ProjectError(message, field_errors={"explanation": [message]})
        confirmation = DeliveryConfirmation.objects.create(
            shipment=shipment,
            idempotency_key=key,
            delivered_on=delivered_on,
            people_served=people_served,
            explanation=explanation.strip(),
            note=note,
            confirmed_by=confirmed_by,
        )
        who = confirmed_by.get_username() if confirmed_by is not None else "-"
        event_note = f"Delivery confirmed by {who} (project coordinator)" + (f": {note}" if note else "")
        for device_id, share in zip(arrived_ids, _spread(people_served, len(arrived_ids)), strict=True):
            data = _project_data(project, shipment) | {"beneficiaries": share, "confirmation_id": confirmation.pk}
            # actor=None: a coordinator is not staff of the hub the devices left; the note names who confirmed.
            device_transition(device=on_the_way[device_id], action="deliver", actor=None, note=event_note, data=data)
            DeliveryLine.objects.create(
                confirmation=confirmation,
                device_id=device_id,
                outcome=DeliveryLine.Outcome.DELIVERED,
                beneficiaries=share,
            )
        for outcome, ids in ((DeliveryLine.Outcome.MISSING, missing_ids), (DeliveryLine.Outcome.DAMAGED, damaged_ids)):
            DeliveryLine.objects.bulk_create(
                [DeliveryLine(confirmation=confirmation, device_id=pk, outcome=outcome) for pk in ids]
            )
        shipment.beneficiaries_confirmed = (shipment.beneficiaries_confirmed or 0) + people_served
        fields = ["beneficiaries_confirmed"]
        if not shipment.devices.filter(state=Device.State.SHIPPED).exists():  # under the shipment's lock
            shipment.status = Shipment.Status.DELIVERED
            shipment.delivered_at = timezone.now()
            fields += ["status", "delivered_at"]
        shipment.save(update_fields=fields)
    return confirmation, True


def delivery_people_current(*, confirmation: DeliveryConfirmation) -> int:
    """The people a confirmation reaches now: its figure, or its latest correction's."""
    latest = confirmation.corrections.order_by("-created_at", "-id").first()
    return latest.people_after if latest is not None else confirmation.people_served


def delivery_correct(
    *,
    confirmation: DeliveryConfirmation,
    actor: AbstractBaseUser,
    people_served: int,
    reason: str,
) -> DeliveryCorrection:
    """A hub manager corrects the people a confirmation reaches, with a reason: a new row and new device events.

    Each delivered device's event gets a ``correct_reach`` event carrying the difference of its share, so the
    impact counters fold the difference and nothing written before changes.
    """
    shipment = confirmation.shipment
    _require_manager(user=actor, hub_id=shipment.hub_id, what=_("correct a delivery"))
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the figure is corrected.")
        raise ProjectError(message, field_errors={"reason": [message]})
    if people_served is None or people_served < 1:
        message = _("A delivery reaches at least 1 person.")
        raise ProjectError(message, field_errors={"people_served": [message]})
    with transaction.atomic():
        shipment = _shipment_locked(shipment.pk)
        confirmation = DeliveryConfirmation.objects.select_for_update().get(pk=confirmation.pk)
        before = delivery_people_current(confirmation=confirmation)
        if before == people_served:
            message = _("The confirmation already says %(people)s people.") % {"people": people_served}
            raise ProjectError(message, field_errors={"people_served": [message]})
        correction = DeliveryCorrection.objects.create(
            confirmation=confirmation,
            people_before=before,
            people_after=people_served,
            reason=reason,
            corrected_by=actor,
        )
        lines = list(confirmation.lines.filter(outcome=DeliveryLine.Outcome.DELIVERED).order_by("device_id"))
        old_shares = _spread(before, len(lines))
        new_shares = _spread(people_served, len(lines))
        month = confirmation.delivered_on.replace(day=1)
        delivered_events = dict(
            DeviceEvent.objects.filter(
                device_id__in=[line.device_id for line in lines],
                action="deliver",
                data__confirmation_id=confirmation.pk,
            ).values_list("device_id", "occurred_at")
        )
        for line, old, new in zip(lines, old_shares, new_shares, strict=True):
            if old == new:
                continue
            occurred = delivered_events.get(line.device_id)
            device_event_correct(
                device=line.device,
                action="correct_reach",
                actor=actor,
                note=f"Reach corrected by {actor.get_username()}: {reason}",
                data=_project_data(shipment.project, shipment)
                | {
                    "beneficiaries_delta": new - old,
                    "confirmation_id": confirmation.pk,
                    "correction_id": correction.pk,
                    "month": (occurred.date().replace(day=1) if occurred else month).isoformat(),
                },
            )
        shipment.beneficiaries_confirmed = (shipment.beneficiaries_confirmed or 0) + people_served - before
        shipment.save(update_fields=["beneficiaries_confirmed"])
    return correction


def shipment_deliver(
    *,
    shipment: Shipment,
    actor: AbstractBaseUser | None,
    beneficiaries: int,
    note: str = "",
) -> Shipment:
    """Confirm every device still on its way in the shipment as arrived today, reaching ``beneficiaries`` people."""
    device_ids = list(shipment.devices.filter(state=Device.State.SHIPPED).values_list("pk", flat=True))
    try:
        delivery_confirm(
            shipment=shipment,
            confirmed_by=actor,
            idempotency_key=uuid.uuid4().hex,
            delivered_on=timezone.localdate(),
            people_served=beneficiaries,
            arrived=device_ids,
            explanation=note or "",
            note=note,
        )
    except ProjectError as error:
        raise LifecycleError(error.message, code=error.code, field_errors=error.field_errors) from error
    return Shipment.objects.get(pk=shipment.pk)


# --- stories -----------------------------------------------------------------------------------------------------

_PERSONAL_DATA = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d ()-]{7,}\d")


def project_story_submit(
    *, project: Project, author: AbstractBaseUser, text: str, devices_count: int, people_count: int
) -> ProjectStory:
    """A coordinator's short public story: text and counts; shown once a hub manager approves it."""
    if not project.coordinators.filter(pk=author.pk).exists():
        raise ProjectError(_("No such project among yours."), code="not_found")
    text = (text or "").strip()
    if not text:
        message = _("Write a few sentences about what the devices changed.")
        raise ProjectError(message, field_errors={"text": [message]})
    if _PERSONAL_DATA.search(text):
        message = _("A public story cannot hold e-mail addresses or phone numbers.")
        raise ProjectError(message, field_errors={"text": [message]})
    delivered = Shipment.devices.through.objects.filter(
        shipment__project=project, device__state=Device.State.DELIVERED
    ).count()
    if devices_count > delivered:
        message = _("The project has received %(count)s devices so far.") % {"count": delivered}
        raise ProjectError(message, field_errors={"devices_count": [message]})
    people = project_people_confirmed(project=project)
    if people_count > people:
        message = _("The deliveries confirmed so far reach %(count)s people.") % {"count": people}
        raise ProjectError(message, field_errors={"people_count": [message]})
    return ProjectStory.objects.create(
        project=project, author=author, text=text, devices_count=devices_count, people_count=people_count
    )


def project_story_review(*, story: ProjectStory, reviewer: AbstractBaseUser, approve: bool) -> ProjectStory:
    _require_manager(user=reviewer, hub_id=story.project.hub_id, what=_("publish a project's story"))
    with transaction.atomic():
        story = ProjectStory.objects.select_for_update().get(pk=story.pk)
        if story.status != ProjectStory.Status.SUBMITTED:
            raise ProjectError(_("This story was reviewed already."), code="conflict")
        story.status = ProjectStory.Status.APPROVED if approve else ProjectStory.Status.DECLINED
        story.reviewed_by = reviewer
        story.save(update_fields=["status", "reviewed_by"])
    return story


# Handlers for the device-level actions (admin bulk actions and the API's transitions endpoint).


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
    refusal = _device_guard_refusal(device, "ship")
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
    refusal = _device_guard_refusal(device, "deliver", data={"beneficiaries": cleaned.get("beneficiaries")})
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
